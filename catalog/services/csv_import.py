"""CSV import of a shop's catalog: every row is checked, and either all rows are applied or none."""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Category, Product, ProductVariant
from catalog.resources import PRODUCT_COLUMNS, CsvFileError, csv_records_read
from catalog.services.derived import product_refresh_derived
from catalog.services.products import ProductData, product_fields_apply, product_save_new, status_change
from catalog.services.validation import ProductInvalid, attributes_parse, sku_clean
from catalog.services.variants import VariantData, variant_write
from marketplace.errors import DomainError
from marketplace.models import User
from marketplace.services import audit_record
from vendors.models import Vendor

# Service field names -> the CSV column a person sees in the error message.
FIELD_COLUMNS = {"name": "variant_name", "slug": "product_slug"}


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it (header = 1); 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message} if self.row else self.message


class ImportFailed(DomainError):  # noqa: N818
    code = "import_failed"
    default_message = "Nothing was imported: {count} problem(s) found."

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(
            ngettext(
                "Nothing was imported: %(count)d problem found.",
                "Nothing was imported: %(count)d problems found.",
                len(errors),
            )
            % {"count": len(errors)}
        )


@dataclass
class ImportSummary:
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    rows_unchanged: int = 0


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    variant: ProductVariant | None


@dataclass
class _Group:
    product: Product | None
    slug: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # product column -> first non-blank value
    given_in: dict[str, int] = field(default_factory=dict)  # product column -> row that gave it
    rows: list[_Row] = field(default_factory=list)
    failed: bool = False


def _message(exc: DomainError) -> str:
    column = getattr(exc, "field", None)
    column = FIELD_COLUMNS.get(column, column)
    return f"{column}: {exc}" if column else str(exc)


@transaction.atomic
def products_import_csv(*, vendor: Vendor, actor: User, file: UploadedFile) -> ImportSummary:
    """Creates and updates the shop's products from a CSV file (columns in catalog.resources).
    A row whose SKU exists in this shop updates that variant; other rows create variants, under
    the product named by product_slug or, without one, a new product per distinct title. Every
    row goes through the same services as the dashboard, each in a savepoint so that all
    problems are reported at once (ImportFailed with row numbers); if there is any, the whole
    transaction is rolled back and nothing is written."""
    try:
        columns, records = csv_records_read(file)
    except CsvFileError as exc:
        raise ImportFailed([RowError(0, str(exc))]) from None

    groups, errors = _plan(vendor=vendor, records=records)
    summary = ImportSummary()
    touched: set[int] = set()
    categories = {
        category.slug: category
        for category in Category.objects.filter(
            slug__in={group.fields["category"] for group in groups.values() if group.fields.get("category")}
        )
    }
    for group in groups.values():
        if group.failed:
            continue
        _apply_group(
            vendor=vendor,
            actor=actor,
            group=group,
            columns=columns,
            categories=categories,
            summary=summary,
            errors=errors,
            touched=touched,
        )
    if errors:
        raise ImportFailed(sorted(errors, key=lambda error: error.row))
    if touched:
        product_refresh_derived(product_ids=touched)
    audit_record(actor=actor, action="product.csv_import", obj=vendor, data=summary.__dict__)
    return summary


def _plan(*, vendor: Vendor, records: list[tuple[int, dict[str, str]]]) -> tuple[dict[tuple, _Group], list[RowError]]:
    """Checks what can be checked without writing, and groups the rows by product."""
    errors: list[RowError] = []
    skus = {values.get("sku", "") for _number, values in records}
    existing = {
        variant.sku: variant
        for variant in ProductVariant.objects.filter(vendor=vendor, sku__in=skus).select_related("product")
    }
    slugs = {values.get("product_slug", "") for _number, values in records} - {""}
    products_by_slug = {product.slug: product for product in Product.objects.filter(slug__in=slugs)}
    seen_skus: dict[str, int] = {}
    groups: dict[tuple, _Group] = {}

    for number, values in records:
        try:
            sku = sku_clean(values.get("sku"))
            if sku in seen_skus:
                raise ProductInvalid(
                    _("The SKU code %(sku)s is also on row %(row)d.") % {"sku": sku, "row": seen_skus[sku]}, field="sku"
                )
            seen_skus[sku] = number
            if values.get("attributes"):
                attributes_parse(values["attributes"])
            status = values.get("status", "")
            if status and status not in Product.Status.values:
                raise ProductInvalid(
                    _("Status must be one of: %(choices)s.") % {"choices": ", ".join(Product.Status.values)},
                    field="status",
                )
            variant = existing.get(sku)
            slug = values.get("product_slug", "")
            key, product = _group_key(
                vendor=vendor, variant=variant, slug=slug, values=values, products_by_slug=products_by_slug
            )
        except ProductInvalid as exc:
            errors.append(RowError(number, _message(exc)))
            continue
        group = groups.setdefault(key, _Group(product=product, slug=slug if product is None else ""))
        group.rows.append(_Row(number=number, values=values, variant=variant))
        for column in PRODUCT_COLUMNS:
            value = values.get(column, "")
            if not value:
                continue
            if column not in group.fields:
                group.fields[column], group.given_in[column] = value, number
            elif group.fields[column] != value:
                group.failed = True
                errors.append(
                    RowError(
                        number,
                        _("%(column)s: “%(value)s” differs from row %(row)d (“%(first)s”) for the same product.")
                        % {
                            "column": column,
                            "value": value,
                            "row": group.given_in[column],
                            "first": group.fields[column],
                        },
                    )
                )
    return groups, errors


