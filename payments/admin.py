from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.services.csv_import import ImportFailed
from marketplace.errors import DomainError
from payments.models import (
    BankStatementLine,
    BankTransferInstruction,
    JournalEntry,
    LedgerAccount,
    Payment,
    Posting,
    SandboxCharge,
    WebhookEvent,
)
from payments.services import bank_transfer as bank_transfer_services


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


# --- Bank transfers -------------------------------------------------------------------------


class BankStatementLineInline(admin.TabularInline):
    model = BankStatementLine
    fields = ["bank_reference", "value_date", "amount", "currency", "payer_name", "source", "matched_by", "matched_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BankTransferInstruction)
class BankTransferInstructionAdmin(ReadOnlyAdmin):
    list_display = [
        "reference_code",
        "payment",
        "status",
        "amount_due",
        "amount_received",
        "currency",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = [
        "reference_code",
        "payment__reference",
        "payment__order__number",
        "payment__order__buyer__email",
        "payee_account",
    ]
    list_select_related = ["payment"]
    date_hierarchy = "created_at"
    inlines = [BankStatementLineInline]


class BankStatementImportForm(forms.Form):
    file = forms.FileField(
        label=_("Statement (CSV)"),
        help_text=_("Columns: bank_txn_id, value_date, amount, currency, payer_name, payer_account, memo."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class BankLineMatchForm(forms.Form):
    reference = forms.CharField(
        label=_("Transfer reference"),
        max_length=40,
        help_text=_("The instruction's code, e.g. SQ 4K7M 2P9Q X: case and spaces do not matter."),
    )


@admin.register(BankStatementLine)
class BankStatementLineAdmin(ReadOnlyAdmin):
    """Credits on the provider's collection account. Unmatched ones wait here for an admin, who
    matches them to an instruction; statements are imported from the bank's CSV."""

    list_display = [
        "bank_reference",
        "value_date",
        "amount",
        "currency",
        "payer_name",
        "memo",
        "status",
        "source",
        "instruction",
        "match_link",
    ]
    list_filter = ["status", "source", "currency", "value_date"]
    search_fields = [
        "bank_reference",
        "payer_name",
        "payer_account",
        "memo",
        "instruction__reference_code",
        "instruction__payment__reference",
    ]
    list_select_related = ["instruction"]
    date_hierarchy = "value_date"
    change_list_template = "payments/bank_transfer_admin_lines.html"
    actions = ["match_selected"]

    def has_reconcile_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_bankstatementline")

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="payments_bankstatementline_import",
            ),
            path(
                "<int:line_id>/match/",
                self.admin_site.admin_view(self.match_view),
                name="payments_bankstatementline_match",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_reconcile": self.has_reconcile_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("match"))
    def match_link(self, line: BankStatementLine) -> str:
        if line.status != BankStatementLine.Status.UNMATCHED:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:payments_bankstatementline_match", args=[line.pk]), _("Match…")
        )

    @admin.action(description=_("Match the selected credit to a transfer instruction…"), permissions=["reconcile"])
    def match_selected(self, request: HttpRequest, queryset: QuerySet[BankStatementLine]):
        lines = list(queryset[:2])
        if len(lines) != 1:
            self.message_user(request, _("Select exactly one credit to match."), messages.ERROR)
            return None
        return redirect("admin:payments_bankstatementline_match", lines[0].pk)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_reconcile_permission(request):
            raise PermissionDenied
        form = BankStatementImportForm(request.POST or None, request.FILES or None)
        row_errors = []
        if request.method == "POST" and form.is_valid():
            try:
                summary = bank_transfer_services.bank_statement_import(
                    file=form.cleaned_data["file"], actor=request.user
                )
            except ImportFailed as exc:
                row_errors = exc.errors
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _(
                        "Statement imported: %(recorded)d credit(s) recorded, %(matched)d matched, "
                        "%(unmatched)d left to match by hand, %(skipped)d already known."
                    )
                    % summary.__dict__,
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:payments_bankstatementline_changelist") + "?status__exact=unmatched")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a bank statement"),
            "opts": self.model._meta,
            "form": form,
            "row_errors": row_errors,
        }
        return TemplateResponse(request, "payments/bank_transfer_admin_import.html", context)

    def match_view(self, request: HttpRequest, line_id: int) -> HttpResponse:
        line = BankStatementLine.objects.filter(pk=line_id).first()
        if line is None:
            raise Http404
        if not self.has_reconcile_permission(request):
            raise PermissionDenied
        form = BankLineMatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and line.status == BankStatementLine.Status.UNMATCHED:
            try:
                instruction = bank_transfer_services.bank_transfer_instruction_find(
                    reference=form.cleaned_data["reference"]
                )
                result = bank_transfer_services.bank_line_match(line=line, instruction=instruction, actor=request.user)
            except DomainError as exc:
                form.add_error("reference", str(exc))
            else:
                self.message_user(
                    request,
                    _("Credit %(line)s matched to %(code)s: %(outcome)s.")
                    % {"line": line.bank_reference, "code": instruction.reference_code, "outcome": result.outcome},
                    messages.SUCCESS,
                )
                return redirect("admin:payments_bankstatementline_changelist")
        # Open instructions in the credit's currency still owing exactly its amount come first.
        suggestions = list(
            BankTransferInstruction.objects.filter(currency=line.currency, status__in=bank_transfer_services.OPEN)
            .annotate(owing=F("amount_due") - F("amount_received"))
            .filter(owing=line.amount)
            .select_related("payment__order")
            .order_by("-created_at")[:10]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Match credit %(reference)s") % {"reference": line.bank_reference},
            "opts": self.model._meta,
            "line": line,
            "form": form,
            "suggestions": suggestions,
            "is_unmatched": line.status == BankStatementLine.Status.UNMATCHED,
        }
        return TemplateResponse(request, "payments/bank_transfer_admin_match.html", context)
