"""The rules a product or variant value must follow, and the errors that say why one does not.
Pure functions (no writes) shared by the services, the CSV import and the forms."""

import hashlib
import re
from decimal import Decimal, InvalidOperation

import nh3
from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from marketplace.errors import DomainError
from marketplace.money import InvalidAmount, parse_amount

TITLE_MAX_LENGTH = 200
SKU_MAX_LENGTH = 64
VARIANT_NAME_MAX_LENGTH = 120
ATTRIBUTE_NAME_MAX_LENGTH = 60
STOCK_MAX = 10_000_000
WEIGHT_MAX_GRAMS = 1_000_000

# What a shop may write in a description (everything else, scripts and styles included, is removed).
DESCRIPTION_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "h2", "h3", "a", "img"}
DESCRIPTION_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
DESCRIPTION_URL_SCHEMES = {"http", "https", "mailto"}

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class ProductInvalid(DomainError):  # noqa: N818 - named like the kernel's errors (NotFound)
    """Bad product or variant data. `field` names the form field or API key it belongs to."""

    code = "invalid"
    default_message = "{reason}"

    def __init__(self, reason: str, *, field: str | None = None):
        self.field = field
        super().__init__(reason=reason)


class DuplicateSku(ProductInvalid):
    code = "duplicate_sku"

    def __init__(self, sku: str):
        self.sku = sku
        super().__init__(_("The SKU code %(sku)s is already used in your shop.") % {"sku": sku}, field="sku")


class ProductBanned(DomainError):  # noqa: N818
    code = "product_banned"
    http_status = 409
    default_message = "This product was banned by the marketplace ({reason}); it cannot be put on sale."


def description_clean(html: str | None) -> str:
    """Sanitise a shop's rich-text description to the allow-list above."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=DESCRIPTION_TAGS,
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes=DESCRIPTION_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def referral_rate_clean(value: object) -> Decimal:
    """A product's referral commission rate: 0 to settings.REFERRAL_RATE_MAX, at most four
    decimals (0.0500 = 5% of what the buyer pays for the line)."""
    maximum = settings.REFERRAL_RATE_MAX
    message = _("The referral rate is a number from 0 to %(max)s, e.g. 0.0500 for 5%%.") % {"max": maximum}
    if isinstance(value, float | bool):
        raise ProductInvalid(message, field="referral_rate")
    try:
        rate = Decimal(str(value if value not in (None, "") else "0").strip())
    except (InvalidOperation, ValueError):
        raise ProductInvalid(message, field="referral_rate") from None
    if not rate.is_finite() or rate < 0 or rate > maximum or rate != rate.quantize(Decimal("0.0001")):
        raise ProductInvalid(message, field="referral_rate")
    return rate.quantize(Decimal("0.0001"))


def title_clean(value: str | None, *, field: str) -> str:
    value = (value or "").strip()
    if len(value) > TITLE_MAX_LENGTH:
        raise ProductInvalid(_("A title can have at most %(n)d characters.") % {"n": TITLE_MAX_LENGTH}, field=field)
    return value


def sku_clean(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise ProductInvalid(_("Every variant needs a SKU code."), field="sku")
    if len(value) > SKU_MAX_LENGTH:
        raise ProductInvalid(_("A SKU code can have at most %(n)d characters.") % {"n": SKU_MAX_LENGTH}, field="sku")
    if any(ch.isspace() for ch in value):
        raise ProductInvalid(_("A SKU code cannot contain spaces."), field="sku")
    return value


def variant_name_clean(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > VARIANT_NAME_MAX_LENGTH:
        raise ProductInvalid(
            _("A variant name can have at most %(n)d characters.") % {"n": VARIANT_NAME_MAX_LENGTH}, field="name"
        )
    return value


def amount_clean(value: object, *, currency: str, field: str) -> Decimal:
    try:
        return parse_amount(value, currency)
    except InvalidAmount:
        raise ProductInvalid(
            _("Enter an amount such as 12.50 (not negative, at most two decimals)."), field=field
        ) from None


def optional_amount_clean(value: object, *, currency: str, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return amount_clean(value, currency=currency, field=field)


def compare_at_check(*, price: Decimal, compare_at_price: Decimal | None) -> None:
    if compare_at_price is not None and compare_at_price < price:
        raise ProductInvalid(
            _("The compare-at price must be at least the price (%(price)s).") % {"price": price},
            field="compare_at_price",
        )


def whole_number_clean(value: object, *, field: str, maximum: int, message: str) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ProductInvalid(message, field=field)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ProductInvalid(message, field=field) from None
    if number < 0 or number > maximum:
        raise ProductInvalid(message, field=field)
    return number


def stock_clean(value: object, *, field: str = "stock") -> int:
    return whole_number_clean(
        value,
        field=field,
        maximum=STOCK_MAX,
        message=_("Stock must be a whole number from 0 to %(max)d.") % {"max": STOCK_MAX},
    )


def weight_clean(value: object) -> int:
    return whole_number_clean(
        value,
        field="weight_grams",
        maximum=WEIGHT_MAX_GRAMS,
        message=_("Weight must be a whole number of grams from 0 to %(max)d.") % {"max": WEIGHT_MAX_GRAMS},
    )


def attributes_parse(text: str | None) -> dict[str, str]:
    """'Colour: Red; Size: M' (ASCII or full-width punctuation) -> {'Colour': 'Red', 'Size': 'M'}."""
    pairs: dict[str, str] = {}
    for part in re.split(r"[;；]", text or ""):
        if not part.strip():
            continue
        match = re.match(r"\s*([^:：]+?)\s*[:：]\s*(.+?)\s*$", part)
        if not match:
            raise ProductInvalid(
                _("Write options as “name: value”, separated by semicolons, e.g. “Colour: Red; Size: M”."),
                field="attributes",
            )
        name = match.group(1)
        if name in pairs:
            raise ProductInvalid(_("The option “%(name)s” is given twice.") % {"name": name}, field="attributes")
        pairs[name] = match.group(2)
    return attributes_clean(pairs)


def attributes_clean(attributes: dict[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for raw_name, raw_value in (attributes or {}).items():
        name, value = str(raw_name).strip(), str(raw_value).strip()
        if not name or not value:
            raise ProductInvalid(_("Every option needs a name and a value."), field="attributes")
        if len(name) > ATTRIBUTE_NAME_MAX_LENGTH or len(value) > ATTRIBUTE_NAME_MAX_LENGTH:
            raise ProductInvalid(
                _("Option names and values can have at most %(n)d characters.") % {"n": ATTRIBUTE_NAME_MAX_LENGTH},
                field="attributes",
            )
        if any(stable_slug(name, prefix="a") == stable_slug(other, prefix="a") for other in cleaned):
            raise ProductInvalid(_("The option “%(name)s” is given twice.") % {"name": name}, field="attributes")
        cleaned[name] = value
    return cleaned


def attributes_format(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {value}" for name, value in pairs)


def stable_slug(text: str, *, prefix: str, max_length: int = 60) -> str:
    """A slug that is the same every time for the same text, also for Chinese text, which
    slugify (ASCII only) turns into nothing: then a short hash of the text is used."""
    slug = slugify(text, allow_unicode=False)[:max_length].strip("-")
    if slug:
        return slug
    return f"{prefix}-{hashlib.sha1(text.strip().lower().encode()).hexdigest()[:10]}"


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text or ""))
