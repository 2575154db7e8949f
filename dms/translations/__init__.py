"""The one translation mechanism of dms: gettext catalogs.

Convention: **message ids are the Simplified Chinese text** a Chinese page shows (页面、
导出、提示都以中文原文为 msgid), so templates and code read naturally and Chinese is never
a fallback of something else. ``zh_CN/LC_MESSAGES/messages.po`` translates every msgid to
itself: a msgid missing there is a string nobody extracted, which the page walk
(``tests/web/test_i18n_pages.py``) reports. ``en/…/messages.po`` holds the English.

The web app looks messages up through Flask-Babel (``dms.web.i18n``); code without Flask
(CSV/XLSX exports, the CLI, the ingest report) calls :func:`gettext` here with the user's
or the deployment's locale. Both read the same compiled ``.mo`` files, which are committed
beside their ``.po`` (``tests/web/test_i18n_catalogs.py`` checks they match).

Adding a string: wrap it in ``_()`` (templates, web code) or ``gettext(text, locale)``;
a name table (code → Chinese name) is listed in ``dms.translations.tool.NAME_TABLES``.
Then ``python -m dms.translations update`` (extract into ``messages.pot``, merge into both
``.po``), write the English msgstr, and ``python -m dms.translations compile``.
"""
from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

DIRECTORY = Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"

# Called with (msgid, locale) for every lookup the locale's catalog has no entry for: the
# page walk test records them; nothing else listens.
missing_listeners: list[Callable[[str, str], None]] = []


def normalize(locale: str | None) -> str:
    """``zh``, ``zh-CN``, ``zh_CN`` → ``zh_CN``; ``en…`` → ``en``; anything else the default."""
    loc = (locale or "").replace("-", "_")
    if loc.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@cache
def catalog(locale: str) -> _gettext.GNUTranslations:
    with open(DIRECTORY / normalize(locale) / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fh:
        return _gettext.GNUTranslations(fh)


def has(message: str, locale: str) -> bool:
    return message in catalog(locale)._catalog  # type: ignore[attr-defined]


def note_lookup(message: str, locale: str) -> None:
    if missing_listeners and message and not has(message, locale):
        for listener in missing_listeners:
            listener(message, normalize(locale))


def gettext(message: str, locale: str | None = None) -> str:
    """``message`` (a Chinese msgid) in ``locale``; an unknown msgid is returned as is."""
    loc = normalize(locale)
    note_lookup(message, loc)
    return catalog(loc).gettext(message)


def translator(locale: str | None) -> Callable[[str], str]:
    loc = normalize(locale)
    return lambda message: gettext(message, loc)


def names(table: dict[str, str], locale: str | None) -> dict[str, str]:
    """A code → Chinese-name table in ``locale`` (for exports and pages)."""
    tr = translator(locale)
    return {k: tr(v) for k, v in table.items()}
