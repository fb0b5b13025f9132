from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.services.csv_import import ImportFailed
from marketplace.errors import DomainError
from marketplace.money import quantize
from marketplace.services import audit_record
from payments.models import (
    BankStatementLine,
    BankTransferInstruction,
    CommissionRule,
    JournalEntry,
    LedgerAccount,
    LineSplit,
    Payment,
    Payout,
    Posting,
    ProviderCall,
    ReceiverAccount,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    RefundLine,
    SandboxCharge,
    Settlement,
    WebhookEvent,
)
from payments.providers.base import ProviderUnavailable
from payments.selectors import money_overview
from payments.services import bank_transfer as bank_transfer_services
from payments.services import reconciliation as reconciliation_services
from payments.services.calls import call_retry
from payments.services.commission import commission_rule_create


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
    list_display = ["code", "currency", "balance", "owner_type", "owner_key", "purpose", "created_at"]
    list_filter = ["owner_type", "purpose", "currency"]
    search_fields = ["owner_key", "purpose"]

    def get_queryset(self, request):
        # The balance is the sum of the account's postings, computed in the list's one query.
        return super().get_queryset(request).annotate(balance_total=Sum("postings__amount"))

    @admin.display(description=_("balance (debit +, credit −)"), ordering="balance_total")
    def balance(self, account: LedgerAccount) -> Decimal:
        return quantize(account.balance_total or 0, account.currency)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ["account", "amount", "currency"]
    readonly_fields = fields
    show_change_link = False


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


class BankStatementLineInline(ReadOnlyInline):
    model = BankStatementLine
    fields = ["bank_reference", "value_date", "amount", "currency", "payer_name", "source", "matched_by", "matched_at"]
    readonly_fields = fields


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


# --- Split payments: read-only money records, commission rules, receivers, reconciliation ------


@admin.register(LineSplit)
class LineSplitAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "vendor_order",
        "order_line_id",
        "vendor",
        "currency",
        "paid",
        "platform_discount",
        "commission_rate",
        "commission",
        "referral",
        "fee",
        "tax",
        "vendor_amount",
    ]
    list_filter = ["currency", "fee_bearer"]
    search_fields = ["vendor_order__number", "payment__reference"]
    list_select_related = ["vendor_order", "vendor"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = [
        "vendor_order",
        "vendor",
        "currency",
        "vendor_amount",
        "commission",
        "referral",
        "subsidy",
        "netted",
        "instruction_status",
        "settled_at",
    ]
    list_filter = ["currency", "instruction__status"]
    search_fields = ["vendor_order__number", "vendor__name", "payment__reference"]
    list_select_related = ["vendor_order", "vendor", "instruction"]
    date_hierarchy = "settled_at"

    @admin.display(description=_("split instruction"), ordering="instruction__status")
    def instruction_status(self, settlement: Settlement) -> str:
        return settlement.instruction.get_status_display() if settlement.instruction else "—"


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    """A failed payout is never retried from here: its amount went back to the party's available
    balance (re-credited in the ledger), so a new payout is requested instead."""

    list_display = [
        "reference",
        "owner_type",
        "owner_key",
        "vendor",
        "provider",
        "amount",
        "currency",
        "status",
        "failure_reason",
        "created_at",
        "paid_at",
        "failed_at",
    ]
    list_filter = ["status", "provider", "owner_type", "currency"]
    search_fields = ["reference", "owner_key", "vendor__name", "receiver__account"]
    list_select_related = ["vendor"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["reference", "owner_type", "owner_key", "vendor", "provider", "receiver", "call"]}),
        (_("Money"), {"fields": ["amount", "currency", "status"]}),
        (
            _("Failure"),
            {
                "fields": ["failure_reason", "failed_at"],
                "description": _(
                    "A failed payout was re-credited to the party's available balance: request a new payout "
                    "once the receiving account is fixed."
                ),
            },
        ),
        (_("Timeline"), {"fields": ["requested_by", "created_at", "sent_at", "paid_at"]}),
    ]


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ["split", "quantity", "paid", "platform_discount", "commission", "referral", "fee", "tax", "vendor_amount"]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "payment",
        "vendor_order",
        "amount",
        "currency",
        "status",
        "after_settlement",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "after_settlement", "currency", "payment__provider"]
    search_fields = ["reference", "payment__reference", "vendor_order__number"]
    list_select_related = ["payment", "vendor_order"]
    date_hierarchy = "created_at"
    inlines = [RefundLineInline]