def _group_key(*, vendor, variant, slug, values, products_by_slug) -> tuple[tuple, Product | None]:
    if variant is not None:
        if slug and slug != variant.product.slug:
            raise ProductInvalid(
                _("The SKU code belongs to the product “%(slug)s”, not “%(other)s”.")
                % {"slug": variant.product.slug, "other": slug},
                field="product_slug",
            )
        return ("product", variant.product_id), variant.product
    if slug:
        product = products_by_slug.get(slug)
        if product is not None and product.vendor_id != vendor.pk:
            raise ProductInvalid(_("The address “%(slug)s” is already taken.") % {"slug": slug}, field="product_slug")
        if product is not None:
            return ("product", product.pk), product
        return ("new-slug", slug), None
    titles = (values.get("title_en", ""), values.get("title_zh_hans", ""))
    if not any(titles):
        raise ProductInvalid(
            _("A new product needs a title_en or title_zh_hans (or a product_slug)."), field="title_en"
        )
    return ("new-title", *titles), None


def _apply_group(*, vendor, actor, group: _Group, columns, categories, summary, errors, touched) -> None:
    first_row = group.rows[0].number
    data: ProductData = {}
    # A blank product cell keeps what the product has (only the first row of a product need
    # carry its title); titles are cleared in the dashboard, not by an empty cell.
    for column in ("title_en", "title_zh_hans"):
        if group.fields.get(column):
            data[column] = group.fields[column]
    if group.fields.get("category"):
        category = categories.get(group.fields["category"])
        if category is None:
            errors.append(
                RowError(
                    group.given_in["category"],
                    _("category: no category has the address “%(slug)s”.") % {"slug": group.fields["category"]},
                )
            )
            return
        data["category"] = category
    product = group.product
    try:
        with transaction.atomic():
            if product is None:
                product = Product(vendor=vendor, currency=vendor.currency, status=Product.Status.DRAFT)
                product_fields_apply(product=product, data=data)
                product_save_new(product=product, requested_slug=group.slug)
                audit_record(
                    actor=actor, action="product.create", obj=product, data={"slug": product.slug, "via": "csv"}
                )
                summary.products_created += 1
                product_changed = False
            else:
                changed = product_fields_apply(product=product, data=data)
                if changed:
                    product.save(update_fields=[*changed, "updated_at"])
                product_changed = bool(changed)
    except DomainError as exc:
        errors.append(RowError(first_row, _message(exc)))
        return
    touched.add(product.pk)

    for row in group.rows:
        try:
            with transaction.atomic():
                _variant, changed = variant_write(
                    product=product, actor=actor, data=_variant_data(row=row, columns=columns), variant=row.variant
                )
        except DomainError as exc:
            errors.append(RowError(row.number, _message(exc)))
            continue
        if row.variant is None:
            summary.variants_created += 1
        elif changed:
            summary.variants_updated += 1
        else:
            summary.rows_unchanged += 1

    status = group.fields.get("status")
    if status:
        try:
            with transaction.atomic():
                product_changed = status_change(product=product, actor=actor, status=status) or product_changed
        except DomainError as exc:
            errors.append(RowError(group.given_in["status"], _message(exc)))
    if product_changed:
        summary.products_updated += 1


def _variant_data(*, row: _Row, columns: list[str]) -> VariantData:
    """Blank stock or weight keeps the current value (0 for a new variant); a blank name,
    compare-at price or attributes cell means none, so an exported file re-imports unchanged."""
    values = row.values
    data: VariantData = {"sku": values["sku"], "price": values["price"]}
    if "variant_name" in columns:
        data["name"] = values["variant_name"]
    if "compare_at_price" in columns:
        data["compare_at_price"] = values["compare_at_price"] or None
    if values.get("stock"):
        data["stock"] = values["stock"]
    if values.get("weight_grams"):
        data["weight_grams"] = values["weight_grams"]
    if "attributes" in columns:
        data["attributes"] = attributes_parse(values["attributes"]) if values["attributes"] else {}
    return data
