"""Bounded query parameters and local redirect targets: the one place web views read them.

Every number a request can choose is bounded here, so that no page number, size or day
count can reach the database or the search engine as an overflow or a huge allocation
(issue 16: ``page=999999999999`` made the search engine abort the process).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request

from dms.errors import InvalidInputError

# Deepest page of any list: beyond it nobody pages, they filter. Keeps OFFSET in range on
# SQLite (64-bit) and PostgreSQL.
MAX_PAGE = 10_000
# Deepest hit of a search (page * size), as Elasticsearch's default max_result_window:
# tantivy allocates a collector of that many hits.
MAX_SEARCH_WINDOW = 10_000


def int_arg(name: str, default: int, *, lo: int, hi: int) -> int:
    """``request.args[name]`` as an int in [lo, hi]; anything else is a 400 naming ``name``."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be a whole number from {lo} to {hi}",
                                field=name) from None
    if not lo <= value <= hi:
        raise InvalidInputError(f"{name} must be from {lo} to {hi}", field=name)
    return value


def float_arg(name: str, default: float, *, lo: float, hi: float) -> float:
    """``request.args[name]`` as a number in [lo, hi]; anything else is a 400 naming it."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number from {lo:g} to {hi:g}",
                                field=name) from None
    if not lo <= value <= hi:  # also refuses nan and inf
        raise InvalidInputError(f"{name} must be from {lo:g} to {hi:g}", field=name)
    return value


# A code as dms stores them (team, business and document types): letters, digits, "_", "-".
CODE = re.compile(r"[A-Za-z0-9_-]+")


def text_arg(name: str, *, max_chars: int, shape: re.Pattern[str] | None = None,
             what: str = "text") -> str | None:
    """``request.args[name]`` stripped (None when empty): at most ``max_chars`` characters,
    no control characters (PostgreSQL refuses a NUL in a string: a 500, not an empty
    result), matching ``shape`` if given; anything else is a 400 naming ``name``."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if len(raw) > max_chars or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidInputError(f"{name} must be {what} of at most {max_chars} characters",
                                field=name)
    if shape is not None and not shape.fullmatch(raw):
        raise InvalidInputError(f"{name} must be {what}", field=name)
    return raw


def flag_arg(name: str) -> bool:
    """A checkbox: absent, empty or ``0`` is off, ``1`` is on; anything else a 400."""
    raw = request.args.get(name, "").strip()
    if raw not in ("", "0", "1"):
        raise InvalidInputError(f"{name} must be 1 or 0", field=name)
    return raw == "1"


def page_arg(name: str = "page") -> int:
    return int_arg(name, 1, lo=1, hi=MAX_PAGE)


def local_target(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``.

    Browsers drop tabs and newlines and read a backslash as a slash, so ``/\\t/evil`` and
    ``/\\evil`` are both ``//evil``, another host: such targets are refused, as is anything
    with a scheme or host, or a control character (a newline would split the header).
    """
    if not target:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def local_referrer(default: str = "/") -> str:
    """The Referer as a local path (same host only), else ``default``."""
    ref = request.referrer
    if not ref:
        return default
    parts = urlsplit(ref)
    if parts.scheme and parts.netloc:
        if parts.netloc != request.host:
            return default
        path = parts.path or "/"
        return local_target(path + (f"?{parts.query}" if parts.query else ""), default)
    return local_target(ref, default)
