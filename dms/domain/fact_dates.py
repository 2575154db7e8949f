"""Dates as Chinese documents print them: 2024年3月5日, 2024-03-05, 2024.3.5, 2024/3/5,
二〇二四年三月五日. Input is normalised text (see ``classify_rules.normalise``)."""
from __future__ import annotations

import datetime as dt
import re

_CN_DIGITS = {"〇": 0, "零": 0, "O": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "〇零O一二两三四五六七八九"

# one regular expression for "a date" in any of the forms (used inside larger patterns).
# The last numeric form is a reading that lost 月 and 日 of a two-digit month and day
# (2025年04月30日 read as 2025年0430: seen on a sample contract's term clause, whose end
# date was then missing and the contract got no expiry warning).
DATE = (r"(?:\d{4}年\d{1,2}月\d{1,2}日?|\d{4}[-./]\d{1,2}[-./]\d{1,2}"
        rf"|[{_CN}]{{4}}年[{_CN}十]{{1,3}}月[{_CN}十]{{1,4}}日?|\d{{4}}年\d{{4}}(?!\d))")
_NUMERIC = re.compile(r"(\d{4})(?:年|[-./])(\d{1,2})(?:月|[-./])(\d{1,2})")
_MONTH_DAY_LOST = re.compile(r"(\d{4})年(\d{2})(\d{2})(?!\d)")
_CHINESE = re.compile(rf"([{_CN}]{{4}})年([{_CN}十]{{1,3}})月([{_CN}十]{{1,4}})")


def cn_number(s: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20, 二十三 → 23, 三十一 → 31 (0 if unreadable)."""
    if not s or any(c not in _CN_DIGITS and c != "十" for c in s):
        return 0
    if "十" in s:
        tens, _, units = s.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return int("".join(str(_CN_DIGITS[c]) for c in s))


def parse_date(s: str) -> dt.date | None:
    """The first date in ``s``, or None when there is none or it is not a real day."""
    if m := _NUMERIC.search(s) or _MONTH_DAY_LOST.search(s):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _CHINESE.search(s):
        y = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        mo, d = cn_number(m.group(2)), cn_number(m.group(3))
    else:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
