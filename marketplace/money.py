"""The project's money helpers: exact Decimals quantized to each currency's minor unit.

Amounts are stored as DecimalField(max_digits=14, decimal_places=2) in the currency of the
shop; no float ever touches money.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "GBP": 2, "JPY": 0, "KRW": 0}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£", "JPY": "JP¥", "KRW": "₩"}
CURRENCY_CHOICES = [(code, code) for code in MINOR_UNITS]
MAX_AMOUNT = Decimal("999999999.99")


class InvalidAmount(ValueError):
    pass


def exponent(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal | int | str, currency: str = "CNY") -> Decimal:
    """Round half-up to the currency's minor unit."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)


def parse_amount(raw: object, currency: str = "CNY") -> Decimal:
    """Parse user input into an exact amount; refuse floats, negatives, NaN and absurd sizes."""
    if isinstance(raw, float):
        raise InvalidAmount("amounts must be given as text or Decimal, never float")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"{raw!r} is not an amount") from exc
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise InvalidAmount(f"{raw!r} is not an amount between 0 and {MAX_AMOUNT}")
    if value != quantize(value, currency):
        raise InvalidAmount(f"{raw!r} has more decimals than {currency} allows")
    return value


def to_minor(amount: Decimal, currency: str = "CNY") -> int:
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def from_minor(minor: int, currency: str = "CNY") -> Decimal:
    return quantize(Decimal(minor).scaleb(-exponent(currency)), currency)


def format_money(amount: Decimal | None, currency: str = "CNY") -> str:
    if amount is None:
        return ""
    value = quantize(amount, currency)
    return f"{SYMBOLS.get(currency, currency + ' ')}{value:,.{exponent(currency)}f}"


def MoneyField(verbose_name=None, **kwargs) -> models.DecimalField:  # noqa: N802 - field factory
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(verbose_name, **kwargs)
