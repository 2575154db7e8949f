"""One Traditional -> Simplified fold for search, classification and OCR."""
from __future__ import annotations

import pytest

from dms.domain.classify_rules import normalise_char_by_char
from hanzi.folding import (
    converter, count_scripts, script_of, to_simplified, to_traditional,
)
from ocr_worker import han_script
from search.analysis import normalize_text

TRADITIONAL = "供用電合同 戶號 新裝 乾隆年間的臺灣電費 繳納"


def test_search_and_classification_fold_alike() -> None:
    folded = to_simplified(TRADITIONAL)
    assert folded == "供用电合同 户号 新装 乾隆年间的台湾电费 缴纳"
    assert normalize_text(TRADITIONAL) == folded
    # classification adds half-width and upper case, on the same fold
    assert normalise_char_by_char(TRADITIONAL) == folded.upper()
    assert len(normalise_char_by_char(TRADITIONAL)) == len(TRADITIONAL)


def test_script_of_each_character() -> None:
    assert [script_of(c) for c in "電电的a，"] == [1, -1, 0, 0, 0]
    # a character beyond the BMP is Han too (OpenCC converts some of them)
    assert script_of("\U0002005e") == 1 and to_simplified("\U0002005e") != "\U0002005e"
    counts = count_scripts("電費電费")
    assert (counts.traditional_only, counts.simplified_only) == (3, 1)
    assert (counts.distinct_traditional, counts.distinct_simplified) == (2, 1)
    # the OCR step judges with the very same counts
    assert han_script.count_scripts is count_scripts


def test_sample_data_and_ocr_convert_with_the_same_tables() -> None:
    assert to_traditional("供用电合同") == "供用電合同"
    assert han_script.to_traditional("发电户号", "s2t") == "發電戶號"
    assert converter("s2t") is converter("s2t")  # loaded once per process
    with pytest.raises(ValueError, match="s2x"):
        converter("s2x")
