from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.money import CURRENCY_CHOICES, MoneyField


class LegalKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    BUSINESS = "business", _("Business")


class ShopType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual seller")
    BRAND = "brand", _("Brand")
    WHOLESALER = "wholesaler", _("Wholesaler")
    CROSS_BORDER = "cross_border", _("Cross-border trader")


class Vendor(models.Model):
    """A shop. Its products are visible only while it is active."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("shop status", "Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    legal_kind = models.CharField(_("legal kind"), max_length=20, choices=LegalKind.choices)
    shop_type = models.CharField(_("shop type"), max_length=20, choices=ShopType.choices)
    description = models.TextField(_("description"), blank=True)
    banner = models.ImageField(_("banner"), upload_to="vendors/banners/", blank=True)
    logo = models.ImageField(_("logo"), upload_to="vendors/logos/", blank=True)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    sells_wholesale = models.BooleanField(_("sells wholesale"), default=False)
    sells_cross_border = models.BooleanField(_("sells cross-border"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.TextField(_("suspension reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class VendorApplication(models.Model):
    """Someone's request to open a shop; an admin approves or rejects it with a reason."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_applications"
    )
    shop_name = models.CharField(_("shop name"), max_length=120)
    slug = models.SlugField(_("shop address"), max_length=80)
    legal_kind = models.CharField(_("kind"), max_length=20, choices=LegalKind.choices)
    shop_type = models.CharField(_("shop type"), max_length=20, choices=ShopType.choices, default=ShopType.INDIVIDUAL)
    contact_name = models.CharField(_("contact name"), max_length=80)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    licence_number = models.CharField(_("business licence or ID number"), max_length=40)
    description = models.TextField(_("about the shop"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    decision_reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    vendor = models.OneToOneField(Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="application")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open application per person, and an address is held by at most one open application.
            models.UniqueConstraint(
                fields=["applicant"], condition=models.Q(status="submitted"), name="vendor_application_one_open"
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(status="submitted"), name="vendor_application_open_slug"
            ),
        ]
        verbose_name = _("shop application")
        verbose_name_plural = _("shop applications")

    def __str__(self) -> str:
        return f"{self.shop_name} ({self.get_status_display()})"


def private_storage():
    from django.core.files.storage import storages

    return storages["private"]


class ApplicationDocument(models.Model):
    """A licence or ID scan. Stored under a random name; admins open it through the admin."""

    application = models.ForeignKey(VendorApplication, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to="vendors/documents/%Y/%m/", storage=private_storage)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("application document")

    def __str__(self) -> str:
        return self.file.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


class VendorMember(models.Model):
    """A user's role in a shop: owner (everything), manager (products, orders), staff (orders)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor_id", "id"]
        constraints = [models.UniqueConstraint(fields=["vendor", "user"], name="vendor_member_unique")]
        verbose_name = _("shop staff member")
        verbose_name_plural = _("shop staff members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.vendor} ({self.role})"


class ShippingTemplate(models.Model):
    """How a shop charges for delivery: per order + per item, free over an amount, regions excluded."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="shipping_templates")
    name = models.CharField(_("name"), max_length=80)
    base_fee = MoneyField(_("fee per order"), default=0)
    per_item_fee = MoneyField(_("fee per item"), default=0)
    free_over = MoneyField(_("free shipping over"), null=True, blank=True)
    excluded_regions = models.JSONField(_("regions not served"), default=list, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(base_fee__gte=0, per_item_fee__gte=0), name="shipping_fees_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(free_over__isnull=True) | models.Q(free_over__gte=0),
                name="shipping_free_over_not_negative",
            ),
            # The default is the template checkout preselects: one per shop, and it must be usable.
            models.UniqueConstraint(
                fields=["vendor"], condition=models.Q(is_default=True), name="shipping_one_default_per_vendor"
            ),
            models.CheckConstraint(
                condition=models.Q(is_default=False) | models.Q(is_active=True), name="shipping_default_is_active"
            ),
        ]
        verbose_name = _("shipping template")
        verbose_name_plural = _("shipping templates")

    def __str__(self) -> str:
        return f"{self.vendor}: {self.name}"
