"""Accuracy, per-type precision/recall and confusion of type predictions."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def type_report(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """``pred`` may hold "" (no type: sent to review), which counts as wrong."""
    n = len(truth)
    correct = sum(t == p for t, p in zip(truth, pred, strict=True))
    per_type: dict[str, dict[str, float]] = {}
    for code in sorted(set(truth) | {p for p in pred if p}):
        tp = sum(t == code and p == code for t, p in zip(truth, pred, strict=True))
        n_pred = sum(p == code for p in pred)
        n_true = sum(t == code for t in truth)
        per_type[code] = {"precision": tp / n_pred if n_pred else 0.0,
                          "recall": tp / n_true if n_true else 0.0, "support": n_true}
    confusion = Counter(f"{t}->{p or '?'}" for t, p in zip(truth, pred, strict=True) if t != p)
    return {"n": n, "accuracy": correct / n if n else 0.0, "per_type": per_type,
            "confusion": dict(confusion.most_common())}


def format_report(title: str, rep: dict[str, Any]) -> str:
    lines = [f"{title}: accuracy {rep['accuracy']:.1%} ({rep['n']} documents)",
             f"  {'type':6s} {'precision':>9s} {'recall':>7s} {'n':>4s}"]
    for code, m in rep["per_type"].items():
        lines.append(f"  {code:6s} {m['precision']:9.1%} {m['recall']:7.1%} {m['support']:4.0f}")
    if rep["confusion"]:
        lines.append("  errors: " + ", ".join(f"{k} x{v}" for k, v in rep["confusion"].items()))
    return "\n".join(lines)
