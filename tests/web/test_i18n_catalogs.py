"""The gettext catalogs are the one translation mechanism and are current: every msgid of
the code, templates and name tables is in zh_CN (as itself) and en (translated), and the
committed .mo files match their .po (``python -m dms.translations check``)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dms import translations
from dms.translations import tool


def test_catalogs_are_current() -> None:
    assert tool.problems() == []


def test_lookups_by_locale() -> None:
    assert translations.gettext("已归档", "en") == "Archived"
    assert translations.gettext("已归档", "zh_CN") == "已归档"
    assert translations.gettext("已归档", "zh-CN") == "已归档"
    assert translations.gettext("已归档", "fr") == "已归档"  # unknown: the default, Chinese
    assert translations.gettext("不在目录里的话", "en") == "不在目录里的话"
    assert translations.names({"handler": "业务经办人"}, "en") == {"handler": "Handler"}


def test_a_name_nobody_extracted_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tool, "NAME_TABLES", (*tool.NAME_TABLES, {"x": "新加的名字"}))
    found = tool.problems()
    assert "zh_CN: not in the catalog: 新加的名字" in found
    assert "en: not in the catalog: 新加的名字" in found


def test_a_stale_mo_and_a_missing_english_are_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(tool.DIRECTORY, copy)
    monkeypatch.setattr(tool, "DIRECTORY", copy)
    po = tool.po_path("en")
    with po.open("rb") as fh:
        cat = read_po(fh, locale="en")
    cat["已归档"].string = ""
    tool._write(po, cat)
    found = tool.problems()
    assert "en: untranslated: 已归档" in found
    assert any("messages.mo does not match the .po" in p for p in found)
    tool.compile_all()
    assert tool.problems() == ["en: untranslated: 已归档"]


def test_no_other_translation_table_is_left() -> None:
    """The dict catalogs the catalog replaced (dms.web.i18n.EN and its EN.update copies,
    ingest's _ZH/_EN, 'if en' text pairs) are gone."""
    root = tool.ROOT
    offenders = [str(p.relative_to(root)) for src in tool.SOURCES for p in src.rglob("*.py")
                 if any(s in p.read_text(encoding="utf-8")
                        for s in ("EN.update(", "EN: dict[str, str]", "_EN = {",
                                  'default_locale == "en"'))]
    assert offenders == []
