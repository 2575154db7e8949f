"""Chinese words and phrases of every length on the embedded index (per-character,
bigram and quadgram fields) match exactly the pages whose token stream holds the
query's tokens in a row: checked against a brute-force scan of random pages."""
from __future__ import annotations

import random
from pathlib import Path

from search.analysis import QUAD_FILLER, QUAD_GAP, quadgrams_of_spaced, spaced_tokens
from search.base import PageDoc, SearchQuery
from search.tantivy_index import TantivyIndex

HAN = "供用电合同户号地址申请容量"  # few characters: many near misses
BREAKS = ["，", "。", " ", " X ", " 12 ", "（a）"]  # Latin/digit tokens break a phrase


def _page_text(r: random.Random) -> str:
    parts = []
    for _ in range(r.randint(3, 8)):
        parts.append("".join(r.choice(HAN) for _ in range(r.randint(1, 9))))
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
    for _ in range(600):
        # A third are taken from a page (hits), a third from a page with its Latin/digit
        # tokens dropped (across a break: must not match there), a third are random.
        kind = r.random()
        if kind < 2 / 3:
            toks = tokens[r.choice(list(tokens))]
            if kind < 1 / 3:
                toks = [t for t in toks if len(t) == 1 and t in HAN]
            n = r.randint(2, min(12, len(toks)))
            start = r.randint(0, len(toks) - n)
            query = toks[start:start + n]
        else:
            query = [r.choice(HAN) for _ in range(r.randint(2, 10))]
        if not all(len(t) == 1 for t in query):  # Han-only phrases are the subject here
            continue
        expected = {pid for pid, toks in tokens.items() if _contains(toks, query)}
        got = {h.page_id for h in ix.search(SearchQuery(
            '"' + "".join(query) + '"', size=1000, facets=False)).hits}
        assert got == expected, "".join(query)
        checked += 1
    assert checked > 300


def test_runs_are_kept_quad_apart_in_the_quadgram_field() -> None:
    # Punctuation does not end a run of Han characters, a Latin/digit token does.
    spaced = spaced_tokens("用电地址 AB 供用电合同，申请 X 容量变更申请")
    gap = [QUAD_FILLER] * QUAD_GAP
    assert quadgrams_of_spaced(spaced).split() == [
        "用电地址", *gap, "供用电合", "用电合同", "电合同申", "合同申请", *gap,
        "容量变更", "量变更申", "变更申请"]
