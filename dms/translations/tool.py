"""Keep the catalogs in step with the code: ``python -m dms.translations update|compile|check``.

``update`` extracts every ``_()``/``gettext()``/``translate()`` literal from the Python code
and the templates, plus the Chinese names of stored codes (states, roles, types, actions…,
the tables below: their values are looked up at run time, so no literal names them), into
``messages.pot`` and merges it into ``zh_CN`` (msgstr = msgid, see the package docstring)
and ``en`` (new entries left for a translator). ``compile`` writes the ``.mo`` files;
``check`` exits 1 if the catalogs are not current (what the tests assert too).
"""
from __future__ import annotations

import gettext
import io
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dms.domain.audit import ACTION_NAMES_ZH as AUDIT_ACTION_NAMES
from dms.domain.audit import ENTITY_NAMES_ZH
from dms.domain.facts import FIELD_NAMES_ZH
from dms.domain.lending import LOAN_REASON_NAMES_ZH, LOAN_STATE_NAMES_ZH
from dms.domain.lifecycle import GATE_NAMES_ZH, STATE_NAMES_ZH
from dms.domain.reminders import CATEGORY_NAMES_ZH, LIMIT_NAMES_ZH
from dms.domain.roles import ROLE_NAMES_ZH
from dms.services.audit_log import HEADINGS_ZH as AUDIT_HEADINGS
from dms.services.gap_report import STATUS_NAMES_ZH
from dms.services.missing_facts_csv import HEADINGS_ZH as MISSING_FACTS_HEADINGS
from dms.services.report_formats import HEADINGS_ZH as GAP_HEADINGS
from dms.translations import DIRECTORY, DOMAIN, LOCALES
from dms.web import i18n, names, page_review, review, search_views

ROOT = DIRECTORY.parent.parent
SOURCES = (ROOT / "dms", ROOT / "ingest")
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "translate": None, "lazy_gettext": None}
# Code → Chinese-name tables whose names pages and exports show through the catalog.
NAME_TABLES: tuple[Mapping[Any, str], ...] = (
    STATE_NAMES_ZH, GATE_NAMES_ZH, ROLE_NAMES_ZH, CATEGORY_NAMES_ZH, LIMIT_NAMES_ZH,
    AUDIT_ACTION_NAMES, ENTITY_NAMES_ZH, FIELD_NAMES_ZH, LOAN_STATE_NAMES_ZH, LOAN_REASON_NAMES_ZH,
    STATUS_NAMES_ZH, GAP_HEADINGS, AUDIT_HEADINGS, MISSING_FACTS_HEADINGS,
)


def po_path(locale: str) -> Path:
    return DIRECTORY / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def extracted() -> Catalog:
    """Every msgid of the code, templates and name tables, with where it comes from."""
    cat = Catalog(project="dms", domain=DOMAIN, charset="utf-8")
    for src in SOURCES:
        for path, line, msg, comments, _ctx in extract_from_dir(
                src, METHODS, OPTIONS, KEYWORDS, comment_tags=("i18n:",)):
            if isinstance(msg, str) and msg:
                rel = (src.relative_to(ROOT) / path).as_posix()
                cat.add(msg, locations=[(rel, line)], auto_comments=comments)
    tables: Iterable[Mapping[Any, str]] = (
        *NAME_TABLES, names.TASK_KIND_NAMES_ZH, names.TASK_STATUS_NAMES_ZH,
        names.EVENT_STATUS_NAMES_ZH, names.ACTION_NAMES_ZH, names.GROUP_NAMES_ZH,
        names.BATCH_STATUS_NAMES_ZH, names.ACTOR_NAMES_ZH, review.FLAG_NAMES,
        i18n.HTTP_TITLES_ZH,
        search_views.FACET_LABELS, page_review.REASON_NAMES, page_review.HOW_NAMES)
    for table in tables:
        for name in table.values():
            if name not in cat:
                cat.add(name, auto_comments=["name of a stored code"])
    return cat


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=path.parent.parent.name)


def _write(path: Path, cat: Catalog) -> None:
    buf = io.BytesIO()
    write_po(buf, cat, width=100, sort_output=True, omit_header=False, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def update() -> None:
    _write(DIRECTORY / f"{DOMAIN}.pot", extracted())
    for locale in LOCALES:
        path = po_path(locale)
        cat = _read(path) if path.exists() else Catalog(locale=locale, domain=DOMAIN)
        # A template of its own: Catalog.update adopts the template's new messages as they
        # are, and zh_CN's msgstr = msgid must not reach the English catalog.
        cat.update(extracted(), no_fuzzy_matching=True)
        cat.obsolete.clear()
        cat.fuzzy = False
        if locale == "zh_CN":
            for m in cat:
                if m.id:
                    m.string = m.id
        _write(path, cat)


def compile_all() -> None:
    for locale in LOCALES:
        buf = io.BytesIO()
        write_mo(buf, _read(po_path(locale)))
        mo_path(locale).write_bytes(buf.getvalue())


def problems() -> list[str]:
    """What is out of step: code vs catalogs, zh_CN identity, English gaps, .mo vs .po."""
    out: list[str] = []
    want = {m.id for m in extracted() if m.id}
    for locale in LOCALES:
        cat = _read(po_path(locale))
        have = {m.id: m.string for m in cat if m.id}
        out += [f"{locale}: not in the catalog: {i}" for i in sorted(want - have.keys())]
        out += [f"{locale}: no longer used: {i}" for i in sorted(have.keys() - want)]
        out += [f"{locale}: untranslated: {i}" for i, s in sorted(have.items())
                if not s or (locale != "zh_CN" and s == i)]
        if locale == "zh_CN":
            out += [f"zh_CN: msgstr differs from the msgid: {i}"
                    for i, s in sorted(have.items()) if s and s != i]
        with mo_path(locale).open("rb") as fh:
            compiled = {k: v for k, v in gettext.GNUTranslations(fh)._catalog.items()  # type: ignore[attr-defined]
                        if k}
        if compiled != {i: s for i, s in have.items() if s}:
            out.append(f"{locale}: {mo_path(locale).name} does not match the .po: "
                       "python -m dms.translations compile")
    return out


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "update":
        update()
    elif cmd == "compile":
        compile_all()
    elif cmd == "check":
        found = problems()
        print("\n".join(found) or "catalogs are current")
        return 1 if found else 0
    else:
        print("usage: python -m dms.translations update|compile|check", file=sys.stderr)
        return 2
    return 0
