"""The leaf libraries stay leaves: ``ocr_worker`` and ``search`` import no task queue,
database, web framework or application code, at module level or inside a function.

Read from the source (the AST of every module), not by importing: an import hidden in a
function body or behind a condition counts as much as one at the top.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("ocr_worker", "search", "errorkit", "hanzi")
FORBIDDEN = ("celery", "kombu", "sqlalchemy", "flask", "dms")
# hanzi (Han ranges, folding, fonts) sits below every other package: it imports none of them.
PROJECT = ("dms", "ocr_worker", "search", "ingest", "errorkit", "benchmarks")


def imported_modules(source: str) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
              and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            out.append((node.lineno, str(node.args[0].value)))
    return out


def forbidden_imports(path: Path) -> list[str]:
    found = []
    for line, module in imported_modules(path.read_text(encoding="utf-8")):
        if module.split(".")[0] in FORBIDDEN:
            found.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    return found


def library_modules() -> list[Path]:
    return sorted(p for lib in LIBRARIES for p in (ROOT / lib).rglob("*.py"))


def test_every_library_is_there() -> None:
    # Guard against a vacuous pass (a moved or renamed package leaves nothing to check).
    names = {p.relative_to(ROOT).as_posix() for p in library_modules()}
    for expected in ("ocr_worker/pipeline.py", "ocr_worker/rasterise.py", "ocr_worker/engine.py",
                     "ocr_worker/pdf_assembly.py", "search/registry.py",
                     "search/tantivy_index.py", "errorkit/__init__.py",
                     "hanzi/ranges.py", "hanzi/folding.py", "hanzi/fonts.py"):
        assert expected in names


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_library_imports_no_application_code(path: Path) -> None:
    assert forbidden_imports(path) == []


@pytest.mark.parametrize("path", sorted((ROOT / "hanzi").rglob("*.py")),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_hanzi_imports_nothing_from_the_project(path: Path) -> None:
    found = [f"{line}: {module}" for line, module in imported_modules(path.read_text("utf-8"))
             if module.split(".")[0] in PROJECT + FORBIDDEN]
    assert found == []


def test_the_check_sees_imports_at_any_depth() -> None:
    src = ("import os\n"
           "def f():\n"
           "    from dms.settings import Settings\n"
           "    import celery.app\n"
           "    importlib.import_module('sqlalchemy.orm')\n"
           "from .x import y\n")
    found = [m for _, m in imported_modules(src) if m.split(".")[0] in FORBIDDEN]
    assert found == ["dms.settings", "celery.app", "sqlalchemy.orm"]


def test_the_worker_tasks_live_in_dms() -> None:
    for gone in ("celery_app.py", "broker.py", "tasks.py", "classify_tasks.py",
                 "lifecycle_tasks.py", "report_tasks.py"):
        assert not (ROOT / "ocr_worker" / gone).exists()
