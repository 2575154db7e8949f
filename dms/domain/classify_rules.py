"""Rule-based document-type scoring from configuration (``config/doc_types.yaml``).

Pure: text in, a ranked prediction out. The learned model (``dms.classify``) and the
combination of both live elsewhere; this module also owns the text normalisation both
use, so a rule and a model see the same characters.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dms.errors import ConfigError
from hanzi.folding import to_simplified

UNKNOWN = ""  # the "no checklist type" outcome: the document goes to review


# --- normalisation ---------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# OCR of full-width punctuation varies; fold the look-alikes rules care about.
_FOLD = str.maketrans({"（": "(", "）": ")", "〈": "(", "〉": ")", "：": ":", "；": ";",
                       "，": ",", "。": ".", "－": "-", "—": "-", "–": "-", "～": "-",
                       "×": "X", "Ｘ": "X"})


def normalise_char_by_char(text: str) -> str:
    """Simplified, half-width, upper-case text of the same length as ``text``, so a
    position in the result is a position in the input (fact provenance needs that)."""
    out = []
    for c in to_simplified(text):  # the same fold as search (OpenCC t2s, length kept)
        n = unicodedata.normalize("NFKC", c)
        out.append(n if len(n) == 1 else c)
    return "".join(out).translate(_FOLD).upper()


def normalise(text: str) -> str:
    """The form rules and the learned model match against: Simplified, half-width,
    upper case, no whitespace (OCR splits Chinese words with spaces at random)."""
    return _SPACE.sub("", normalise_char_by_char(text))


# --- rules -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    text: str
    weight: float


@dataclass(frozen=True)
class TypeRules:
    code: str
    titles: tuple[Term, ...] = ()
    phrases: tuple[Term, ...] = ()
    keywords: tuple[Term, ...] = ()
    patterns: tuple[tuple[re.Pattern[str], float], ...] = ()
    negatives: tuple[Term, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    types: dict[str, TypeRules]
    min_score: float = 5.0
    evidence_score: float = 12.0
    temperature: float = 2.5
    head_chars: int = 260


@dataclass(frozen=True)
class Prediction:
    """``doc_type`` is UNKNOWN when nothing is convincing. ``distribution`` maps each
    type to a probability; what it leaves to 1.0 is the mass of "none of them"."""

    doc_type: str
    confidence: float
    distribution: dict[str, float]
    method: str
    evidence: dict[str, list[str]] = field(default_factory=dict)  # type -> what matched

    def runners_up(self, n: int = 3) -> list[tuple[str, float]]:
        ranked = sorted(self.distribution.items(), key=lambda kv: -kv[1])
        return [(c, round(p, 4)) for c, p in ranked if c != self.doc_type][:n]


def _terms(raw: Iterable[Any], default: float) -> tuple[Term, ...]:
    out = []
    for item in raw or ():
        if isinstance(item, Mapping):
            out.append(Term(normalise(str(item["text"])), float(item.get("weight", default))))
        else:
            out.append(Term(normalise(str(item)), default))
    return tuple(out)


def parse_rules(data: Mapping[str, Any], known_types: Iterable[str] | None = None) -> RuleSet:
    """Build a RuleSet from the parsed YAML; every checklist type must have rules."""
    w = {"title": 10.0, "phrase": 3.0, "keyword": 1.0, "pattern": 3.0, "negative": 8.0}
    w |= {k: float(v) for k, v in (data.get("weights") or {}).items()}
    types: dict[str, TypeRules] = {}
    for code, spec in (data.get("types") or {}).items():
        spec = spec or {}
        try:
            pats = tuple((re.compile(p["text"] if isinstance(p, Mapping) else p),
                          float(p.get("weight", w["pattern"]) if isinstance(p, Mapping)
                                else w["pattern"]))
                         for p in spec.get("patterns") or ())
        except re.error as exc:
            raise ConfigError(f"doc_types: bad pattern for {code}: {exc}") from exc
        types[code] = TypeRules(code, _terms(spec.get("titles") or (), w["title"]),
                                _terms(spec.get("phrases") or (), w["phrase"]),
                                _terms(spec.get("keywords") or (), w["keyword"]), pats,
                                _terms(spec.get("negatives") or (), w["negative"]))
    missing = sorted(set(known_types or ()) - set(types))
    if missing:
        raise ConfigError(f"doc_types: no rules for checklist types {', '.join(missing)}",
                          hint="add them to config/doc_types.yaml")
    return RuleSet(types, float(data.get("min_score", 5)), float(data.get("evidence_score", 12)),
                   float(data.get("temperature", 2.5)), int(data.get("head_chars", 260)))


def load_rules(path: Path, known_types: Iterable[str] | None = None) -> RuleSet:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise ConfigError(f"classification rules not found: {path}") from None
    return parse_rules(data, known_types)


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)}


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _subsequence_share(title: str, head: str) -> float:
    """The largest share of the title's characters found in order within a span of the
    heading one character longer than the title (a dropped or inserted character)."""
    best, n = 0, len(title)
    for i, ch in enumerate(head):
        if ch in title:
            best = max(best, _lcs(title, head[i:i + n + 1]))
            if best == n:
                break
    return best / n


def _title_match(title: str, head: str, head_bigrams: set[str]) -> float:
    """1.0 for an exact match in the heading; else the share of the title's character
    pairs found there, when high enough to survive an OCR error or two (用电申请请书);
    else the share of its characters found in order, for a character the OCR dropped
    (中间查意见书: a dropped character breaks two pairs)."""
    if title in head:
        return 1.0
    pairs = _bigrams(title)
    if len(pairs) < 3:
        return 0.0
    share = len(pairs & head_bigrams) / len(pairs)
    if share >= 0.75:
        return share
    if share >= 0.5:  # cheap filter before the alignment
        chars = _subsequence_share(title, head)
        if chars >= 0.8:
            return chars
    return 0.0


def score_types(rules: RuleSet, head: str, full_text: str
                ) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Raw scores per type from normalised text (see :func:`normalise`)."""
    head_bigrams = _bigrams(head)
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for code, tr in rules.types.items():
        s, why = 0.0, []
        best_title = 0.0
        for t in tr.titles:  # only the best title counts: synonyms must not add up
            m = _title_match(t.text, head, head_bigrams) * t.weight
            if m > best_title:
                best_title, title_text = m, t.text
        if best_title:
            s += best_title
            why.append(f"title:{title_text}")
        for group in (tr.phrases, tr.keywords):
            for t in group:
                if t.text in full_text:
                    s += t.weight
                    why.append(t.text)
        for pat, weight in tr.patterns:
            if pat.search(full_text):
                s += weight
                why.append(f"re:{pat.pattern}")
        for t in tr.negatives:
            if t.text in full_text:
                s -= t.weight
                why.append(f"not:{t.text}")
        scores[code], evidence[code] = s, why
    return scores, evidence


