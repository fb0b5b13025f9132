"""Admin for shops: review applications (approve, reject with a reason), suspend and
reinstate shops, and look up staff and shipping templates. Decisions go through
vendors.services, so they are audited and the people concerned are notified."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin

from marketplace.errors import DomainError, InvalidUpload
from marketplace.uploads import private_file_response, validate_image
from vendors import services
from vendors.forms import ReasonForm
from vendors.models import ApplicationDocument, ShippingTemplate, Vendor, VendorApplication, VendorMember


def _run_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    intro: str,
    submit_label: str,
    apply_one: Callable[[object, str], object],
    done_message: Callable[[int], str],
):
    """An admin action that first asks for a reason (an intermediate page), then applies it to
    each selected object; one object's error does not stop the others."""
    form = ReasonForm(request.POST if request.POST.get("apply") else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply_one(obj, form.cleaned_data["reason"])
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc}", messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, done_message(done), messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "vendors/admin/reason_form.html", context)


# --- Applications ---------------------------------------------------------------------------


class ApplicationDocumentInline(admin.TabularInline):
    model = ApplicationDocument
    extra = 0
    can_delete = False
    fields = ["link", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("document"))
    def link(self, document: ApplicationDocument) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("admin:vendors_vendorapplication_document", args=[document.application_id, document.pk]),
            document.original_name or document.file.name,
        )


