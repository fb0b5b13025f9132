"""Check the ledger's structural invariants (/work/shared/PAYMENTS.md section 5: 1, 2, 4, 18).

Prints "OK" with counts, or one line per failing entry (id and idempotency key) and exits 1.
"""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q, Sum

from marketplace.money import MINOR_UNITS, exponent, quantize
from payments.models import JournalEntry, LedgerAccount, Posting


class Command(BaseCommand):
    help = "Check that every ledger entry is balanced, in its accounts' currencies, keyed and exact."

    def handle(self, *args, **options):
        problems: dict[int, list[str]] = defaultdict(list)

        # Invariant 1: every entry's postings sum to zero in each currency.
        unbalanced = Posting.objects.values("entry_id", "currency").annotate(total=Sum("amount")).exclude(total=0)
        for row in unbalanced:
            problems[row["entry_id"]].append(f"postings in {row['currency']} sum to {row['total']}, not 0")

        # Invariant 2: every posting is in its account's currency.
        for row in Posting.objects.exclude(currency=F("account__currency")).values(
            "entry_id", "id", "currency", "account__currency"
        ):
            problems[row["entry_id"]].append(
                f"posting {row['id']} is in {row['currency']} but its account is in {row['account__currency']}"
            )

        # A double entry has at least two postings.
        for row in JournalEntry.objects.annotate(n=Count("postings")).filter(n__lt=2).values("id", "n"):
            problems[row["id"]].append(f"has {row['n']} posting(s), needs at least 2")

        # Invariant 4: every entry has an idempotency key, unique across the ledger.
        for entry_id in JournalEntry.objects.filter(
            Q(idempotency_key="") | Q(idempotency_key__isnull=True)
        ).values_list("id", flat=True):
            problems[entry_id].append("has no idempotency key")
        duplicated = (
            JournalEntry.objects.values("idempotency_key")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values("idempotency_key")
        )
        for entry_id in JournalEntry.objects.filter(idempotency_key__in=duplicated).values_list("id", flat=True):
            problems[entry_id].append("shares its idempotency key with another entry")

        # Invariant 18: amounts carry no more decimals than the currency allows (the column has 2).
        coarse = [currency for currency in MINOR_UNITS if exponent(currency) < 2]
        for posting in Posting.objects.filter(currency__in=coarse).only("id", "entry_id", "amount", "currency"):
            if posting.amount != quantize(posting.amount, posting.currency):
                problems[posting.entry_id].append(
                    f"posting {posting.id} amount {posting.amount} has more decimals than {posting.currency} allows"
                )

        if problems:
            keys = dict(JournalEntry.objects.filter(pk__in=problems).values_list("id", "idempotency_key"))
            for entry_id in sorted(problems):
                for problem in problems[entry_id]:
                    self.stdout.write(f"entry {entry_id} ({keys.get(entry_id, '?')}): {problem}")
            raise CommandError(f"ledger_check: {len(problems)} entry(ies) break the ledger's invariants")

        self.stdout.write(
            f"OK: {JournalEntry.objects.count()} entries, {Posting.objects.count()} postings, "
            f"{LedgerAccount.objects.count()} accounts checked"
        )
