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
    sign = "-" if value < 0 else ""
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{abs(value):,.{exponent(currency)}f}"


def MoneyField(verbose_name=None, **kwargs) -> models.DecimalField:  # noqa: N802 - field factory
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(verbose_name, **kwargs)


def round_half_up(amount: Decimal, currency: str = "CNY") -> Decimal:
    """PAYMENTS.md section 4: a share of a line (amount × rate) rounded half-up to the minor unit."""
    return quantize(amount, currency)


def allocate_largest_remainder(total: Decimal, weights: list[Decimal], currency: str = "CNY") -> list[Decimal]:
    """Shares `total` across `weights` in proportion, to the currency's minor unit, adding up to
    `total` exactly (largest-remainder / Hamilton method). Ties go to the earlier item, so the
    result depends only on the inputs and their order (PAYMENTS.md section 4).

    Each share is floor(total × weight / sum) in minor units; the units left over go one each to
    the items with the largest remainders. Zero weights get zero; all-zero weights are refused
    unless the total is zero."""
    if isinstance(total, float) or any(isinstance(weight, float) for weight in weights):
        raise TypeError("money is never float")
    total_minor = to_minor(total, currency)
    weight_sum = sum(weights, Decimal(0))
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    if not weights or weight_sum == 0:
        if total_minor == 0:
            return [quantize(Decimal(0), currency) for _ in weights]
        raise ValueError("cannot allocate a non-zero total over zero weights")
    shares: list[int] = []
    remainders: list[tuple[Decimal, int]] = []
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    for index, weight in enumerate(weights):
        exact = Decimal(magnitude) * weight / weight_sum
        floor = int(exact)  # weights and magnitude are non-negative: int() floors
        shares.append(floor)
        remainders.append((exact - floor, index))
    left = magnitude - sum(shares)
    for _remainder, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:left]:
        shares[index] += 1
    return [from_minor(sign * share, currency) for share in shares]
