"""``render_document``: content + layout + scanner, with per-page ground truth."""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from dms.sample_data.forms import BusinessInfo, build
from dms.sample_data.identity import CustomerProfile, make_customer
from dms.sample_data.render import choose_style, face_name, layout
from dms.sample_data.scanner import choose_params, scan
from hanzi.folding import to_traditional

SCRIPTS = ("simplified", "traditional")


@dataclass
class PageTruth:
    """What is on one page image. ``text`` holds one line per printed text line, in
    reading order (cells of a table row joined by a space). Seal text and handwriting
    are not printed text: they are listed separately and are not part of ``text``.
    ``rotation``: the page image was turned counter-clockwise by this many degrees
    (``img.rotate(-rotation, expand=True)`` makes it upright); ``skew`` likewise, in
    degrees, counter-clockwise positive."""

    page_no: int
    text: str
    rotation: int
    skew: float
    script: str
    font: str
    font_size_pt: float
    layout: str
    mode: str  # gray | bilevel | color
    noise: dict[str, Any]
    width: int
    height: int
    seals: list[str] = field(default_factory=list)
    handwriting: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RenderedDocument:
    doc_type: str
    pages: list[Image.Image]
    truth: list[PageTruth]
    fields: dict[str, str]  # key fields shown on the document, as printed (ISO dates)
    script: str = "simplified"
    customer_no: str = ""

    @property
    def bilevel(self) -> bool:
        return all(p.mode == "1" for p in self.pages)


def converter(script: str) -> Callable[[str], str]:
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {SCRIPTS}, not {script!r}")
    return to_traditional if script == "traditional" else (lambda s: s)


def default_business(c: CustomerProfile, r: random.Random,
                     types: dict[str, str] | None = None) -> BusinessInfo:
    code = "LV_NONRES_NEW" if c.company else "LV_RES_NEW"
    if c.capacity_kva >= 315:
        code = "HV_NEW"
    fallback = {"LV_RES_NEW": "低压居民新装", "LV_NONRES_NEW": "低压非居民新装",
                "HV_NEW": "高压新装"}
    name = (types or {}).get(code) or fallback[code]
    accept = c.contract_start - dt.timedelta(days=r.randint(20, 70))
    return BusinessInfo(f"{accept:%y%m}{r.randint(0, 99_999_999):08d}", code, name, accept)


def render_document(doc_type: str, *, seed: int, script: str = "simplified",
                    customer: CustomerProfile | None = None, rotation: int = 0,
                    skew: float = 0.0, noise: str = "scanner",
                    business: BusinessInfo | None = None) -> RenderedDocument:
    """Render one document of ``doc_type`` (a checklist code such as ``GYDHT``).

    Same arguments, same result: all randomness comes from ``seed``."""
    r = random.Random(f"{doc_type}/{seed}/{script}")
    conv = converter(script)
    customer = customer or make_customer(seed)
    business = business or default_business(customer, r)
    spec = build(doc_type, customer, business, r)
    style = choose_style(r, script, spec.framed)
    lay = layout(spec, style, conv, r)
    pages: list[Image.Image] = []
    truth: list[PageTruth] = []
    first: dict[str, Any] = {}
    for i, clean in enumerate(lay.pages):
        params = choose_params(noise, r)
        if first:  # one document = one scan batch: same colour mode for every page
            params |= {k: first[k] for k in ("mode", "threshold", "jpeg_quality")}
        else:
            first = params
        page_skew = round(skew + (r.uniform(-0.3, 0.3) if skew and i else 0.0), 2)
        img = scan(clean, rotation=rotation, skew=page_skew, params=params,
                   seed=r.randrange(2**32))
        pages.append(img)
        truth.append(PageTruth(
            page_no=i + 1, text="\n".join(lay.lines[i]), rotation=rotation, skew=page_skew,
            script=script, font=face_name(style.face, script), font_size_pt=style.size_pt,
            layout=style.layout, mode=params["mode"], noise=params, width=img.width,
            height=img.height, seals=lay.seals[i], handwriting=lay.hands[i]))
    fields = {k: conv(v) for k, v in spec.fields.items()}
    return RenderedDocument(doc_type, pages, truth, fields, script, customer.customer_no)
