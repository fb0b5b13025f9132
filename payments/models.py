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

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = MoneyField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    reference = models.CharField(max_length=64, unique=True, help_text="Our id, sent to the provider.")
    provider_reference = models.CharField(max_length=128, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class WebhookEvent(models.Model):
    """Every provider notification we accepted, stored once per provider event id."""

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class SandboxCharge(models.Model):
    """The sandbox gateway's own record of a hosted payment page (the provider's side)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    token = models.CharField(max_length=64, unique=True)
    merchant_reference = models.CharField(max_length=64)
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    notify_url = models.CharField(max_length=300)
    return_url = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
