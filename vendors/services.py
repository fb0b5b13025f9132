"""Writes for shops: onboarding and its review, suspension, staff and roles, shipping
templates and the shop's profile. Each entry point is one transaction that audits itself and
notifies people after commit (marketplace.services.notification_send)."""

import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import hooks
from marketplace.errors import DomainError, NotFound
from marketplace.models import User
from marketplace.money import MAX_AMOUNT
from marketplace.services import audit_record, notification_send
from marketplace.uploads import validate_document, validate_image
from vendors.errors import (
    AlreadyMember,
    ApplicationAlreadyOpen,
    ApplicationDecided,
    BusinessLicenceNumberInvalid,
    DocumentCountInvalid,
    LastOwner,
    LicenceNumberInvalid,
    NotShopOwner,
    ReasonRequired,
    ShippingTemplateInvalid,
    SlugTaken,
    UserNotRegistered,
)
from vendors.identity import licence_number_valid, normalize_licence_number
from vendors.models import (
    ApplicationDocument,
    LegalKind,
    Role,
    ShippingTemplate,
    ShopType,
    Vendor,
    VendorApplication,
    VendorMember,
)
from vendors.regions import region_canonical, region_is_excluded, region_key
from vendors.selectors import role_allows, vendor_slug_is_free

DOCUMENTS_MIN = 1
DOCUMENTS_MAX = 5
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
DASHBOARD_URL = "/dashboard/"
APPLY_URL = "/sell/apply/"


def _renamed(file: UploadedFile, content_type: str) -> UploadedFile:
    """Stored under a random name: documents hold personal data and must not be guessable."""
    file.name = f"{uuid.uuid4().hex}{_EXTENSIONS.get(content_type, '')}"
    return file


def _required_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


# --- Onboarding -----------------------------------------------------------------------------


def vendor_application_submit(
    *,
    applicant: User,
    shop_name: str,
    slug: str,
    legal_kind: str,
    shop_type: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    licence_number: str,
    description: str = "",
    documents: Sequence[UploadedFile],
) -> VendorApplication:
    """Files an application for review. One open application per person; the shop address
    must be free among shops and open applications (both backed by database constraints).
    Every document is checked (PDF or image, size, pixels) before anything is written."""
    shop_name = " ".join((shop_name or "").split())
    slug = (slug or "").strip().lower()
    if not shop_name:
        raise DomainError(_("Give the shop a name."))
    try:
        validate_slug(slug)
        validate_email(contact_email)
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages)) from None
    if legal_kind not in LegalKind.values or shop_type not in ShopType.values:
        raise DomainError(_("Choose a kind and a shop type from the list."))
    licence_number = normalize_licence_number(licence_number)
    if not licence_number_valid(number=licence_number, legal_kind=legal_kind):
        raise BusinessLicenceNumberInvalid() if legal_kind == LegalKind.BUSINESS else LicenceNumberInvalid()
    if not DOCUMENTS_MIN <= len(documents) <= DOCUMENTS_MAX:
        raise DocumentCountInvalid(minimum=DOCUMENTS_MIN, maximum=DOCUMENTS_MAX)
    checked = [(document, validate_document(document)) for document in documents]

    with transaction.atomic():
        # Serialises one person's submissions, so the "one open application" check is exact.
        User.objects.select_for_update().filter(pk=applicant.pk).first()
        if VendorApplication.objects.filter(applicant=applicant, status=VendorApplication.Status.SUBMITTED).exists():
            raise ApplicationAlreadyOpen()
        if not vendor_slug_is_free(slug=slug):
            raise SlugTaken(slug=slug)
        try:
            with transaction.atomic():  # another applicant may take the slug at the same moment
                application = VendorApplication.objects.create(
                    applicant=applicant,
                    shop_name=shop_name,
                    slug=slug,
                    legal_kind=legal_kind,
                    shop_type=shop_type,
                    contact_name=" ".join((contact_name or "").split()),
                    contact_email=contact_email.strip(),
                    contact_phone=(contact_phone or "").strip(),
                    licence_number=licence_number,
                    description=(description or "").strip(),
                )
        except IntegrityError:
            raise SlugTaken(slug=slug) from None
        for document, content_type in checked:
            original_name = PurePath(document.name or "").name[:255]
            ApplicationDocument.objects.create(
                application=application,
                file=_renamed(document, content_type),
                original_name=original_name,
                content_type=content_type,
                size=document.size or 0,
            )
        audit_record(
            actor=applicant,
            action="vendor_application.submitted",
            obj=application,
            data={"slug": slug, "documents": len(checked)},
        )
    return application


