"""The learned model: numpy inference equals scikit-learn's, the artefact round-trips,
and a damaged artefact is refused rather than half-read."""
from __future__ import annotations

import numpy as np
import pytest

from dms.classify.model import ModelCorruptError, TextModel, _estimator, _vectorizer, train
from dms.domain.classify_rules import normalise
from tests.classify.conftest import ocr_fixtures, to_traditional


def _corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for code, fx in ocr_fixtures().items():
        for variant in (fx["pages"], [to_traditional(p) for p in fx["pages"]]):
            texts.append(normalise("".join(variant)))
            labels.append(code)
    return texts, labels


def test_inference_matches_scikit_learn() -> None:
    texts, labels = _corpus()
    model = train(texts, labels, version=1)
    vec = _vectorizer()
    clf = _estimator().fit(vec.fit_transform(texts), labels)
    probe = normalise("供用电合同 合同编号 供电人 用电人 本合同有效期")
    ours, _ = model.predict(probe)
    theirs = clf.predict_proba(vec.transform([probe]))[0]
    assert list(clf.classes_) == model.classes
    np.testing.assert_allclose([ours[c] for c in model.classes], theirs, atol=1e-6)


def test_binary_model() -> None:
    model = train(["供用电合同供电人用电人", "营业执照注册资本", "供用电合同电费结算"],
                  ["GYDHT", "YYZZ", "GYDHT"], version=1)
    probs, _ = model.predict("供用电合同")
    assert max(probs, key=lambda c: probs[c]) == "GYDHT" and abs(sum(probs.values()) - 1) < 1e-9


def test_artefact_round_trip() -> None:
    texts, labels = _corpus()
    model = train(texts, labels, version=7)
    again = TextModel.from_bytes(model.to_bytes())
    assert again.version == 7 and again.classes == model.classes
    assert again.predict(texts[0])[0] == pytest.approx(model.predict(texts[0])[0])


def test_novelty_similarity_separates_seen_from_unseen() -> None:
    texts, labels = _corpus()
    model = train(texts, labels, version=1)
    _, seen = model.predict(normalise(ocr_fixtures()["ZBJD"]["pages"][0]))
    _, unseen = model.predict(normalise("增值税专用发票购买方销售方价税合计开票人"))
    assert seen >= model.novelty_below > unseen


@pytest.mark.parametrize("damage", [
    lambda b: b[: len(b) // 2],  # truncated upload
    lambda b: b"not a model at all",
    lambda b: b[:100] + bytes(200) + b[300:],  # zeroed bytes inside the zip
])
def test_damaged_artefact_is_refused(damage: object) -> None:
    model = train(*_corpus(), version=1)
    with pytest.raises(ModelCorruptError):
        TextModel.from_bytes(damage(model.to_bytes()))  # type: ignore[operator]


def test_pickles_are_not_loaded() -> None:
    import io
    import pickle

    buf = io.BytesIO()
    np.savez(buf, meta=np.array([pickle.dumps({"format": 1})], dtype=object))
    with pytest.raises(ModelCorruptError):
        TextModel.from_bytes(buf.getvalue())
