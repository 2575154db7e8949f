"""The learned layer: TF-IDF over character 1-3-grams (Chinese is not segmented into
words, character n-grams need no segmenter) and a multinomial logistic regression.

scikit-learn trains; the trained numbers are saved as a plain ``.npz`` (no pickle, so a
tampered file cannot run code) and inference is a few lines of numpy reproducing
``TfidfVectorizer(analyzer="char", sublinear_tf=True)`` + ``predict_proba`` exactly.
Each model also keeps its classes' centroids, so a document unlike every training
example can be told apart from one the model has really seen ("novelty").
"""
from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT = 1
NGRAM_RANGE = (1, 3)
MAX_FEATURES = 40_000
MAX_CHARS = 8_000  # the first pages say what a document is; long contracts cost time


class ModelCorruptError(ValueError):
    """The model artefact cannot be read or is not a model of this format."""


@dataclass
class TextModel:
    version: int
    classes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_classes or 1, n_features)
    intercept: np.ndarray
    centroids: np.ndarray  # (n_classes, n_features), rows L2-normalised
    novelty_below: float  # cosine similarity to the predicted class's centroid
    meta: dict[str, Any] = field(default_factory=dict)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF vector of normalised text: (indices, values), L2-normalised."""
        text = text[:MAX_CHARS]
        counts: Counter[int] = Counter()
        voc = self.vocabulary
        for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1):
            for i in range(len(text) - n + 1):
                j = voc.get(text[i:i + n])
                if j is not None:
                    counts[j] += 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        val = (np.log(tf) + 1.0) * self.idf[idx]
        return idx, val / np.linalg.norm(val)

    def predict(self, text: str) -> tuple[dict[str, float], float]:
        """(probability per class, similarity to the best class's centroid)."""
        idx, val = self.vector(text)
        logits = self.coef[:, idx] @ val + self.intercept
        if len(self.classes) == 2:  # binary LR keeps one row: P(second class)
            p1 = 1.0 / (1.0 + math.exp(-float(logits[0])))
            probs = np.array([1.0 - p1, p1])
        else:
            z = np.exp(logits - logits.max())
            probs = z / z.sum()
        best = int(np.argmax(probs))
        sim = float(self.centroids[best, idx] @ val) if len(idx) else 0.0
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}, sim

    # --- the artefact ------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        meta = self.meta | {"format": FORMAT, "version": self.version, "classes": self.classes,
                            "novelty_below": self.novelty_below}
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta, ensure_ascii=False)),
                            terms=np.array(terms), idf=self.idf.astype(np.float64),
                            coef=self.coef.astype(np.float32), intercept=self.intercept,
                            centroids=self.centroids.astype(np.float32))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TextModel:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                terms = [str(t) for t in z["terms"]]
                arrays = {k: z[k] for k in ("idf", "coef", "intercept", "centroids")}
        except Exception as exc:  # zip, npz or JSON damage all mean the same thing
            raise ModelCorruptError(f"unreadable model file: {exc}") from exc
        if meta.get("format") != FORMAT:
            raise ModelCorruptError(f"model format {meta.get('format')!r}, expected {FORMAT}")
        classes, n = list(meta["classes"]), len(terms)
        rows = 1 if len(classes) == 2 else len(classes)
        if arrays["idf"].shape != (n,) or arrays["coef"].shape != (rows, n) \
                or arrays["centroids"].shape != (len(classes), n):
            raise ModelCorruptError("model arrays do not fit together")
        return cls(int(meta["version"]), classes, {t: i for i, t in enumerate(terms)},
                   arrays["idf"], arrays["coef"].astype(np.float64), arrays["intercept"],
                   arrays["centroids"].astype(np.float64), float(meta["novelty_below"]),
                   {k: v for k, v in meta.items() if k not in ("classes",)})


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=NGRAM_RANGE, lowercase=False,
                           sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float64)


def _estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=20.0, max_iter=3000)


def train(texts: Sequence[str], labels: Sequence[str], version: int) -> TextModel:
    """Train on normalised texts; needs at least two distinct labels."""
    if len(set(labels)) < 2:
        raise ValueError("a classifier needs examples of at least two types")
    from threadpoolctl import threadpool_limits

    vec = _vectorizer()
    x = vec.fit_transform([t[:MAX_CHARS] for t in texts])
    # BLAS threads buy nothing on these small sparse problems and, on a busy worker
    # host, oversubscribed threads made training ten times slower (measured)
    with threadpool_limits(1):
        clf = _estimator().fit(x, list(labels))
    classes = [str(c) for c in clf.classes_]
    y = np.array(labels)
    cents = np.vstack([np.asarray(x[y == c].mean(axis=0)).ravel() for c in classes])
    cents /= np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)
    sims = np.asarray(x @ cents.T)
    own = sims[np.arange(len(labels)), [classes.index(label) for label in labels]]
    # a document less like its class than nearly every training example is "new"
    novelty_below = float(0.6 * np.percentile(own, 5))
    vocab = {str(t): int(i) for t, i in vec.vocabulary_.items()}
    return TextModel(version, classes, vocab, vec.idf_.copy(), clf.coef_.copy(),
                     clf.intercept_.copy(), cents, novelty_below,
                     {"n_documents": len(texts)})


def cross_validate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5,
                   groups: Sequence[str] | None = None) -> list[str]:
    """Out-of-fold predictions: each document predicted by a model that never saw it
    (nor, with ``groups``, anything of its group, e.g. the same font)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    y = np.array(labels)
    least = min(Counter(labels).values())
    if groups is not None:
        splits = GroupKFold(n_splits=min(folds, len(set(groups)))).split(texts, y, groups)
    elif least >= 2:
        splits = StratifiedKFold(n_splits=min(folds, least), shuffle=True,
                                 random_state=0).split(texts, y)
    else:  # a type with one example: it is always mispredicted when held out (honest)
        splits = KFold(n_splits=min(folds, len(texts)), shuffle=True,
                       random_state=0).split(texts, y)
    out = [""] * len(texts)
    for train_idx, test_idx in splits:
        if len(set(y[train_idx])) < 2:
            continue
        model = train([texts[i] for i in train_idx], [labels[i] for i in train_idx], 0)
        for i in test_idx:
            probs, _ = model.predict(texts[i])
            out[i] = max(probs, key=lambda c: probs[c])
    return out