def vendor_application_approve(*, application: VendorApplication, actor: User) -> Vendor:
    """Opens the shop: the Vendor from the application's data, the applicant as its owner and
    a default shipping template. Idempotent: approving an approved application returns its shop.
    Locks the application row, so two admins clicking at once make one shop."""
    with transaction.atomic():
        application = VendorApplication.objects.select_for_update().get(pk=application.pk)
        if application.status == VendorApplication.Status.APPROVED and application.vendor_id:
            return application.vendor
        if application.status != VendorApplication.Status.SUBMITTED:
            raise ApplicationDecided(status=application.get_status_display())
        if Vendor.objects.filter(slug=application.slug).exists():
            raise SlugTaken(slug=application.slug)
        vendor = Vendor.objects.create(
            name=application.shop_name,
            name_en=application.shop_name,
            slug=application.slug,
            legal_kind=application.legal_kind,
            shop_type=application.shop_type,
            description=application.description,
            description_en=application.description,
            contact_email=application.contact_email,
            contact_phone=application.contact_phone,
            sells_wholesale=application.shop_type == ShopType.WHOLESALER,
            sells_cross_border=application.shop_type == ShopType.CROSS_BORDER,
        )
        VendorMember.objects.create(vendor=vendor, user_id=application.applicant_id, role=Role.OWNER)
        ShippingTemplate.objects.create(vendor=vendor, name=_("Standard delivery"), is_default=True)
        application.status = VendorApplication.Status.APPROVED
        application.vendor = vendor
        application.reviewed_by = actor
        application.reviewed_at = timezone.now()
        application.decision_reason = ""
        application.save(update_fields=["status", "vendor", "reviewed_by", "reviewed_at", "decision_reason"])
        audit_record(actor=actor, action="vendor_application.approved", obj=application, data={"vendor_id": vendor.pk})
        audit_record(actor=actor, action="vendor.opened", obj=vendor, data={"application_id": application.pk})
        notification_send(
            user=application.applicant,
            kind="vendor_application_approved",
            title=_("Your shop “%(name)s” is open") % {"name": vendor.name},
            body=_("Your application was approved. Add products and shipping rates in the seller centre."),
            url=DASHBOARD_URL,
        )
    return vendor


def vendor_application_reject(*, application: VendorApplication, actor: User, reason: str) -> VendorApplication:
    """Refuses the application with a reason the applicant reads. Rejecting a rejected
    application changes nothing (the first reason stays); an approved one cannot be rejected."""
    reason = _required_reason(reason)
    with transaction.atomic():
        application = VendorApplication.objects.select_for_update().get(pk=application.pk)
        if application.status == VendorApplication.Status.REJECTED:
            return application
        if application.status != VendorApplication.Status.SUBMITTED:
            raise ApplicationDecided(status=application.get_status_display())
        application.status = VendorApplication.Status.REJECTED
        application.decision_reason = reason
        application.reviewed_by = actor
        application.reviewed_at = timezone.now()
        application.save(update_fields=["status", "decision_reason", "reviewed_by", "reviewed_at"])
        audit_record(actor=actor, action="vendor_application.rejected", obj=application, data={"reason": reason})
        notification_send(
            user=application.applicant,
            kind="vendor_application_rejected",
            title=_("Your shop application “%(name)s” was not approved") % {"name": application.shop_name},
            body=_("Reason: %(reason)s\nYou may correct it and apply again.") % {"reason": reason},
            url=APPLY_URL,
        )
    return application


# --- Suspension -----------------------------------------------------------------------------


def _notify_staff(*, vendor: Vendor, kind: str, title: str, body: str) -> None:
    for member in VendorMember.objects.filter(vendor=vendor).select_related("user"):
        notification_send(user=member.user, kind=kind, title=title, body=body, url=DASHBOARD_URL)


def vendor_suspend(*, vendor: Vendor, actor: User, reason: str) -> Vendor:
    """Closes the shop: its products leave the market at once (catalog visibility filters on
    the shop's status) and its staff are told why. Suspending a suspended shop changes nothing."""
    reason = _required_reason(reason)
    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        if vendor.status == Vendor.Status.SUSPENDED:
            return vendor
        vendor.status = Vendor.Status.SUSPENDED
        vendor.suspended_reason = reason
        vendor.save(update_fields=["status", "suspended_reason"])
        audit_record(actor=actor, action="vendor.suspended", obj=vendor, data={"reason": reason})
        hooks.emit(hooks.VENDOR_VISIBILITY_CHANGED, vendor_id=vendor.pk)
        _notify_staff(
            vendor=vendor,
            kind="vendor_suspended",
            title=_("Your shop “%(name)s” is suspended") % {"name": vendor.name},
            body=_("Its products are hidden from the market. Reason: %(reason)s") % {"reason": reason},
        )
        # The catalog's cached listing pages still show this shop's products until their
        # version is bumped: the kernel hook for that is wired by the catalog (see report).
    return vendor


