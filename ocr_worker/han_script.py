"""One script per page: Traditional pages read as Traditional, not a Simplified/Traditional mix.

Both engines read Traditional Chinese pages as a mix: PP-OCR's recogniser was trained
mostly on Simplified text and writes many characters in their Simplified form (measured on
the synthetic corpus: about one Han character in four on a Traditional page), and
tesseract's ``chi_sim+chi_tra`` picks per character. Search and classification fold
everything to Simplified and do not care, but the page text shown to people, the snippets
and the PDF text layer should read as the page does.

So after recognition the page's script is judged from the output itself
(``hanzi.folding.count_scripts``, shared with everything else that folds): characters that
exist only in Traditional form (OpenCC t2s changes them) against characters that exist only
in Simplified form (OpenCC s2t changes them). A Simplified page yields practically no
Traditional-only characters; a Traditional page yields mostly Traditional-only ones, even
through a Simplified-leaning model. On a Traditional page, only the Simplified-only
characters are converted (with OpenCC's phrase tables for context, 发 -> 發 or 髮); every
character the engine read as Traditional or as a form both scripts share is kept as read.

Which Traditional standard a deployment writes is a setting (``ocr_traditional_variant``):
``s2t`` (OpenCC's standard forms), ``s2tw`` (Taiwan) or ``s2hk`` (Hong Kong, e.g. 台 not
臺); ``off`` keeps the engine's output untouched.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from errorkit import ConfigError
from hanzi import folding
from hanzi.folding import ScriptCounts, count_scripts, script_of
from ocr_worker.results import Word

VARIANTS = ("off", "s2t", "s2tw", "s2hk")


def preload(variant: str) -> None:
    """Load the conversion tables a page may need (see dms.worker.preload)."""
    folding.preload()
    if variant in VARIANTS[1:]:
        folding.converter(variant)


def to_traditional(text: str, variant: str) -> str:
    """``text`` with its Simplified-only characters in Traditional form (``variant``'s
    standard); all other characters unchanged. Length-preserving."""
    if variant not in VARIANTS or variant == "off":
        raise ConfigError(f"unknown Traditional variant {variant!r}; use one of {VARIANTS[1:]}")
    if not any(script_of(ch) == -1 for ch in text):
        return text
    convert = folding.converter(variant)
    phrased = convert(text)
    if len(phrased) != len(text):  # a phrase table entry of another length: per character
        phrased = "".join(convert(ch) for ch in text)
    return "".join(new if script_of(old) == -1 else old
                   for old, new in zip(text, phrased, strict=True))


def convert_words(words: list[Word], variant: str) -> list[Word]:
    """Each line's words converted as one string (the phrase tables need the context),
    then split back into the same words and boxes."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and (words[j].block, words[j].line) == (words[i].block,
                                                                    words[i].line):
            j += 1
        line = words[i:j]
        converted = to_traditional("".join(w.text for w in line), variant)
        pos = 0
        for w in line:
            out.append(replace(w, text=converted[pos:pos + len(w.text)]))
            pos += len(w.text)
        i = j
    return out


@dataclass(frozen=True)
class Harmonised:
    text: str
    words: list[Word]
    changed: int  # characters converted
    counts: ScriptCounts


def harmonise(text: str, words: list[Word], variant: str) -> Harmonised | None:
    """The page in one script, or None when it is not a Traditional page, nothing needs
    converting, or the variant is ``off``."""
    if variant == "off":
        return None
    counts = count_scripts(text)
    if not counts.is_traditional or counts.simplified_only == 0:
        return None
    new_text = to_traditional(text, variant)
    changed = sum(1 for a, b in zip(text, new_text, strict=True) if a != b)
    return Harmonised(new_text, convert_words(words, variant), changed, counts)
