"""A Traditional form whose repeated labels the engine wrote in Simplified form (户/号/装
beside Traditional characters) is still a Traditional page: written in one script."""
from __future__ import annotations

from ocr_worker.han_script import count_scripts, harmonise

# A Traditional 用電申請書 as a Simplified-leaning engine reads it: the labels 户号/户名/
# 新装 repeated on every row in Simplified form, everything else Traditional.
FORM = ("低壓居民新装用電申請書\n"
        "户号 3301000001 户名 陳大文 户号 3301000002 户名 林國華\n"
        "户号 3301000003 户名 黃志明 新装 新装 新装\n"
        "用電地址 臺北市 聯繫電話 證件號碼")


def test_a_label_heavy_traditional_form_is_written_in_one_script() -> None:
    counts = count_scripts(FORM)
    # Counted by occurrence, the repeated labels outweigh the page's Traditional text.
    assert counts.simplified_only > counts.traditional_only * 0.5
    assert counts.is_traditional
    done = harmonise(FORM, [], "s2t")
    assert done is not None
    for simplified in "户号装":
        assert simplified not in done.text
    assert "戶號" in done.text and "新裝" in done.text and "臺北市" in done.text


def test_a_simplified_form_with_repeated_labels_stays_simplified() -> None:
    simplified = FORM.translate(str.maketrans("壓請聯繫證碼陳國黃電臺", "压请联系证码陈国黄电台"))
    assert not count_scripts(simplified).is_traditional
    # ... also with a few Traditional glyphs for smudged characters.
    assert not count_scripts(simplified + " 電話 號碼").is_traditional
