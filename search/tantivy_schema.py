"""What the embedded (tantivy) index holds: its schema, analyzer and page documents.

Kept apart from the query side (``tantivy_index``) because it alone decides the
contents of an index on disk: a change here needs a reindex, a change there does not
(the search benchmark keys its reusable indexes on this module and ``analysis``).

Every text field is indexed five ways, all from the Simplified-folded token stream:
single characters/Latin words (``text``), Han bigrams (``text_bi``), 4-grams
(``text_q``), 8-grams (``text_o``), and its Latin words de-spaced as letter trigrams
(``text_lj``, see ``search.latin``: a heading OCR read without spaces is still found).
A query word or phrase uses the longest grams that fit, so it is one term or a phrase
of few, selective terms (see ``TantivyIndex._text_query``).

What a hit needs is stored in three parts, so that building one costs no more than it
must (at 100k pages the old single JSON "source" with the page text in it, parsed and
then collapsed and folded per hit, was half of a 20-hit query): ``meta``, the page's
source without its text (small JSON); ``snippet_text``, the text as a snippet shows it
(whitespace collapsed); ``snippet_folded``, that text Simplified/width-folded, stored
only where it differs (most pages are Simplified already). Changing these field names
or their meaning makes tantivy refuse an existing index: that is the reindex signal.
"""
from __future__ import annotations

import datetime as dt
import json

import tantivy

from search.analysis import (
    OCT,
    QUAD,
    bigrams_of_spaced,
    ngrams_of_spaced,
    normalize_identifier,
    snippet_texts,
    spaced_tokens,
)
from search.base import PageDoc, page_to_source
from search.latin import latin_grams
from search.query import NORMALISED_KEY_FIELDS

ANALYZER = "dms_text"
TEXT_FIELDS = ("text", "title", "customer_name")  # what a plain query term searches
BIGRAM_SUFFIX = "_bi"  # each text field also indexed as Han bigrams (see bigrams_of_spaced)
QUAD_SUFFIX = "_q"  # ... as Han 4-grams and as Han 8-grams (see ngrams_of_spaced)
OCT_SUFFIX = "_o"
LATIN_SUFFIX = "_lj"  # ... and its Latin words de-spaced, as letter trigrams (search/latin.py)
# n-gram size -> field suffix, longest first: the order a query tries them in
GRAM_FIELDS: tuple[tuple[int, str], ...] = ((OCT, OCT_SUFFIX), (QUAD, QUAD_SUFFIX))
KEYWORD_FIELDS = ("customer_no", "business_no", "business_type", "doc_type", "team", "state")
# Stored, unindexed (bytes) fields of a hit; see the module docstring.
META_FIELD = "meta"  # UTF-8 JSON of page_to_source() without "text"
SNIPPET_TEXT_FIELD = "snippet_text"  # UTF-8, snippet_texts()[0]
SNIPPET_FOLDED_FIELD = "snippet_folded"  # UTF-8, snippet_texts()[1]; absent = same as text


def build_analyzer() -> tantivy.TextAnalyzer:
    """Applied to ``spaced_tokens(text)``: the tokens are already split in Python."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(64))  # OCR garbage runs, not words
        .filter(tantivy.Filter.lowercase())
        .build()
    )


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("page_id", stored=True, tokenizer_name="raw")
    sb.add_integer_field("document_id", stored=True, indexed=True, fast=True)
    for f in TEXT_FIELDS:  # indexed from the Simplified-folded text; originals in meta/snippet
        sb.add_text_field(f, stored=False, tokenizer_name=ANALYZER)
        sb.add_text_field(f + BIGRAM_SUFFIX, stored=False, tokenizer_name=ANALYZER)
        for _, suffix in GRAM_FIELDS:
            sb.add_text_field(f + suffix, stored=False, tokenizer_name=ANALYZER)
        sb.add_text_field(f + LATIN_SUFFIX, stored=False, tokenizer_name=ANALYZER)
    for f in KEYWORD_FIELDS:  # fast = facets via aggregate()
        sb.add_text_field(f, stored=False, tokenizer_name="raw", fast=True)
    sb.add_text_field("identifiers", stored=False, tokenizer_name="raw")
    sb.add_date_field("date", indexed=True, fast=True)
    sb.add_integer_field("year", indexed=True, fast=True)
    # bytes, not text fields: a tantivy text field is always indexed, these never are
    sb.add_bytes_field(META_FIELD, stored=True)
    sb.add_bytes_field(SNIPPET_TEXT_FIELD, stored=True)
    sb.add_bytes_field(SNIPPET_FOLDED_FIELD, stored=True)
    return sb.build()


def as_datetime(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def make_document(p: PageDoc) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("page_id", p.page_id)
    doc.add_integer("document_id", p.document_id)
    for f in TEXT_FIELDS:
        value = getattr(p, f)
        if value:
            spaced = spaced_tokens(value)
            doc.add_text(f, spaced)
            doc.add_text(f + BIGRAM_SUFFIX, bigrams_of_spaced(spaced))
            for n, suffix in GRAM_FIELDS:
                doc.add_text(f + suffix, ngrams_of_spaced(spaced, n))
            if grams := latin_grams(spaced):
                doc.add_text(f + LATIN_SUFFIX, grams)
    for f in KEYWORD_FIELDS:
        value = getattr(p, f).strip()
        if value:  # no "" bucket in facets
            doc.add_text(f, normalize_identifier(value) if f in NORMALISED_KEY_FIELDS
                         else value)
    for ident in p.identifiers:
        if ident.strip():
            doc.add_text("identifiers", normalize_identifier(ident))
    if p.date is not None:
        doc.add_date("date", as_datetime(p.date))
        doc.add_integer("year", p.date.year)
    meta = page_to_source(p)
    del meta["text"]
    doc.add_bytes(META_FIELD, json.dumps(meta, ensure_ascii=False).encode())
    shown, folded = snippet_texts(p.text)
    doc.add_bytes(SNIPPET_TEXT_FIELD, shown.encode())
    if folded != shown:
        doc.add_bytes(SNIPPET_FOLDED_FIELD, folded.encode())
    return doc
