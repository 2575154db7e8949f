"""Personal numbers in stored search queries are masked; customer numbers are kept."""
from __future__ import annotations

import pytest

from dms.domain.audit import mask_personal_numbers


@pytest.mark.parametrize("typed, stored", [
    ("11010519491231002X", "110105********002X"),          # ID card, check digit X
    ("身份证110105194912310029", "身份证110105194912310029"),  # wrong check digit: not an ID
    ("张三 13812345678", "张三 138****5678"),                 # mobile
    ("电话 0571-87654321", "电话 0571-****4321"),             # landline
    ("卡号6222021234567890128", "卡号***************0128"),   # bank card (Luhn)
    ("6222021234567890127", "6222021234567890127"),         # fails Luhn: kept
    ("3301000001", "3301000001"),                           # 户号, 10 digits
    ("33010000010000000001", "33010000010000000001"),       # 户号, 20 digits
    ("238123456789", "238123456789"),                       # 12 digits: not a mobile
    ("合同 HT-2024-0001", "合同 HT-2024-0001"),
])
def test_masking(typed: str, stored: str) -> None:
    assert mask_personal_numbers(typed) == stored
