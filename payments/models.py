from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Category
from marketplace.money import CURRENCY_CHOICES, MoneyField
from orders.models import Order, OrderLine, ReturnRequest, VendorOrder
from vendors.models import Vendor

RATE = {"max_digits": 5, "decimal_places": 4}
# A split's parts: vendor_amount = paid + platform_discount − commission − referral − fee − tax.
PARTS_SUM = (
    models.F("paid")
    + models.F("platform_discount")
    - models.F("commission")
    - models.F("referral")
    - models.F("fee")
    - models.F("tax")
)
HALF_CENT = models.Value(Decimal("0.005"))


class Payment(models.Model):
    """One attempt to collect an Order's total through a provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CAPTURED = "captured", _("Captured")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order"))
    provider = models.CharField(_("provider"), max_length=30)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    reference = models.CharField(
        _("reference"), max_length=64, unique=True, help_text=_("Our id, sent to the provider.")
    )
    provider_reference = models.CharField(_("provider reference"), max_length=128, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    needs_refund = models.BooleanField(
        _("needs refund"),
        default=False,
        help_text=_(
            "Captured although the order could not take it (expired, cancelled or already paid by another "
            "payment). The money must go back to the buyer: refunds through the provider arrive with the "
            "split-payments work; until then refund it in the provider's console and note it here."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    captured_at = models.DateTimeField(_("captured"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    amount_received = MoneyField(
        _("amount received"), default=0, help_text=_("What the provider confirmed; bank transfers may arrive in parts.")
    )
    freeze_deadline = models.DateTimeField(
        _("frozen until"),
        null=True,
        blank=True,
        help_text=_("The provider releases unsplit money on its own after this moment; we must split before it."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            # The last line against double charging: an order keeps at most one capture it accepted;
            # any other capture is flagged needs_refund by payment_capture.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="captured", needs_refund=False),
                name="payment_one_accepted_capture_per_order",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["needs_refund", "status"], name="payment_refund_queue_idx")]

    def __str__(self) -> str:
        return self.reference


class WebhookEvent(models.Model):
    """Every provider notification we accepted, stored once per provider event id."""

    provider = models.CharField(_("provider"), max_length=30)
    event_id = models.CharField(_("event id"), max_length=128)
    event_type = models.CharField(_("event type"), max_length=60)
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
        verbose_name=_("payment"),
    )
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class SandboxCharge(models.Model):
    """The sandbox gateway's own record of a hosted payment page (the provider's side)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    token = models.CharField(_("token"), max_length=64, unique=True)
    merchant_reference = models.CharField(_("merchant reference"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    notify_url = models.CharField(_("notification URL"), max_length=300)
    return_url = models.CharField(_("return URL"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    notified_at = models.DateTimeField(_("notification accepted"), null=True, blank=True)
    notify_attempts = models.PositiveIntegerField(_("notification attempts"), default=0)
    last_notify_error = models.CharField(_("last notification error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sandbox charge")
        verbose_name_plural = _("sandbox charges")

    def __str__(self) -> str:
        return f"{self.provider_reference} ({self.merchant_reference})"

    @property
    def provider_reference(self) -> str:
        """The gateway's public id of the charge (the token itself stays secret)."""
        return f"sbx_ch_{self.pk}"


class SandboxOperation(models.Model):
    """The sandbox gateway's record of one merchant instruction (the provider's side): a refund,
    a split, a split return, the end of splitting, or a payout. `external_id` is the merchant's
    idempotency key: the same key returns the same operation, and other parameters are refused."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        SPLIT = "split", _("Split")
        SPLIT_RETURN = "split_return", _("Split return")
        SPLIT_FINISH = "split_finish", _("Finish splitting")
        SUBSIDY = "subsidy", _("Platform subsidy")
        PAYOUT = "payout", _("Payout")

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    external_id = models.CharField(_("merchant's idempotency key"), max_length=64, unique=True)
    charge = models.ForeignKey(
        SandboxCharge, null=True, blank=True, on_delete=models.PROTECT, related_name="operations"
    )
    split = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returns",
        help_text=_("For a split return: the split it takes the money back from."),
    )
    receiver_account = models.CharField(_("receiver account"), max_length=128, blank=True)
    receivers = models.JSONField(_("receivers"), default=list, blank=True, help_text=_("For a split."))
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    parameters = models.JSONField(_("request"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sandbox operation")
        verbose_name_plural = _("sandbox operations")
        indexes = [models.Index(fields=["created_at"], name="sandbox_operation_day_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"

    @property
    def provider_reference(self) -> str:
        return f"sbx_{self.kind}_{self.pk}"


# ---------------------------------------------------------------------------------------------
# The double-entry ledger (docs: /work/shared/PAYMENTS.md sections 2 and 5).
#
# Sign convention: a Posting's amount is signed. DEBIT is POSITIVE, CREDIT is NEGATIVE. The
# postings of one JournalEntry sum to zero in each currency. An account's balance is the plain
# sum of its postings, so a debit-normal account (provider clearing) reads positive and a
# credit-normal account (what the marketplace owes a vendor, referrer, the tax authority, the
# platform's commission) reads negative. Entries and postings are append-only: the service never
# updates or deletes them and, on PostgreSQL, database triggers refuse UPDATE and DELETE
# (migration 0003); a correction is a new entry whose `reverses` points at the old one.
# ---------------------------------------------------------------------------------------------


class LedgerAccount(models.Model):
    """One account of the ledger: (owner, purpose, currency). Balances are derived from postings."""

    class OwnerType(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        VENDOR = "vendor", _("Vendor")
        REFERRER = "referrer", _("Referrer")
        PROVIDER = "provider", _("Payment provider")
        TAX = "tax", _("Tax authority")
        BUYER = "buyer", _("Buyer")

    owner_type = models.CharField(_("owner type"), max_length=20, choices=OwnerType.choices)
    owner_key = models.CharField(
        _("owner"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("Vendor id, user id or provider code; empty for the platform and the tax authority."),
    )
    purpose = models.CharField(_("purpose"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["owner_type", "owner_key", "purpose", "currency"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_key", "purpose", "currency"], name="ledger_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"

    @property
    def code(self) -> str:
        """Readable name, e.g. "vendor:12:pending", "platform:commission", "provider:sandbox:clearing"."""
        parts = [self.owner_type, self.owner_key, self.purpose] if self.owner_key else [self.owner_type, self.purpose]
        return ":".join(parts)


class JournalEntry(models.Model):
    """One balanced, immutable business event of the ledger (a capture, a settlement, a refund...)."""

    # Unique by the constraint in Meta rather than unique=True, which on PostgreSQL would add a
    # second (LIKE) index that nothing queries and every settlement batch would maintain.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    effective_at = models.DateTimeField(
        _("effective at"), help_text=_("When the event happened; balances as of a date use this.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        verbose_name=_("reverses"),
    )
    reference = models.JSONField(_("reference"), default=dict, blank=True)

    class Meta:
        ordering = ["-effective_at", "-id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(idempotency_key=""), name="journal_entry_idempotency_key_present"
            ),
            models.UniqueConstraint(fields=["idempotency_key"], name="journal_entry_idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["effective_at"], name="journal_entry_effective_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} ({self.idempotency_key})"


class Posting(models.Model):
    """One line of an entry. amount > 0 is a debit, amount < 0 a credit (see the note above)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings", verbose_name=_("entry"))
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="postings", verbose_name=_("account")
    )
    amount = MoneyField(_("amount"), help_text=_("Debit positive, credit negative."))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)

    class Meta:
        ordering = ["entry_id", "id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount} {self.currency}"


# ---------------------------------------------------------------------------------------------
# Commissions, the split of each capture, settlement, payouts, refunds and provider calls.
# ---------------------------------------------------------------------------------------------


class CommissionRule(models.Model):
    """The platform's commission rate: a default, per category, or per shop (most specific wins).

    The rate in force when an order is paid is frozen on each line's split (LineSplit)."""

    class Scope(models.TextChoices):
        PLATFORM = "platform", _("Platform default")
        CATEGORY = "category", _("Category")
        SHOP = "shop", _("Shop")

    scope = models.CharField(_("applies to"), max_length=10, choices=Scope.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("shop")
    )
    rate = models.DecimalField(_("rate"), help_text=_("0.0500 = 5%"), **RATE)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["scope", "-valid_from", "-id"]
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lt=1), name="commission_rate_range"),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="platform", category__isnull=True, vendor__isnull=True)
                    | models.Q(scope="category", category__isnull=False, vendor__isnull=True)
                    | models.Q(scope="shop", category__isnull=True, vendor__isnull=False)
                ),
                name="commission_rule_scope_target",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=models.F("valid_from")),
                name="commission_rule_valid_period",
            ),
        ]

    def __str__(self) -> str:
        target = self.vendor or self.category or _("platform")
        return f"{target}: {self.rate}"


