"""The fast paths of text analysis give exactly what the slow, obvious code gives."""
from __future__ import annotations

import random
from pathlib import Path

import opencc
import tantivy

from hanzi.folding import needs_t2s, to_simplified
from search.analysis import (
    make_snippet, normalize_text, spaced_tokens, tokenize, tokenize_spans,
)
from search.tantivy_index import build_analyzer

DICT = Path(opencc.__file__).parent / "dictionary"
FILLER = "的是电费合同供电用户申请，。：1234abc ＡＢ１２"


def _keys(name: str) -> list[str]:
    return [ln.split("\t")[0] for ln in (DICT / name).read_text(encoding="utf-8").splitlines()]


def test_t2s_fast_path_equals_opencc() -> None:
    cc = opencc.OpenCC("t2s")
    chars, phrases = _keys("TSCharacters.txt"), _keys("TSPhrases.txt")
    r = random.Random(7)
    checked = 0
    for _ in range(2000):
        parts = [r.choice(chars) if r.random() < 0.4 else r.choice(FILLER)
                 for _ in range(r.randint(1, 40))]
        if r.random() < 0.4:  # phrases (also the unchanged ones that shield a character)
            parts.insert(r.randint(0, len(parts)), r.choice(phrases))
        text = "".join(parts)
        expected = cc.convert(text)
        if len(expected) == len(text):  # else the char-by-char fallback applies, by design
            assert to_simplified(text) == expected, text
            checked += 1
    assert checked > 1500
    assert to_simplified("乾隆年間的臺灣電費") == cc.convert("乾隆年間的臺灣電費")
    assert not needs_t2s("供用电合同 户号 3301234567 电费结算")
    assert needs_t2s("供用電合同")


def test_fullwidth_letters_and_digits_fold() -> None:
    assert normalize_text("户号：３３０１ ＡＢｃ") == "户号：3301 ABc"


def test_spaced_tokens_through_tantivy_give_the_python_tokens() -> None:
    analyzer: tantivy.TextAnalyzer = build_analyzer()
    for text in ("供用電合同 No.GDHT-2024-000123，户号：3301234567 Été x_y 2024年 𠀀ab",
                 "10kV二线 ＡＢ１２ 合作同意书", ""):
        assert list(analyzer.analyze(spaced_tokens(text))) == tokenize(text)


def _slow_spans(text: str, phrase: list[str]) -> list[tuple[int, int]]:
    toks = tokenize_spans(normalize_text(text))
    words = [t for t, _, _ in toks]
    n = len(phrase)
    return [(toks[i][1], toks[i + n - 1][2]) for i in range(len(words) - n + 1)
            if words[i:i + n] == phrase]


def test_snippet_marks_exactly_the_token_phrases() -> None:
    r = random.Random(3)
    alphabet = "合同电费用户号 ,.-_ABab12０"
    for _ in range(500):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 30)))
        words = tokenize(text)
        if not words:
            continue
        i = r.randrange(len(words))
        phrase = words[i:i + r.randint(1, 3)]
        spans = _slow_spans(" ".join(text.split()), phrase)
        snippet = make_snippet(text, [phrase], max_chars=1000)
        assert snippet.count("<mark>") >= (1 if spans else 0), (text, phrase, snippet)
        assert ("<mark>" in snippet) == bool(spans)


def test_bigram_fields_match_exactly_the_character_phrases(tmp_path: Path) -> None:
    """A Chinese word is answered from the bigram fields; the pages found must be the
    pages whose character sequence contains the word (separators ignored, a Latin or
    digit token in between breaks it) — no more, no fewer."""
    from search.base import PageDoc, SearchQuery
    from search.tantivy_index import TantivyIndex

    r = random.Random(11)
    alphabet = "合同电费用户号供 ，A1"
    texts = ["".join(r.choice(alphabet) for _ in range(r.randint(0, 40))) for _ in range(300)]
    texts += ["XAB 123 BCD", "合，同", "合A同", "供用电合同"]
    ix = TantivyIndex(tmp_path / "ix")
    ix.index_pages(PageDoc(f"{i}:1", i, 1, t, "C1") for i, t in enumerate(texts))
    ix.refresh()
    for word in ("合同", "电费", "用户号", "供用电合同", "同合同", "户号供", "AB", "合同合"):
        phrase = tokenize(word)
        expected = {i for i, t in enumerate(texts)
                    if any(tokenize(t)[k:k + len(phrase)] == phrase
                           for k in range(len(tokenize(t))))}
        found = ix.search(SearchQuery(word, size=1000, facets=False))
        assert {h.document_id for h in found.hits} == expected, word


def _snippet_from_all_spans(original: str, phrases: list[list[str]], max_chars: int) -> str:
    """The obvious snippet: every match of the page found first (what make_snippet was)."""
    import html

    from search.analysis import _phrase_re, _whole_tokens

    text = " ".join(original.split())
    folded = normalize_text(text)
    found = sorted(m.span(1) for p in phrases if p for m in _phrase_re(tuple(p)).finditer(folded)
                   if _whole_tokens(folded, *m.span(1)))
    spans: list[tuple[int, int]] = []
    for s, e in found:
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(e, spans[-1][1]))
        else:
            spans.append((s, e))
    if spans:
        start = max(0, spans[0][0] - max_chars // 4)
        end = min(len(text), start + max_chars)
        start = max(0, min(start, end - max_chars))
    else:
        start, end = 0, min(len(text), max_chars)
    out, pos = ["…" if start > 0 else ""], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out += [html.escape(text[pos:s]), f"<mark>{html.escape(text[s:e])}</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out) + ("…" if end < len(text) else "")


def test_windowed_snippet_equals_the_snippet_from_all_matches() -> None:
    r = random.Random(8)
    alphabet = "合同电費用户号 ,.<&ABab12０\n"
    for _ in range(1500):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 200)))
        words = tokenize(text) or ["合"]
        phrases = []
        for _ in range(r.randint(0, 3)):
            i = r.randrange(len(words))
            phrases.append(words[i:i + r.randint(1, 3)])
        max_chars = r.choice((10, 30, 120))
        assert make_snippet(text, phrases, max_chars) == \
            _snippet_from_all_spans(text, phrases, max_chars), (text, phrases)
