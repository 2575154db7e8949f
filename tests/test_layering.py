"""The leaf libraries stay leaves: ``ocr_worker`` and ``search`` import no task queue,
database, web framework or application code, at module level or inside a function. And
no modules import each other in a circle (``test_no_import_circles``).

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
                     "ocr_worker/engines.py", "ocr_worker/pdf_assembly.py", "search/registry.py",
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


# No import circles: dependencies point down. Imports inside functions count (a circle
# dodged by a function-level import is still a circle); imports under
# ``if TYPE_CHECKING:`` do not (annotations only, nothing runs).
CIRCLE_FREE = ("dms", "ocr_worker", "ingest", "search", "errorkit", "hanzi")


def runtime_imports(tree: ast.Module, package: str) -> list[str]:
    """Dotted names of what a module imports at run time, at any depth: ``from a import b``
    names ``a.b`` (a module or a name in ``a``), relative imports are made absolute."""
    out: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.extend(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def module_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (an import of a name resolves to the
    module that holds it; ``pkg`` is its ``__init__``)."""
    graph: dict[str, set[str]] = {}
    for name, source in sources.items():
        package = name if source.startswith("#package") else name.rpartition(".")[0]
        targets = set()
        for dotted in runtime_imports(ast.parse(source), package):
            while dotted and dotted not in sources:
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name:
                targets.add(dotted)
        graph[name] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def project_sources() -> dict[str, str]:
    sources = {}
    for top in CIRCLE_FREE:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts and "versions" in parts:
                continue  # Alembic revisions are loaded by file, not imported
            text = path.read_text(encoding="utf-8")
            if parts[-1] == "__init__":
                parts, text = parts[:-1], "#package\n" + text
            sources[".".join(parts)] = text
    return sources


def test_no_import_circles() -> None:
    graph = module_graph(project_sources())
    # Guard against a vacuous pass: the modules of the circles broken once are all read.
    for name in ("dms.cli", "dms.cli_ops", "dms.db.models", "dms.db.models_lifecycle",
                 "dms.sample_data.forms", "dms.sample_data.contracts",
                 "dms.services.gap_report", "dms.services.gap_table", "dms.web.physical",
                 "dms.web.physical_api", "ingest.cli", "search.registry"):
        assert graph.get(name), name
    assert circles(graph) == []


def test_the_circle_check_sees_function_level_imports() -> None:
    graph = module_graph({
        "pkg": "#package\n",
        "pkg.a": "from pkg.b import f\n",
        "pkg.b": "def f():\n    from pkg import a\n",
        "pkg.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import X\n",
        "pkg.d": "from . import c\n",
    })
    assert graph["pkg.d"] == {"pkg.c"}
    assert circles(graph) == [["pkg.a", "pkg.b"]]
