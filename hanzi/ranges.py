"""Which code points are Han, in one table, and every form the project needs of it.

Each caller means one of a few named sets; all of them are built from ``Block`` rows
below, so a Python regex, the tantivy (Rust regex) tokenizer pattern and ``is_han``
cannot disagree:

``IDEOGRAPHS``
    What search, orientation and script detection call Han: CJK Unified Ideographs,
    Extension A, the Compatibility Ideographs and the supplementary planes from
    Extension B through Extension G (U+20000-U+3134F, Compatibility Supplement
    included). Extension H (U+31350-U+323AF, Unicode 15.0) is left out on purpose:
    Python 3.11's ``re`` knows Unicode 14.0 only, so it would not treat those code
    points as word characters while the Rust tokenizer would -- the two analyzers
    would then split the same text differently.
``COMMON_IDEOGRAPHS``
    The basic CJK Unified block only (U+4E00-U+9FFF), where every character a form
    prints in a person's name, an address or a company name lies: fact extraction and
    the index-consistency check's query words. Rarer characters there are OCR noise.
``WRITTEN_WITHOUT_SPACES``
    What the OCR engines' word joiner treats as written without spaces: the ideographs
    plus radicals, CJK punctuation, kana, bopomofo, Hangul syllables, vertical and
    full-width forms. Punctuation and full-width forms belong here (no space is
    written beside them) and nowhere else: they separate search tokens, and a name is
    not made of them.

Imports nothing from the project: search, ocr_worker and dms all import it.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    first: int
    last: int  # inclusive
    name: str


UNIFIED = Block(0x4E00, 0x9FFF, "CJK Unified Ideographs")
EXT_A = Block(0x3400, 0x4DBF, "CJK Unified Ideographs Extension A")
COMPATIBILITY = Block(0xF900, 0xFAFF, "CJK Compatibility Ideographs")
# Extensions B-G and the Compatibility Ideographs Supplement, contiguous in planes 2-3.
SUPPLEMENTARY = Block(0x20000, 0x3134F, "CJK Unified Ideographs Extensions B-G")

IDEOGRAPHS: tuple[Block, ...] = (EXT_A, UNIFIED, COMPATIBILITY, SUPPLEMENTARY)
COMMON_IDEOGRAPHS: tuple[Block, ...] = (UNIFIED,)
WRITTEN_WITHOUT_SPACES: tuple[Block, ...] = (
    Block(0x2E80, 0x2FDF, "CJK Radicals, Kangxi Radicals"),
    Block(0x3000, 0x303F, "CJK Symbols and Punctuation"),
    Block(0x3040, 0x30FF, "Hiragana, Katakana"),
    Block(0x3100, 0x312F, "Bopomofo"),
    Block(0x3190, 0x31FF, "Kanbun, Bopomofo Extended, CJK Strokes, Katakana Extension"),
    EXT_A, UNIFIED,
    Block(0xAC00, 0xD7AF, "Hangul Syllables"),
    COMPATIBILITY,
    Block(0xFE30, 0xFE4F, "CJK Compatibility Forms"),
    Block(0xFF00, 0xFFEF, "Halfwidth and Fullwidth Forms"),
    SUPPLEMENTARY,
)


def python_class(blocks: tuple[Block, ...]) -> str:
    """The inside of a Python ``re`` character class: ``f"[{python_class(S)}]"``."""
    return "".join(f"{chr(b.first)}-{chr(b.last)}" for b in blocks)


def rust_class(blocks: tuple[Block, ...]) -> str:
    """The inside of a Rust ``regex`` character class (tantivy's ``Tokenizer.regex``)."""
    return "".join(f"\\x{{{b.first:X}}}-\\x{{{b.last:X}}}" for b in blocks)


HAN = python_class(IDEOGRAPHS)
HAN_RUST = rust_class(IDEOGRAPHS)
COMMON_HAN = python_class(COMMON_IDEOGRAPHS)

_BOUNDS = sorted((b.first, b.last) for b in IDEOGRAPHS)
_FIRSTS = [first for first, _ in _BOUNDS]


def in_blocks(ch: str, blocks: tuple[Block, ...]) -> bool:
    cp = ord(ch)
    return any(b.first <= cp <= b.last for b in blocks)


def is_han(ch: str) -> bool:
    """One character of ``IDEOGRAPHS`` (the search tokenizer's notion of Han)."""
    cp = ord(ch)
    i = bisect.bisect_right(_FIRSTS, cp) - 1
    return i >= 0 and cp <= _BOUNDS[i][1]
