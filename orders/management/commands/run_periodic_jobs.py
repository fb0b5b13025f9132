"""Runs the Celery beat jobs (settings.CELERY_BEAT_SCHEDULE) right here, on demand: for the
embedded SQLite / inline-task mode, where no beat process runs, and for operators."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the periodic jobs of CELERY_BEAT_SCHEDULE now (once, or every --every seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", default=[], help="Run only this schedule entry (repeatable).")
        parser.add_argument("--every", type=int, default=0, help="Keep running, every N seconds (Ctrl-C stops).")

    def handle(self, *args, only: list[str], every: int, **options):
        from marketplace.celery import app

        app.loader.import_default_modules()
        schedule = settings.CELERY_BEAT_SCHEDULE
        unknown = [name for name in only if name not in schedule]
        if unknown:
            raise CommandError(f"Unknown job(s): {', '.join(unknown)}. Known: {', '.join(schedule)}")
        entries = {name: entry for name, entry in schedule.items() if not only or name in only}
        failed = False
        while True:
            for name, entry in entries.items():
                task = app.tasks.get(entry["task"])
                if task is None:
                    self.stderr.write(f"{name}: task {entry['task']} is not registered")
                    failed = True
                    continue
                try:
                    # apply() runs the task in this process, synchronously, whatever the broker.
                    result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True)
                except Exception as error:  # one failing job must not stop the others
                    self.stderr.write(self.style.ERROR(f"{name}: failed: {error!r}"))
                    failed = True
                    continue
                self.stdout.write(f"{name}: {result.result}")
            if not every:
                break
            time.sleep(every)
        if failed:
            raise CommandError("Some periodic jobs failed.")
