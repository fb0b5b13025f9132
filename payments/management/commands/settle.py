"""manage.py settle [--until YYYY-MM-DD]: settles every shop order whose return window ended
(by the end of that day, never later than now). The Celery beat job runs the same service."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.services.settlement import settle_due


class Command(BaseCommand):
    help = "Settle every completed shop order whose return window has passed."

    def add_arguments(self, parser):
        parser.add_argument("--until", help="Settle what was due by the end of this day (YYYY-MM-DD).")

    def handle(self, *args, until=None, **options):
        until_at = None
        if until:
            try:
                day = datetime.strptime(until, "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError(f"--until must be a date like 2026-11-30, got {until!r}") from exc
            until_at = timezone.make_aware(datetime.combine(day, time.max))
        result = settle_due(until=until_at)
        self.stdout.write(
            f"Settled {result.settled} shop orders in {result.batches} batches "
            f"(return windows ended by {result.cutoff:%Y-%m-%d %H:%M})."
        )
