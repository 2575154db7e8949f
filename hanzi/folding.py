"""Traditional <-> Simplified: the one fold search, classification and OCR use.

Search folds Traditional to Simplified on the indexed text and on the query (both
backends: Elasticsearch receives text folded here, so the tantivy and Elasticsearch
analyzers agree); classification folds before matching rules and features; OCR judges
a page's script from which characters only one script has. All of it is OpenCC's own
tables (``opencc-python-reimplemented``), loaded once per process.

``to_simplified`` keeps the text's length, so a character offset into the folded text
is an offset into the original (snippets, fact provenance).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import opencc

from hanzi.ranges import is_han

# Conversions OpenCC ships that the project uses: t2s (the fold), s2t (sample data,
# script detection) and the regional Traditional standards OCR may write.
CONFIGS = ("t2s", "s2t", "s2tw", "s2hk")


@functools.lru_cache(maxsize=len(CONFIGS))
def converter(config: str) -> Callable[[str], str]:
    """OpenCC's converter for ``config``; its pure-Python dictionaries load in ~100 ms,
    so once per process."""
    if config not in CONFIGS:
        raise ValueError(f"OpenCC config must be one of {CONFIGS}, not {config!r}")
    convert: Callable[[str], str] = opencc.OpenCC(config).convert
    return convert


def dictionary(name: str) -> Path:
    """One of OpenCC's dictionary files (``TSCharacters.txt`` ...)."""
    return Path(opencc.__file__).parent / "dictionary" / name


@dataclass(frozen=True)
class _T2STables:
    """OpenCC's own t2s tables, arranged for a fast path.

    ``triggers``: every character whose presence can make t2s change a text (keys of
    TSCharacters that map to another character; characters of TSPhrases keys where the
    phrase changes, all of them if its length changes). A text without any is returned
    unchanged by the converter. ``chars``: TSCharacters as a translate table (first
    candidate). ``phrases``: TSPhrases keys by the trigger characters they contain;
    when no phrase occurs in a text, OpenCC's result is the per-character translation.
    """

    triggers: frozenset[str]
    chars: dict[int, str]
    phrases: dict[str, tuple[str, ...]]
    # Prefilter: the BMP triggers plus any astral character. A regex character class
    # scans in C ~10x faster than hashing every character into a set.
    maybe_re: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def _t2s_tables() -> _T2STables:
    triggers: set[str] = set()
    chars: dict[int, str] = {}
    phrases: dict[str, set[str]] = {}
    for line in dictionary("TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        value = values.split(" ")[0]
        if key == value or not key:
            continue
        triggers.add(key)
        if len(key) == 1 and len(value) == 1:
            chars[ord(key)] = value
        else:  # not a 1:1 character mapping: leave such texts to the converter
            phrases.setdefault(key[0], set()).add(key)
    char_keys = set(triggers)
    for line in dictionary("TSPhrases.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        value = values.split(" ")[0]
        changed = set(key) if len(key) != len(value) else {
            k for k, v in zip(key, value, strict=True) if k != v}
        triggers |= changed
        # An unchanged phrase still matters when it shields a character that the
        # character table would convert (乾隆 stays 乾隆, not 干隆).
        for ch in changed | (set(key) & char_keys):
            phrases.setdefault(ch, set()).add(key)
    bmp = "".join(re.escape(c) for c in sorted(triggers) if ord(c) < 0x10000)
    return _T2STables(frozenset(triggers), chars,
                      {ch: tuple(sorted(keys)) for ch, keys in phrases.items()},
                      re.compile(f"[{bmp}\U00010000-\U0010ffff]"))


def preload() -> None:
    """Load the fold's tables now (a worker before it forks, see dms.worker.preload)."""
    _t2s_tables()
    converter("t2s")
    converter("s2t")


def needs_t2s(text: str) -> bool:
    """True when the text contains a character OpenCC t2s may convert."""
    tables = _t2s_tables()
    return tables.maybe_re.search(text) is not None and not tables.triggers.isdisjoint(text)


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, guaranteed to keep the length (and so char offsets).

    Same result as OpenCC t2s, but fast for the common cases: Simplified text is
    returned as is, Traditional text without any of OpenCC's phrases is translated
    per character in C. OpenCC's phrase tables are almost always 1:1 per character; if
    a conversion ever changes the length we convert char by char so snippet offsets
    into the stored original stay valid.
    """
    tables = _t2s_tables()
    if tables.maybe_re.search(text) is None:
        return text
    present = tables.triggers.intersection(text)
    if not present:
        return text
    if not any(key in text for ch in present for key in tables.phrases.get(ch, ())):
        return text.translate(tables.chars)
    convert = converter("t2s")
    converted = convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        c = convert(ch)
        out.append(c if len(c) == 1 else ch)
    return "".join(out)


def to_traditional(text: str) -> str:
    """Simplified -> Traditional (OpenCC s2t, with its phrase tables); for sample data."""
    return converter("s2t")(text)


# --- which script a text is written in --------------------------------------------------

@functools.lru_cache(maxsize=8192)
def script_of(ch: str) -> int:
    """+1 Traditional-only (t2s changes it), -1 Simplified-only (s2t changes it), 0 a
    form both scripts share or not Han.

    Han is ``IDEOGRAPHS``, the supplementary planes included: OCR's copy of this check
    stopped at U+FAFF and so ignored OpenCC's ~1500 astral entries (𠁞 -> 𠀾), which are
    as much evidence of a script as any other character."""
    if not is_han(ch):
        return 0
    if converter("t2s")(ch) != ch:
        return 1
    if converter("s2t")(ch) != ch:
        return -1
    return 0


# A text is Traditional when at least this share of its script-specific characters are
# Traditional-only ... (a Simplified form with a customer's name in Traditional stays
# Simplified). Measured (benchmarks/ocr_engines_bench.py): Traditional pages 0.67-0.98 with
# either engine; noisy Simplified pages read by tesseract chi_sim+chi_tra up to 0.57, as it
# picks Traditional glyphs for smudged characters. Converting a Simplified page is the
# worse mistake (leaving a Traditional page mixed is what the engine did anyway).
TRADITIONAL_SHARE = 0.65
# ... and there are at least this many: a handful of characters is too little evidence.
MIN_TRADITIONAL_CHARS = 5


@dataclass(frozen=True)
class ScriptCounts:
    traditional_only: int
    simplified_only: int
    # The same, counting each character once: a form repeats its labels (戶號, 戶名, 新裝)
    # on every line, and a Simplified-leaning engine writes those few characters in
    # Simplified form (户/号/装) every time, which outweighs the page's many different
    # Traditional characters when occurrences are counted.
    distinct_traditional: int = 0
    distinct_simplified: int = 0

    @property
    def is_traditional(self) -> bool:
        return (_judged_traditional(self.traditional_only, self.simplified_only)
                or _judged_traditional(self.distinct_traditional, self.distinct_simplified))


def _judged_traditional(traditional: int, simplified: int) -> bool:
    return (traditional >= MIN_TRADITIONAL_CHARS
            and traditional >= TRADITIONAL_SHARE * (traditional + simplified))


def count_scripts(text: str) -> ScriptCounts:
    marks = [script_of(ch) for ch in text]
    distinct = {ch: m for ch, m in zip(text, marks, strict=True) if m}
    return ScriptCounts(marks.count(1), marks.count(-1),
                        sum(1 for m in distinct.values() if m == 1),
                        sum(1 for m in distinct.values() if m == -1))
