"""The shop's product pages under /dashboard/products/: thin views over catalog.services and
catalog.vendor_selectors. Every product is fetched through product_get_for_vendor, so another
shop's product is a 404 like a missing one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.forms import CsvImportForm, ImageUploadForm, ProductForm, VariantForm, form_error_from
from catalog.models import Product
from catalog.resources import COLUMNS, products_csv_export
from catalog.services import (
    ImportFailed,
    product_create,
    product_duplicate,
    product_image_add,
    product_image_delete,
    product_set_status,
    product_update,
    products_import_csv,
    stock_bulk_update,
    variant_create,
    variant_delete,
    variant_update,
)
from catalog.vendor_selectors import (
    BANNED,
    product_get_for_vendor,
    product_image_get_for_vendor,
    variant_get_for_vendor,
    vendor_product_list,
    vendor_variant_list,
)
from marketplace.errors import DomainError, NotFound
from vendors.dashboard import dashboard_view

PRODUCTS_PER_PAGE = 25
VARIANTS_PER_PAGE = 100


def _product_or_404(request: HttpRequest, product_id: int, *, for_edit: bool = False) -> Product:
    try:
        return product_get_for_vendor(vendor=request.vendor, id=product_id, for_edit=for_edit)
    except NotFound:
        raise Http404(_("Product not found.")) from None


@require_GET
@dashboard_view("products")
def product_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    status = request.GET.get("status", "")
    products = vendor_product_list(vendor=request.vendor, query=query, status=status)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/dashboard/product_list.html",
        {
            "page": page,
            "query": query,
            "status": status,
            "statuses": [*Product.Status.choices, (BANNED, _("Banned"))],
        },
    )


@require_http_methods(["GET", "POST"])
@dashboard_view("products")
def product_new(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_create(vendor=request.vendor, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Product saved as a draft. Add its variants and images, then put it on sale."))
            return redirect("catalog:dashboard_product_edit", product.pk)
    return render(request, "catalog/dashboard/product_new.html", {"form": form})


def _edit_page(request: HttpRequest, product: Product, **forms) -> HttpResponse:
    """The edit page with any bound (invalid) forms the caller passes in place of fresh ones."""
    variant_forms = forms.pop("variant_forms", {})
    context = {
        "product": product,
        "form": forms.get("form") or ProductForm(initial=ProductForm.initial_for(product)),
        "variant_rows": [
            (variant, variant_forms.get(variant.pk) or _variant_form(variant)) for variant in product.variants.all()
        ],
        "new_variant_form": forms.get("new_variant_form") or VariantForm(prefix="new"),
        "image_form": forms.get("image_form") or ImageUploadForm(),
        "statuses": Product.Status,
    }
    return render(request, "catalog/dashboard/product_edit.html", context)


def _variant_form(variant, data=None) -> VariantForm:
    return VariantForm(data, prefix=f"v{variant.pk}", initial=VariantForm.initial_for(variant))


@require_http_methods(["GET", "POST"])
@dashboard_view("products")
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id, for_edit=True)
    if request.method == "GET":
        return _edit_page(request, product)
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            product_update(product=product, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("catalog:dashboard_product_edit", product.pk)
    return _edit_page(request, product, form=form)


@require_POST
@dashboard_view("products")
def variant_add(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id, for_edit=True)
    form = VariantForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            variant_create(product=product, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, _("Variant added."))
            return redirect("catalog:dashboard_product_edit", product.pk)
    return _edit_page(request, product, new_variant_form=form)


@require_POST
@dashboard_view("products")
def variant_edit(request: HttpRequest, product_id: int, variant_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id, for_edit=True)
    variant = next((variant for variant in product.variants.all() if variant.pk == variant_id), None)
    if variant is None:
        raise Http404(_("Variant not found."))
    form = _variant_form(variant, request.POST)
    saved = False
    if form.is_valid():
        try:
            variant = variant_update(variant=variant, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            saved = True
    if request.htmx:  # the row swaps itself in place
        if saved:
            variant = variant_get_for_vendor(vendor=request.vendor, id=variant.pk)
            form = _variant_form(variant)
        return render(
            request,
            "catalog/dashboard/_variant_row.html",
            {"product": product, "variant": variant, "vform": form, "saved": saved},
        )
    if saved:
        messages.success(request, _("Variant %(sku)s saved.") % {"sku": variant.sku})
        return redirect("catalog:dashboard_product_edit", product.pk)
    return _edit_page(request, product, variant_forms={variant.pk: form})


@require_POST
@dashboard_view("products")
def variant_remove(request: HttpRequest, product_id: int, variant_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id)
    try:
        variant = variant_get_for_vendor(vendor=request.vendor, id=variant_id)
        if variant.product_id != product.pk:
            raise NotFound()
    except NotFound:
        raise Http404(_("Variant not found.")) from None
    try:
        variant_delete(variant=variant, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Variant %(sku)s deleted.") % {"sku": variant.sku})
    return redirect("catalog:dashboard_product_edit", product.pk)


@require_POST
@dashboard_view("products")
def image_upload(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id, for_edit=True)
    form = ImageUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            product_image_add(
                product=product, actor=request.user, file=form.cleaned_data["image"], alt=form.cleaned_data["alt"]
            )
        except DomainError as exc:
            form.add_error("image", str(exc))
        else:
            messages.success(request, _("Image added."))
            return redirect("catalog:dashboard_product_edit", product.pk)
    return _edit_page(request, product, image_form=form)


@require_POST
@dashboard_view("products")
def image_remove(request: HttpRequest, product_id: int, image_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id)
    try:
        image = product_image_get_for_vendor(vendor=request.vendor, product=product, id=image_id)
    except NotFound:
        raise Http404(_("Image not found.")) from None
    product_image_delete(image=image, actor=request.user)
    messages.success(request, _("Image deleted."))
    return redirect("catalog:dashboard_product_edit", product.pk)


@require_POST
@dashboard_view("products")
def product_copy(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id)
    copy = product_duplicate(product=product, actor=request.user)
    messages.success(request, _("This is a draft copy of “%(title)s”.") % {"title": product.title})
    return redirect("catalog:dashboard_product_edit", copy.pk)


@require_POST
@dashboard_view("products")
def product_status(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(request, product_id)
    status = request.POST.get("status", "")
    try:
        product = product_set_status(product=product, actor=request.user, status=status)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Status: %(status)s.") % {"status": product.get_status_display()})
    if request.POST.get("next") == "list":
        return redirect("catalog:dashboard_products")
    return redirect("catalog:dashboard_product_edit", product.pk)


def _stock_page(request: HttpRequest, *, errors: list[str] | None = None, posted: dict | None = None, saved=None):
    query = request.GET.get("q", "")
    variants = vendor_variant_list(vendor=request.vendor, query=query)
    page = Paginator(variants, VARIANTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(variant, (posted or {}).get(str(variant.pk), variant.stock)) for variant in page]
    context = {"page": page, "rows": rows, "query": query, "errors": errors or [], "saved": saved}
    template = "catalog/dashboard/_stock_table.html" if request.htmx else "catalog/dashboard/stock.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@dashboard_view("products")
def stock(request: HttpRequest) -> HttpResponse:
    """A table of the shop's variants with stock inputs. Only the rows whose value the person
    changed are sent to the service (compared with the value the page showed), so stock sold
    while the page was open is not overwritten by an untouched row."""
    if request.method == "GET":
        return _stock_page(request)
    posted = {key[len("stock-") :]: value for key, value in request.POST.items() if key.startswith("stock-")}
    changes = {
        variant_id: value.strip()
        for variant_id, value in posted.items()
        if value.strip() != request.POST.get(f"original-{variant_id}", "").strip()
    }
    try:
        changed = stock_bulk_update(vendor=request.vendor, actor=request.user, changes=changes)
    except DomainError as exc:
        return _stock_page(request, errors=[str(exc)], posted=posted)
    if request.htmx:
        return _stock_page(request, saved=len(changed))
    messages.success(request, _("Stock saved for %(n)d variants.") % {"n": len(changed)})
    return redirect(request.get_full_path())


@require_http_methods(["GET", "POST"])
@dashboard_view("products")
def csv_import(request: HttpRequest) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    row_errors = []
    if request.method == "POST" and form.is_valid():
        try:
            summary = products_import_csv(vendor=request.vendor, actor=request.user, file=form.cleaned_data["file"])
        except ImportFailed as exc:
            row_errors = [str(error) for error in exc.errors]
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Imported: %(pc)d products created, %(pu)d updated; %(vc)d variants created, "
                    "%(vu)d updated, %(same)d unchanged."
                )
                % {
                    "pc": summary.products_created,
                    "pu": summary.products_updated,
                    "vc": summary.variants_created,
                    "vu": summary.variants_updated,
                    "same": summary.rows_unchanged,
                },
            )
            return redirect("catalog:dashboard_products")
    return render(
        request, "catalog/dashboard/import.html", {"form": form, "row_errors": row_errors, "columns": COLUMNS}
    )


@require_GET
@dashboard_view("products")
def csv_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(products_csv_export(vendor=request.vendor), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.vendor.slug}-products.csv"'
    return response
