"""Rules from config/doc_types.yaml: every checklist type, from real OCR output, in both
scripts, in wordings our sample generator never produces; unknown documents get no type."""
from __future__ import annotations

import pytest

from dms.domain.checklist import load_checklist
from dms.domain.classify_rules import (UNKNOWN, Prediction, RuleSet, classify_text, combine,
                                       load_rules, normalise, parse_rules)
from dms.errors import ConfigError
from dms.settings import DEFAULT_CONFIG_DIR
from tests.classify.conftest import ocr_fixtures, to_traditional

TYPES = list(load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml").document_types)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(DEFAULT_CONFIG_DIR / "doc_types.yaml", TYPES)


def test_fixtures_cover_every_checklist_type() -> None:
    assert sorted(ocr_fixtures()) == sorted(TYPES)


@pytest.mark.parametrize("doc_type", TYPES)
def test_each_type_from_real_ocr_output(rules: RuleSet, doc_type: str) -> None:
    pred = classify_text(rules, ocr_fixtures()[doc_type]["pages"])
    assert pred.doc_type == doc_type, pred.evidence.get(doc_type)
    assert pred.confidence >= 0.9


@pytest.mark.parametrize("doc_type", TYPES)
def test_each_type_in_traditional_characters(rules: RuleSet, doc_type: str) -> None:
    fixture = ocr_fixtures()[doc_type]
    pages = [to_traditional(p) for p in fixture["pages"]]
    assert pages != fixture["pages"] or fixture["script"] == "traditional"
    assert classify_text(rules, pages).doc_type == doc_type


# Wordings of other utilities' forms: none of these titles or layouts is produced by
# dms.sample_data, so passing them means the rules describe types, not our templates.
UNSEEN = {
    "YDSQS": "低压居民生活用电报装申请表\n申请人 王小明 证件号码 略\n"
             "报装地址 长沙市岳麓区麓山路8号\n报装容量 8千瓦 用电性质 居民生活\n"
             "申请人签名 日期 2023年5月6日",
    "BGSQ": "客户用电变更申请表\n户号 4301234567 户名 李娟\n申请事项 □增容 ☑过户 □销户\n"
            "变更原因 房屋已出售 新户主 赵强",
    "SFZM": "常住人口登记卡\n户主姓名 陈建国 与户主关系 户主\n姓名 陈建国 性别 男 民族 汉\n"
            "出生日期 1968年3月2日 住址 成都市青羊区文化路12号",
    "YYZZ": "营 业 执 照\n统一社会信用代码 92510105MA6C123456\n名称 成都市青羊区阿强小吃店\n"
            "经营者 张阿强 组成形式 个人经营 注册日期 2020年1月2日\n登记机关 青羊区市场监督管理局",
    "CQZM": "房屋租赁协议\n出租人（甲方）：周平\n承租人（乙方）：吴磊\n甲方将位于济南市历下区"
            "解放路3号的门面房出租给乙方，租期两年，月租金3000元。",
    "SQWTS": "法定代表人授权书\n本人孙海系济南鑫达商贸有限公司法定代表人，现授权我公司员工"
             "刘洋为代理人，代表公司办理用电业务。代理人无转委托权。",
    "KCD": "现场勘察记录表\n勘察时间 2022年7月1日\n勘察人员 郑伟 王涛\n供电电源 10kV东风线\n"
           "现场是否具备供电条件 是\n勘察意见 可以接入",
    "GDFA": "高压供电方案告知书\n贵单位申请的用电，经研究确定供电方案如下：供电电压10千伏，"
            "供电容量630千伏安，计量方案高供高计。本方案有效期一年。",
    "SJSC": "受电工程设计文件审查意见\n工程名称 某厂配电工程\n设计单位 某设计院\n"
            "审查结论 图纸审查通过，请按审查意见修改后施工",
    "ZJJC": "受电工程中间检查结果通知书\n隐蔽工程 接地网 已检查\n检查结论 合格\n整改意见 无",
    "JGJY": "受电工程竣工验收单\n验收项目 变压器 开关柜 接地\n验收结论 验收合格，同意送电",
    "GYDHT": "居民供用电合同\n供电人：国网济南供电公司\n用电人：韩梅\n第一条 用电地址\n"
             "第二条 电费结算 按月抄表\n第三条 违约责任\n本合同有效期五年。",
    "DDXY": "并网调度协议\n甲方（调度方）：某市电力调度控制中心\n乙方：某光伏电站\n"
            "乙方应服从调度指令，倒闸操作执行操作票制度。",
    "ZBJD": "电能计量装接单\n户号 3701234567\n表号 3300000000000000000001\n起度 0.00 止度\n"
            "装接人员 马超 装接日期 2022年8月8日 封印号 A123",
    "JFPZ": "无欠费证明\n经查询，户号3701234567用户截至2023年1月1日无欠费记录。\n特此证明。",
}


@pytest.mark.parametrize("doc_type", TYPES)
def test_unseen_wordings_of_every_type(rules: RuleSet, doc_type: str) -> None:
    pred = classify_text(rules, [UNSEEN[doc_type]])
    assert pred.doc_type == doc_type, (pred.doc_type, pred.evidence.get(doc_type))


@pytest.mark.parametrize("text", [
    "增值税专用发票\n购买方 名称 某公司\n销售方 某公司\n价税合计 壹仟元整\n开票人 张三",
    "会议纪要\n时间 2023年3月1日 地点 三楼会议室\n参会人员 全体\n议题 年度工作计划",
    "",
    "~~ ## .. ||| a e o",
])
def test_unknown_documents_get_no_type(rules: RuleSet, text: str) -> None:
    pred = classify_text(rules, [text])
    assert pred.doc_type == UNKNOWN
    assert pred.confidence < 0.6


def test_ocr_damaged_title_still_counts(rules: RuleSet) -> None:
    # tesseract doubled a character of the title and split it with spaces
    pred = classify_text(rules, ["國網杭州供電公司\n用電申請 請書ea\n戶名 王強\n申請容量 8kVA"])
    assert pred.doc_type == "YDSQS"
    assert any(e.startswith("title:") for e in pred.evidence["YDSQS"])


def test_title_with_a_dropped_character_still_counts(rules: RuleSet) -> None:
    # PP-OCR on a Traditional page dropped 檢 (and 纜, 礎) it does not know
    page = ("國網長沙供電公司\n中間查意見書\n工程名：何志剛0.22kV接電工程\n戶號：4348003341\n"
            "1 電溝及電敷設（蔽工程）合格\n2 接地裝置 合格\n結：合格，同意續施工")
    pred = classify_text(rules, [page])
    assert pred.doc_type == "ZJJC" and pred.confidence >= 0.6
    assert "title:中间检查意见书" in pred.evidence["ZJJC"]
    # ... but a title sharing only its ending with another type's is no match
    other = classify_text(rules, ["竣工检验意见书\n工程名称 陈明0.4kV接电工程\n同意送电"])
    assert not any(e.startswith("title:") for e in other.evidence["ZJJC"])


def test_longer_title_of_another_type_wins(rules: RuleSet) -> None:
    # 变更用电申请书 contains 用电申请书
    assert classify_text(rules, ["变更用电申请书\n户号 1234567890"]).doc_type == "BGSQ"


def test_normalise_folds_scripts_widths_and_spaces() -> None:
    assert normalise("供用 電合同（副本）：ａｂ") == "供用电合同(副本):AB"


def test_missing_type_in_configuration_is_an_error() -> None:
    with pytest.raises(ConfigError, match="GYDHT"):
        parse_rules({"types": {"YDSQS": {"titles": ["用电申请书"]}}}, ["YDSQS", "GYDHT"])


def test_runners_up_are_ranked(rules: RuleSet) -> None:
    pred = classify_text(rules, ocr_fixtures()["GYDHT"]["pages"])
    ups = pred.runners_up(3)
    assert len(ups) == 3 and "GYDHT" not in [c for c, _ in ups]
    assert ups[0][1] >= ups[1][1] >= ups[2][1]


def _rules_pred(doc_type: str, p: float) -> Prediction:
    return Prediction(doc_type, p, {doc_type: p} if doc_type else {"JFPZ": p}, "rules")


def test_combine_agreement_is_confident_and_disagreement_is_not() -> None:
    agree = combine(_rules_pred("GYDHT", 1.0), {"GYDHT": 0.95, "DDXY": 0.05}, similarity=0.9,
                    novelty_below=0.2, model_version=3)
    assert agree.doc_type == "GYDHT" and agree.confidence > 0.95
    assert agree.method == "rules+model v3"
    disagree = combine(_rules_pred("GYDHT", 1.0), {"DDXY": 0.95, "GYDHT": 0.05}, similarity=0.9,
                       novelty_below=0.2)
    assert disagree.confidence < 0.6


def test_combine_leaves_a_novel_unknown_document_unknown() -> None:
    novel = combine(_rules_pred(UNKNOWN, 0.1), {"CQZM": 0.99, "JFPZ": 0.01}, similarity=0.05,
                    novelty_below=0.2)
    assert novel.doc_type == UNKNOWN and novel.confidence < 0.6
    familiar = combine(_rules_pred(UNKNOWN, 0.1), {"CQZM": 0.99, "JFPZ": 0.01},
                       similarity=0.5, novelty_below=0.2)
    assert familiar.doc_type == "CQZM" and familiar.confidence > 0.8