def classify_text(rules: RuleSet, pages: Sequence[str]) -> Prediction:
    """Classify a document from its pages' text (raw OCR text; normalised here)."""
    return classify_normalised(rules, "".join(normalise(p) for p in pages))


def classify_normalised(rules: RuleSet, full_text: str) -> Prediction:
    """The heading is the start of the text, whatever page it is on (a cover page
    holding only the title, or a blank first page, are both common)."""
    scores, evidence = score_types(rules, full_text[:rules.head_chars], full_text)
    if not scores:
        return Prediction(UNKNOWN, 0.0, {}, "rules")
    top = max(scores.values())
    # softmax over scores, scaled by how much evidence there is at all: the mass not
    # given to any type is "none of these" (an unknown document must not be forced)
    exps = {c: math.exp((v - top) / rules.temperature) for c, v in scores.items()}
    total = sum(exps.values())
    sure = min(1.0, max(0.0, top / rules.evidence_score))
    dist = {c: sure * e / total for c, e in exps.items()}
    best = max(dist, key=lambda c: dist[c])
    if top < rules.min_score:
        # no type: the confidence is that of the best guess, shown to the reviewer
        return Prediction(UNKNOWN, dist[best], dist, "rules", evidence)
    return Prediction(best, dist[best], dist, "rules", evidence)


def combine(rules_pred: Prediction, model_probs: Mapping[str, float] | None, *,
            similarity: float = 0.0, novelty_below: float = 0.0,
            model_version: int | None = None) -> Prediction:
    """Blend the rules with the learned model, half and half.

    What the rules leave unassigned (their "none of these" mass) goes to the model only
    when the document resembles what the model was trained on (``similarity`` to the
    predicted class's centroid at least ``novelty_below``); otherwise it stays "none",
    so a document of a type nobody has seen lands in review instead of being forced
    into the nearest type. Rules and model agreeing give full confidence; disagreeing
    they give about one half, which is below any sensible review threshold."""
    if model_probs is None:
        return rules_pred
    familiar = similarity >= novelty_below
    rules_mass = sum(rules_pred.distribution.values())
    codes = set(rules_pred.distribution) | set(model_probs)
    dist = {}
    for c in codes:
        r = rules_pred.distribution.get(c, 0.0)
        m = model_probs.get(c, 0.0)
        r += (1.0 - rules_mass) * m if familiar else 0.0
        dist[c] = 0.5 * r + 0.5 * m
    best = max(dist, key=lambda c: dist[c])
    method = f"rules+model v{model_version}" if model_version is not None else "rules+model"
    if not familiar:
        method += " (novel)"
    doc_type = best if (rules_pred.doc_type != UNKNOWN or familiar) else UNKNOWN
    return Prediction(doc_type, dist[best], dist, method, rules_pred.evidence)
