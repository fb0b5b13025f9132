"""The double-entry ledger: accounts, balanced append-only entries, balances as of a date.

Sign convention (see payments/models.py): a posting's amount is DEBIT POSITIVE, CREDIT NEGATIVE;
an entry's postings sum to zero in each currency; a balance is the sum of an account's postings.
Invariants (/work/shared/PAYMENTS.md section 5): 1, 2, 3, 4, 14 and 18 are enforced here, by the
database constraints and triggers, and checked by `manage.py ledger_check`.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.errors import DomainError
from marketplace.money import MAX_AMOUNT, quantize
from payments.models import JournalEntry, LedgerAccount, Posting


class LedgerError(DomainError):
    """An entry that would break the ledger's invariants (a bug in the caller, never user input)."""

    code = "ledger_error"
    default_message = _("{reason}")


class IdempotencyConflict(DomainError):
    """The idempotency key was already used for an entry with other accounts or amounts."""

    code = "idempotency_conflict"
    http_status = 409
    default_message = _("The idempotency key {key} was already used for a different ledger entry.")


def account_get_or_create(*, owner_type: str, owner_key: str | int = "", purpose: str, currency: str) -> LedgerAccount:
    """The account (owner, purpose, currency), created on first use (safe under concurrency)."""
    if owner_type not in LedgerAccount.OwnerType.values:
        raise LedgerError(reason=f"unknown owner type {owner_type!r}")
    if not purpose:
        raise LedgerError(reason="an account needs a purpose")
    account, _created = LedgerAccount.objects.get_or_create(
        owner_type=owner_type, owner_key=str(owner_key or ""), purpose=purpose, currency=currency
    )
    return account


def _validated(postings: list[tuple[LedgerAccount, Decimal]]) -> list[tuple[LedgerAccount, Decimal]]:
    if len(postings) < 2:
        raise LedgerError(reason="an entry needs at least two postings")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account, amount in postings:
        if isinstance(amount, float):
            raise TypeError("ledger amounts must be Decimal, never float")
        if not isinstance(amount, Decimal):
            raise TypeError(f"ledger amounts must be Decimal, not {type(amount).__name__}")
        if account.pk is None:
            raise LedgerError(reason="posting to an unsaved account")
        if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
            raise LedgerError(reason=f"{amount} is not a valid amount")
        if amount != quantize(amount, account.currency):
            raise LedgerError(reason=f"{amount} has more decimals than {account.currency} allows")
        totals[account.currency] += amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise LedgerError(reason=f"postings do not sum to zero: {unbalanced}")
    return postings


def _signature(kind: str, pairs) -> tuple:
    return (kind, sorted((account_id, quantize(amount, currency), currency) for account_id, amount, currency in pairs))


def _existing(*, idempotency_key: str, kind: str, postings) -> JournalEntry | None:
    """The entry already posted under this key (None if none); a different one is a conflict."""
    entry = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
    if entry is None:
        return None
    stored = entry.postings.values_list("account_id", "amount", "currency")
    wanted = ((account.pk, amount, account.currency) for account, amount in postings)
    if _signature(entry.kind, stored) != _signature(kind, wanted):
        raise IdempotencyConflict(key=idempotency_key)
    return entry


def ledger_post(
    *,
    idempotency_key: str,
    kind: str,
    postings: list[tuple[LedgerAccount, Decimal]],
    memo: str = "",
    reference: dict | None = None,
    effective_at: datetime | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, exactly once per idempotency key.

    Posting the same key with the same kind, accounts and amounts (in any order) returns the
    existing entry and writes nothing; the same key with anything else raises IdempotencyConflict.
    Two transactions posting one key at once: the unique key lets one win, the other gets its entry.
    Amounts are signed: debit positive, credit negative.
    """
    if not idempotency_key:
        raise LedgerError(reason="an entry needs an idempotency key")
    if not kind:
        raise LedgerError(reason="an entry needs a kind")
    postings = _validated(list(postings))
    with transaction.atomic():
        entry = _existing(idempotency_key=idempotency_key, kind=kind, postings=postings)
        if entry is not None:
            return entry
        try:
            with transaction.atomic():  # savepoint: a lost race leaves the outer transaction usable
                entry = JournalEntry.objects.create(
                    idempotency_key=idempotency_key,
                    kind=kind,
                    memo=memo,
                    reference=reference or {},
                    effective_at=effective_at or timezone.now(),
                    reverses=reverses,
                )
                Posting.objects.bulk_create(
                    Posting(entry=entry, account=account, amount=amount, currency=account.currency)
                    for account, amount in postings
                )
        except IntegrityError:
            entry = _existing(idempotency_key=idempotency_key, kind=kind, postings=postings)
            if entry is None:
                raise
        return entry


def account_balance(*, account: LedgerAccount, as_of: datetime | None = None) -> Decimal:
    """Sum of the account's postings whose entry is effective at or before as_of (default: all)."""
    postings = Posting.objects.filter(account=account)
    if as_of is not None:
        postings = postings.filter(entry__effective_at__lte=as_of)
    total = postings.aggregate(total=Sum("amount"))["total"]
    return quantize(total or Decimal(0), account.currency)


# --- The accounts of PAYMENTS.md section 2 -------------------------------------------------
# One place names them, so services, settlement SQL, statements and ledger_check agree.

PLATFORM, VENDOR, REFERRER, PROVIDER, TAX, BUYER = (
    LedgerAccount.OwnerType.PLATFORM,
    LedgerAccount.OwnerType.VENDOR,
    LedgerAccount.OwnerType.REFERRER,
    LedgerAccount.OwnerType.PROVIDER,
    LedgerAccount.OwnerType.TAX,
    LedgerAccount.OwnerType.BUYER,
)
PENDING, AVAILABLE, PAYOUT = "pending", "available", "payout"
CLEARING, FEES = "clearing", "fees"
COMMISSION_PENDING, COMMISSION, PROMOTIONS = "commission_pending", "commission", "promotions"
FUNDING = "funding"  # the platform's own money put into payments at the provider (subsidies)
CUSTOMS, REFUND = "customs", "refund"


def provider_clearing(provider: str, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=PROVIDER, owner_key=provider, purpose=CLEARING, currency=currency)


def provider_fees(provider: str, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=PROVIDER, owner_key=provider, purpose=FEES, currency=currency)


def vendor_account(vendor_id: int, purpose: str, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=VENDOR, owner_key=vendor_id, purpose=purpose, currency=currency)


def referrer_account(user_id: int, purpose: str, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=REFERRER, owner_key=user_id, purpose=purpose, currency=currency)


def platform_account(purpose: str, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=PLATFORM, purpose=purpose, currency=currency)


def tax_customs(currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=TAX, purpose=CUSTOMS, currency=currency)


def buyer_refund(user_id: int, currency: str) -> LedgerAccount:
    return account_get_or_create(owner_type=BUYER, owner_key=user_id, purpose=REFUND, currency=currency)


def postings_without_zeros(postings: list[tuple[LedgerAccount, Decimal]]) -> list[tuple[LedgerAccount, Decimal]]:
    """Merges postings to the same account and drops those that net to zero."""
    merged: dict[int, list] = {}
    for account, amount in postings:
        if account.pk in merged:
            merged[account.pk][1] += amount
        else:
            merged[account.pk] = [account, amount]
    return [(account, amount) for account, amount in merged.values() if amount != 0]