class LineSplit(models.Model):
    """How one captured order line (or one shop order's shipping, order_line empty) is shared.

    gross = what the line earns before platform-funded discounts are applied = paid + platform_discount;
    vendor_amount + commission + referral + fee + tax = gross, exactly (database check)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="splits")
    vendor_order = models.ForeignKey(VendorOrder, on_delete=models.PROTECT, related_name="splits")
    order_line = models.OneToOneField(OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="split")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+")
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    paid = MoneyField(_("paid by the buyer"))
    platform_discount = MoneyField(_("platform-funded discount"), default=0)
    commission_rate = models.DecimalField(_("commission rate"), **RATE)
    commission = MoneyField(_("commission"))
    referral_rate = models.DecimalField(_("referral rate"), default=0, **RATE)
    referral = MoneyField(_("referral commission"), default=0)
    fee = MoneyField(_("provider fee"), default=0)
    fee_bearer = models.CharField(max_length=10, default="vendor")
    tax = MoneyField(_("tax"), default=0)
    vendor_amount = MoneyField(_("shop's share"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor_order_id", "id"]
        verbose_name = _("line split")
        verbose_name_plural = _("line splits")
        constraints = [
            models.CheckConstraint(
                # Exact on PostgreSQL (differences are whole cents); the half-cent margin only
                # absorbs SQLite's floating-point arithmetic in the embedded demo mode.
                condition=models.Q(vendor_amount__gt=PARTS_SUM - HALF_CENT, vendor_amount__lt=PARTS_SUM + HALF_CENT),
                name="line_split_parts_add_up",
            ),
            models.CheckConstraint(
                # commission may be negative: when the platform bears the provider's fee, the fee
                # comes out of its commission, and a 0% line then costs the platform the fee.
                condition=models.Q(paid__gte=0, platform_discount__gte=0, referral__gte=0)
                & models.Q(fee__gte=0, tax__gte=0),
                name="line_split_parts_not_negative",
            ),
            models.UniqueConstraint(
                fields=["vendor_order"], condition=models.Q(order_line__isnull=True), name="line_split_one_shipping"
            ),
        ]
        # Settlement reads a batch's referral lines through it: few lines carry a referrer.
        indexes = [
            models.Index(
                fields=["vendor_order"], condition=models.Q(referrer__isnull=False), name="line_split_referral_idx"
            )
        ]

    def __str__(self) -> str:
        return f"split of line {self.order_line_id or 'shipping'} (shop order {self.vendor_order_id})"


class ProviderCall(models.Model):
    """An outgoing instruction to a provider (outbox): sent after commit by a worker, retried with
    backoff, always with the same external id so the provider de-duplicates every retry."""

    class Kind(models.TextChoices):
        SPLIT = "split", _("Split instruction")
        SPLIT_RETURN = "split_return", _("Split return")
        SPLIT_FINISH = "split_finish", _("Finish splitting / unfreeze")
        SUBSIDY = "subsidy", _("Platform subsidy before the split")
        REFUND = "refund", _("Refund")
        PAYOUT = "payout", _("Payout")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for earlier calls")
        PENDING = "pending", _("To send")
        SENT = "sent", _("Sent, awaiting the provider's confirmation")
        SUCCEEDED = "succeeded", _("Confirmed")
        FAILED = "failed", _("Failed")
        NOT_SUPPORTED = "not_supported", _("Provider cannot do this: operator action needed")

    provider = models.CharField(_("provider"), max_length=30)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    external_id = models.CharField(_("external id"), max_length=64)  # unique: see Meta
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="calls")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    payload = models.JSONField(_("request"), default=dict)
    response = models.JSONField(_("response"), default=dict, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=128, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    after = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followers",
        verbose_name=_("after"),
        db_index=False,  # indexed in Meta where set: most calls wait for nothing
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="provider_call_external_id_unique")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="provider_call_queue_idx"),
            models.Index(fields=["after"], condition=models.Q(after__isnull=False), name="provider_call_after_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class Settlement(models.Model):
    """A shop order's shares made available after its return window: one per VendorOrder, ever.

    Written set-wise by payments.services.settlement, with its split instruction (ProviderCall,
    one per shop order) and the journal entry it shares with the shop's other shop orders of
    the same batch (one entry per shop, currency and batch, whose postings are the sums of its
    settlements: `ledger_check` verifies it).

    `vendor` and `payment` copy what the shop order already says (for the statement's index and
    the refunds' lookups), and `instruction` is the call the same batch writes beside it: these
    three carry no database foreign key, because the batch writes them from the very rows it has
    locked or written, and each would cost every settlement one more reference check at commit
    (a third of the settlement's time). `ledger_check` verifies all three instead."""

    vendor_order = models.OneToOneField(VendorOrder, on_delete=models.PROTECT, related_name="settlement")
    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        related_name="settlements",
        db_constraint=False,
        db_index=False,  # settlement_statement_idx starts with it
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        related_name="settlements",
        db_constraint=False,
        db_index=False,  # nothing looks settlements up by payment; the batch would maintain it
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    vendor_amount = MoneyField(_("shop's share"))
    commission = MoneyField(_("commission"))
    referral = MoneyField(_("referral commission"), default=0)
    promotion = MoneyField(
        _("platform-funded discount"),
        default=0,
        help_text=_(
            "Platform coupons on this shop order: the buyer did not pay them, so each line's commission "
            "pays its coupon in the split, and what the commission cannot cover is the platform's subsidy."
        ),
    )
    subsidy = MoneyField(
        _("platform subsidy"),
        default=0,
        help_text=_(
            "The part of the platform coupons the lines' commission could not cover, paid by the platform "
            "into the payment at the provider before the split, so the split routes the shop and the "
            "referrers their whole shares. Zero where the provider cannot take a subsidy: the platform "
            "then owes it outside the split."
        ),
    )
    netted = MoneyField(
        _("netted against a negative balance"),
        default=0,
        help_text=_("Part of the shop's share used to cover what it owed from earlier claw-backs."),
    )
    # Empty when nothing was left to settle (every line refunded before the window ended).
    entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="settlements")
    instruction = models.OneToOneField(
        ProviderCall, null=True, blank=True, on_delete=models.PROTECT, related_name="settlement", db_constraint=False
    )
    settled_at = models.DateTimeField(_("settled"))

    class Meta:
        ordering = ["-settled_at", "-id"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        indexes = [models.Index(fields=["vendor", "settled_at"], name="settlement_statement_idx")]

    def __str__(self) -> str:
        return f"settlement of {self.vendor_order_id}"


class ReceiverAccount(models.Model):
    """A party's own account at a provider (WeChat sub-merchant or openid, PayPal e-mail, bank
    account) to which the provider routes its share: the platform never holds it (no 二清)."""

    class OwnerType(models.TextChoices):
        VENDOR = "vendor", _("Shop")
        REFERRER = "referrer", _("Referrer")
        PLATFORM = "platform", _("Platform")

    owner_type = models.CharField(_("owner type"), max_length=10, choices=OwnerType.choices)
    owner_key = models.CharField(_("owner"), max_length=64, blank=True, default="")
    provider = models.CharField(_("provider"), max_length=30)
    account = models.CharField(_("account at the provider"), max_length=128)
    name = models.CharField(_("account holder"), max_length=120, blank=True)
    registered_at = models.DateTimeField(_("registered at the provider"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("receiver account")
        verbose_name_plural = _("receiver accounts")
        constraints = [
            models.UniqueConstraint(fields=["owner_type", "owner_key", "provider"], name="receiver_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner_type}:{self.owner_key} @ {self.provider}"


class Payout(models.Model):
    """Money sent from a party's available balance to its own account at the provider."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed, re-credited")

    owner_type = models.CharField(_("owner type"), max_length=10, choices=ReceiverAccount.OwnerType.choices)
    owner_key = models.CharField(_("owner"), max_length=64)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    provider = models.CharField(_("provider"), max_length=30)
    receiver = models.ForeignKey(ReceiverAccount, on_delete=models.PROTECT, related_name="payouts")
    amount = MoneyField(_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    call = models.OneToOneField(ProviderCall, null=True, blank=True, on_delete=models.PROTECT, related_name="payout")
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive")]

    def __str__(self) -> str:
        return self.reference


class Refund(models.Model):
    """Money going back to the buyer through the provider that took it, with the split reversed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Returning the receivers' shares")
        SENT = "sent", _("Sent to the provider")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    vendor_order = models.ForeignKey(
        VendorOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    return_request = models.ForeignKey(
        ReturnRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = MoneyField(_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    after_settlement = models.BooleanField(_("after settlement"), default=False)
    # Empty for the refund of a capture no order took: its whole amount was owed to the buyer from the start.
    entry = models.OneToOneField(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refund")
    call = models.OneToOneField(ProviderCall, null=True, blank=True, on_delete=models.PROTECT, related_name="refund")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return self.reference


class RefundLine(models.Model):
    """The reversal of one line split (or the shipping split) by a refund, proportional to it."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    split = models.ForeignKey(LineSplit, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(default=0)
    paid = MoneyField(_("refunded to the buyer"))
    platform_discount = MoneyField(default=0)
    commission = MoneyField(default=0)
    referral = MoneyField(default=0)
    fee = MoneyField(default=0)
    tax = MoneyField(default=0)
    vendor_amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                # Exact on PostgreSQL (differences are whole cents); the half-cent margin only
                # absorbs SQLite's floating-point arithmetic in the embedded demo mode.
                condition=models.Q(vendor_amount__gt=PARTS_SUM - HALF_CENT, vendor_amount__lt=PARTS_SUM + HALF_CENT),
                name="refund_line_parts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.paid} of split {self.split_id}"


# --- Bank transfer (UnionPay B2B style) -----------------------------------------------------


class BankTransferInstruction(models.Model):
    """What the buyer's company must pay: the provider's payee account, the amount, the reference."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("Awaiting the transfer")
        PARTIAL = "partial", _("Partly paid")
        PAID = "paid", _("Paid")
        OVERPAID = "overpaid", _("Overpaid (excess to refund)")
        EXPIRED = "expired", _("Expired")

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="bank_transfer")
    reference_code = models.CharField(_("transfer reference"), max_length=32, unique=True)
    payee_name = models.CharField(_("payee"), max_length=120)
    payee_account = models.CharField(_("payee account"), max_length=64)
    payee_bank = models.CharField(_("payee bank"), max_length=120)
    amount_due = MoneyField(_("amount due"))
    amount_received = MoneyField(_("amount received"), default=0)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.AWAITING)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bank transfer instruction")
        verbose_name_plural = _("bank transfer instructions")

    def __str__(self) -> str:
        return self.reference_code


class BankStatementLine(models.Model):
    """A credit on the provider's collection account, from a signed bank notification or a
    statement CSV, matched to an instruction automatically (by reference) or by an admin."""

    class Source(models.TextChoices):
        NOTIFICATION = "notification", _("Bank notification")
        STATEMENT = "statement", _("Statement import")

    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("Unmatched")
        MATCHED = "matched", _("Matched")
        IGNORED = "ignored", _("Ignored")

    bank_reference = models.CharField(_("bank transaction id"), max_length=64, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    value_date = models.DateField(_("value date"))
    amount = MoneyField(_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=64, blank=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UNMATCHED)
    instruction = models.ForeignKey(
        BankTransferInstruction, null=True, blank=True, on_delete=models.PROTECT, related_name="statement_lines"
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-value_date", "-id"]
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="bank_line_amount_positive")]

    def __str__(self) -> str:
        return f"{self.bank_reference} {self.amount} {self.currency}"


# --- Reconciliation ---------------------------------------------------------------------------


class ReconciliationRun(models.Model):
    """One daily comparison of a provider's records with the ledger."""

    provider = models.CharField(_("provider"), max_length=30)
    day = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    records_compared = models.PositiveIntegerField(default=0)
    mismatch_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "provider"]
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        constraints = [models.UniqueConstraint(fields=["provider", "day"], name="reconciliation_run_once_per_day")]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"


class ReconciliationMismatch(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches")
    kind = models.CharField(_("kind"), max_length=40)
    reference = models.CharField(_("reference"), max_length=128)
    ledger_amount = MoneyField(null=True, blank=True)
    provider_amount = MoneyField(null=True, blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        ordering = ["run", "id"]
        verbose_name = _("reconciliation mismatch")
        verbose_name_plural = _("reconciliation mismatches")

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"
