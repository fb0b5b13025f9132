"""The CSV format of a shop's catalog: one row per variant, product columns repeated on each
row. Export goes through django-import-export (tablib underneath); the import reads the same
columns here and is applied by catalog.services.products_import_csv, through the same
services the dashboard uses, so every rule (SKU per shop, prices, bans) holds for imports too."""

import csv
import io

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from import_export import resources
from import_export.fields import Field

from catalog.models import ProductVariant
from vendors.models import Vendor

COLUMNS = [
    "product_slug",
    "title_en",
    "title_zh_hans",
    "category",
    "status",
    "sku",
    "variant_name",
    "price",
    "compare_at_price",
    "stock",
    "weight_grams",
    "attributes",
]
REQUIRED_COLUMNS = ["sku", "price"]
PRODUCT_COLUMNS = ["title_en", "title_zh_hans", "category", "status"]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, header, size)."""


class ProductVariantResource(resources.Resource):
    """Export of a shop's variants with their product's columns."""

    product_slug = Field(column_name="product_slug")
    title_en = Field(column_name="title_en")
    title_zh_hans = Field(column_name="title_zh_hans")
    category = Field(column_name="category")
    status = Field(column_name="status")
    sku = Field(column_name="sku")
    variant_name = Field(column_name="variant_name")
    price = Field(column_name="price")
    compare_at_price = Field(column_name="compare_at_price")
    stock = Field(column_name="stock")
    weight_grams = Field(column_name="weight_grams")
    attributes = Field(column_name="attributes")

    class Meta:
        export_order = COLUMNS

    def dehydrate_product_slug(self, variant: ProductVariant) -> str:
        return variant.product.slug

    def dehydrate_title_en(self, variant: ProductVariant) -> str:
        return variant.product.title_en or ""

    def dehydrate_title_zh_hans(self, variant: ProductVariant) -> str:
        return variant.product.title_zh_hans or ""

    def dehydrate_category(self, variant: ProductVariant) -> str:
        return variant.product.category.slug

    def dehydrate_status(self, variant: ProductVariant) -> str:
        return variant.product.status

    def dehydrate_sku(self, variant: ProductVariant) -> str:
        return variant.sku

    def dehydrate_variant_name(self, variant: ProductVariant) -> str:
        return variant.name

    def dehydrate_price(self, variant: ProductVariant) -> str:
        return str(variant.price)

    def dehydrate_compare_at_price(self, variant: ProductVariant) -> str:
        return "" if variant.compare_at_price is None else str(variant.compare_at_price)

    def dehydrate_stock(self, variant: ProductVariant) -> str:
        return str(variant.stock)

    def dehydrate_weight_grams(self, variant: ProductVariant) -> str:
        return str(variant.weight_grams)

    def dehydrate_attributes(self, variant: ProductVariant) -> str:
        # "Colour: Red; Size: M", in the language the option was written in (no fallback games).
        return "; ".join(
            f"{value.attribute.name_en or value.attribute.name_zh_hans}: {value.value_en or value.value_zh_hans}"
            for value in sorted(variant.attribute_values.all(), key=lambda value: (value.attribute_id, value.pk))
        )


def variants_for_export(*, vendor: Vendor) -> QuerySet[ProductVariant]:
    return (
        ProductVariant.objects.filter(vendor=vendor)
        .select_related("product__category")
        .prefetch_related("attribute_values__attribute")
        .order_by("product_id", "position", "id")
    )


def products_csv_export(*, vendor: Vendor) -> str:
    """The shop's catalog as CSV text (UTF-8 with a byte-order mark, so spreadsheet programs
    show Chinese correctly). Importing it again changes nothing."""
    dataset = ProductVariantResource().export(queryset=variants_for_export(vendor=vendor))
    return "\ufeff" + dataset.export("csv")


def csv_records_read(file: UploadedFile) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Returns the columns and the (row number, {column: stripped text}) of each non-empty row.
    Row numbers are those a spreadsheet shows: the header is row 1. Raises CsvFileError."""
    if file.size is not None and file.size > MAX_FILE_BYTES:
        raise CsvFileError(_("The file is too large; the limit is %(n)d MB.") % {"n": MAX_FILE_BYTES // (1024 * 1024)})
    raw = file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise CsvFileError(_("The file is too large; the limit is %(n)d MB.") % {"n": MAX_FILE_BYTES // (1024 * 1024)})
    if b"\x00" in raw:
        raise CsvFileError(_("This is not a CSV text file."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Chinese spreadsheet programs often save CSV in GB18030/GBK
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise CsvFileError(_("The file must be CSV text in UTF-8.")) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvFileError(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise CsvFileError(_("The file is empty: the first row must name the columns."))
    columns = [cell.strip().lower() for cell in rows[0]]
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown:
        raise CsvFileError(
            _("Unknown column “%(column)s”. The columns are: %(columns)s.")
            % {"column": unknown[0], "columns": ", ".join(COLUMNS)}
        )
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise CsvFileError(_("The column “%(column)s” appears twice.") % {"column": duplicated[0]})
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise CsvFileError(_("The column “%(column)s” is required.") % {"column": missing[0]})
    records = []
    for index, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise CsvFileError(_("Row %(row)d has more cells than there are columns.") % {"row": index})
        cells = cells + [""] * (len(columns) - len(cells))
        records.append((index, {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}))
    if len(records) > MAX_ROWS:
        raise CsvFileError(_("The file has more than %(n)d rows; split it into smaller files.") % {"n": MAX_ROWS})
    if not records:
        raise CsvFileError(_("The file has no rows to import."))
    return columns, records
