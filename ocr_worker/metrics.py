"""Quality metrics for OCR output (tests and benchmarks use these)."""
from __future__ import annotations


def _strip_ws(s: str) -> str:
    return "".join(s.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert/delete/substitute, cost 1) with O(min(len)) memory."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(ref: str, hyp: str) -> float:
    """Character error rate of ``hyp`` against ``ref``, whitespace ignored.

    Whitespace is dropped because Chinese has none and tesseract's spacing is arbitrary.
    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    r, h = _strip_ws(ref), _strip_ws(hyp)
    if not r:
        return 0.0 if not h else 1.0
    return levenshtein(r, h) / len(r)