@admin.register(VendorApplication)
class VendorApplicationAdmin(admin.ModelAdmin):
    list_display = ["shop_name", "slug", "applicant", "legal_kind", "shop_type", "status", "created_at", "reviewed_at"]
    list_filter = ["status", "legal_kind", "shop_type", "created_at", "reviewed_at"]
    search_fields = [
        "shop_name",
        "slug",
        "applicant__email",
        "contact_name",
        "contact_email",
        "contact_phone",
        "licence_number",
    ]
    list_select_related = ["applicant", "reviewed_by"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["approve_applications", "reject_applications"]
    inlines = [ApplicationDocumentInline]
    fieldsets = [
        (_("Shop"), {"fields": ["shop_name", "slug", "legal_kind", "shop_type", "description"]}),
        (
            _("Applicant"),
            {"fields": ["applicant", "contact_name", "contact_email", "contact_phone", "licence_number"]},
        ),
        (
            _("Decision"),
            {
                "fields": [
                    "status",
                    "decide_link",
                    "decision_reason",
                    "reviewed_by",
                    "reviewed_at",
                    "shop_link",
                    "created_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "shop_name",
        "slug",
        "legal_kind",
        "shop_type",
        "description",
        "applicant",
        "contact_name",
        "contact_email",
        "contact_phone",
        "licence_number",
        "status",
        "decide_link",
        "decision_reason",
        "reviewed_by",
        "reviewed_at",
        "shop_link",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # people apply at /sell/apply/

    @admin.display(description=_("shop"))
    def shop_link(self, application: VendorApplication) -> str:
        if not application.vendor_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:vendors_vendor_change", args=[application.vendor_id]),
            application.vendor,
        )

    @admin.display(description=_("review"))
    def decide_link(self, application: VendorApplication) -> str:
        if application.status != VendorApplication.Status.SUBMITTED:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:vendors_vendorapplication_decide", args=[application.pk]),
            _("Approve or reject…"),
        )

    def get_urls(self):
        document = self.admin_site.admin_view(self.document_view)
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path(
                "<int:application_id>/documents/<int:document_id>/", document, name="vendors_vendorapplication_document"
            ),
            path("<int:application_id>/decide/", decide, name="vendors_vendorapplication_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, application_id: int):
        """One application's decision: approve, or reject with a reason the applicant reads."""
        application = VendorApplication.objects.filter(pk=application_id).select_related("applicant").first()
        if application is None or not self.has_view_permission(request, application):
            raise Http404
        can_decide = self.has_change_permission(request, application)
        form = ReasonForm(request.POST if "_reject" in request.POST else None)
        if request.method == "POST" and can_decide:
            try:
                if "_approve" in request.POST:
                    vendor = services.vendor_application_approve(application=application, actor=request.user)
                    self.message_user(request, _("Approved: “%(shop)s” is open.") % {"shop": vendor}, messages.SUCCESS)
                    return redirect("admin:vendors_vendorapplication_change", application.pk)
                if "_reject" in request.POST and form.is_valid():
                    services.vendor_application_reject(
                        application=application, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                    self.message_user(request, _("Rejected; the applicant was told why."), messages.SUCCESS)
                    return redirect("admin:vendors_vendorapplication_change", application.pk)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect("admin:vendors_vendorapplication_change", application.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review “%(shop)s”") % {"shop": application.shop_name},
            "opts": self.model._meta,
            "application": application,
            "documents": application.documents.all(),
            "form": form,
            "can_decide": can_decide and application.status == VendorApplication.Status.SUBMITTED,
        }
        return TemplateResponse(request, "vendors/admin/decide.html", context)

    def document_view(self, request: HttpRequest, application_id: int, document_id: int) -> FileResponse:
        """Documents are opened through the admin (signed-in reviewers only), never by a public URL."""
        if not self.has_view_permission(request):
            raise Http404
        document = ApplicationDocument.objects.filter(pk=document_id, application_id=application_id).first()
        if document is None:
            raise Http404
        return private_file_response(
            document.file,
            content_type=document.content_type,
            filename=document.original_name or document.file.name.rsplit("/", 1)[-1],
        )

    @admin.action(description=_("Approve selected applications (opens the shops)"), permissions=["change"])
    def approve_applications(self, request: HttpRequest, queryset: QuerySet[VendorApplication]) -> None:
        opened = 0
        for application in queryset:
            try:
                services.vendor_application_approve(application=application, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{application}: {exc}", messages.ERROR)
            else:
                opened += 1
        if opened:
            self.message_user(
                request,
                ngettext("%d application approved.", "%d applications approved.", opened) % opened,
                messages.SUCCESS,
            )

    @admin.action(description=_("Reject selected applications (asks for a reason)"), permissions=["change"])
    def reject_applications(self, request: HttpRequest, queryset: QuerySet[VendorApplication]):
        return _run_with_reason(
            self,
            request,
            queryset,
            action="reject_applications",
            title=_("Reject shop applications"),
            intro=_("The applicants receive this reason by e-mail and in their messages."),
            submit_label=_("Reject"),
            apply_one=lambda application, reason: services.vendor_application_reject(
                application=application, actor=request.user, reason=reason
            ),
            done_message=lambda n: ngettext("%d application rejected.", "%d applications rejected.", n) % n,
        )


# --- Shops ----------------------------------------------------------------------------------


class VendorMemberInline(admin.TabularInline):
    """Read-only here: owners manage their staff in the dashboard, where the last-owner rule lives."""

    model = VendorMember
    extra = 0
    can_delete = False
    fields = ["user", "role", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ShippingTemplateInline(admin.TabularInline):
    model = ShippingTemplate
    extra = 0
    can_delete = False
    fields = ["name", "base_fee", "per_item_fee", "free_over", "excluded_regions", "is_default", "is_active"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VendorAdminForm(forms.ModelForm):
    """Banner and logo uploaded here get the same checks as in the dashboard."""

    def _image(self, field: str):
        upload = self.cleaned_data.get(field)
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            try:
                validate_image(upload)
            except InvalidUpload as exc:
                raise forms.ValidationError(str(exc)) from None
        return upload

    def clean_banner(self):
        return self._image("banner")

    def clean_logo(self):
        return self._image("logo")


@admin.register(Vendor)
class VendorAdmin(TranslationAdmin):
    form = VendorAdminForm
    list_display = ["name", "slug", "shop_type", "legal_kind", "status", "staff_count", "created_at"]
    list_filter = ["status", "shop_type", "legal_kind", "sells_wholesale", "sells_cross_border", "currency"]
    search_fields = ["name_en", "name_zh_hans", "slug", "contact_email", "contact_phone", "members__user__email"]
    readonly_fields = ["slug", "status", "suspended_reason", "created_at"]
    inlines = [VendorMemberInline, ShippingTemplateInline]
    actions = ["suspend_vendors", "reinstate_vendors"]
    ordering = ["name"]

    def has_add_permission(self, request) -> bool:
        return False  # shops open by approving an application

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(staff_total=Count("members", distinct=True))

    @admin.display(description=_("staff"), ordering="staff_total")
    def staff_count(self, vendor: Vendor) -> int:
        return vendor.staff_total

    @admin.action(
        description=_("Suspend selected shops (hides their products; asks for a reason)"), permissions=["change"]
    )
    def suspend_vendors(self, request: HttpRequest, queryset: QuerySet[Vendor]):
        return _run_with_reason(
            self,
            request,
            queryset,
            action="suspend_vendors",
            title=_("Suspend shops"),
            intro=_("Their products leave the market at once; their staff receive this reason."),
            submit_label=_("Suspend"),
            apply_one=lambda vendor, reason: services.vendor_suspend(vendor=vendor, actor=request.user, reason=reason),
            done_message=lambda n: ngettext("%d shop suspended.", "%d shops suspended.", n) % n,
        )

    @admin.action(description=_("Reinstate selected shops"), permissions=["change"])
    def reinstate_vendors(self, request: HttpRequest, queryset: QuerySet[Vendor]) -> None:
        for vendor in queryset:
            services.vendor_reinstate(vendor=vendor, actor=request.user)
        self.message_user(request, _("Selected shops are open."), messages.SUCCESS)


@admin.register(VendorMember)
class VendorMemberAdmin(admin.ModelAdmin):
    """Read-only directory of who staffs which shop (changes happen in the owners' dashboard)."""

    list_display = ["user", "vendor", "role", "created_at"]
    list_filter = ["role", "vendor__status"]
    search_fields = ["user__email", "user__display_name", "vendor__name_en", "vendor__name_zh_hans", "vendor__slug"]
    list_select_related = ["user", "vendor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ShippingTemplate)
class ShippingTemplateAdmin(admin.ModelAdmin):
    """Read-only: shops keep their own templates in the dashboard (one default, rules in services)."""

    list_display = ["name", "vendor", "base_fee", "per_item_fee", "free_over", "is_default", "is_active"]
    list_filter = ["is_active", "is_default", "vendor__status"]
    search_fields = ["name", "vendor__name_en", "vendor__name_zh_hans", "vendor__slug"]
    list_select_related = ["vendor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
