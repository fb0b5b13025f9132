from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from payments.models import JournalEntry, LedgerAccount, Payment, Posting, SandboxCharge, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; the admin reads them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "order",
        "provider",
        "status",
        "amount",
        "currency",
        "needs_refund",
        "created_at",
        "captured_at",
    ]
    list_filter = ["provider", "status", "needs_refund", "currency"]
    search_fields = ["reference", "order__number", "provider_reference", "order__buyer__email"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["reference", "order", "provider", "provider_reference", "status", "amount", "currency"]}),
        (
            _("Refund"),
            {
                "fields": ["needs_refund"],
                "description": _(
                    "A payment flagged 'needs refund' was captured after its order expired, was cancelled or was "
                    "already paid. Refunds through the provider arrive with the split-payments work; until then, "
                    "refund it in the provider's console."
                ),
            },
        ),
        (_("Timeline"), {"fields": ["created_at", "captured_at", "failed_at", "failure_reason"]}),
    ]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "provider", "event_type", "outcome", "payment", "received_at"]
    list_filter = ["provider", "event_type", "outcome"]
    search_fields = ["event_id", "payment__reference"]
    list_select_related = ["payment"]


@admin.register(SandboxCharge)
class SandboxChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "merchant_reference",
        "amount",
        "currency",
        "status",
        "notified_at",
        "notify_attempts",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["merchant_reference"]
    exclude = ["token"]
    actions = ["resend_notification"]

    @admin.action(description=_("Send the notification again"))
    def resend_notification(self, request, queryset):
        from payments.tasks import sandbox_notification_send

        count = 0
        for charge in queryset.exclude(status=SandboxCharge.Status.OPEN).filter(notified_at__isnull=True):
            sandbox_notification_send.delay(charge.pk)
            count += 1
        self.message_user(request, _("%(count)d notification(s) queued.") % {"count": count}, messages.SUCCESS)

    def has_change_permission(self, request, obj=None) -> bool:
        # Needed for the action; every field stays read-only.
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "token"]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "currency", "owner_type", "owner_key", "purpose", "created_at"]
    list_filter = ["owner_type", "purpose", "currency"]
    search_fields = ["owner_key", "purpose"]


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "idempotency_key", "effective_at", "created_at", "reverses"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo"]
    date_hierarchy = "effective_at"
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["id", "entry", "account", "amount", "currency"]
    list_filter = ["currency", "account__owner_type"]
    search_fields = ["entry__idempotency_key"]
    list_select_related = ["entry", "account"]
