"""Why a page needs review, in words (issue 20): the OCR pipeline's short codes stored in
``pages.review_reason`` turned into Chinese labels (English via the catalog), for the
document page and the review queue (``review_reasons(page)`` in every template)."""
from __future__ import annotations

from collections.abc import Callable

REASON_NAMES = {
    "empty_with_ink": "页面有字迹但未识别出文字",
    "short_for_ink": "识别文字明显少于页面字迹",
    "low_confidence": "识别置信度低",
    "almost_no_text": "几乎没有文字",
    "orientation_uncertain": "页面方向不确定",
    "existing_text_layer_may_be_better": "原PDF文字层可能更准确",
    "fallback_used": "已用备用方式重新识别",
}
HOW_NAMES = {"rebinarise": "重新二值化", "other_engine": "另一识别引擎",
             "upsample": "提高分辨率"}


def reason_labels(codes: str, translate: Callable[[str], str] = str) -> list[str]:
    """``"short_for_ink,fallback_used:upsample:ppocr5"`` -> labels, Chinese or through
    ``translate`` (the request's language); an unknown code is shown as it is (a newer
    worker's reason is not hidden)."""
    out = []
    for code in filter(None, (c.strip() for c in codes.split(","))):
        name, _, how = code.partition(":")
        label = translate(REASON_NAMES.get(name, name))
        if how:
            step, _, engine = how.partition(":")
            detail = translate(HOW_NAMES.get(step, step))
            label = f"{label}（{detail}{'，' + engine if engine else ''}）"
        out.append(label)
    return out

