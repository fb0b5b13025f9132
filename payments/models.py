from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.money import CURRENCY_CHOICES, MoneyField
from orders.models import Order


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

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
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
