"""The dms query language, parsed once here and executed by every backend.

Grammar (tolerant except for quotes)::

    query   := clause*                  clauses separated by whitespace are AND-ed
    clause  := ['-'] group              '-' excludes pages matching the group's term
    group   := term ('OR' term)*        'OR' (upper case) binds tighter than AND
    term    := word | "quoted phrase" | field ':' (word | "quoted phrase")

* ``合同`` / ``供用电合同``: a CJK word is a phrase over its characters (exact, in order).
* ``"供用电 合同"``: a phrase over all its tokens (spaces/punctuation are ignored).
* ``field:value`` on keyword fields: customer_no/户号, doc_type/类型, business_type,
  state, team, business_no, year; ``contract:``/``合同号:``/``id:``/``meter:`` match
  the exact ``identifiers`` field. An unknown ``x:y`` is plain text.
* A term that looks like an identifier (>= 6 letters/digits with a digit, e.g.
  3301234567, 11010519491231002X, GDHT-2024-000123) matches the text as a phrase OR
  exactly one of identifiers/customer_no/business_no, and exact matches rank first.
* Full-width quotes “…” are accepted (Chinese IMEs type them). An unbalanced quote
  raises ``QueryError``; a dangling ``OR`` or an empty ``""`` is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from errorkit import QueryError
from search.analysis import looks_like_identifier, normalize_identifier

FIELD_ALIASES: dict[str, str] = {
    "customer_no": "customer_no", "户号": "customer_no", "戶號": "customer_no",
    "doc_type": "doc_type", "类型": "doc_type", "類型": "doc_type",
    "business_type": "business_type", "业务类型": "business_type",
    "business_no": "business_no", "业务号": "business_no",
    "state": "state", "状态": "state",
    "team": "team", "班组": "team",
    "year": "year", "年份": "year",
    "contract": "identifiers", "合同号": "identifiers", "id": "identifiers",
    "meter": "identifiers", "表号": "identifiers", "identifier": "identifiers",
    "identifiers": "identifiers",
}
# Fields whose values are exact keys folded by normalize_identifier on both sides.
NORMALISED_KEY_FIELDS = frozenset({"identifiers", "customer_no", "business_no"})
_QUOTES = {'"': '"', "“": "”", "”": "”"}


@dataclass(frozen=True)
class Term:
    text: str  # as typed (for field terms: the value)
    field: str | None = None  # canonical keyword field; None = full text
    phrase: bool = False  # was quoted
    identifier: bool = False  # also match the exact identifier fields

    @property
    def key(self) -> str:
        """The exact value for keyword/identifier matching."""
        if self.field is None or self.field in NORMALISED_KEY_FIELDS:
            return normalize_identifier(self.text)
        return self.text.strip()


@dataclass
class ParsedQuery:
    groups: list[list[Term]] = field(default_factory=list)  # AND of ORs
    excluded: list[Term] = field(default_factory=list)

    @property
    def positive_terms(self) -> list[Term]:
        return [t for g in self.groups for t in g]

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded


@dataclass
class _Tok:
    kind: str  # "term" | "or"
    term: Term | None = None
    negated: bool = False


def _read_quoted(s: str, i: int) -> tuple[str, int]:
    """s[i] is an opening quote; returns (content, index after closing quote)."""
    close = _QUOTES[s[i]]
    j = i + 1
    while j < len(s) and s[j] != close and s[j] != '"':
        j += 1
    if j >= len(s):
        raise QueryError(f"unbalanced quote at position {i + 1}: {s[i:i + 20]!r}",
                         hint="close the phrase with a matching quote")
    return s[i + 1:j], j + 1


def _read_word(s: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(s) and not s[j].isspace() and s[j] not in _QUOTES:
        j += 1
    return s[i:j], j


def _make_term(raw: str, *, phrase: bool) -> Term:
    if phrase:
        return Term(raw, phrase=True)
    return Term(raw, identifier=looks_like_identifier(raw))


def _lex(s: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
            continue
        negated = False
        if c == "-" and i + 1 < len(s) and not s[i + 1].isspace():
            negated, i = True, i + 1
        if s[i] in _QUOTES:
            text, i = _read_quoted(s, i)
            toks.append(_Tok("term", _make_term(text, phrase=True), negated))
            continue
        word, i = _read_word(s, i)
        if word == "OR" and not negated:
            toks.append(_Tok("or"))
            continue
        # Chinese IMEs type a full-width colon in 户号：123
        name, sep, value = word.replace("：", ":", 1).partition(":")
        canon = FIELD_ALIASES.get(name.lower() if name.isascii() else name)
        if sep and canon:
            if not value and i < len(s) and s[i] in _QUOTES:
                value, i = _read_quoted(s, i)
            if value:
                toks.append(_Tok("term", Term(value, field=canon), negated))
                continue
        toks.append(_Tok("term", _make_term(word, phrase=False), negated))
    return toks


def parse_query(text: str) -> ParsedQuery:
    """Parse the user's query string; raises QueryError for an unbalanced quote."""
    parsed = ParsedQuery()
    pending_or = False
    for tok in _lex(text):
        if tok.kind == "or":
            pending_or = bool(parsed.groups)  # a leading OR has nothing to join
            continue
        assert tok.term is not None
        if tok.term.field is None and not tok.term.text.strip():
            pending_or = False
            continue  # empty "" phrase
        if tok.negated:
            parsed.excluded.append(tok.term)
        elif pending_or:
            parsed.groups[-1].append(tok.term)
        else:
            parsed.groups.append([tok.term])
        pending_or = False
    return parsed
