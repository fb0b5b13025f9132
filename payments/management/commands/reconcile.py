"""manage.py reconcile [--day YYYY-MM-DD] [--provider CODE]: compares the provider's records of
the day (default: yesterday) with the ledger, for one provider or every enabled one, and prints
each open mismatch. Exit codes: 0 clean, 1 mismatches found, 2 could not reconcile (unknown
provider, bad date, provider unreachable). The daily Celery beat job runs the same service."""

from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.errors import DomainError
from payments.providers import enabled_provider_codes
from payments.providers.base import ProviderUnavailable
from payments.services.reconciliation import open_mismatches, reconcile_day


class Command(BaseCommand):
    help = "Reconcile the providers' records of a day with the ledger; exits 1 when mismatches are found."

    def add_arguments(self, parser):
        parser.add_argument("--day", help="The day to reconcile (YYYY-MM-DD); default: yesterday.")
        parser.add_argument("--provider", help="Only this provider (its code); default: every enabled provider.")

    def handle(self, *args, day=None, provider=None, **options):
        if day:
            try:
                the_day = datetime.strptime(day, "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError(f"--day must be a date like 2026-11-30, got {day!r}", returncode=2) from exc
        else:
            the_day = timezone.localdate() - timedelta(days=1)
        providers = [provider] if provider else enabled_provider_codes()

        open_total = 0
        for code in providers:
            try:
                run = reconcile_day(provider=code, day=the_day)
            except (DomainError, ProviderUnavailable) as exc:
                raise CommandError(f"{code}: cannot reconcile {the_day}: {exc}", returncode=2) from exc
            self.stdout.write(
                f"{code} {the_day}: {run.records_compared} provider records compared, "
                f"{run.mismatch_count} open mismatch(es)."
            )
            for mismatch in open_mismatches(run=run):
                amounts = ""
                if mismatch.ledger_amount is not None or mismatch.provider_amount is not None:
                    amounts = (
                        f" ledger={mismatch.ledger_amount} provider={mismatch.provider_amount} {mismatch.currency}"
                    )
                self.stdout.write(f"  {mismatch.kind} {mismatch.reference}{amounts}: {mismatch.detail}")
            open_total += run.mismatch_count
        if open_total:
            raise CommandError(f"reconcile: {open_total} mismatch(es) to explain", returncode=1)
