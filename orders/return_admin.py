"""Admin for return and refund requests (imported by orders/admin.py): read-only records, and
the platform's arbitration page for disputed requests, which calls return_request_arbitrate."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from marketplace.errors import DomainError
from orders import return_selectors
from orders.models import ReturnLine, ReturnPhoto, ReturnRequest
from orders.services.returns import NOTE_MAX_LENGTH, REASON_LABELS, return_request_arbitrate

RS = ReturnRequest.Status


class ArbitrationForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("refund", _("Refund the buyer")), ("refuse", _("Refuse and close the request"))],
        widget=forms.RadioSelect,
    )
    goods_return = forms.BooleanField(
        label=_("The goods must come back first"),
        required=False,
        initial=True,
        help_text=_("For a return: untick to refund without waiting for the goods."),
    )
    note = forms.CharField(
        label=_("Decision for the buyer and the shop"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=NOTE_MAX_LENGTH,
    )


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["order_line", "quantity", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReturnPhotoInline(ReturnLineInline):
    model = ReturnPhoto
    fields = ["photo", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def photo(self, photo: ReturnPhoto) -> str:
        """The private photo, opened through the access-checked view, never a public media URL."""
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', photo.url, _("Open photo"))


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "vendor_order",
        "buyer",
        "kind",
        "status",
        "amount",
        "currency",
        "created_at",
        "arbitrate_link",
    ]
    list_filter = ["status", "kind", "reason", "created_at", "vendor_order__vendor"]
    search_fields = ["number", "vendor_order__number", "vendor_order__order__number", "buyer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["vendor_order", "buyer"]
    inlines = [ReturnLineInline, ReturnPhotoInline]
    actions = ["arbitrate"]
    # Requests change only through their services (state machine, stock, the refund hook).
    readonly_fields = [
        "vendor_order", "buyer", "number", "kind", "status", "reason", "description", "shipping_refund", "amount",
        "currency", "vendor_note", "admin_note", "return_carrier", "return_tracking_number", "created_at",
        "decided_at", "goods_received_at", "refund_approved_at", "closed_at",
    ]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("Arbitration"))
    def arbitrate_link(self, return_request: ReturnRequest) -> str:
        if return_request.status != RS.DISPUTED:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:orders_returnrequest_arbitrate", args=[return_request.pk]),
            _("Decide…"),
        )

    @admin.action(description=_("Arbitrate the selected disputed request"))
    def arbitrate(self, request, queryset):
        disputed = list(queryset.filter(status=RS.DISPUTED).values_list("pk", flat=True)[:2])
        if len(disputed) != 1:
            self.message_user(request, _("Select exactly one disputed request."), messages.WARNING)
            return None
        return redirect("admin:orders_returnrequest_arbitrate", disputed[0])

    def get_urls(self):
        arbitrate = self.admin_site.admin_view(self.arbitrate_view)
        return [
            path("<int:return_id>/arbitrate/", arbitrate, name="orders_returnrequest_arbitrate"),
            *super().get_urls(),
        ]

    def arbitrate_view(self, request: HttpRequest, return_id: int):
        """A disputed request with the buyer's and the shop's words; the platform's decision."""
        return_request = (
            ReturnRequest.objects.filter(pk=return_id)
            .select_related("vendor_order", "vendor_order__vendor", "vendor_order__order", "buyer")
            .first()
        )
        if return_request is None or not self.has_view_permission(request, return_request):
            raise Http404
        can_decide = self.has_change_permission(request, return_request) and return_request.status == RS.DISPUTED
        form = ArbitrationForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and can_decide and form.is_valid():
            try:
                return_request_arbitrate(
                    return_request=return_request,
                    actor=request.user,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    goods_return=form.cleaned_data["goods_return"],
                )
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("Decided; the buyer and the shop were told."), messages.SUCCESS)
            return redirect("admin:orders_returnrequest_change", return_request.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Arbitrate return %(number)s") % {"number": return_request.number},
            "opts": self.model._meta,
            "return_request": return_request,
            "reason": REASON_LABELS.get(return_request.reason, return_request.reason),
            "lines": return_request.lines.select_related("order_line").order_by("id"),
            "photos": return_request.photos.all(),
            "timeline": return_selectors.return_timeline_rows(return_request=return_request, show_actor=True),
            "form": form,
            "can_decide": can_decide,
        }
        return TemplateResponse(request, "orders/admin/return_arbitrate.html", context)
