"""One script per page: the pure conversion rules (ocr_worker/han_script.py)."""
from __future__ import annotations

import pytest

from dms.errors import ConfigError
from ocr_worker.han_script import convert_words, count_scripts, harmonise, to_traditional
from ocr_worker.results import Word

# A Traditional page as PP-OCR reads it: mostly Traditional, some characters in Simplified
# form (电, 发, 请, 书, 头), one Latin identifier.
MIXED = "臺灣電力公司 用电申請書\n戶號 3301000001 用戶名稱 陳大文\n发电設備 申请书已簽署 头发"
SIMPLIFIED = "供用电合同 合同编号 GDHT-2024-000123\n用户名称 陈大文 用电地址 杭州市"


def test_scripts_are_counted_from_script_specific_characters() -> None:
    mixed = count_scripts(MIXED)
    assert mixed.traditional_only > mixed.simplified_only > 0
    assert mixed.is_traditional
    simplified = count_scripts(SIMPLIFIED)
    assert simplified.traditional_only == 0 and not simplified.is_traditional
    # A Simplified form with a Traditional name on it stays Simplified.
    assert not count_scripts(SIMPLIFIED + " 戶主 陳國華").is_traditional
    # A noisy Simplified page as tesseract chi_sim+chi_tra reads it: smudged characters
    # come out in Traditional form, but barely more of them than Simplified-only ones.
    noisy = "電話號碼戶籍證書編輯單據" + "电话号码编辑单据书"
    assert count_scripts(noisy).traditional_only > count_scripts(noisy).simplified_only
    assert not count_scripts(noisy).is_traditional
    # Too little evidence: a few characters are not a page.
    assert not count_scripts("電話").is_traditional


def test_only_simplified_only_characters_change_with_phrase_context() -> None:
    out = to_traditional(MIXED, "s2t")
    assert len(out) == len(MIXED)
    assert "用電申請書" in out and "申請書已簽署" in out
    assert "頭髮" in out and "發電" in out  # 发 in context: 髮 (hair), 發 (generate)
    assert "3301000001" in out
    # What was read as Traditional or shared is kept as read.
    changed = [a for a, b in zip(MIXED, out, strict=True) if a != b]
    assert changed == list("电发电请书头发")
    assert count_scripts(out).simplified_only == 0


def test_variants_follow_the_regional_standard() -> None:
    assert to_traditional("台湾用电", "s2t") == "臺灣用電"
    assert to_traditional("台湾用电", "s2hk") == "台灣用電"
    with pytest.raises(ConfigError, match="unknown Traditional variant"):
        to_traditional("用电", "s2x")


def test_words_keep_their_boxes_and_lines() -> None:
    words = [Word("用", 90, (0, 0, 10, 10), 1, 1), Word("电申", 80, (10, 0, 30, 10), 1, 1),
             Word("請", 95, (30, 0, 40, 10), 1, 1), Word("头发", 70, (0, 20, 20, 30), 1, 2)]
    out = convert_words(words, "s2t")
    assert [w.text for w in out] == ["用", "電申", "請", "頭髮"]
    assert [(w.bbox, w.conf, w.line) for w in out] == [(w.bbox, w.conf, w.line) for w in words]


def test_harmonise_converts_traditional_pages_only() -> None:
    words = [Word(ch, 90, (i * 10, 0, i * 10 + 10, 10), 1, n)
             for n, line in enumerate(MIXED.split("\n"), 1) for i, ch in enumerate(line)
             if not ch.isspace()]
    done = harmonise(MIXED, words, "s2t")
    assert done is not None and done.changed == count_scripts(MIXED).simplified_only
    assert "".join(w.text for w in done.words) == "".join(done.text.split())
    assert harmonise(MIXED, words, "off") is None
    assert harmonise(SIMPLIFIED, [], "s2t") is None
