"""The folder convention, the manifest and name handling (pure functions)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dms.domain.checklist import Checklist, load_checklist
from dms.settings import DEFAULT_CONFIG_DIR
from ingest.layout import (Placement, display_name, load_manifest, match_business_type,
                           normalise_rel_path, place)


@pytest.fixture(scope="module")
def checklist() -> Checklist:
    return load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")


def test_customer_only_file(checklist: Checklist) -> None:
    assert place("3301000001_张三/申请书 1.pdf", {}, checklist) == Placement(
        customer_no="3301000001", customer_name="张三")


def test_business_folder_with_type_name_and_code(checklist: Checklist) -> None:
    p = place("3301000001/B2023-0001_低压居民新装/a.pdf", {}, checklist)
    assert p == Placement("3301000001", "B2023-0001", "", "LV_RES_NEW")
    p = place("3301000001/B2023-0002_lv_res_new/a.pdf", {}, checklist)
    assert isinstance(p, Placement) and p.business_type == "LV_RES_NEW"
    p = place("3301000001/B2023-0003_随便写/a.pdf", {}, checklist)
    assert isinstance(p, Placement) and p.business_type == ""


def test_longest_name_wins(checklist: Checklist) -> None:
    assert match_business_type("低压非居民新装", checklist) == "LV_NONRES_NEW"
    assert match_business_type("低压居民新装-张三", checklist) == "LV_RES_NEW"


@pytest.mark.parametrize("rel, reason", [
    ("loose.pdf", "directly in ROOT"),
    ("abc_张三/x.pdf", "does not start with a customer number"),
    ("12345/x.pdf", "does not start with a customer number"),  # 5 digits
    ("3301000001/bad folder/x.pdf", "does not start with a business number"),
    ("3301000001/B2023001/deeper/x.pdf", "nested too deep"),
])
def test_misfits_have_reasons(checklist: Checklist, rel: str, reason: str) -> None:
    result = place(rel, {}, checklist)
    assert isinstance(result, str) and reason in result


def test_manifest_with_bom_overrides_folders(tmp_path: Path, checklist: Checklist) -> None:
    (tmp_path / "manifest.csv").write_bytes(
        "\ufeffpath,customer_no,business_no,doc_type,customer_name,business_type\n"
        "loose.pdf,3301000009,B9,,李四,增容\n"
        "3301000001_张三/c.pdf,,B2023-7,GYDHT,,CAP_DEC\n"
        "bad.pdf,12,,,,\n".encode("utf-8"))
    manifest = load_manifest(tmp_path)
    assert place("loose.pdf", manifest, checklist) == "manifest: invalid business_no 'B9'"
    (tmp_path / "manifest.csv").write_text(
        "path,customer_no,business_no,doc_type,customer_name,business_type\n"
        "loose.pdf,3301000009,B0009,,李四,增容\n"
        "3301000001_张三/c.pdf,,B2023-7,GYDHT,,CAP_DEC\n"
        ".\\sub\\bad.pdf,12,,,,\n", encoding="utf-8-sig")
    manifest = load_manifest(tmp_path)
    assert place("loose.pdf", manifest, checklist) == Placement(
        "3301000009", "B0009", "李四", "CAP_INC", "")
    assert place("3301000001_张三/c.pdf", manifest, checklist) == Placement(
        "3301000001", "B2023-7", "张三", "CAP_DEC", "GYDHT")
    bad = place("sub/bad.pdf", manifest, checklist)
    assert isinstance(bad, str) and "invalid or missing customer_no" in bad


def test_display_names() -> None:
    assert display_name("3301000001_张三/扫描 1.pdf") == ("3301000001_张三/扫描 1.pdf", "")
    text, problem = display_name("a\nb.pdf")
    assert text == "a\\x0ab.pdf" and "control characters" in problem
    raw = b"3301000001_\xd5\xc5\xc8\xfd/x.pdf".decode("utf-8", "surrogateescape")  # GBK 张三
    text, problem = display_name(raw)
    assert "\\xd5" in text and "not valid UTF-8" in problem
    text.encode("utf-8")  # the display form is always storable


@pytest.mark.parametrize("raw, expected, problem", [
    ("3301000001\\B2023001\\a.pdf", "3301000001/B2023001/a.pdf", ""),
    ("./3301000001//a.pdf", "3301000001/a.pdf", ""),
    ("3301000001/../../etc/passwd", "3301000001/../../etc/passwd", "'..'"),
    ("/etc/passwd", "etc/passwd", "absolute"),
    ("C:\\scans\\a.pdf", "C:/scans/a.pdf", "absolute"),
    ("3301000001/.hidden.pdf", "3301000001/.hidden.pdf", "hidden"),
    ("", "", "empty"),
])
def test_normalise_station_paths(raw: str, expected: str, problem: str) -> None:
    rel, why = normalise_rel_path(raw)
    assert rel == expected
    assert (problem in why) if problem else why == ""
