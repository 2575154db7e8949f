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
from markupsafe import Markup, escape

from dms import translations
from dms.errors import DmsError
from dms.translations import LOCALES

# What an error page or an error flash says first, by HTTP status (msgids); the service's
# own text (often English, written for the API and the logs) follows as technical detail.
HTTP_TITLES_ZH = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到",
                  405: "不支持的请求方法", 409: "与现有数据冲突", 413: "请求内容过大",
                  422: "请求有误", 429: "请求过于频繁", 500: "服务器内部错误",
                  503: "服务暂时不可用"}


def get_locale() -> str:
    loc = request.args.get("lang") or session.get("lang") or g.get("default_locale", "zh_CN")
    return loc if loc in LOCALES else "zh_CN"


def translate(text: str, **variables: Any) -> str:
    translations.note_lookup(text, get_locale())
    return babel_gettext(text, **variables)


def error_title(status: int) -> str:
    return translate(HTTP_TITLES_ZH.get(status, HTTP_TITLES_ZH[500]))


def detailed(title: str, detail: object) -> Markup:
    """``title：<code>detail</code>`` for a flash (Markup survives the session cookie).
    Both parts are escaped; only the catalog's own pattern is markup."""
    return Markup(translate("%(title)s：%(detail)s", title=escape(title),
                            detail=Markup("<code>{}</code>").format(detail)))


def error_flash(exc: DmsError) -> Markup:
    """A service's error as a flash: what happened in the reader's language, the field it
    is about, then the service's text as technical detail."""
    title = error_title(exc.http_status)
    if exc.field:
        title = translate("%(title)s（字段：%(field)s）", title=title, field=exc.field)
    return detailed(title, exc)


def init_app(app: Flask) -> None:
    Babel(app, default_locale=translations.DEFAULT_LOCALE, default_domain=translations.DOMAIN,
          default_translation_directories=str(translations.DIRECTORY),
          locale_selector=get_locale)
