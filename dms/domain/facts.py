"""Key facts of a document from its OCR text, with the page and position they came from.

Pure: page texts (and, for positions, word boxes) in; :class:`Fact` values out. Values
are validated where the format allows (GB 11643 resident ID, GB 32100 credit code);
OCR look-alikes (O/0, I/1...) are repaired only when the checksum then holds.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dms.domain.classify_rules import normalise_char_by_char
from dms.domain.fact_dates import DATE, add_years, parse_date
from dms.domain.personal_data import id_check_character
from hanzi.ranges import COMMON_HAN

FIELDS = ("customer_no", "name", "id_number", "credit_code", "company", "address",
          "contract_no", "contract_start", "contract_end", "capacity_kva", "meter_no",
          "signed_date")
FIELD_NAMES_ZH = {"customer_no": "户号", "name": "姓名", "id_number": "身份证号码",
                  "credit_code": "统一社会信用代码", "company": "单位名称", "address": "用电地址",
                  "contract_no": "合同编号", "contract_start": "合同起始日期",
                  "contract_end": "合同终止日期", "capacity_kva": "容量(kVA)",
                  "meter_no": "电能表资产编号", "signed_date": "签订日期"}
BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Fact:
    field: str
    value: str
    page_no: int
    raw: str  # the text as found on the page (normalised, no spaces): used to locate it
    valid: bool = True
    note: str = ""


# --- checksums ---------------------------------------------------------------------------
_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def valid_id_number(s: str, today: dt.date | None = None) -> bool:
    """GB 11643: 17 digits + check character, with a real birth date not in the future."""
    s = s.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= (today or dt.date(2200, 1, 1)):
        return False
    return id_check_character(s[:17]) == s[17]


def valid_credit_code(s: str) -> bool:
    """GB 32100: 18 characters of the code alphabet, the last a weighted mod-31 check."""
    s = s.strip().upper()
    if not _CC_RE.match(s):
        return False
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(s[:17], _CC_WEIGHTS, strict=True))
    return _CC_CHARS[(31 - total % 31) % 31] == s[17]


# --- page text ---------------------------------------------------------------------------
_SPACE = re.compile(r"\s+")
# labels that start a new field on a form line: a value ends where the next one begins
_LABELS = ("户号", "户名", "用电地址", "联系电话", "电话", "联系人", "申请容量", "用电类别",
           "申请日期", "法定代表人", "统一社会信用代码", "身份证号码", "公民身份号码", "性别",
           "民族", "出生", "住址", "名称", "类型", "注册资本", "成立日期", "营业期限", "住所",
           "经营范围", "共有情况", "坐落", "不动产单元号", "权利类型", "用途", "面积", "原容量",
           "变更后容量", "勘查日期", "电源", "供电电压", "供电容量", "计量", "答复日期",
           "电能表资产编号", "表底示数", "装表日期", "委托人", "受托人", "签订地点", "开户银行",
           "账号", "地址", "工程名称", "设计单位", "容量", "用电性质", "邮编", "邮政编码",
           "委托代理人", "代理人", "签字", "签章", "盖章")
_NEXT_LABEL = re.compile("|".join(sorted(map(re.escape, _LABELS), key=len, reverse=True)))
_ORG_SUFFIX = ("有限责任公司", "股份有限公司", "有限公司", "分公司", "公司", "集团", "厂",
               "合作社", "学校", "医院", "中心", "商店", "便利店", "超市", "酒店", "饭店",
               "事务所", "研究院", "研究所", "委员会", "商行", "门市部", "工作室", "幼儿园")
_ORG_RE = re.compile(rf"[{COMMON_HAN}()]{{2,40}}?(?:" + "|".join(_ORG_SUFFIX) + r")")
_NOT_CUSTOMER_ORG = ("国网", "供电公司", "电力公司", "监督管理局", "公安局", "工商行政",
                     "设计院", "设计有限", "人民法院", "调度控制中心", "营业厅")
_ADDR_HINT = re.compile(r"(省|市|区|县|镇|乡|村|路|街|道|巷|号|弄|栋|幢|室)")
# OCR specks after an address; a short wrapped tail (…19栋3 / 单元1303室) that belongs to it.
# (The tail once stopped at U+9FA5, an old idiom for "Han"; the whole common block is meant.)
_ADDR_TRAIL = re.compile(f"[^0-9{COMMON_HAN}-]+$")
_ADDR_TAIL = re.compile(f"[0-9{COMMON_HAN}]{{1,10}}(室|号|栋|幢|单元|层)")


def _compact(line: str) -> str:
    return _SPACE.sub("", normalise_char_by_char(line))


_LONE_LABEL = re.compile(f"(?:{_NEXT_LABEL.pattern})[:;.|=“”「」_]*")


def _pages_lines(pages: Sequence[str]) -> list[list[str]]:
    """Compact lines per page. In a ruled table tesseract often reads a label cell and
    its value cell as two lines: a line holding only a label is joined to the next."""
    out = []
    for p in pages:
        lines = [c for c in (_compact(ln) for ln in p.splitlines()) if c]
        merged: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt and _LONE_LABEL.fullmatch(line) and not _NEXT_LABEL.match(nxt):
                merged.append(line.rstrip(":;.|=“”「」_") + ":" + nxt)
                i += 2
                continue
            merged.append(line)
            i += 1
        out.append(merged)
    return out


def _label_value(line: str, label_re: str, *, strict: bool = False) -> tuple[str, str] | None:
    """The value after a label on a form line, up to the next label; (value, raw).
    ``strict``: the label must open the line, follow another field of a form row (户号…户名…)
    or be followed by a separator (so 用电人 in a sentence of a contract is not taken for a
    form field)."""
    # 承租方（乙方）：… -- a party's role in brackets may stand between label and value
    m = re.search(f"(?:{label_re})(?:[(（][^)）]{{1,4}}[)）])?(?:为|是)?([:;.|=“”「」_]*)", line)
    if not m or (strict and m.start() > 1 and not m.group(1)
                 and not _NEXT_LABEL.search(line[:m.start()])):
        return None
    rest = line[m.end():]
    nxt = _NEXT_LABEL.search(rest)
    value = rest[:nxt.start()] if nxt and nxt.start() > 0 else rest
    value = value.strip(":;,.。、_-—|\"'“”‘’ ．·•")
    return (value, value) if value else None


_DIGIT_LOOKALIKES = str.maketrans("ODQIL|!", "0001111")
_CODE_LOOKALIKES = str.maketrans("OIZSV", "0125U")  # letters a credit code never holds


def _digits(s: str) -> str:
    return s.translate(_DIGIT_LOOKALIKES)


# --- the fields --------------------------------------------------------------------------
def _customer_no(lines: list[list[str]]) -> Fact | None:
    pat = re.compile(r"户号[:;.|=“”「」_]*([0-9OIL]{8,13})(?![0-9])")
    for n, page in enumerate(lines, 1):
        for line in page:
            if m := pat.search(line):
                return Fact("customer_no", _digits(m.group(1)), n, m.group(1))
    # the label lost to OCR: a lone 10-digit number (the length of a 户号) near the top;
    # a wrong guess is caught by the folder's customer number check (flagged, not used)
    for n, page in enumerate(lines, 1):
        for line in page[:12]:
            if bare := re.search(r"(?<![0-9A-Z.\-])(\d{10})(?![0-9A-Z.\-])", line):
                return Fact("customer_no", bare.group(1), n, bare.group(1), note="unlabelled")
    return None


def _id_number(lines: list[list[str]], today: dt.date | None) -> Fact | None:
    pat = re.compile(r"(?<![0-9A-Z])([0-9OIL]{17}[0-9XOIL])(?![0-9A-Z])")
    first_invalid: Fact | None = None
    for n, page in enumerate(lines, 1):
        for line in page:
            for m in pat.finditer(line):
                value = _digits(m.group(1)[:17]) + m.group(1)[17].replace("O", "0")
                if valid_id_number(value, today):
                    return Fact("id_number", value, n, m.group(1))
                if first_invalid is None and re.search("身份|证号", line):
                    first_invalid = Fact("id_number", value, n, m.group(1), False,
                                         "checksum_failed")
    return first_invalid


def _credit_code_candidates(tail: str) -> list[tuple[str, str]]:
    """(code, raw) candidates from text after a label: drop lower-case OCR noise (the
    code has no lower case), then try each 18-character window, O/I/Z/S folded."""
    raw = re.match(r"[0-9A-Za-z]{18,22}", tail)
    if not raw:
        return []
    kept = "".join(c for c in raw.group(0) if not c.islower() or c in "oil")
    kept = kept.upper().translate(_CODE_LOOKALIKES)
    return [(kept[i:i + 18], raw.group(0)) for i in range(len(kept) - 17)]


def _credit_code(pages: Sequence[str]) -> Fact | None:
    # the raw page text, not upper-cased: lower case marks OCR noise inside the code
    for n, page in enumerate(pages, 1):
        for line in page.splitlines():
            line = _SPACE.sub("", line)
            for m in re.finditer(r"(?:信用代码|信用代碼|代码|代碼)[:：]?", line):
                for code, raw in _credit_code_candidates(line[m.end():]):
                    if valid_credit_code(code):
                        return Fact("credit_code", code, n, normalise_char_by_char(raw))
            for m in re.finditer(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])", line):
                if valid_credit_code(m.group(0)) and not valid_id_number(m.group(0)):
                    return Fact("credit_code", m.group(0), n, m.group(0))
    return None


# 承租方: a tenant applies for power in their own name (the 出租方 is the landlord);
# 被调度方: the customer party of a dispatch agreement
_PERSON_LABELS = ("姓名|联系人|法定代表人|经营者|委托人|户名|用电人|权利人|承租方|被调度方|"
                  "客户代表|客户签字")
# 工程名称：张三0.4kV接电工程 -- a customer's connection works are named after the customer
_HAN_NAME = re.compile(f"[{COMMON_HAN}]{{2,4}}")  # a person's name: 2-4 characters
_WORKS_NAME = re.compile(rf"工程名称[:;.|]?([{COMMON_HAN}]{{2,4}}?)\d+(?:\.\d+)?kV", re.I)


def _name(lines: list[list[str]]) -> Fact | None:
    for label in _PERSON_LABELS.split("|"):
        for n, page in enumerate(lines, 1):
            for line in page:
                lv = _label_value(line, label, strict=True)
                if lv and _HAN_NAME.fullmatch(lv[0]) \
                        and not lv[0].endswith(_ORG_SUFFIX) and not lv[0].startswith("或"):
                    return Fact("name", lv[0], n, lv[1])
    for n, page in enumerate(lines, 1):
        for line in page:
            if m := _WORKS_NAME.search(line):
                return Fact("name", m.group(1), n, m.group(1))
    return None


def _is_customer_org(s: str) -> bool:
    return s.endswith(_ORG_SUFFIX) and not any(w in s for w in _NOT_CUSTOMER_ORG)


def _company(lines: list[list[str]]) -> Fact | None:
    for label in ("户名", "名称", "用电人", "委托人", "权利人", "被调度方", "承租方", "单位名称",
                  "企业名称", "客户名称"):
        for n, page in enumerate(lines, 1):
            for line in page:
                lv = _label_value(line, label)
                if lv and (m := _ORG_RE.match(lv[0])) and _is_customer_org(m.group(0)):
                    return Fact("company", m.group(0), n, m.group(0))
    for n, page in enumerate(lines, 1):
        for m in _ORG_RE.finditer("".join(page)):
            if _is_customer_org(m.group(0)):
                return Fact("company", m.group(0), n, m.group(0))
    return None


def _address(lines: list[list[str]]) -> Fact | None:
    # "电地址": OCR drops the first character of a label now and then
    for label in ("用电地址", "用电地点", "电地址", "坐落", "住所", "住址"):
        for n, page in enumerate(lines, 1):
            for i, line in enumerate(page):
                lv = _label_value(line, label)
                if not lv:
                    continue
                # 坐落于…的房屋: the address is between 于 and 的; OCR specks trail it
                value = re.split(r"[,;。.，的(]", lv[0].removeprefix("于"))[0]
                value = _ADDR_TRAIL.sub("", value)
                # a short wrapped tail (…19栋3 / 单元1303室) belongs to the address
                nxt = page[i + 1] if i + 1 < len(page) else ""
                if _ADDR_TAIL.fullmatch(nxt):
                    value += nxt
                if len(value) >= 6 and _ADDR_HINT.search(value):
                    return Fact("address", value, n, value)
    for n, page in enumerate(lines, 1):
        joined = "".join(page)
        if m := re.search(r"(?:坐落于|位于|地址为)([^,;。.，]{6,60}?)(?:的|,|，|。)", joined):
            return Fact("address", m.group(1), n, m.group(1))
    return None


def _capacity(lines: list[list[str]]) -> Fact | None:
    pat = re.compile(r"(用电容量|申请容量|供电容量|报装容量|受电容量|合同容量|容量)(?:为|是)?"
                     r"[:;.|=“”「」_]*(\d+(?:\.\d+)?)(?:KVA|千伏安)")
    for n, page in enumerate(lines, 1):
        joined = "".join(page)
        for m in pat.finditer(joined):
            if not joined[max(0, m.start() - 3):m.start()].endswith("后"):  # 变更后容量
                return Fact("capacity_kva", m.group(2).removesuffix(".0"), n, m.group(2))
    for n, page in enumerate(lines, 1):  # the label lost to OCR: any kVA figure
        if bare := re.search(r"(?<![0-9.])(\d{1,5}(?:\.\d+)?)(?:KVA|千伏安)", "".join(page)):
            return Fact("capacity_kva", bare.group(1).removesuffix(".0"), n, bare.group(1),
                        note="unlabelled")
    return None


def _meter_no(lines: list[list[str]]) -> Fact | None:
    pat = re.compile(r"(?:电能表资产编号|资产编号|电能表编号|表计编号|表号)(?:为|是)?[:;.]?"
                     r"([0-9OIL]{8,24})(?![0-9])")
    for n, page in enumerate(lines, 1):
        if m := pat.search("".join(page)):
            return Fact("meter_no", _digits(m.group(1)), n, m.group(1))
    return None


def _contract_no(lines: list[list[str]]) -> Fact | None:
    # 协编号/协号: PP-OCR drops 議 on Traditional pages (a character it does not know)
    pat = re.compile(r"(?:合同编号|协议编号|合同号|协议号|协编号|协号)[:;.]?"
                     r"([A-Z0-9][A-Z0-9-]{5,30})")
    for n, page in enumerate(lines, 1):
        for line in page:
            if m := pat.search(line):
                return Fact("contract_no", _digits_between_digits(m.group(1)), n, m.group(1))
    return None


_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[ODQIL](?=[0-9])")


def _digits_between_digits(code: str) -> str:
    """A contract number as printed: a letter that looks like a digit, read between two
    digits, is that digit. PP-OCR read HNGDHT2020498922 as HNGDHT202O498922 in `dms up`'s
    sample, and the contract could not be found by its number. Letters of the prefix
    (GDHT, DDXY) never stand between digits."""
    return _BETWEEN_DIGITS.sub(lambda m: _digits(m.group(0)), code)


# "至" is sometimes lost to OCR (自2021年4月26H 2024-04-26): two dates in a row suffice
_PERIOD = re.compile(rf"(?:有效期|期限)(?:限)?(?:为|是)?[:;.]?自?({DATE})(?:起)?"
                     rf"(?:至|到|-|[^0-9]{{0,3}}?)({DATE})止?")
_PERIOD_YEARS = re.compile(r"有效期(?:为|是)?[:;.]?([0-9一二三四五六七八九十]{1,3})年")


def _contract_period(lines: list[list[str]]) -> list[Fact]:
    out: list[Fact] = []
    for n, page in enumerate(lines, 1):
        joined = "".join(page)
        for m in _PERIOD.finditer(joined):
            start, end = parse_date(m.group(1)), parse_date(m.group(2))
            if start and end and end > start:
                return [Fact("contract_start", start.isoformat(), n, m.group(1)),
                        Fact("contract_end", end.isoformat(), n, m.group(2))]
        if not out and (years := _PERIOD_YEARS.search(joined)):
            out = [Fact("_years", years.group(1), n, years.group(0))]
    return out


def _signed_date(lines: list[list[str]]) -> Fact | None:
    pat = re.compile(rf"(?:签订日期|签署日期|签字日期|签约日期|签订时间)[:;.]?({DATE})")
    for n, page in enumerate(lines, 1):
        if (m := pat.search("".join(page))) and (d := parse_date(m.group(1))):
            return Fact("signed_date", d.isoformat(), n, m.group(1))
    return None


def extract_facts(pages: Sequence[str], *, expiring: bool = False,
                  today: dt.date | None = None) -> dict[str, Fact]:
    """Facts found in the pages' OCR text. ``expiring``: the document is an agreement
    with a term (its 有效期 gives contract_start/contract_end); ``today`` bounds birth
    dates of ID numbers."""
    lines = _pages_lines(pages)
    found: list[Fact | None] = [
        _customer_no(lines), _id_number(lines, today), _credit_code(pages), _name(lines),
        _company(lines), _address(lines), _capacity(lines), _meter_no(lines),
        _contract_no(lines), _signed_date(lines)]
    facts = {f.field: f for f in found if f is not None}
    if expiring:
        period = _contract_period(lines)
        if period and period[0].field == "_years":  # "有效期N年": count from the signature
            start = facts.get("signed_date")
            years = parse_years(period[0].value)
            if start and years:
                d0 = dt.date.fromisoformat(start.value)
                end = add_years(d0, years) - dt.timedelta(days=1)
                facts["contract_start"] = Fact("contract_start", d0.isoformat(), start.page_no,
                                               start.raw, note="from_signed_date")
                facts["contract_end"] = Fact("contract_end", end.isoformat(), period[0].page_no,
                                             period[0].raw, note=f"{years}_years")
        else:
            facts |= {f.field: f for f in period}
    return facts


def parse_years(s: str) -> int:
    from dms.domain.fact_dates import cn_number

    return int(s) if s.isdigit() else cn_number(s)


def locate(raw: str, words: Sequence[Mapping[str, Any]]) -> BBox | None:
    """The box around the words holding ``raw`` (as :class:`Fact` records it), each word's
    box split evenly between its characters so a value sharing a word with its label
    gets its own box."""
    if not raw:
        return None
    chars: list[tuple[str, BBox]] = []
    for w in words:
        text = _compact(str(w.get("text", "")))
        if not text:
            continue
        x0, y0, x1, y1 = (int(v) for v in w["bbox"])
        step = (x1 - x0) / len(text)
        for i, c in enumerate(text):
            chars.append((c, (round(x0 + i * step), y0, round(x0 + (i + 1) * step), y1)))
    stream = "".join(c for c, _ in chars)
    at = stream.find(raw)
    if at < 0:
        return None
    boxes = [b for _, b in chars[at:at + len(raw)]]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))
