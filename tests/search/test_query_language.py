"""The query language parser and the text analysis both backends share."""
from __future__ import annotations

import pytest
import tantivy

from dms.errors import QueryError
from search.analysis import (
    TANTIVY_TOKEN_PATTERN,
    looks_like_identifier,
    make_snippet,
    normalize_identifier,
    normalize_text,
    tokenize,
)
from search.query import Term, parse_query


def words(text: str) -> list[list[str]]:
    return [[t.text for t in g] for g in parse_query(text).groups]


def test_spaces_are_and_or_binds_tighter() -> None:
    assert words("合同 电费") == [["合同"], ["电费"]]
    assert words("合同 增容 OR 销户 OR 过户 电费") == [["合同"], ["增容", "销户", "过户"], ["电费"]]
    assert words("a or b") == [["a"], ["or"], ["b"]]  # only upper-case OR is an operator


def test_dangling_or_and_empty_phrase_are_ignored() -> None:
    assert words('OR 合同 OR') == [["合同"]]
    assert words('"" 合同') == [["合同"]]
    assert parse_query("").is_empty and parse_query("   ").is_empty


def test_quotes_and_exclusion() -> None:
    p = parse_query('"供用电 合同" -草稿 -"作废 文件" “全角 引号”')
    assert p.groups == [[Term("供用电 合同", phrase=True)], [Term("全角 引号", phrase=True)]]
    assert p.excluded == [Term("草稿"), Term("作废 文件", phrase=True)]


def test_unbalanced_quote_raises_with_position() -> None:
    with pytest.raises(QueryError, match="unbalanced quote at position 4"):
        parse_query('合同 "供用电')
    with pytest.raises(QueryError):
        parse_query("“合同")


def test_fields_and_aliases() -> None:
    p = parse_query('户号:3301234567 doc_type:"供用电 合同" 合同号：GDHT-1 http://x -team:B')
    assert p.groups[0] == [Term("3301234567", field="customer_no")]
    assert p.groups[1] == [Term("供用电 合同", field="doc_type")]
    assert p.groups[2] == [Term("GDHT-1", field="identifiers")]
    assert p.groups[3] == [Term("http://x")]  # unknown field: plain text
    assert p.excluded == [Term("B", field="team")]


def test_identifier_detection() -> None:
    for ident in ("3301234567", "11010519491231002X", "GDHT-2024-000123", "ＧＤＨＴ-2024-01"):
        assert looks_like_identifier(ident), ident
    for word in ("合同", "contract", "2024", "A-1-2-3", "-abc123", "ab12"):
        assert not looks_like_identifier(word), word
    assert parse_query("GDHT-2024-000123").groups[0][0].identifier
    assert not parse_query('"GDHT-2024-000123"').groups[0][0].identifier
    assert Term("gdht-2024-000123").key == "GDHT-2024-000123"


def test_normalisation_keeps_length_and_folds() -> None:
    assert normalize_text("電費繳納 ＡＢＣ１２３") == "电费缴纳 ABC123"
    text = "乾隆年間的臺灣電費" * 3
    assert len(normalize_text(text)) == len(text)
    assert normalize_identifier(" ｇｄｈｔ-01 ") == "GDHT-01"


def test_python_tokenizer_mirrors_tantivy_analyzer() -> None:
    analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TANTIVY_TOKEN_PATTERN))
                .filter(tantivy.Filter.lowercase()).build())
    text = "供用電合同 No.GDHT-2024-000123，户号：3301234567 Été x_y 2024年"
    assert tokenize(text) == list(analyzer.analyze(normalize_text(text)))
    assert tokenize("供用电合同")[:2] == ["供", "用"]


def test_snippet_marks_escapes_and_windows() -> None:
    assert make_snippet("a <b> 合同 & c", [["合", "同"]]) == "a &lt;b&gt; <mark>合同</mark> &amp; c"
    assert make_snippet("合作同意", [["合", "同"]]) == "合作同意"  # not adjacent: no mark
    long = "前" * 300 + "合同" + "后" * 300
    snip = make_snippet(long, [["合", "同"]])
    assert snip.startswith("…") and snip.endswith("…")
    assert "<mark>合同</mark>" in snip
    assert len(snip.replace("<mark>", "").replace("</mark>", "")) <= 122
    assert make_snippet("x" * 500, []) == "x" * 120 + "…"
