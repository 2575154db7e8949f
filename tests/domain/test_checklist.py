from pathlib import Path

import pytest

from dms.domain.checklist import load_checklist, parse_checklist
from dms.errors import ConfigError
from dms.settings import DEFAULT_CONFIG_DIR

CHECKLIST = load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")


def test_every_business_type_requires_known_documents() -> None:
    assert len(CHECKLIST.business_types) == 10
    for bt in CHECKLIST.business_types.values():
        for code in bt.required:
            assert code in CHECKLIST.document_types


def test_required_for_steps_done_only_counts_documents_of_those_steps() -> None:
    assert CHECKLIST.required_for("LV_RES_NEW", {"accept"}) == ["YDSQS", "SFZM", "CQZM"]
    assert CHECKLIST.required_for("LV_RES_NEW") == ["YDSQS", "SFZM", "CQZM", "GYDHT", "ZBJD"]


def test_power_of_attorney_only_when_an_agent_applied() -> None:
    assert "SQWTS" not in CHECKLIST.required_for("TRANSFER")
    assert "SQWTS" in CHECKLIST.required_for("TRANSFER", agent=True)


def test_missing() -> None:
    assert CHECKLIST.missing("CLOSE", {"BGSQ", "SFZM"}) == ["JFPZ", "ZBJD"]


def test_unknown_business_type_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown business type 'NOPE'"):
        CHECKLIST.required_for("NOPE")


def test_checklist_referring_to_unknown_document_type_is_rejected() -> None:
    data = {"document_types": {"A": {"name": "a", "step": "s"}},
            "business_steps": [{"code": "s", "name": "S"}],
            "business_types": {"B": {"name": "b", "required": ["A", "Z"]}}}
    with pytest.raises(ConfigError, match="unknown document type Z"):
        parse_checklist(data)


def test_missing_checklist_file_says_which_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DMS_CONFIG_DIR"):
        load_checklist(tmp_path / "nope.yaml")