def vendor_reinstate(*, vendor: Vendor, actor: User, reason: str = "") -> Vendor:
    """Reopens a suspended shop; its active products are on sale again. Idempotent."""
    reason = (reason or "").strip()
    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        if vendor.status == Vendor.Status.ACTIVE:
            return vendor
        vendor.status = Vendor.Status.ACTIVE
        vendor.suspended_reason = ""
        vendor.save(update_fields=["status", "suspended_reason"])
        audit_record(actor=actor, action="vendor.reinstated", obj=vendor, data={"reason": reason})
        hooks.emit(hooks.VENDOR_VISIBILITY_CHANGED, vendor_id=vendor.pk)
        _notify_staff(
            vendor=vendor,
            kind="vendor_reinstated",
            title=_("Your shop “%(name)s” is open again") % {"name": vendor.name},
            body=reason,
        )
    return vendor


# --- Staff ----------------------------------------------------------------------------------


def _lock_vendor(vendor: Vendor) -> Vendor:
    """Staff changes of one shop run one at a time, so two owners demoting each other at the
    same moment cannot leave the shop without an owner."""
    return Vendor.objects.select_for_update().get(pk=vendor.pk)


def _require_permission(*, vendor: Vendor, actor: User, permission: str) -> None:
    if actor.is_superuser:
        return
    member = VendorMember.objects.filter(vendor=vendor, user_id=actor.pk).first()
    if member is None or not role_allows(role=member.role, permission=permission):
        raise NotShopOwner() if permission in ("staff", "shop") else NotFound(_("Shop not found."))


def _owner_count(vendor: Vendor) -> int:
    return VendorMember.objects.filter(vendor=vendor, role=Role.OWNER).count()


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise DomainError(_("Choose a role from the list."))


def vendor_member_add(*, vendor: Vendor, actor: User, email: str, role: str) -> VendorMember:
    """Adds an existing account to the shop's staff (owners only) and tells them."""
    _check_role(role)
    email = (email or "").strip()
    with transaction.atomic():
        vendor = _lock_vendor(vendor)
        _require_permission(vendor=vendor, actor=actor, permission="staff")
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise UserNotRegistered(email=email)
        if VendorMember.objects.filter(vendor=vendor, user=user).exists():
            raise AlreadyMember(email=user.email)
        member = VendorMember.objects.create(vendor=vendor, user=user, role=role)
        audit_record(actor=actor, action="vendor_member.added", obj=member, data={"vendor_id": vendor.pk, "role": role})
        notification_send(
            user=user,
            kind="vendor_member_added",
            title=_("You joined the staff of “%(name)s”") % {"name": vendor.name},
            body=_("Your role: %(role)s.") % {"role": member.get_role_display()},
            url=DASHBOARD_URL,
        )
    return member


def _member_locked(member: VendorMember) -> VendorMember:
    current = VendorMember.objects.select_related("user").filter(pk=member.pk).first()
    if current is None:
        raise NotFound(_("Staff member not found."))
    return current


def vendor_member_change_role(*, member: VendorMember, actor: User, role: str) -> VendorMember:
    """Owners change a member's role; the last owner cannot be demoted."""
    _check_role(role)
    with transaction.atomic():
        vendor = _lock_vendor(member.vendor)
        member = _member_locked(member)
        _require_permission(vendor=vendor, actor=actor, permission="staff")
        if member.role == role:
            return member
        if member.role == Role.OWNER and _owner_count(vendor) <= 1:
            raise LastOwner()
        previous = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit_record(
            actor=actor,
            action="vendor_member.role_changed",
            obj=member,
            data={"vendor_id": vendor.pk, "from": previous, "to": role},
        )
        notification_send(
            user=member.user,
            kind="vendor_member_role_changed",
            title=_("Your role in “%(name)s” is now %(role)s")
            % {"name": vendor.name, "role": member.get_role_display()},
            url=DASHBOARD_URL,
            email=False,
        )
    return member