@admin.register(RefundLine)
class RefundLineAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "refund",
        "split",
        "quantity",
        "paid",
        "commission",
        "referral",
        "fee",
        "tax",
        "vendor_amount",
    ]
    search_fields = ["refund__reference"]
    list_select_related = ["refund", "split"]


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "provider",
        "kind",
        "status",
        "payment",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "completed_at",
    ]
    list_filter = ["kind", "status", "provider"]
    search_fields = ["external_id", "provider_reference", "payment__reference"]
    list_select_related = ["payment"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_providercall")

    @admin.action(description=_("Send the selected failed calls again (same external id)"), permissions=["send"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[ProviderCall]):
        retryable = queryset.filter(status__in=[ProviderCall.Status.FAILED, ProviderCall.Status.NOT_SUPPORTED])
        # A failed payout's money is back in the party's available balance: sending it again
        # could pay it twice. A new payout is requested instead.
        payouts = retryable.filter(kind=ProviderCall.Kind.PAYOUT).count()
        sent = 0
        for call in retryable.exclude(kind=ProviderCall.Kind.PAYOUT).order_by("pk"):
            call_retry(call=call, actor=request.user)
            sent += 1
        self.message_user(request, _("%(count)d call(s) queued to be sent again.") % {"count": sent}, messages.SUCCESS)
        if payouts:
            self.message_user(
                request,
                _("%(count)d failed payout(s) left alone: their money was re-credited; request a new payout.")
                % {"count": payouts},
                messages.WARNING,
            )
        skipped = queryset.count() - sent - payouts
        if skipped:
            self.message_user(
                request,
                _("%(count)d call(s) skipped: only failed or unsupported calls are sent again.") % {"count": skipped},
                messages.WARNING,
            )


class CommissionRuleForm(forms.ModelForm):
    """The same rules as payments.services.commission.commission_rule_create and the model's
    check constraints, as form errors (never a database error)."""

    class Meta:
        model = CommissionRule
        fields = ["scope", "category", "vendor", "rate", "valid_from", "valid_until", "note"]

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and not (Decimal(0) <= rate < Decimal(1)):
            raise forms.ValidationError(_("A commission rate is a decimal from 0 to below 1, e.g. 0.0500 for 5%."))
        return rate

    def clean(self):
        cleaned = super().clean()
        scope, category, vendor = cleaned.get("scope"), cleaned.get("category"), cleaned.get("vendor")
        if scope == CommissionRule.Scope.PLATFORM:
            if category is not None:
                self.add_error("category", _("The platform default applies to everything: leave the category empty."))
            if vendor is not None:
                self.add_error("vendor", _("The platform default applies to everything: leave the shop empty."))
        elif scope == CommissionRule.Scope.CATEGORY:
            if category is None:
                self.add_error("category", _("Choose the category this rate applies to."))
            if vendor is not None:
                self.add_error("vendor", _("A category rule applies to every shop: leave the shop empty."))
        elif scope == CommissionRule.Scope.SHOP:
            if vendor is None:
                self.add_error("vendor", _("Choose the shop this rate applies to."))
            if category is not None:
                self.add_error("category", _("A shop rule covers all its categories: leave the category empty."))
        valid_from, valid_until = cleaned.get("valid_from"), cleaned.get("valid_until")
        if valid_from and valid_until and valid_until <= valid_from:
            self.add_error("valid_until", _("The rule must end after it starts."))
        return cleaned


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    """Admins set the rates. A new rule goes through commission_rule_create; the rate in force
    when an order is paid is frozen on its lines, so changing a rule never rewrites a paid order.
    Rules are ended (valid until), never deleted, so the history stays readable."""

    form = CommissionRuleForm
    list_display = ["scope", "target", "rate", "valid_from", "valid_until", "note", "created_by", "created_at"]
    list_filter = ["scope"]
    search_fields = ["vendor__name", "category__name", "note"]
    list_select_related = ["vendor", "category", "created_by"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description=_("applies to"))
    def target(self, rule: CommissionRule) -> str:
        return str(rule.vendor or rule.category or _("everything"))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: CommissionRule, form, change) -> None:
        if not change:
            rule = commission_rule_create(
                actor=request.user,
                scope=obj.scope,
                rate=obj.rate,
                valid_from=obj.valid_from,
                valid_until=obj.valid_until,
                category=obj.category,
                vendor=obj.vendor,
                note=obj.note,
            )
            obj.pk, obj.created_by, obj.created_at = rule.pk, rule.created_by, rule.created_at
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action="commission_rule.changed",
                obj=obj,
                data={field: str(form.cleaned_data.get(field)) for field in form.changed_data},
            )


