from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.money import CURRENCY_CHOICES, MoneyField
from vendors.models import Vendor


class Category(models.Model):
    """Admin-managed tree (three levels in the demo). `path` keeps a subtree one prefix query."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Attribute(models.Model):
    """A property variants differ by, e.g. colour or size."""

    name = models.CharField(_("name"), max_length=60)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeValue(models.Model):
    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(_("value"), max_length=60)
    slug = models.SlugField(max_length=60)

    class Meta:
        ordering = ["attribute_id", "value"]
        constraints = [models.UniqueConstraint(fields=["attribute", "slug"], name="attribute_value_unique")]

    def __str__(self) -> str:
        return f"{self.attribute.name}: {self.value}"


class Product(models.Model):
    """A product owned by one shop. Price and stock live on its variants; the min/max price,
    total stock and cover thumbnail are kept here, by catalog services, for cheap listings."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        HIDDEN = "hidden", _("Hidden")

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_banned = models.BooleanField(_("banned"), default=False)
    ban_reason = models.TextField(_("ban reason"), blank=True)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    min_price = MoneyField(_("lowest price"), default=0)
    max_price = MoneyField(_("highest price"), default=0)
    total_stock = models.IntegerField(_("stock"), default=0)
    sold_count = models.PositiveIntegerField(_("sold"), default=0)
    referral_rate = models.DecimalField(
        _("referral commission rate"),
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text=_(
            "Share of the price paid to whoever referred the buyer, out of the shop's share "
            "(0.0500 = 5%); at most the platform's maximum."
        ),
    )
    cover_thumbnail = models.CharField(max_length=255, blank=True)
    search_document = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    # Titles, shop names and SKUs only: small enough to rank thousands of matches quickly.
    search_rank_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "is_banned", "-created_at"], name="product_listing_idx"),
            models.Index(fields=["category", "status"], name="product_category_idx"),
            models.Index(fields=["min_price"], name="product_price_idx"),
            models.Index(fields=["-sold_count"], name="product_sold_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(referral_rate__gte=0, referral_rate__lt=1), name="product_referral_rate_range"
            ),
        ]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.title


class ProductVariant(models.Model):
    """A SKU: what the buyer puts in the cart. Stock never goes below zero (database check)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(_("SKU code"), max_length=64)
    name = models.CharField(_("variant"), max_length=120, blank=True)
    price = MoneyField(_("price"))
    compare_at_price = MoneyField(_("compare-at price"), null=True, blank=True)
    stock = models.IntegerField(_("stock"), default=0)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(default=0)
    attribute_values = models.ManyToManyField(AttributeValue, blank=True, related_name="variants")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "sku"], name="variant_sku_unique_per_shop"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="variant_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} {self.name}".strip()


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/%Y/%m/")
    thumbnail = models.ImageField(upload_to="products/thumbs/%Y/%m/", blank=True)
    alt = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name