def vendor_member_remove(*, member: VendorMember, actor: User) -> None:
    """Owners remove a member (themselves too, if another owner remains); never the last owner."""
    with transaction.atomic():
        vendor = _lock_vendor(member.vendor)
        member = _member_locked(member)
        _require_permission(vendor=vendor, actor=actor, permission="staff")
        if member.role == Role.OWNER and _owner_count(vendor) <= 1:
            raise LastOwner()
        user = member.user
        audit_record(
            actor=actor,
            action="vendor_member.removed",
            obj=member,
            data={"vendor_id": vendor.pk, "user_id": user.pk, "role": member.role},
        )
        member.delete()
        notification_send(
            user=user,
            kind="vendor_member_removed",
            title=_("You are no longer on the staff of “%(name)s”") % {"name": vendor.name},
            email=False,
        )


# --- Shipping templates ---------------------------------------------------------------------


def _clean_fee(value: Decimal | None, *, optional: bool = False) -> Decimal | None:
    if value is None and optional:
        return None
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ShippingTemplateInvalid(reason=_("Fees are amounts between 0 and %(max)s.") % {"max": MAX_AMOUNT})
    if value != value.quantize(Decimal("0.01")):
        raise ShippingTemplateInvalid(reason=_("Fees have at most two decimals."))
    return value


def _clean_regions(regions: Sequence[str] | None) -> list[str]:
    """Known regions in their full Chinese name, others as typed; no duplicates."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in regions or []:
        key = region_key(raw)
        if key and key not in seen:
            seen.add(key)
            cleaned.append(region_canonical(raw)[:60])
    return cleaned


def _make_default(template: ShippingTemplate) -> None:
    # Clear the old default first: the partial unique index allows one default per shop.
    ShippingTemplate.objects.filter(vendor_id=template.vendor_id, is_default=True).exclude(pk=template.pk).update(
        is_default=False
    )


def _apply_template_fields(
    template: ShippingTemplate,
    *,
    name: str,
    base_fee: Decimal,
    per_item_fee: Decimal,
    free_over: Decimal | None,
    excluded_regions: Sequence[str] | None,
) -> None:
    name = " ".join((name or "").split())
    if not name:
        raise ShippingTemplateInvalid(reason=_("Give the template a name."))
    template.name = name[:80]
    template.base_fee = _clean_fee(base_fee)
    template.per_item_fee = _clean_fee(per_item_fee)
    template.free_over = _clean_fee(free_over, optional=True)
    template.excluded_regions = _clean_regions(excluded_regions)


def shipping_template_create(
    *,
    vendor: Vendor,
    actor: User,
    name: str,
    base_fee: Decimal,
    per_item_fee: Decimal = Decimal("0.00"),
    free_over: Decimal | None = None,
    excluded_regions: Sequence[str] | None = None,
    is_default: bool = False,
) -> ShippingTemplate:
    """A new active template; the shop's first one (or one marked default) becomes the default."""
    with transaction.atomic():
        vendor = _lock_vendor(vendor)
        _require_permission(vendor=vendor, actor=actor, permission="shipping")
        template = ShippingTemplate(vendor=vendor, is_active=True)
        _apply_template_fields(
            template,
            name=name,
            base_fee=base_fee,
            per_item_fee=per_item_fee,
            free_over=free_over,
            excluded_regions=excluded_regions,
        )
        has_default = ShippingTemplate.objects.filter(vendor=vendor, is_default=True).exists()
        template.is_default = is_default or not has_default
        if template.is_default:
            _make_default(template)
        template.save()
        audit_record(actor=actor, action="shipping_template.created", obj=template, data={"vendor_id": vendor.pk})
    return template


def shipping_template_update(
    *,
    template: ShippingTemplate,
    actor: User,
    name: str,
    base_fee: Decimal,
    per_item_fee: Decimal,
    free_over: Decimal | None,
    excluded_regions: Sequence[str] | None,
    is_default: bool,
) -> ShippingTemplate:
    """Changes a template. The default can move to another template but not vanish: to stop
    using the default, make another template the default first (or deactivate it)."""
    with transaction.atomic():
        vendor = _lock_vendor(template.vendor)
        _require_permission(vendor=vendor, actor=actor, permission="shipping")
        template = ShippingTemplate.objects.get(pk=template.pk, vendor=vendor)
        _apply_template_fields(
            template,
            name=name,
            base_fee=base_fee,
            per_item_fee=per_item_fee,
            free_over=free_over,
            excluded_regions=excluded_regions,
        )
        if is_default and not template.is_active:
            raise ShippingTemplateInvalid(reason=_("Activate the template before making it the default."))
        if template.is_default and not is_default:
            raise ShippingTemplateInvalid(reason=_("Make another template the default instead."))
        if is_default and not template.is_default:
            _make_default(template)
            template.is_default = True
        template.save()
        audit_record(actor=actor, action="shipping_template.updated", obj=template, data={"vendor_id": vendor.pk})
    return template


