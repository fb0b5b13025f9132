"""`manage.py seed_demo [--vendors N] [--products N]`: idempotent demo data (see orders/demo.py)."""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from orders import demo


class Command(BaseCommand):
    help = (
        "Create the demo marketplace (shops, categories, products, buyers); running it again adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--vendors", type=int, default=demo.DEFAULT_VENDORS, help="number of shops (default 8)")
        parser.add_argument(
            "--products", type=int, default=demo.DEFAULT_PRODUCTS, help="number of products (default 120)"
        )
        parser.add_argument("--batch-size", type=int, default=demo.BATCH_SIZE, help="rows per bulk insert")

    def handle(self, *args, vendors: int, products: int, batch_size: int, **options):
        if vendors < 1 or products < 0 or batch_size < 1:
            raise CommandError("--vendors and --batch-size must be at least 1, --products at least 0")
        started = time.monotonic()
        show_bar = options["verbosity"] > 0

        def progress(total: int):
            bar = tqdm(
                total=total,
                unit="product",
                desc="Products",
                disable=not show_bar,
                file=getattr(self.stderr, "_out", self.stderr),
            )
            return bar.update, bar.close

        report = demo.demo_seed(vendors=vendors, products=products, batch_size=batch_size, progress_factory=progress)
        created = ", ".join(f"{count} {what}" for what, count in report.created.items() if count) or "nothing"
        self.stdout.write(f"Created {created} in {time.monotonic() - started:.1f} s")
        self.stdout.write(
            "  (" + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items()) + ")"
        )
        for line in demo.logins_text(report):
            self.stdout.write(line)
