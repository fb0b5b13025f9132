"""Format checks for the business-licence or ID number a shop applies with.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-letter
  alphabet, the last one a check character (weighted sum modulo 31).
- Resident identity card number (居民身份证, GB 11643-1999): 17 digits and a check character
  (ISO 7064 MOD 11-2, "X" for 10), with a real date of birth inside.
- Passport: one or two letters and 6 to 9 digits (Chinese passports: E12345678).
Businesses need a credit code; individuals may use any of the three (a sole trader's licence
carries a credit code too).
"""

import re
from datetime import date

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PASSPORT = re.compile(r"^[A-Z]{1,2}[0-9]{6,9}$")


def normalize_licence_number(raw: str) -> str:
    return "".join((raw or "").split()).upper()


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(char) * weight for char, weight in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    if len(value) != 18 or any(char not in _CREDIT_ALPHABET for char in value):
        return False
    return credit_code_check_char(value[:17]) == value[17]


def id_card_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_id_card_number(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    return id_card_check_char(value[:17]) == value[17]


def is_passport_number(value: str) -> bool:
    return bool(_PASSPORT.fullmatch(value))


def licence_number_valid(*, number: str, legal_kind: str) -> bool:
    """For a normalized number: does it fit the applicant's legal kind?"""
    if legal_kind == "business":
        return is_credit_code(number)
    return is_credit_code(number) or is_id_card_number(number) or is_passport_number(number)
