"""Text analysis shared by both backends: normalisation, identifiers, snippets.

Chinese has no spaces, so the embedded index tokenises every Han character as its
own token (with positions) and Latin/digit runs as lower-cased words; a CJK query
word becomes a phrase over its characters. That matches 2-character words exactly
(合同 never matches 合作同意), unlike n-gram tokenizers, which put every gram at
one position so phrase queries over-match. Elasticsearch's ``standard`` tokenizer
does the same per-character split for Han, so both backends agree.

Traditional Chinese is folded to Simplified (``hanzi.folding.to_simplified``: OpenCC
t2s, with a fast path that skips texts without any convertible character) on both the
indexed text and the query; the original text is stored separately for snippets.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache

from errorkit import SearchError
from hanzi.folding import to_simplified
from hanzi.ranges import HAN, HAN_RUST

# Han ideographs: one table (hanzi.ranges) for the Python side and the Rust regex below.
_HAN = HAN
_HAN_RUST = HAN_RUST

# Rust-regex pattern for tantivy's Tokenizer.regex: one token per Han char, else
# runs of letters/digits. Lower-casing is a separate tantivy filter.
TANTIVY_TOKEN_PATTERN = rf"[{_HAN_RUST}]|[\p{{L}}\p{{N}}--[{_HAN_RUST}]]+"
# Python mirror of the same pattern (used for snippets and tests).
# (a negated class rather than a per-character lookahead: ~2x faster, same tokens)
_TOKEN_RE = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
_HAN_RE = re.compile(rf"[{_HAN}]")

# Looks like an identifier: >= 6 letters/digits, at least one digit, inner . _ / -
_IDENT_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?")
IDENT_MIN_ALNUM = 6

SNIPPET_CHARS = 120


# Full-width letters and digits (common in OCR of Chinese text) -> ASCII. Full-width
# punctuation is left alone: it separates tokens exactly as ASCII punctuation does, and
# skipping it means most pages need no translation at all (a per-character pass over
# every page dominated indexing time).
_FULLWIDTH_ALNUM_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_WIDTH_TABLE = {c: c - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
                for c in range(lo, hi + 1)}


def _fold_width(text: str) -> str:
    """Full-width letters/digits -> ASCII; length-preserving."""
    if _FULLWIDTH_ALNUM_RE.search(text) is None:
        return text
    return text.translate(_WIDTH_TABLE)


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


def spaced_tokens(text: str) -> str:
    """The normalised text's tokens (not yet lower-cased) joined by single spaces.

    What the embedded index hands tantivy's ``simple`` tokenizer (which splits on
    anything not alphanumeric): one C-level regex pass here plus tantivy's plain
    character scan is several times faster than tantivy's regex tokenizer, which runs
    one regex search per token, and yields the same tokens and positions.
    """
    return " ".join(_TOKEN_RE.findall(normalize_text(text)))


# A run of consecutive Han tokens in ``spaced_tokens`` output ("供 用 电"); a Latin/digit
# token ends a run, separators dropped by the tokenizer do not (as in a phrase query).
_HAN_RUN_RE = re.compile(rf"[{_HAN}](?: [{_HAN}])*")


def _run_bigrams(m: re.Match[str]) -> str:
    chars = m.group()[::2]  # every other character: the Han tokens without the spaces
    return chars if len(chars) == 1 else " ".join(map(str.__add__, chars, chars[1:]))


def bigrams_of_spaced(spaced: str) -> str:
    """``spaced_tokens`` output with every run of Han tokens replaced by its overlapping
    bigrams ("供 用 电 合 同 No 1" -> "供用 用电 电合 合同 No 1"); a lone Han token stays.

    Indexed beside the per-character field: a Chinese word of n >= 2 characters is then
    one term (n = 2) or a phrase of n - 1 selective bigrams instead of a phrase over n
    very common characters — the difference between ~200 ms and a few ms at a million
    pages. Latin tokens stay in the stream so runs are never glued together.
    """
    return _HAN_RUN_RE.sub(_run_bigrams, spaced)


def han_bigrams(tokens: Sequence[str]) -> list[str] | None:
    """The bigram-field terms for a query phrase, or None when the bigram field cannot
    answer it (a single character, or a phrase that mixes in Latin/digit tokens)."""
    if len(tokens) < 2 or not all(_HAN_RE.fullmatch(t) for t in tokens):
        return None
    return [a + b for a, b in zip(tokens, tokens[1:], strict=False)]


# N-gram fields (n = 4 and 8): a phrase of L >= n Han characters is matched as its
# n-grams at offsets 0, n, 2n, ... and L - n (consecutive offsets at most n apart).
# ``gap_tokens(n)`` filler tokens between runs keep any two grams of different runs more
# than n positions apart, so such a phrase can never match across runs: it matches
# exactly where the bigram phrase matches.
QUAD = 4
OCT = 8
QUAD_GAP = QUAD
GRAM_FILLER = "0"  # a token no n-gram query asks for (query grams are Han only)
QUAD_FILLER = GRAM_FILLER


def ngrams_of_spaced(spaced: str, n: int) -> str:
    """Every run of Han tokens in ``spaced_tokens`` output as its overlapping n-grams;
    runs shorter than n add no gram, and n filler tokens separate the grams of two runs.

    Why: on template-heavy archives a 4-character word is on a third of all pages; as a
    phrase over 3 bigrams every one of those pages needs a position check (~140 ms at a
    million pages), as one quadgram term it is a plain posting-list walk (~10 ms). A long
    phrase (a clause of a contract) is on a third of the pages too: with 8-grams any
    phrase of 8-16 characters is at most two terms, with 4-grams up to four, and the
    position checks scale with the terms.
    """
    out: list[str] = []
    gap = " ".join([GRAM_FILLER] * n)
    for m in _HAN_RUN_RE.finditer(spaced):
        chars = m.group()[::2]
        if len(chars) >= n:  # a run without grams needs no gap: nothing can match there
            if out:
                out.append(gap)
            out.append(" ".join(chars[i:i + n] for i in range(len(chars) - n + 1)))
    return " ".join(out)


def quadgrams_of_spaced(spaced: str) -> str:
    return ngrams_of_spaced(spaced, QUAD)


def han_ngrams(tokens: Sequence[str], n: int) -> list[tuple[int, str]] | None:
    """The n-gram-field terms with their offsets for an all-Han query phrase of >= n
    characters (see ``ngrams_of_spaced``), else None."""
    if len(tokens) < n or not all(_HAN_RE.fullmatch(t) for t in tokens):
        return None
    last = len(tokens) - n
    offsets = list(range(0, last, n)) + [last]
    return [(i, "".join(tokens[i:i + n])) for i in offsets]


def han_quadgrams(tokens: Sequence[str]) -> list[tuple[int, str]] | None:
    return han_ngrams(tokens, QUAD)


def tokenize(text: str) -> list[str]:
    return [t for t, _, _ in tokenize_spans(normalize_text(text))]


# One character of a Latin/digit token (compiled once: the Han class is large).
_TOKEN_CHAR_RE = re.compile(rf"[^\W_{_HAN}]")


@lru_cache(maxsize=512)
def _phrase_pattern(phrase: tuple[str, ...]) -> str:
    """Regex source of a token phrase in normalised text (no tokenising).

    Tokens may be separated by any run of non-token characters (what the tokenizer
    drops); two Latin/digit tokens need at least one, or they would be one token.
    Kept free of the big Han character class: compiling that per query cost ~20 ms.
    """
    out = re.escape(phrase[0])
    for prev, tok in zip(phrase, phrase[1:], strict=False):
        both_latin = not _HAN_RE.fullmatch(prev) and not _HAN_RE.fullmatch(tok)
        out += (r"[\W_]+" if both_latin else r"[\W_]*") + re.escape(tok)
    return out


@lru_cache(maxsize=512)
def _phrase_re(phrase: tuple[str, ...]) -> re.Pattern[str]:
    """A token phrase's occurrences in normalised text, overlapping ones included (as a
    token-by-token scan finds them): the definition ``_phrase_spans`` computes faster,
    kept as the reference its tests compare with."""
    return re.compile(f"(?=({_phrase_pattern(phrase)}))", re.IGNORECASE)


@lru_cache(maxsize=512)
def _phrase_plain_re(phrase: tuple[str, ...]) -> re.Pattern[str]:
    """The same phrase without the lookahead, for ``_phrase_spans``."""
    return re.compile(_phrase_pattern(phrase), re.IGNORECASE)


def _phrase_spans(text: str, phrase: tuple[str, ...], pos: int = 0) -> Iterator[tuple[int, int]]:
    """The spans of ``_phrase_re(phrase).finditer(text, pos)`` (group 1), found faster.

    A lookahead pattern is tried at every position of the text; a plain one skips ahead
    to its first character in C (~10x faster on a page). Searching the plain pattern
    again one character after each match start gives the same overlapping matches: the
    leftmost position where it matches, and there the same span as in the lookahead.
    """
    search = _phrase_plain_re(phrase).search
    while (m := search(text, pos)) is not None:
        yield m.span()
        pos = m.start() + 1


def _whole_tokens(text: str, start: int, end: int) -> bool:
    """The match does not cut a Latin/digit token at either end."""
    return not (start > 0 and _TOKEN_CHAR_RE.match(text, start - 1)
                and _TOKEN_CHAR_RE.match(text, start)) and \
        not (end < len(text) and _TOKEN_CHAR_RE.match(text, end)
             and _TOKEN_CHAR_RE.match(text, end - 1))


def _match_spans(original: str, phrases: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Character spans in ``original`` where one of the token phrases occurs (all of
    them, merged where they overlap)."""
    text = normalize_text(original)
    return _merge(sorted(_spans_in(text, phrases, 0, len(text))))


