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