def shipping_template_deactivate(*, template: ShippingTemplate, actor: User) -> ShippingTemplate:
    """Checkout stops offering it. If it was the default, the oldest other active template
    becomes the default (none left: the shop has no shipping until one is activated)."""
    with transaction.atomic():
        vendor = _lock_vendor(template.vendor)
        _require_permission(vendor=vendor, actor=actor, permission="shipping")
        template = ShippingTemplate.objects.get(pk=template.pk, vendor=vendor)
        if not template.is_active:
            return template
        was_default = template.is_default
        template.is_active = False
        template.is_default = False
        template.save(update_fields=["is_active", "is_default"])
        if was_default:
            successor = (
                ShippingTemplate.objects.filter(vendor=vendor, is_active=True)
                .exclude(pk=template.pk)
                .order_by("id")
                .first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
        audit_record(actor=actor, action="shipping_template.deactivated", obj=template, data={"vendor_id": vendor.pk})
    return template


def shipping_template_activate(*, template: ShippingTemplate, actor: User) -> ShippingTemplate:
    """Offers it again; it becomes the default if the shop has none."""
    with transaction.atomic():
        vendor = _lock_vendor(template.vendor)
        _require_permission(vendor=vendor, actor=actor, permission="shipping")
        template = ShippingTemplate.objects.get(pk=template.pk, vendor=vendor)
        if template.is_active:
            return template
        template.is_active = True
        template.is_default = not ShippingTemplate.objects.filter(vendor=vendor, is_default=True).exists()
        template.save(update_fields=["is_active", "is_default"])
        audit_record(actor=actor, action="shipping_template.activated", obj=template, data={"vendor_id": vendor.pk})
    return template


def shipping_quote(*, template: ShippingTemplate, items_total: Decimal, item_count: int, region: str) -> Decimal | None:
    """What this template charges for one shop's part of an order: None when the region is not
    served; 0.00 when the goods reach `free_over`; else base_fee + per_item_fee × item_count.
    Exact Decimal arithmetic, no database access."""
    if not isinstance(items_total, Decimal) or isinstance(item_count, bool) or not isinstance(item_count, int):
        raise TypeError("items_total must be a Decimal and item_count an int")
    if item_count < 0 or items_total < 0:
        raise ValueError("items_total and item_count cannot be negative")
    if region_is_excluded(region=region, excluded=template.excluded_regions):
        return None
    cent = Decimal("0.01")
    if template.free_over is not None and items_total >= template.free_over:
        return Decimal("0.00")
    return (Decimal(template.base_fee) + Decimal(template.per_item_fee) * item_count).quantize(cent)


# --- Shop profile ---------------------------------------------------------------------------


def vendor_profile_update(
    *,
    vendor: Vendor,
    actor: User,
    name_en: str,
    name_zh_hans: str = "",
    description_en: str = "",
    description_zh_hans: str = "",
    contact_email: str,
    contact_phone: str = "",
    banner: UploadedFile | None = None,
    logo: UploadedFile | None = None,
) -> Vendor:
    """Owners edit the shop's names and descriptions (English and Chinese), images and contact.
    Images are checked (type by content, size, pixels) before anything is written."""
    name_en = " ".join((name_en or "").split())
    name_zh_hans = " ".join((name_zh_hans or "").split())
    if not name_en:
        raise DomainError(_("The shop needs a name in English (it is shown when no translation exists)."))
    try:
        validate_email(contact_email)
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages)) from None
    images = {}
    for field, upload in (("banner", banner), ("logo", logo)):
        if upload is not None:
            info = validate_image(upload)
            images[field] = _renamed(upload, info.content_type)
    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        _require_permission(vendor=vendor, actor=actor, permission="shop")
        values = {
            "name": name_en,
            "name_en": name_en,
            "name_zh_hans": name_zh_hans or None,
            "description_en": (description_en or "").strip(),
            "description_zh_hans": (description_zh_hans or "").strip() or None,
            "contact_email": contact_email.strip(),
            "contact_phone": (contact_phone or "").strip(),
        }
        changed = [field for field, value in values.items() if getattr(vendor, field) != value] + list(images)
        for field, value in {**values, **images}.items():
            setattr(vendor, field, value)
        vendor.save()
        audit_record(actor=actor, action="vendor.profile_updated", obj=vendor, data={"fields": sorted(set(changed))})
        hooks.emit(hooks.VENDOR_VISIBILITY_CHANGED, vendor_id=vendor.pk)
    return vendor
