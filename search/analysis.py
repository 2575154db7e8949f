"""Text analysis shared by both backends: normalisation, identifiers, snippets.

Chinese has no spaces, so the embedded index tokenises every Han character as its
own token (with positions) and Latin/digit runs as lower-cased words; a CJK query
word becomes a phrase over its characters. That matches 2-character words exactly
(合同 never matches 合作同意), unlike n-gram tokenizers, which put every gram at
one position so phrase queries over-match. Elasticsearch's ``standard`` tokenizer
does the same per-character split for Han, so both backends agree.

Traditional Chinese is folded to Simplified (OpenCC t2s) on both the indexed text
and the query; the original text is stored separately for snippets.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

# Han ideographs: CJK Unified (+Ext A..), Compatibility Ideographs. Written out
# explicitly so the Python side and the Rust regex below agree on what is "Han".
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUST = r"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{20000}-\x{3134F}"

# Rust-regex pattern for tantivy's Tokenizer.regex: one token per Han char, else
# runs of letters/digits. Lower-casing is a separate tantivy filter.
TANTIVY_TOKEN_PATTERN = rf"[{_HAN_RUST}]|[\p{{L}}\p{{N}}--[{_HAN_RUST}]]+"
# Python mirror of the same pattern (used for snippets and tests).
_TOKEN_RE = re.compile(rf"[{_HAN}]|(?:(?![{_HAN}])[^\W_])+")
_HAN_RE = re.compile(rf"[{_HAN}]")

# Looks like an identifier: >= 6 letters/digits, at least one digit, inner . _ / -
_IDENT_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?")
IDENT_MIN_ALNUM = 6

SNIPPET_CHARS = 120


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc  # imported lazily: the pure-Python dictionary load takes ~100 ms

    return opencc.OpenCC("t2s")


def _fold_width(text: str) -> str:
    """Full-width ASCII (common in OCR of Chinese text) -> ASCII; length-preserving."""
    return "".join(
        chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else (" " if c == "\u3000" else c)
        for c in text
    )


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, guaranteed to keep the length (and so char offsets).

    OpenCC's phrase tables are almost always 1:1 per character; if a conversion ever
    changes the length we convert char by char so snippet offsets into the stored
    original stay valid.
    """
    if not _HAN_RE.search(text):
        return text
    cc = _t2s()
    converted: str = cc.convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        c = cc.convert(ch)
        out.append(c if len(c) == 1 else ch)
    return "".join(out)


def normalize_text(text: str) -> str:
    """What is indexed and what a query term is matched as (same length as input)."""
    return to_simplified(_fold_width(text))


def normalize_identifier(value: str) -> str:
    """Exact-match keys (identifiers, customer_no, business_no): NFKC, trimmed, upper."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def looks_like_identifier(term: str) -> bool:
    """A customer no., ID number, contract no. ... typed as a query term."""
    t = unicodedata.normalize("NFKC", term).strip()
    if not _IDENT_RE.fullmatch(t) or not any(c.isdigit() for c in t):
        return False
    return sum(c.isalnum() for c in t) >= IDENT_MIN_ALNUM


def has_han(text: str) -> bool:
    return bool(_HAN_RE.search(text))


def tokenize_spans(text: str) -> list[tuple[str, int, int]]:
    """(lower-cased token, start, end) over *normalised* text; mirrors the tantivy analyzer."""
    return [(m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def tokenize(text: str) -> list[str]:
    return [t for t, _, _ in tokenize_spans(normalize_text(text))]


def _match_spans(original: str, phrases: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Character spans in ``original`` where one of the token phrases occurs."""
    toks = tokenize_spans(normalize_text(original))
    words = [t for t, _, _ in toks]
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        n = len(phrase)
        if n == 0:
            continue
        for i in range(len(words) - n + 1):
            if words[i:i + n] == list(phrase):
                spans.append((toks[i][1], toks[i + n - 1][2]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def make_snippet(original: str, phrases: Sequence[Sequence[str]],
                 max_chars: int = SNIPPET_CHARS) -> str:
    """HTML-safe snippet of ~``max_chars`` around the first match, matches in <mark>.

    Built from the stored original (not the Simplified-folded index text) so users see
    what was scanned; every character outside the marks is escaped.
    """
    text = " ".join(original.split())  # OCR line breaks/indentation are noise in a snippet
    spans = _match_spans(text, phrases)
    if spans:
        first = spans[0][0]
        start = max(0, first - max_chars // 4)
        end = min(len(text), start + max_chars)
        start = max(0, min(start, end - max_chars))
    else:
        start, end = 0, min(len(text), max_chars)
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)
