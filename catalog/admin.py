"""Admin for the catalog: the category tree, attributes, and product moderation (ban with a
reason, unban) through catalog services, so every decision is audited and the shop is told."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from catalog.cache import catalog_changed
from catalog.categories import category_save
from catalog.models import Attribute, AttributeValue, Category, Product, ProductImage, ProductVariant
from marketplace.errors import DomainError


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "position"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node = parent
        while node is not None and self.instance.pk is not None:
            if node.pk == self.instance.pk:
                raise forms.ValidationError(_("A category cannot be placed inside itself."))
            node = node.parent
        return parent


@admin.register(Category)
class CategoryAdmin(TranslationAdmin):
    form = CategoryAdminForm
    list_display = ["indented_name", "slug", "position", "product_count"]
    list_editable = ["position"]
    list_display_links = ["indented_name"]
    search_fields = ["name_en", "name_zh_hans", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    fields = ["name", "slug", "parent", "position"]
    autocomplete_fields = ["parent"]
    ordering = ["path", "id"]
    list_per_page = 200

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, category: Category) -> str:
        return format_html('<span style="padding-left:{}em">{}</span>', category.depth * 1.5, category.name)

    @admin.display(description=_("products"))
    def product_count(self, category: Category) -> int:
        return category.product_total

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(product_total=Count("products"))

    def save_model(self, request, obj: Category, form, change) -> None:
        category_save(category=obj)  # the form refused cycles already; listings are invalidated

    def delete_model(self, request, obj: Category) -> None:
        super().delete_model(request, obj)
        catalog_changed()


class AttributeValueInline(TranslationTabularInline):
    model = AttributeValue
    extra = 1
    prepopulated_fields = {"slug": ("value_en",)}


@admin.register(Attribute)
class AttributeAdmin(TranslationAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name_en", "name_zh_hans", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = [AttributeValueInline]


@admin.register(AttributeValue)
class AttributeValueAdmin(TranslationAdmin):
    list_display = ["value", "attribute", "slug"]
    list_filter = ["attribute"]
    search_fields = ["value_en", "value_zh_hans", "slug", "attribute__slug"]
    list_select_related = ["attribute"]


class VariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    fields = ["sku", "name", "price", "compare_at_price", "stock", "is_active", "position"]
    readonly_fields = ["sku", "name", "price", "compare_at_price", "stock"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # shops manage their variants in the dashboard


class ImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["preview", "alt", "position"]
    readonly_fields = ["preview"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # uploads go through the dashboard's checks

    @admin.display(description=_("image"))
    def preview(self, image: ProductImage) -> str:
        source = image.thumbnail or image.image
        return format_html('<img src="{}" style="max-height:60px">', source.url) if source else "-"


class BanForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the shop is told)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


@admin.register(Product)
class ProductAdmin(TranslationAdmin):
    list_display = ["title", "vendor", "category", "status", "is_banned", "min_price", "total_stock", "created_at"]
    list_filter = ["status", "is_banned", "vendor", "category"]
    search_fields = ["title_en", "title_zh_hans", "slug", "variants__sku", "vendor__name_en", "vendor__name_zh_hans"]
    list_select_related = ["vendor", "category"]
    autocomplete_fields = ["category"]
    readonly_fields = [
        "vendor",
        "is_banned",
        "ban_reason",
        "min_price",
        "max_price",
        "total_stock",
        "sold_count",
        "created_at",
        "updated_at",
    ]
    fields = [
        "vendor",
        "title",
        "slug",
        "category",
        "status",
        "description",
        "currency",
        "is_banned",
        "ban_reason",
        "min_price",
        "max_price",
        "total_stock",
        "sold_count",
        "created_at",
        "updated_at",
    ]
    inlines = [VariantInline, ImageInline]
    actions = ["ban_products", "unban_products"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # products belong to a shop: created in its dashboard

    def save_model(self, request, obj: Product, form, change) -> None:
        # An admin edit of content: keep the derived fields (search, prices) and caches right.
        super().save_model(request, obj, form, change)
        from catalog.services.derived import product_refresh_derived

        product_refresh_derived(product_ids=[obj.pk])

    @admin.action(description=_("Ban the selected products (asks for a reason)"))
    def ban_products(self, request: HttpRequest, queryset: QuerySet[Product]):
        from catalog.services import product_ban

        form = BanForm(request.POST if request.POST.get("apply") else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            done = self._apply(request, queryset, lambda p: product_ban(product=p, actor=request.user, reason=reason))
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d product banned.", "%(n)d products banned.", done) % {"n": done},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ban products"),
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": "ban_products",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "catalog/admin/ban_form.html", context)

    @admin.action(description=_("Lift the ban on the selected products"))
    def unban_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        from catalog.services import product_unban

        done = self._apply(request, queryset, lambda p: product_unban(product=p, actor=request.user))
        if done:
            self.message_user(
                request,
                ngettext("%(n)d product may be sold again.", "%(n)d products may be sold again.", done) % {"n": done},
                messages.SUCCESS,
            )

    def _apply(self, request: HttpRequest, queryset: QuerySet[Product], action) -> int:
        """Apply to each product; one product's error does not stop the others."""
        done = 0
        for product in queryset:
            try:
                action(product)
            except DomainError as exc:
                self.message_user(request, f"{product}: {exc}", messages.ERROR)
            else:
                done += 1
        return done


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product", "vendor", "price", "stock", "is_active"]
    list_filter = ["is_active", "vendor"]
    search_fields = ["sku", "product__title_en", "product__title_zh_hans"]
    list_select_related = ["product", "vendor"]
    readonly_fields = ["product", "vendor", "sku", "price", "compare_at_price", "stock"]
    fields = ["product", "vendor", "sku", "name", "price", "compare_at_price", "stock", "weight_grams", "is_active"]
    filter_horizontal = ["attribute_values"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj: ProductVariant, form, change) -> None:
        super().save_model(request, obj, form, change)
        from catalog.services.derived import product_refresh_derived

        product_refresh_derived(product_ids=[obj.product_id])
