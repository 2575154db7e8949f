"""One table of Han code points; its Python and Rust regex forms and ``is_han`` agree."""
from __future__ import annotations

import re

import tantivy

from hanzi.ranges import (
    COMMON_HAN, COMMON_IDEOGRAPHS, HAN, HAN_RUST, IDEOGRAPHS, WRITTEN_WITHOUT_SPACES, Block,
    in_blocks, is_han, python_class, rust_class,
)
from ocr_worker.engine_api import is_cjk
from ocr_worker.orientation import sure_characters
from ocr_worker.results import Word
from search.analysis import TANTIVY_TOKEN_PATTERN, has_han, tokenize


def _edges(blocks: tuple[Block, ...]) -> list[str]:
    """Both ends of every block and their outside neighbours."""
    cps = {cp for b in blocks for cp in (b.first - 1, b.first, b.last, b.last + 1)}
    return [chr(cp) for cp in sorted(cps) if not 0xD800 <= cp <= 0xDFFF]


def test_blocks_are_ordered_and_disjoint() -> None:
    for blocks in (IDEOGRAPHS, COMMON_IDEOGRAPHS, WRITTEN_WITHOUT_SPACES):
        spans = sorted((b.first, b.last) for b in blocks)
        assert all(first <= last for first, last in spans)
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert set(COMMON_IDEOGRAPHS) <= set(IDEOGRAPHS) <= set(WRITTEN_WITHOUT_SPACES)


def test_is_han_equals_the_python_class_on_every_code_point() -> None:
    han = re.compile(f"[{HAN}]")
    for cp in range(0x40000):
        ch = chr(cp)
        assert is_han(ch) == bool(han.fullmatch(ch)) == in_blocks(ch, IDEOGRAPHS), hex(cp)


def test_rust_form_is_the_same_set_as_the_python_form() -> None:
    # tantivy's regex tokenizer compiled from the Rust form emits exactly the characters
    # the Python form matches, at every block edge.
    analyzer = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(f"[{HAN_RUST}]")).build()
    for blocks in (IDEOGRAPHS, COMMON_IDEOGRAPHS):
        text = "".join(_edges(blocks))
        py = re.findall(f"[{python_class(blocks)}]", text)
        rust = list(tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(
            f"[{rust_class(blocks)}]")).build().analyze(text))
        assert py == rust and len(py) == 2 * len(blocks)
    assert list(analyzer.analyze("a供\U00020000\U00031350電")) == ["供", "\U00020000", "電"]
    assert rust_class(COMMON_IDEOGRAPHS) == r"\x{4E00}-\x{9FFF}"
    assert f"[{HAN_RUST}]" in TANTIVY_TOKEN_PATTERN


def test_what_each_caller_means() -> None:
    # Han: ideographs only -- no punctuation, no full-width forms, no kana or Hangul.
    for ch in "供電丟\u3400\uf900\U00020000\U0003134f":
        assert is_han(ch) and has_han(ch), ch
    for ch in "，。：（Ａ１あア한\u3000\u4dc0\U00031350a1":
        assert not is_han(ch) and not has_han(ch), ch
    # Extension H is left out on purpose: Python 3.11's re does not count it as a word
    # character, so the two tokenizers would split it differently.
    assert tokenize("\U00031350") == []
    # Written without spaces (the OCR word joiner): Han and also CJK punctuation, kana,
    # Hangul and full-width forms; not Latin.
    for ch in "供，。：（Ａ１あア한\u3000\U00020000":
        assert is_cjk(ch), ch
    assert not any(is_cjk(ch) for ch in "a1,. -")
    # The common block (fact extraction, fsck's sample words): U+4E00-U+9FFF only.
    assert re.fullmatch(f"[{COMMON_HAN}]+", "张三丰龥\u9fff")
    assert not re.search(f"[{COMMON_HAN}]", "\u3400\uf900\U00020000，Ａ")


def test_the_ocr_word_joiner_kept_its_set() -> None:
    # The set ocr_worker/engine.py wrote out before it came from the table.
    before = re.compile(
        "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
        "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
        "\U00020000-\U0003134f]")
    for cp in range(0x40000):
        ch = chr(cp)
        assert is_cjk(ch) == bool(before.match(ch)), hex(cp)


def test_orientation_counts_han_only() -> None:
    words = [Word("供用電合同，ＡＢ", 95.0, (0, 0, 10, 10))]
    assert sure_characters(words) == (5, 8)
