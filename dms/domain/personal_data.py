"""Personal data in text: ID card, mobile and landline phone, and bank account numbers, and
their masked forms (3701**********3299, 138****1234, 0531-****5678, 6222***********0123).

The one place these patterns live. Who sees them unmasked is the access policy's
``pii.unmasked`` row (dms.domain.access); this module only finds and masks. It is pure, so
the search results, pages, exports and the log filter all use the same patterns.
"""
from __future__ import annotations

import re
from typing import Any

# Numbers are masked by their shape, not by a valid checksum: an ID number read with one
# wrong digit by OCR, or mistyped into a search, still shows 17 of the person's digits.
# Customer numbers (户号, 10 digits here) have none of these shapes and stay readable.
# A run after a decimal point is a fraction (a duration in a log line), never a number of
# a person: hence the "." in every look-behind. A run inside a word of Latin letters and
# digits is part of an identifier (a task's UUID in a log line, a business number), never a
# phone number either: hence the letters in every look-around. Han text around a number
# ("电话13812345678") is no such word and still masks, nor is a percent-escape in a logged
# URL ("next=%2Fsearch%3Fq%3D3701…": the number follows "%3D", an escaped "=").
_START = r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9A-Za-z.]))"
_END = r"(?![0-9A-Za-z])"
# 18-character resident ID: 6 region + 8 birth date + 3 sequence + check digit (or X).
ID_NUMBER = re.compile(_START + r"(\d{4})\d{10}(\d{3}[\dXx])" + _END)
# Bank card / account numbers: 16 to 19 digits.
BANK_ACCOUNT = re.compile(_START + r"(\d{4})(\d{8,11})(\d{4})" + _END)
# Mainland mobile numbers, optionally +86 / 86 in front.
MOBILE = re.compile(_START + r"((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})" + _END)
# Landlines: an area code (0 + 2–3 digits), an optional separator, 7–8 digits.
LANDLINE = re.compile(_START + r"(0\d{2,3})([- ]?)(\d{3,4})(\d{4})" + _END)

# GB 11643 check character of a resident ID: weights of the first 17 digits, mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_character(body17: str) -> str:
    """The check character (0-9 or X) of the 17 digits ``body17`` (GB 11643)."""
    total = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _id(m: re.Match[str]) -> str:
    return f"{m.group(1)}{'*' * 10}{m.group(2)}"


def _bank(m: re.Match[str]) -> str:
    return f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}"


def _mobile(m: re.Match[str]) -> str:
    return f"{m.group(1)}****{m.group(3)}"


def _landline(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}{m.group(4)}"


def mask_text(text: str) -> str:
    """``text`` with every ID, bank account and phone number masked (longest patterns first,
    so an ID number is not taken for a bank account or a phone number)."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = ID_NUMBER.sub(_id, text)
    text = BANK_ACCOUNT.sub(_bank, text)
    text = MOBILE.sub(_mobile, text)
    return LANDLINE.sub(_landline, text)


def mask_value(value: Any) -> Any:
    """Masks every string inside lists, tuples and dicts (JSON-like values) alike."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value


def contains_personal_data(text: str) -> bool:
    return mask_text(text) != text
