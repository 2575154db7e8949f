"""Personal numbers in stored search queries are masked by the one rule of
``dms.domain.personal_data`` (as pages, exports and logs are); customer numbers are kept."""
from __future__ import annotations

import logging

import pytest

from dms.domain.facts import valid_id_number
from dms.domain.personal_data import id_check_character, mask_text
from dms.log_redaction import RedactPersonalData


@pytest.mark.parametrize("typed, stored", [
    ("11010519491231002X", "1101**********002X"),          # ID card, check digit X
    # A wrong check digit (a misread or mistyped ID) is still 17 digits of a person's ID.
    ("身份证110105194912310029", "身份证1101**********0029"),
    ("张三 13812345678", "张三 138****5678"),                 # mobile
    ("电话 0571-87654321", "电话 0571-****4321"),             # landline
    ("卡号6222021234567890128", "卡号6222***********0128"),   # bank card
    ("3301000001", "3301000001"),                           # 户号, 10 digits
    ("33010000010000000001", "33010000010000000001"),       # 20 digits: no such shape
    ("238123456789", "238123456789"),                       # 12 digits: not a mobile
    ("合同 HT-2024-0001", "合同 HT-2024-0001"),
    ("手机:13812345678。", "手机:138****5678。"),
    # Digits inside a Latin word are an identifier, not a number of a person: a task's
    # UUID in a worker log line was cut to "f066***6673a" and no longer matched its id.
    ("Task dms.requeue_stalled[ddd06668-1293-43dc-ab9f-f0660536673a] received",
     "Task dms.requeue_stalled[ddd06668-1293-43dc-ab9f-f0660536673a] received"),
    ("YK13812345678", "YK13812345678"),
    # ... but a percent-escape before a number is no word: a logged login redirect.
    ("/login?next=%2Fsearch%3Fq%3D13812345678", "/login?next=%2Fsearch%3Fq%3D138****5678"),
])
def test_masking(typed: str, stored: str) -> None:
    assert mask_text(typed) == stored


def test_one_id_checksum() -> None:
    assert id_check_character("11010519491231002") == "X"
    assert valid_id_number("11010519491231002X")
    assert not valid_id_number("110105194912310029")


def test_log_lines_keep_fractions() -> None:
    """A duration in a log line is not a bank account: digits after a decimal point are a
    fraction (the filter used to print "0.2309*********5894s")."""
    record = logging.LogRecord("dms", logging.INFO, __file__, 1,
                               "page 3 read in 0.23091234567895894s by 13812345678", None, None)
    RedactPersonalData().filter(record)
    assert record.getMessage() == "page 3 read in 0.23091234567895894s by 138****5678"
