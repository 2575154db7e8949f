"""Field extraction: checksums, OCR repairs, Chinese dates, contract terms, provenance."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from dms.domain.fact_dates import cn_number, parse_date
from dms.domain.facts import extract_facts, locate, valid_credit_code, valid_id_number
from dms.sample_data.identity import make_credit_code, make_resident_id
from tests.classify.conftest import ocr_fixtures


# --- GB 11643 / GB 32100 -------------------------------------------------------------------

def test_resident_id_checksum() -> None:
    rng = random.Random(5)
    for _ in range(200):
        good = make_resident_id(rng, "330106", dt.date(1980, 1, 1)
                                + dt.timedelta(days=rng.randint(0, 9000)), rng.random() < 0.5)
        assert valid_id_number(good)
        bad_check = good[:17] + ("0" if good[17] != "0" else "1")
        assert not valid_id_number(bad_check)
    assert valid_id_number("11010519491231002X")  # the standard's own example
    assert valid_id_number("11010519491231002x")
    assert not valid_id_number("110105194912310021")  # wrong check character
    assert not valid_id_number("110105194913310028")  # month 13
    assert not valid_id_number("11010519491231002")  # 17 characters
    assert not valid_id_number("330110203001015514", today=dt.date(2024, 1, 1))  # born 2030


def test_credit_code_checksum() -> None:
    rng = random.Random(7)
    for _ in range(200):
        code = make_credit_code(rng, "330106")
        assert valid_credit_code(code)
        wrong = code[:17] + ("0" if code[17] != "0" else "1")
        assert not valid_credit_code(wrong)
    assert valid_credit_code("91350100M000100Y43")  # a published code
    assert not valid_credit_code("91350100M000100Y4O")  # O is not in the alphabet
    assert not valid_credit_code("91350100M000100Y4")


def test_invalid_id_number_is_kept_but_marked() -> None:
    facts = extract_facts(["公民身份号码 330110195806305515"])  # check character off by one
    assert facts["id_number"].valid is False
    assert facts["id_number"].note == "checksum_failed"


def test_first_valid_id_is_the_principals_not_the_agents() -> None:
    facts = extract_facts(["委托人：王芳\n身份证号码：11010519491231002X\n受托人：李四\n"
                           "身份证号码：330110195806305514"])
    assert facts["id_number"].value == "11010519491231002X"


def test_credit_code_repaired_from_ocr_noise() -> None:
    # tesseract inserted a lower-case k and read the zeros as O (seen on a real scan)
    facts = extract_facts(["统一社会信用代码 : 914201021JKkOR21NOB"])
    assert facts["credit_code"].value == "914201021JK0R21N0B"
    assert valid_credit_code(facts["credit_code"].value)


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("2024年3月5日", dt.date(2024, 3, 5)), ("2024年03月05日", dt.date(2024, 3, 5)),
    ("2024-03-05", dt.date(2024, 3, 5)), ("2024.3.5", dt.date(2024, 3, 5)),
    ("2024/03/05", dt.date(2024, 3, 5)), ("二〇二四年三月五日", dt.date(2024, 3, 5)),
    ("二零二四年十二月三十一日", dt.date(2024, 12, 31)),
    ("二〇二〇年十月二十日", dt.date(2020, 10, 20)),
    ("2024年2月30日", None), ("没有日期", None),
    # the OCR lost 月 and 日 of a two-digit month and day
    ("2025年0430", dt.date(2025, 4, 30)), ("2025年1332", None), ("2025年04301", None),
])
def test_dates_in_chinese_formats(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_chinese_numbers() -> None:
    assert [cn_number(s) for s in ("一", "十", "十二", "二十", "二十三", "三十一", "五")] == \
        [1, 10, 12, 20, 23, 31, 5]


@pytest.mark.parametrize("text,start,end", [
    ("本合同有效期自2021.04.14起至2031 年03月31日止。", "2021-04-14", "2031-03-31"),
    ("本协议有效期自2021年4月14日至2024- 04-14。", "2021-04-14", "2024-04-14"),
    ("合同有效期：2020-01-01至2024-12-31", "2020-01-01", "2024-12-31"),
    ("本合同有效期自二〇二二年一月一日起至二〇二六年十二月三十一日止", "2022-01-01", "2026-12-31"),
    ("本合同有效期自2023年6月1日起至\n2028年5月31日止。", "2023-06-01", "2028-05-31"),
    # a sample contract as PP-OCRv5 read it under `dms up`: 至, 月 and 日 lost
    ("第条合同有效期本合同有效期 2022.05.21起2025年0430。有效期届满双均未提出书",
     "2022-05-21", "2025-04-30"),
])
def test_contract_term(text: str, start: str, end: str) -> None:
    facts = extract_facts([text], expiring=True)
    assert (facts["contract_start"].value, facts["contract_end"].value) == (start, end)


def test_contract_term_in_years_counts_from_the_signature() -> None:
    facts = extract_facts(["第十条 本合同有效期五年。", "签订日期：2022年3月1日"], expiring=True)
    assert facts["contract_start"].value == "2022-03-01"
    assert facts["contract_end"].value == "2027-02-28"
    assert facts["contract_end"].page_no == 1 and facts["signed_date"].page_no == 2


def test_id_card_validity_is_not_a_contract_term() -> None:
    facts = extract_facts(["有效期限2020.06.28-2040.06.28"], expiring=False)
    assert "contract_end" not in facts


# --- the other fields, from real OCR output ------------------------------------------------------

def test_fields_of_a_real_ocred_contract() -> None:
    fx = ocr_fixtures()["GYDHT"]
    facts = extract_facts(fx["pages"], expiring=True)
    truth = fx["fields"]
    for field in ("contract_no", "customer_no", "credit_code", "contract_start", "contract_end",
                  "capacity_kva"):
        assert facts[field].value == truth[field], field
    assert facts["company"].value == "杭州宏远新材料有限责任公司"
    assert facts["contract_end"].page_no == 2  # the term is a clause on the second page


def test_fields_of_a_traditional_id_card() -> None:
    fx = ocr_fixtures()["SFZM"]
    assert fx["script"] == "traditional"
    facts = extract_facts(fx["pages"])
    assert facts["id_number"].value == fx["fields"]["id_number"]


def test_meter_number_wrapped_over_two_lines() -> None:
    facts = extract_facts(["计量装置安装在产权分界点，電能表資產編號為336334748702\n"
                           "3626522886。"])
    assert facts["meter_no"].value == "3363347487023626522886"


def test_capacity_customer_no_and_address_from_a_form() -> None:
    facts = extract_facts(["户号: 3392966508 | 户名: 王强\n用電地址: 杭州 市余杭区健康路683号\n"
                           "原容量: 50kVA 变更后容量: 100kVA\n申请容量: 80 kVA"])
    assert facts["customer_no"].value == "3392966508"
    assert facts["address"].value == "杭州市余杭区健康路683号"
    assert facts["capacity_kva"].value == "50"  # the first labelled one, not 变更后
    assert facts["name"].value == "王强"


def test_locate_gives_the_values_own_box() -> None:
    fx = ocr_fixtures()["GYDHT"]
    facts = extract_facts(fx["pages"], expiring=True)
    words = fx["words_page1"]
    box = locate(facts["contract_no"].raw, words)
    assert box is not None
    holder = next(w for w in words if facts["contract_no"].value in w["text"])
    hx0, hy0, hx1, hy1 = holder["bbox"]
    assert hx0 <= box[0] < box[2] <= hx1 and (box[1], box[3]) == (hy0, hy1)
    assert locate("不在页面上的文字", words) is None


@pytest.mark.parametrize("page, name", [
    ("变更用电申请书\n户号 5181037115 户名 史国庆\n用电地址 成都市青羊区健康路293号", "史国庆"),
    ("兹证明户号5181037115，户名史国庆，用电地址成都市青羊区健康路293号", "史国庆"),
    ("房屋租赁合同\n出租方（甲方）：赵春梅\n承租方（乙方）：何志刚", "何志刚"),
    ("并网调度协议\n调度方：国网长沙供电公司调度控制中心\n被调度方：何志刚", "何志刚"),
    ("竣工检验意见书\n工程名称：石浩0.22kV接电工程\n户号：3285082637", "石浩"),
])
def test_the_customers_name_from_form_rows_parties_and_works(page: str, name: str) -> None:
    assert extract_facts([page])["name"].value == name


def test_a_name_in_contract_prose_is_not_taken() -> None:
    page = "供用电合同\n户号 5181037115\n用电人应于每月结算日后十五日内交清电费"
    assert "name" not in extract_facts([page])


def test_contract_number_when_ocr_dropped_a_character_of_its_label() -> None:
    for label in ("協議編號", "協編號", "協號"):
        page = f"並網調度協議\n{label}：JSDDXY2023528415\n戶號 3285082637"
        assert extract_facts([page])["contract_no"].value == "JSDDXY2023528415"


@pytest.mark.parametrize(("read", "number"), [
    ("HNGDHT202O498922", "HNGDHT2020498922"),  # dms up's sample, PP-OCRv5
    ("SDGDHT2021I83774", "SDGDHT2021183774"),
    ("GDHT-2024-0O0123", "GDHT-2024-000123"),
    ("JSDDXY2023528415", "JSDDXY2023528415"),  # read right: unchanged
    ("GDHTO2024", "GDHTO2024"),  # a letter after letters is a letter
])
def test_a_contract_number_s_digit_read_as_a_letter_is_the_digit(read: str,
                                                                  number: str) -> None:
    fact = extract_facts([f"供用电合同\n合同编号：{read}\n户号 3285082637"])["contract_no"]
    assert (fact.value, fact.raw) == (number, read)
