"""The facts each document type requires (issue 20) and what a document lacks of them."""
from typing import Any

import pytest

from dms.domain.checklist import END_DATE_FACT, load_checklist, parse_checklist
from dms.domain.reminders import end_date_unknown, expiring_document_types
from dms.errors import ConfigError
from dms.settings import DEFAULT_CONFIG_DIR

CHECKLIST = load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml")


def _checklist(**doc_type: Any) -> dict[str, Any]:
    return {"document_types": {"A": {"name": "a", "step": "s", **doc_type}},
            "business_steps": [{"code": "s", "name": "S"}],
            "business_types": {"B": {"name": "b", "required": ["A"]}}}


def test_the_shipped_checklist_requires_identifiers_and_end_dates() -> None:
    required = {code: t.required_facts for code, t in CHECKLIST.document_types.items()
                if t.required_facts}
    assert required == {"GYDHT": ("contract_no", "contract_end"),
                        "DDXY": ("contract_no", "contract_end"),
                        "SFZM": ("id_number",), "YYZZ": ("credit_code",),
                        "ZBJD": ("meter_no",)}


def test_every_expiring_type_requires_its_end_date() -> None:
    assert expiring_document_types(CHECKLIST)  # not vacuous
    for code in expiring_document_types(CHECKLIST):
        assert END_DATE_FACT in CHECKLIST.document_types[code].required_facts


def test_a_contract_lacking_number_and_end_date_lacks_both_in_checklist_order() -> None:
    assert CHECKLIST.missing_facts("GYDHT", {}) == ["contract_no", "contract_end"]
    assert CHECKLIST.missing_facts("GYDHT", None) == ["contract_no", "contract_end"]
    assert CHECKLIST.missing_facts("GYDHT", {"contract_no": "GD-2024-001"}) == ["contract_end"]
    assert CHECKLIST.missing_facts("DDXY", {"contract_end": "2027-01-31"}) == ["contract_no"]


def test_a_complete_document_lacks_nothing() -> None:
    assert CHECKLIST.missing_facts("GYDHT", {"contract_no": "GD-2024-001",
                                             "contract_end": "2027-01-31"}) == []
    assert CHECKLIST.missing_facts("SFZM", {"id_number": "370102199001013299"}) == []
    assert CHECKLIST.missing_facts("YYZZ", {"credit_code": "91370100MA3C5EXW2E"}) == []


def test_a_blank_value_is_missing() -> None:
    assert CHECKLIST.missing_facts("SFZM", {"id_number": "  "}) == ["id_number"]
    assert CHECKLIST.missing_facts("YYZZ", {"credit_code": None}) == ["credit_code"]


def test_other_facts_do_not_stand_in_for_a_required_one() -> None:
    assert CHECKLIST.missing_facts("SFZM", {"name": "张三", "credit_code": "x"}) == ["id_number"]


def test_untyped_unknown_and_fact_free_types_require_nothing() -> None:
    assert CHECKLIST.missing_facts(None, {}) == []
    assert CHECKLIST.missing_facts("", {}) == []
    assert CHECKLIST.missing_facts("NOPE", {}) == []
    assert CHECKLIST.missing_facts("KCD", {}) == []


def test_an_expiring_type_requires_its_end_date_even_when_the_file_omits_it() -> None:
    cl = parse_checklist(_checklist(expires=True))
    assert cl.document_types["A"].required_facts == (END_DATE_FACT,)
    cl = parse_checklist(_checklist(expires=True, required_facts=["contract_no"]))
    assert cl.document_types["A"].required_facts == ("contract_no", END_DATE_FACT)
    assert parse_checklist(_checklist()).document_types["A"].required_facts == ()


def test_an_unknown_fact_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="requires unknown facts"):
        parse_checklist(_checklist(required_facts=["contract_number"]))
    with pytest.raises(ConfigError, match="must be a list"):
        parse_checklist(_checklist(required_facts="contract_no"))


def test_end_date_unknown_only_for_agreements_without_a_readable_end() -> None:
    assert end_date_unknown(CHECKLIST, "GYDHT", {"contract_no": "GD-1"})
    assert end_date_unknown(CHECKLIST, "DDXY", None)
    assert end_date_unknown(CHECKLIST, "GYDHT", {"contract_end": "not a date"})
    assert not end_date_unknown(CHECKLIST, "GYDHT", {"contract_end": "2027-01-31"})
    assert not end_date_unknown(CHECKLIST, "SFZM", {})
    assert not end_date_unknown(CHECKLIST, None, {})