@lru_cache(maxsize=512)
def _needs_edge_check(phrase: tuple[str, ...]) -> bool:
    """Only a Latin/digit token at either end of a phrase can cut a longer token."""
    return not (_HAN_RE.fullmatch(phrase[0]) and _HAN_RE.fullmatch(phrase[-1]))


def _spans_in(text: str, phrases: Sequence[Sequence[str]], lo: int,
              hi: int) -> list[tuple[int, int]]:
    """Spans of whole-token matches that start in [lo, hi)."""
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        if not phrase:
            continue
        key = tuple(phrase)
        check = _needs_edge_check(key)
        for s, e in _phrase_spans(text, key, lo):
            if s >= hi:
                break
            if not check or _whole_tokens(text, s, e):
                spans.append((s, e))
    return spans


def _first_match(text: str, phrases: Sequence[Sequence[str]]) -> int | None:
    first: int | None = None
    for phrase in phrases:
        if not phrase:
            continue
        key = tuple(phrase)
        check = _needs_edge_check(key)
        for s, e in _phrase_spans(text, key):
            if first is not None and s >= first:
                break  # (not an endpos: it would cut a match that starts earlier)
            if not check or _whole_tokens(text, s, e):
                first = s
                break
    return first


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def collapse_whitespace(original: str) -> str:
    """The text a snippet shows: OCR line breaks/indentation are noise there."""
    return " ".join(original.split())


