"""allocate_largest_remainder: a shared amount (a coupon, a fee, shipping) split across lines to
the minor unit, adding up exactly, the same way every time (PAYMENTS.md section 4)."""

from decimal import Decimal

import pytest

from marketplace.money import allocate_largest_remainder


def D(values: list[str]) -> list[Decimal]:  # noqa: N802 - reads like a literal
    return [Decimal(value) for value in values]


def test_an_even_split_has_no_remainder():
    assert allocate_largest_remainder(Decimal("30.00"), D(["10.00", "10.00", "10.00"]), "CNY") == D(
        ["10.00", "10.00", "10.00"]
    )


def test_the_leftover_cent_goes_to_the_largest_remainder():
    # 10.00 over 10 : 20 : 30 -> 1.666.., 3.333.., 5.00: the cent left over goes to the 1.666.. line.
    shares = allocate_largest_remainder(Decimal("10.00"), D(["10.00", "20.00", "30.00"]), "CNY")
    assert shares == D(["1.67", "3.33", "5.00"])
    assert sum(shares) == Decimal("10.00")


def test_equal_remainders_go_to_the_earlier_line():
    assert allocate_largest_remainder(Decimal("0.02"), D(["1.00", "1.00", "1.00"]), "CNY") == D(
        ["0.01", "0.01", "0.00"]
    )
    assert allocate_largest_remainder(Decimal("0.01"), D(["5.00", "5.00"]), "CNY") == D(["0.01", "0.00"])


def test_line_order_decides_ties_so_the_result_is_deterministic():
    first = allocate_largest_remainder(Decimal("1.00"), D(["3.00", "3.00", "3.00"]), "CNY")
    again = allocate_largest_remainder(Decimal("1.00"), D(["3.00", "3.00", "3.00"]), "CNY")
    assert first == again == D(["0.34", "0.33", "0.33"])


def test_yen_has_no_minor_unit():
    shares = allocate_largest_remainder(Decimal("100"), D(["300", "300", "300"]), "JPY")
    assert shares == D(["34", "33", "33"])
    assert all(share == share.to_integral_value() for share in shares)
    assert str(shares[0]) == "34"


def test_zero_weight_lines_get_nothing():
    assert allocate_largest_remainder(Decimal("5.00"), D(["0.00", "10.00", "0.00"]), "CNY") == D(
        ["0.00", "5.00", "0.00"]
    )


def test_a_share_never_exceeds_its_weight_when_the_total_fits():
    weights = D(["0.01", "0.01", "99.97", "0.03"])
    shares = allocate_largest_remainder(Decimal("100.02"), weights, "CNY")
    assert shares == weights
    shares = allocate_largest_remainder(Decimal("50.01"), weights, "CNY")
    assert sum(shares) == Decimal("50.01")
    assert all(share <= weight for share, weight in zip(shares, weights, strict=True))


def test_a_negative_total_is_allocated_like_a_positive_one():
    assert allocate_largest_remainder(Decimal("-10.00"), D(["10.00", "20.00", "30.00"]), "CNY") == D(
        ["-1.67", "-3.33", "-5.00"]
    )


def test_nothing_to_share_gives_zeros_and_something_over_nothing_is_refused():
    assert allocate_largest_remainder(Decimal("0.00"), D(["0.00", "0.00"]), "CNY") == D(["0.00", "0.00"])
    with pytest.raises(ValueError):
        allocate_largest_remainder(Decimal("1.00"), D(["0.00", "0.00"]), "CNY")
    with pytest.raises(ValueError):
        allocate_largest_remainder(Decimal("1.00"), D(["-1.00", "2.00"]), "CNY")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        allocate_largest_remainder(1.0, D(["1.00"]), "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        allocate_largest_remainder(Decimal("1.00"), [0.5, 0.5], "CNY")  # type: ignore[list-item]


def test_large_amounts_still_add_up_exactly():
    weights = D(["333333333.33", "333333333.33", "333333333.33"])
    shares = allocate_largest_remainder(Decimal("999999999.99"), weights, "CNY")
    assert sum(shares) == Decimal("999999999.99")
    assert shares == D(["333333333.33", "333333333.33", "333333333.33"])
    shares = allocate_largest_remainder(Decimal("0.07"), D(["1", "1", "1", "1", "1", "1", "1", "1", "1"]), "CNY")
    assert shares == D(["0.01"] * 7 + ["0.00"] * 2)
