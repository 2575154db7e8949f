"""Latin phrases found whether or not the reading kept their word spaces.

OCR of a bilingual heading may drop the spaces between English words: a page reads
"POWERSUPPLYCONTRACT" or "POWER SUPPLYCONTRACT", and the tokens a search for
``Power Supply Contract`` asks for (power, supply, contract) are not on it. So every run
of consecutive letter-only tokens of a page is also indexed de-spaced and lower-cased, as
its letter trigrams in a row ("powersupplycontract" -> pow owe wer ers rsu ...); a query
of two or more consecutive Latin words -- or one long word, which may be several run
together ("PowerSupplyContract") -- also matches its concatenation as a phrase over those
trigrams, i.e. as a substring of one de-spaced run.

Grams never span two runs (a run ends at a Han character or a token with a digit), and a
filler gram stands between two runs, so a match never joins words across Chinese text.
Tokens with a digit take no part: an identifier ("SDGDHT2020075456") is still found only
as itself. Both backends index and
query the same thing: tantivy gets the grams from :func:`latin_grams` (the ``_lj`` fields),
Elasticsearch the runs from :func:`latin_runs_text` and makes the grams with an ``ngram``
tokenizer of the same size (``search.es_requests``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from search.analysis import spaced_tokens
from search.query import Term

GRAM = 3
# A single query word this long is probably several words run together; shorter ones stay
# whole-word matches ("art" must not find "start").
LONG_WORD = 10
_LETTERS_RE = re.compile(r"[A-Za-z]+")


# A maximal run of letter-only tokens in ``spaced_tokens`` output (tokens are separated by
# single spaces): one C-level scan instead of a Python test per token.
_RUN_RE = re.compile(r"(?:(?<= )|^)[A-Za-z]+(?: [A-Za-z]+)*(?= |$)")
_ANY_LETTER_RE = re.compile(r"[A-Za-z]")


def runs_of_spaced(spaced: str) -> list[str]:
    """The runs of consecutive letter-only tokens in ``spaced_tokens`` output, each
    de-spaced and lower-cased (runs shorter than a gram are left out: no query gram could
    match them)."""
    if _ANY_LETTER_RE.search(spaced) is None:  # most Chinese pages: nothing to do
        return []
    runs = (m.group().replace(" ", "").lower() for m in _RUN_RE.finditer(spaced))
    return [r for r in runs if len(r) >= GRAM]


def latin_runs(text: str) -> list[str]:
    """:func:`runs_of_spaced` of a text."""
    return runs_of_spaced(spaced_tokens(text))


def grams(run: str) -> list[str]:
    return [run[i:i + GRAM] for i in range(len(run) - GRAM + 1)]


# Between two runs' grams: a token no query asks for (query grams are letters only), so a
# phrase can never match across the end of one run and the start of the next.
RUN_FILLER = "000"


def latin_grams(spaced: str) -> str:
    """What the tantivy ``_lj`` fields index, from ``spaced_tokens`` output: each run's
    trigrams in a row, runs separated by :data:`RUN_FILLER`, space-separated."""
    return f" {RUN_FILLER} ".join(" ".join(grams(run)) for run in runs_of_spaced(spaced))


def latin_runs_text(text: str) -> str:
    """What the Elasticsearch ``*_lj`` fields are sent: the runs separated by
    :data:`RUN_FILLER`, which the ``ngram`` tokenizer turns into the same filler gram."""
    return f" {RUN_FILLER} ".join(latin_runs(text))


def joined_query(tokens: Sequence[str]) -> str | None:
    """The de-spaced form a query's tokens also match, or None when it takes no part:
    two or more letter-only tokens, or one of at least :data:`LONG_WORD` letters."""
    if not letter_tokens(tokens):
        return None
    if len(tokens) == 1 and len(tokens[0]) < LONG_WORD:
        return None
    joined = "".join(tokens).lower()
    return joined if len(joined) >= GRAM else None


def query_grams(joined: str) -> list[tuple[int, str]]:
    """The trigrams of ``joined`` at offsets 0, 3, 6 ... and the last one: a phrase over
    these covers every letter (consecutive grams overlap or touch), with a third of the
    terms of the full list."""
    last = len(joined) - GRAM
    offsets = list(range(0, last, GRAM)) + [last]
    return [(i, joined[i:i + GRAM]) for i in offsets]


def letter_tokens(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(_LETTERS_RE.fullmatch(t) for t in tokens)


def word_runs(groups: Sequence[Sequence[Term]],
              tokens_of: Callable[[str], list[str]]) -> list[tuple[int, int, str | None]]:
    """The query's AND-ed groups as (start, end, joined) segments in order: a run of two
    or more consecutive groups that are each one plain Latin word ("Power Supply
    Contract" typed without quotes) with the concatenation it may also match; every
    other group alone, with None."""
    def word(group: Sequence[Term]) -> list[str] | None:
        if len(group) != 1:
            return None
        t = group[0]
        if t.field is not None or t.identifier or _ANY_LETTER_RE.search(t.text) is None:
            return None  # (a Chinese word is not analysed a second time here)
        toks = tokens_of(t.text)
        return toks if letter_tokens(toks) else None

    out: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(groups):
        j, toks = i, []
        while j < len(groups) and (w := word(groups[j])) is not None:
            toks += w
            j += 1
        if j - i >= 2:
            out.append((i, j, joined_query(toks)))
            i = j
        else:
            out.append((i, i + 1, None))
            i += 1
    return out