def snippet_texts(original: str) -> tuple[str, str]:
    """(shown, folded): what ``prepared_snippet`` takes for a page; an index can store
    both so that no query has to collapse and fold the page again."""
    text = collapse_whitespace(original)
    return text, normalize_text(text)


def make_snippet(original: str, phrases: Sequence[Sequence[str]],
                 max_chars: int = SNIPPET_CHARS) -> str:
    """HTML-safe snippet of ~``max_chars`` around the first match, matches in <mark>.

    Built from the stored original (not the Simplified-folded index text) so users see
    what was scanned; see ``prepared_snippet``.
    """
    text, folded = snippet_texts(original)
    return prepared_snippet(text, folded, phrases, max_chars)


def prepared_snippet(text: str, folded: str, phrases: Sequence[Sequence[str]],
                     max_chars: int = SNIPPET_CHARS) -> str:
    """``make_snippet`` of a page from its ``snippet_texts``: the same output without
    folding the page at every query (folding was half the cost of a hit).

    ``folded`` is where phrases are found, ``text`` what is shown; they must be of the
    same length (``normalize_text`` keeps it), so offsets carry over. Every character
    outside the marks is escaped. Only the window is searched for further matches: a
    common word occurs dozens of times on a page, and finding them all was most of the
    time of a whole search.
    """
    if len(folded) != len(text):
        raise SearchError(f"folded snippet text of {len(folded)} characters for a text of "
                          f"{len(text)}: not made by snippet_texts()",
                          hint="an index written by other code: rebuild the index")
    first = _first_match(folded, phrases)
    if first is not None:
        start = max(0, first - max_chars // 4)
        end = min(len(text), start + max_chars)
        start = max(0, min(start, end - max_chars))
        # no span starts before the first match: only [first, end) can show
        spans = _merge(sorted(_spans_in(folded, phrases, first, end)))
    else:
        start, end, spans = 0, min(len(text), max_chars), []
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