@admin.register(ReceiverAccount)
class ReceiverAccountAdmin(admin.ModelAdmin):
    """Each party's own account at a provider, where the provider routes its share (no 二清)."""

    list_display = ["owner_type", "owner_key", "provider", "account", "name", "registered_at", "created_at"]
    list_filter = ["provider", "owner_type"]
    search_fields = ["owner_key", "account", "name"]


class ReconciliationMismatchInline(ReadOnlyInline):
    model = ReconciliationMismatch
    fields = [
        "kind",
        "reference",
        "currency",
        "ledger_amount",
        "provider_amount",
        "detail",
        "resolved_at",
        "resolved_by",
        "resolution",
    ]
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["day", "provider", "records_compared", "mismatch_count", "started_at", "finished_at"]
    list_filter = ["provider"]
    date_hierarchy = "day"
    inlines = [ReconciliationMismatchInline]
    actions = ["reconcile_again"]

    def has_reconcile_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_reconciliationrun")

    @admin.action(description=_("Compare the selected days again"), permissions=["reconcile"])
    def reconcile_again(self, request: HttpRequest, queryset: QuerySet[ReconciliationRun]):
        for run in queryset.order_by("day", "provider"):
            try:
                run = reconciliation_services.reconcile_day(provider=run.provider, day=run.day)
            except (DomainError, ProviderUnavailable) as exc:
                self.message_user(request, f"{run.provider} {run.day}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(provider)s %(day)s: %(count)d open mismatch(es).")
                % {"provider": run.provider, "day": run.day, "count": run.mismatch_count},
                messages.WARNING if run.mismatch_count else messages.SUCCESS,
            )


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", _("Open")), ("yes", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class MismatchResolveForm(forms.Form):
    note = forms.CharField(
        label=_("How was it resolved?"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_('Kept with the mismatch, e.g. "provider\'s statement corrected on 3 May".'),
    )


@admin.register(ReconciliationMismatch)
class ReconciliationMismatchAdmin(ReadOnlyAdmin):
    list_display = [
        "run",
        "kind",
        "reference",
        "currency",
        "ledger_amount",
        "provider_amount",
        "detail",
        "is_resolved",
        "resolution",
    ]
    list_filter = ["kind", ResolvedFilter, "run__provider"]
    search_fields = ["reference", "detail", "resolution"]
    list_select_related = ["run"]
    actions = ["mark_resolved"]

    @admin.display(description=_("resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, mismatch: ReconciliationMismatch) -> bool:
        return mismatch.resolved_at is not None

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_reconciliationmismatch")

    @admin.action(description=_("Mark resolved…"), permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[ReconciliationMismatch]):
        """An intermediate page asks for the note; the selected ids travel with it."""
        form = MismatchResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                count = reconciliation_services.reconciliation_mismatches_resolve(
                    mismatch_ids=list(queryset.values_list("pk", flat=True)),
                    actor=request.user,
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error("note", str(exc))
            else:
                self.message_user(request, _("%(count)d mismatch(es) resolved.") % {"count": count}, messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve reconciliation mismatches"),
            "opts": self.model._meta,
            "form": form,
            "mismatches": queryset.select_related("run").order_by("pk"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payments/mismatch_resolve.html", context)


# --- The money overview: /admin/payments/overview/ --------------------------------------------


def money_overview_view(request: HttpRequest) -> HttpResponse:
    """The platform's money per currency, from the ledger (payments.selectors.money_overview)."""
    if not request.user.has_perm("payments.view_ledgeraccount"):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Money overview"),
        "overview": money_overview(),
        "app_label": "payments",
    }
    return TemplateResponse(request, "admin/payments/overview.html", context)


def _add_money_overview(site: admin.AdminSite) -> None:
    """Puts the overview at /admin/payments/overview/ on the default admin site, ahead of the
    site's own patterns (its catch-all would answer first otherwise). Django's documented way is
    an AdminSite subclass overriding get_urls; the project uses the default site, so this wraps it."""
    site_urls = site.get_urls

    def get_urls():
        return [
            path("payments/overview/", site.admin_view(money_overview_view), name="payments_overview"),
            *site_urls(),
        ]

    site.get_urls = get_urls


_add_money_overview(admin.site)
