"""Check every invariant of /work/shared/PAYMENTS.md section 5 over the whole ledger and the
payment state tables (payments/invariants.py). Prints "OK" with counts, or one line per problem
naming the entry or object, and exits 1."""

from django.core.management.base import BaseCommand, CommandError

from payments.invariants import ledger_problems
from payments.models import JournalEntry, LedgerAccount, Posting


class Command(BaseCommand):
    help = "Check the ledger's invariants (balanced, keyed, exact; splits, settlements, refunds, clearing)."

    def handle(self, *args, **options):
        problems = ledger_problems()
        if problems:
            for problem in problems:
                self.stdout.write(problem)
            raise CommandError(f"ledger_check: {len(problems)} problem(s) break the ledger's invariants")
        self.stdout.write(
            f"OK: {JournalEntry.objects.count()} entries, {Posting.objects.count()} postings, "
            f"{LedgerAccount.objects.count()} accounts checked"
        )
