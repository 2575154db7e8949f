"""Simplified Chinese first, English available: the web side of ``dms.translations``.

Flask-Babel picks the catalog (the ``lang`` query argument, then the session's choice, which
login sets from the user's preference, then the deployment's default) and templates call
``_()`` with the Chinese msgid. Every lookup goes through :func:`translate`, which tells
``dms.translations.missing_listeners`` about msgids the catalog lacks.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_babel import gettext as babel_gettext

from dms import translations
from dms.translations import LOCALES


def get_locale() -> str:
    loc = request.args.get("lang") or session.get("lang") or g.get("default_locale", "zh_CN")
    return loc if loc in LOCALES else "zh_CN"


def translate(text: str, **variables: Any) -> str:
    translations.note_lookup(text, get_locale())
    return babel_gettext(text, **variables)


def init_app(app: Flask) -> None:
    Babel(app, default_locale=translations.DEFAULT_LOCALE, default_domain=translations.DOMAIN,
          default_translation_directories=str(translations.DIRECTORY),
          locale_selector=get_locale)
