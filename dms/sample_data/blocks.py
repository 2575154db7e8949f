"""What a generated document is made of, below the builders that fill it in.

The abstract blocks (no pixels: the renderer decides how they look), the
:class:`DocSpec` a builder returns, the :class:`BusinessInfo` it is built for, and the
few customer wordings that the forms (``forms``) and the agreements (``contracts``)
share.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from dms.sample_data.identity import CustomerProfile


@dataclass
class Title:
    text: str
    scale: float = 1.7


@dataclass
class Line:
    text: str
    align: str = "left"  # left | center | right
    scale: float = 1.0


@dataclass
class Para:
    text: str
    indent: bool = True
    heading: str = ""  # e.g. "第一条", printed bold-ish before the text on the same line


@dataclass
class Fields:
    """Label/value pairs: the renderer draws them as a ruled grid or as lines."""
    items: list[tuple[str, str]]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Checks:
    label: str
    options: list[str]
    selected: int


@dataclass
class Sign:
    """Printed signature labels; ``signers`` are written by hand (not in the truth)."""
    labels: list[str]
    signers: list[str]
    date: str = ""
    seal: str = ""  # organisation on a red round seal overlapping this block


@dataclass
class IdCard:
    front: list[tuple[str, str]]
    id_number: str
    back: list[tuple[str, str]]


@dataclass
class PageBreak:
    pass


@dataclass
class Gap:
    lines: float = 1.0


Block = Title | Line | Para | Fields | Table | Checks | Sign | IdCard | PageBreak | Gap


@dataclass
class BusinessInfo:
    business_no: str
    type_code: str
    type_name: str
    accept_date: dt.date
    change_type: str = ""  # 增容/减容/过户/... for BGSQ

    def day(self, n: int) -> dt.date:
        return self.accept_date + dt.timedelta(days=n)


@dataclass
class DocSpec:
    doc_type: str
    blocks: list[Block]
    fields: dict[str, str] = field(default_factory=dict)
    framed: bool = False  # certificate-style double border (licences, deeds)


def fmt_date(d: dt.date, r: random.Random) -> str:
    # forms in one archive are filled by many hands: date styles vary
    return r.choice((f"{d.year}年{d.month}月{d.day}日", f"{d:%Y年%m月%d日}", f"{d:%Y-%m-%d}",
                     f"{d:%Y.%m.%d}"))


def _acct(c: CustomerProfile) -> dict[str, str]:
    return {"company": c.company} if c.company else {"name": c.name}


def _ident(c: CustomerProfile) -> tuple[str, str, dict[str, str]]:
    if c.company:
        return "统一社会信用代码", c.credit_code, {"credit_code": c.credit_code}
    return "身份证号码", c.id_number, {"id_number": c.id_number}


def _tariff(c: CustomerProfile) -> str:
    if not c.company:
        return "居民生活用电"
    return "大工业用电" if c.capacity_kva >= 315 else "一般工商业用电"


def _voltage(c: CustomerProfile) -> str:
    return "10kV" if c.capacity_kva >= 250 else "0.4kV" if c.company else "0.22kV"


def _feeder(r: random.Random) -> str:
    sub = r.choice(("城东", "河西", "新港", "北郊", "南湖", "开发区", "青龙"))
    return f"110kV{sub}变电站10kV{r.choice('一二三四五六')}{r.choice(('线', '路'))}" \
           f"{r.randint(1, 60)}号杆"
