"""Format checks for licence and ID numbers, and how typed regions are compared."""

import pytest

from vendors.identity import (
    credit_code_check_char,
    id_card_check_char,
    is_credit_code,
    is_id_card_number,
    licence_number_valid,
    normalize_licence_number,
)
from vendors.regions import region_canonical, region_key


def test_credit_code_check_character():
    assert is_credit_code("91350100M000100Y43")
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert not is_credit_code("91350100M000100Y44")  # wrong check character
    assert not is_credit_code("91350100M000100I43")  # I is not in the alphabet
    assert not is_credit_code("91350100M000100Y4")  # 17 characters


def test_id_card_check_character_and_birth_date():
    assert is_id_card_number("11010519491231002X")
    assert id_card_check_char("11010519491231002") == "X"
    assert not is_id_card_number("110105194912310021")
    assert not is_id_card_number("110105194902300025")  # 30 February


@pytest.mark.parametrize(
    ("number", "kind", "ok"),
    [
        ("91350100M000100Y43", "business", True),
        ("11010519491231002X", "business", False),
        ("E12345678", "business", False),
        ("11010519491231002X", "individual", True),
        ("E12345678", "individual", True),
        ("91350100M000100Y43", "individual", True),
        ("12345", "individual", False),
        ("", "individual", False),
    ],
)
def test_licence_number_by_legal_kind(number, kind, ok):
    assert licence_number_valid(number=number, legal_kind=kind) is ok


def test_numbers_are_normalized():
    assert normalize_licence_number(" 1101 0519 4912 31002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    "typed", ["广西壮族自治区", "广西", "Guangxi", "guangxi province", "GUANGXI", " 广西壮族自治区 "]
)
def test_region_spellings_share_a_key(typed):
    assert region_key(typed) == "guangxi"
    assert region_canonical(typed) == "广西壮族自治区"


def test_unknown_places_compare_as_typed():
    assert region_key("Overseas") == region_key(" overseas ") == "overseas"
    assert region_canonical("  Mars  base ") == "Mars base"
