"""Chinese words and phrases of every length on the embedded index (per-character,
bigram, 4-gram and 8-gram fields) match exactly the pages whose token stream holds the
query's tokens in a row: checked against a brute-force scan of random pages."""
from __future__ import annotations

import random
from pathlib import Path

from search.analysis import (
    GRAM_FILLER, OCT, QUAD_GAP, ngrams_of_spaced, quadgrams_of_spaced, spaced_tokens,
)
from search.base import PageDoc, SearchQuery
from search.tantivy_index import TantivyIndex

HAN = "供用电合同户号地址申请容量"  # few characters: many near misses
BREAKS = ["，", "。", " ", " X ", " 12 ", "（a）"]  # Latin/digit tokens break a phrase


def _page_text(r: random.Random) -> str:
    parts = []
    for _ in range(r.randint(3, 8)):
        parts.append("".join(r.choice(HAN) for _ in range(r.randint(1, 14))))
        parts.append(r.choice(BREAKS))
    return "".join(parts)


def _contains(tokens: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(tokens[i:i + n] == phrase for i in range(len(tokens) - n + 1))


def test_phrases_of_every_length_match_like_a_token_scan(tmp_path: Path) -> None:
    r = random.Random(5)
    texts = {f"{i}:1": _page_text(r) for i in range(1, 301)}
    ix = TantivyIndex(tmp_path / "ix")
    ix.index_pages([PageDoc(pid, int(pid.split(":")[0]), 1, t, "3300000000")
                    for pid, t in texts.items()])
    ix.refresh()
    tokens = {pid: spaced_tokens(t).split() for pid, t in texts.items()}
    checked = 0
    for _ in range(800):
        # A quarter are taken from a page (hits), a quarter from a page with its
        # Latin/digit tokens dropped (across a break: must not match there), a quarter
        # are taken from a page with one inner character changed (near misses that
        # agree with a page at both ends: every gram of a long phrase must be checked),
        # a quarter are random.
        kind = r.random()
        if kind < 3 / 4:
            toks = tokens[r.choice(list(tokens))]
            if kind < 1 / 4 or kind >= 2 / 4:
                toks = [t for t in toks if len(t) == 1 and t in HAN]
            n = r.randint(2, min(20, len(toks)))
            start = r.randint(0, len(toks) - n)
            query = toks[start:start + n]
            if kind >= 2 / 4 and n >= 3:
                i = r.randint(1, n - 2)
                query = [*query[:i], r.choice(HAN.replace(query[i], "")), *query[i + 1:]]
        else:
            query = [r.choice(HAN) for _ in range(r.randint(2, 18))]
        if not all(len(t) == 1 for t in query):  # Han-only phrases are the subject here
            continue
        expected = {pid for pid, toks in tokens.items() if _contains(toks, query)}
        got = {h.page_id for h in ix.search(SearchQuery(
            '"' + "".join(query) + '"', size=1000, facets=False)).hits}
        assert got == expected, "".join(query)
        checked += 1
    assert checked > 400


def test_runs_are_kept_quad_apart_in_the_quadgram_field() -> None:
    # Punctuation does not end a run of Han characters, a Latin/digit token does.
    spaced = spaced_tokens("用电地址 AB 供用电合同，申请 X 容量变更申请")
    gap = [GRAM_FILLER] * QUAD_GAP
    assert quadgrams_of_spaced(spaced).split() == [
        "用电地址", *gap, "供用电合", "用电合同", "电合同申", "合同申请", *gap,
        "容量变更", "量变更申", "变更申请"]


def test_runs_without_grams_add_no_gap_and_8_gram_runs_are_kept_apart() -> None:
    # 供用电 is shorter than 4: no grams, no gap (nothing of it can match in this field).
    spaced = spaced_tokens("用电地址 1 供用电 2 容量变更")
    gap = [GRAM_FILLER] * QUAD_GAP
    assert quadgrams_of_spaced(spaced).split() == ["用电地址", *gap, "容量变更"]
    spaced = spaced_tokens("分界点电源侧设施 A 由供电人维护 B 用电人不得擅自改变")
    assert ngrams_of_spaced(spaced, OCT).split() == [
        "分界点电源侧设施", *[GRAM_FILLER] * OCT, "用电人不得擅自改", "电人不得擅自改变"]


def test_grams_of_two_runs_never_form_a_phrase(tmp_path: Path) -> None:
    # Without the filler gap the last gram of the first run and the first gram of the
    # second would be adjacent and "read" as the phrase the Latin token breaks.
    ix = TantivyIndex(tmp_path / "ix")
    ix.index_pages([PageDoc("1:1", 1, 1, "用电地址 X 电地址人", "3300000000"),
                    PageDoc("2:1", 2, 1, "分界点电源侧设施 X 界点电源侧设施由", "3300000000"),
                    PageDoc("3:1", 3, 1, "分界点电源侧设施由供电人维护", "3300000000")])
    ix.refresh()
    for phrase, expected in (("用电地址人", set()), ("分界点电源侧设施由", {"3:1"})):
        got = {h.page_id for h in ix.search(SearchQuery(phrase, facets=False)).hits}
        assert got == expected, phrase
