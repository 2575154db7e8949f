"""No copy of the Han ranges, the OpenCC fold or the font paths outside ``hanzi/``.

Read from the sources, so a new module that writes ``[\\u4e00-\\u9fff]``, ``一-龥``,
``/usr/share/fonts/...`` or ``import opencc`` itself fails here and is pointed at
``hanzi.ranges`` / ``hanzi.folding`` / ``hanzi.fonts``.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dms", "ocr_worker", "search", "ingest", "errorkit", "benchmarks", "scripts")
COPIES = {
    "Han range literal": re.compile(
        r"\\u(?:4e00|9fff|9fa5|3400|4dbf|f900|faff)|\\U0002[0a]000|\\x\{(?:4e00|9fff|3400)\}"
        r"|0x(?:4e00|9fff|3400)\b|[一\u3400]-|[龥鿿]", re.I),
    "font path": re.compile(r"/usr/share/fonts|\.tt[cf][\"']|\bwqy-\w+\.|NotoS\w+CJK-"),
    "OpenCC use": re.compile(r"^\s*(?:import|from)\s+opencc\b|OpenCC\(", re.M),
}


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if "migrations/versions" not in p.as_posix())


def copies_in(text: str) -> list[str]:
    return [what for what, pattern in COPIES.items() if pattern.search(text)]


def test_no_copy_outside_hanzi() -> None:
    found = [f"{p.relative_to(ROOT)}: {what}"
             for p in sources() for what in copies_in(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_check_would_see_a_copy() -> None:
    # Guards against a vacuous pass: the scan reads the packages, and every form the
    # copies were written in is caught.
    assert len(sources()) > 100
    for old in (r'_HAN = "\u3400-\u4dbf\u4e00-\u9fff"', r're.compile(r"[\u4e00-\u9fff]{2,8}")',
                'r"[0-9一-龥]{1,10}"', r'r"\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}"',
                "[\u4e00-\u9fff]", 'Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")',
                "    import opencc  # lazily", 'opencc.OpenCC("t2s")'):
        assert copies_in(old), old
    hanzi = {p.name: copies_in(p.read_text(encoding="utf-8"))
             for p in (ROOT / "hanzi").glob("*.py")}
    assert hanzi["fonts.py"] == ["font path"] and "OpenCC use" in hanzi["folding.py"]
    # ordinary Chinese text and the word "font" are not copies
    assert copies_in('"供用电合同 一户一档" font=f  # the .ttc takes 1 s') == []
    assert copies_in('FONT = "NotoSansCJK-Regular.ttc"') == ["font path"]
