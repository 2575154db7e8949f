"""A fast generator of Chinese customer-archive page text for the search benchmark.

No images: pages are built from the same customer profiles, vocabulary and clause
wording as the scanned sample forms (``dms.sample_data``), at tens of µs a page.
Every page is a ``PageDoc`` as
``dms.services.indexing.page_docs`` would build it: per-document identifiers (contract
no., ID number, credit code, meter no., customer no., business no.), business type,
team, lifecycle state and date.

Identifiers are *planted* with the entity they belong to (``Planted``), so the
benchmark can check that searching one puts the right document on top. About 2 % of
pages mention another customer's contract number in their text (a 销户 agreement citing
the old contract, say) — decoys the exact-identifier match must outrank. About 3 % of
pages are in Traditional characters (OCR of old Hong Kong/Taiwan forms).
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from dms.sample_data.identity import (
    ROADS, TRADES, CustomerProfile, contract_no, make_customer, person_name,
)
from hanzi.folding import dictionary
from search.base import PageDoc

TEAMS = ("YYB", "KHB", "JLB", "DKH", "CN1", "CN2", "CD1", "CD2", "XQ1", "XQ2", "GX1", "GX2")
STATES = ("pending_add", "pending_send", "pending_review", "pending_transfer",
          "pending_shelving", "archived", "archived", "archived")
# business type -> document types of its checklist (config/checklists.yaml), trimmed
BUSINESS_DOCS: dict[str, tuple[str, ...]] = {
    "LV_RES_NEW": ("YDSQS", "SFZM", "CQZM", "GYDHT", "ZBJD"),
    "LV_NONRES_NEW": ("YDSQS", "SFZM", "YYZZ", "CQZM", "KCD", "GDFA", "JGJY", "GYDHT", "ZBJD"),
    "HV_NEW": ("YDSQS", "YYZZ", "KCD", "GDFA", "SJSC", "ZJJC", "JGJY", "GYDHT", "DDXY", "ZBJD"),
    "CAP_INC": ("BGSQ", "SFZM", "KCD", "GDFA", "JGJY", "GYDHT", "ZBJD"),
    "TRANSFER": ("BGSQ", "SFZM", "CQZM", "JFPZ", "GYDHT"),
    "CLOSE": ("BGSQ", "SFZM", "JFPZ", "ZBJD"),
    "SUSPEND": ("BGSQ", "SFZM", "KCD"),
}
TITLES = {"YDSQS": "用电申请书", "BGSQ": "变更用电申请书", "SFZM": "居民身份证复印件",
          "YYZZ": "营业执照", "CQZM": "不动产权证书", "KCD": "现场勘查工作单",
          "GDFA": "供电方案答复单", "SJSC": "受电工程设计审查意见书", "ZJJC": "中间检查意见书",
          "JGJY": "竣工检验意见书", "GYDHT": "供用电合同", "DDXY": "电力调度协议",
          "ZBJD": "装拆表工作单", "JFPZ": "电费结清证明"}
PAGES = {"GYDHT": (3, 6), "DDXY": (2, 4), "GDFA": (1, 3), "SJSC": (1, 2), "KCD": (1, 2)}

# Sentences of the archive's forms and contracts; {x} slots are filled per page.
COMMON = (
    "为明确供电人和用电人在电力供应与使用中的权利和义务，经双方协商一致，订立本合同。",
    "按政府主管部门批准的电价标准执行，电价调整时按调整后的标准执行。",
    "电费按月结算，用电人应于每月结算日后十五日内交清电费，逾期按规定承担违约责任。",
    "供用电设施的产权分界点为用电人进线电缆与供电人线路的连接处，分界点电源侧设施由供电人维护。",
    "计量装置安装在产权分界点，电能表资产编号为{meter}。",
    "用电人不得擅自改变用电类别、超容量用电或转供电，否则按违约用电处理。",
    "供电人因检修需要停电时，应提前七天公告停电区域及时间。",
    "本合同有效期自{start}起至{end}止，期满双方无异议的自动续期。",
    "本户因{reason}需要，申请在上述地址新装用电，申请容量{cap}kVA，所提供资料真实有效。",
    "经现场勘查，电源点为{feeder}，具备接入条件。",
    "现场情况：{road}{num}号，{trade}厂房一座，负荷以动力用电为主，计划{month}月投产。",
    "接入方案：采用{volt}电压单电源供电，计量方式为高供低计。",
    "供电电压{volt}，供电容量{cap}kVA，方案有效期一年，逾期需重新办理。",
    "审查意见：设计图纸符合国家及行业标准，同意按图施工，隐蔽工程请提前报验。",
    "检查结论：接地装置及电缆敷设符合要求，整改项目已于{date}完成。",
    "竣工检验项目包括变压器交接试验、继电保护整定、计量装置接线，检验结论合格。",
    "装表日期{date}，表底示数{reading}，互感器变比{ratio}，装表人员{person}，客户已签字确认。",
    "截至{date}，该户所有电费均已结清，欠费金额0元，特此证明。",
    "委托人{name}委托{person}办理用电业务手续，委托期限自签署之日起三个月。",
    "因{change_reason}，特此申请变更用电，请予办理。",
    "调度管辖范围：{feeder}及用户侧进线开关，运行方式由调度部门统一安排。",
    "联系人：{person}，联系电话{phone}，营业厅地址{city}{district}{road}{num}号。",
    "坐落：{address}，权利人：{name}，用途：{use}，面积{area}平方米。",
    "（以下无正文）",
)
REASONS = ("新建住宅", "生产经营", "商铺开业", "厂房投产", "充电桩建设", "农业灌溉")
CHANGE_REASONS = ("生产规模扩大，现有容量不足", "部分设备停运，减少容量", "房屋产权已转让",
                  "单位名称已变更", "不再用电，申请销户", "设备检修，申请暂停用电")
VOLTS = ("220V", "380V", "10kV", "35kV", "110kV")
USES = ("住宅", "商业", "工业", "办公")


@dataclass(frozen=True)
class Planted:
    """An identifier and the documents any of which is a right answer at rank 1."""

    kind: str  # contract_no | id_number | credit_code | meter_no | customer_no
    value: str
    first_doc: int
    last_doc: int  # inclusive

    def is_right(self, document_id: int) -> bool:
        return self.first_doc <= document_id <= self.last_doc


@dataclass
class Corpus:
    pages: int
    seed: int = 1
    traditional_share: float = 0.03
    decoy_share: float = 0.02
    planted: list[Planted] = field(default_factory=list)
    words: set[str] = field(default_factory=set)  # customer names etc. seen (for queries)


@lru_cache(maxsize=1)
def _s2t_table() -> dict[int, str]:
    """Simplified -> Traditional, first candidate per character (OpenCC's own table)."""
    table: dict[int, str] = {}
    path = dictionary("STCharacters.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        value = values.split(" ")[0]
        if len(key) == 1 and len(value) == 1 and key != value:
            table[ord(key)] = value
    return table


def _fill(r: random.Random, c: CustomerProfile, today: dt.date) -> dict[str, str]:
    return {
        "meter": c.meter_no, "start": f"{c.contract_start:%Y年%m月%d日}",
        "end": f"{c.contract_end:%Y年%m月%d日}", "reason": r.choice(REASONS),
        "cap": str(c.capacity_kva), "feeder": f"110kV{r.choice('东西南北')}郊变电站10kV"
                                              f"{r.choice('一二三四五六')}线{r.randint(1, 60)}号杆",
        "road": r.choice(ROADS), "num": str(r.randint(1, 999)), "trade": r.choice(TRADES),
        "month": str(r.randint(1, 12)), "volt": r.choice(VOLTS), "date": f"{today:%Y年%m月%d日}",
        "reading": f"{r.randint(0, 99999)}.{r.randint(0, 99):02d}",
        "ratio": f"{r.choice((50, 100, 200, 400))}/5",
        "person": person_name(r), "name": c.account_name, "phone": c.phone,
        "change_reason": r.choice(CHANGE_REASONS), "city": c.city, "district": c.district,
        "address": c.address, "use": r.choice(USES), "area": str(r.randint(40, 3000)),
    }


def _first_page(doc_type: str, c: CustomerProfile, business_no: str, contract: str,
                today: dt.date) -> list[str]:
    lines = [c.utility, TITLES[doc_type], f"业务编号：{business_no}", f"户号：{c.customer_no}",
             f"户名：{c.account_name}", f"用电地址：{c.address}"]
    if doc_type == "GYDHT":
        lines += [f"合同编号：{contract}", f"供电人：{c.utility}", f"用电人：{c.account_name}"]
    if doc_type in ("SFZM", "YDSQS", "SQWTS"):
        lines += [f"姓名：{c.name}", f"住址：{c.id_address}", f"公民身份号码：{c.id_number}"]
    if doc_type == "YYZZ" and c.credit_code:
        lines += [f"统一社会信用代码：{c.credit_code}", f"名称：{c.company}",
                  f"法定代表人：{c.name}"]
    if doc_type == "ZBJD":
        lines += [f"电能表资产编号：{c.meter_no}"]
    lines += [f"联系电话：{c.phone}", f"日期：{today:%Y年%m月%d日}"]
    return lines


def _identifiers(doc_type: str, c: CustomerProfile, business_no: str,
                 contract: str) -> list[str]:
    """As page_docs derives them from the document's extracted facts."""
    ids = [c.customer_no, business_no]
    if doc_type == "GYDHT":
        ids.append(contract)
    if doc_type in ("SFZM", "YDSQS"):
        ids.append(c.id_number)
    if doc_type == "YYZZ" and c.credit_code:
        ids.append(c.credit_code)
    if doc_type == "ZBJD":
        ids.append(c.meter_no)
    return sorted(set(ids))


def generate(corpus: Corpus) -> Iterator[PageDoc]:
    """Yield ``corpus.pages`` pages; ``corpus.planted`` is complete once exhausted."""
    r = random.Random(corpus.seed)
    s2t = _s2t_table()
    contracts: list[str] = []  # earlier customers' contract numbers, for decoys
    used_contracts: set[str] = set()
    owners: dict[str, int] = {}  # identifier -> how many customers carry it
    made, doc_id, cust_seed = 0, 0, 0
    while made < corpus.pages:
        cust_seed += 1
        c = make_customer(corpus.seed * 10_000_000 + cust_seed)
        team = TEAMS[cust_seed % len(TEAMS)]
        first_doc = doc_id + 1
        emitted: set[str] = set()  # identifiers this customer's documents carry
        corpus.words.add(c.name)
        for b in range(r.choice((1, 1, 2, 3))):
            btype = r.choice(tuple(BUSINESS_DOCS))
            business_no = f"YK{2015 + r.randint(0, 10)}{cust_seed:07d}{b}"
            state = r.choice(STATES)
            day = dt.date(2015, 1, 1) + dt.timedelta(days=r.randint(0, 3800))
            for doc_type in BUSINESS_DOCS[btype]:
                if made >= corpus.pages:
                    break
                doc_id += 1
                lo, hi = PAGES.get(doc_type, (1, 2))
                n_pages = r.randint(lo, hi)
                # every contract of a customer has its own number (one per business)
                contract = c.contract_no if not b else contract_no(
                    r, c.prov_code, "GDHT", day.year)
                while contract in used_contracts:  # random serials collide at 1M pages
                    contract = contract_no(r, c.prov_code, "GDHT", day.year)
                idents = _identifiers(doc_type, c, business_no, contract)
                emitted.update(idents)
                traditional = r.random() < corpus.traditional_share
                fill = _fill(r, c, day)  # per document: it is the slow part of a page
                for page_no in range(1, n_pages + 1):
                    lines = (_first_page(doc_type, c, business_no, contract, day)
                             if page_no == 1 else [])
                    lines += [s.format(**fill) for s in r.sample(COMMON, r.randint(6, 12))]
                    if contracts and r.random() < corpus.decoy_share:
                        lines.append(f"原供用电合同（编号{r.choice(contracts)}）已终止。")
                    text = "\n".join(lines)
                    if traditional:
                        text = text.translate(s2t)
                    yield PageDoc(
                        page_id=f"{doc_id}:{page_no}", document_id=doc_id, page_no=page_no,
                        text=text, customer_no=c.customer_no, customer_name=c.account_name,
                        business_no=business_no, business_type=btype, doc_type=doc_type,
                        team=team, state=state, date=day, identifiers=idents,
                        title=f"{TITLES[doc_type]} {c.account_name}")
                    made += 1
                if doc_type == "GYDHT":
                    used_contracts.add(contract)
                    contracts.append(contract)
                    corpus.planted.append(Planted("contract_no", contract, doc_id, doc_id))
        for kind, value in (("customer_no", c.customer_no), ("id_number", c.id_number),
                            ("meter_no", c.meter_no), ("credit_code", c.credit_code)):
            if value in emitted:  # planted = present in some document's identifiers
                corpus.planted.append(Planted(kind, value, first_doc, doc_id))
        for value in emitted:
            owners[value] = owners.get(value, 0) + 1
    # Random IDs of different fake customers can coincide; such a value has no single
    # right answer, so it is not checked (a handful in a million pages).
    corpus.planted = [p for p in corpus.planted if owners.get(p.value, 0) <= 1]


WORDS_2 = ("合同", "户号", "电费", "容量", "地址", "申请", "供电", "计量", "检验", "签字",
           "变更", "过户", "电价", "违约", "停电", "装表", "勘查", "方案", "调度", "设计",
           "审查", "整改", "接地", "电缆", "负荷", "投产", "住宅", "商铺", "续期", "公告",
           "厂房", "灌溉", "互感", "坐落", "权利", "证明", "委托", "结清", "欠费", "维护")
WORDS_4 = ("用电地址", "申请容量", "电费结算", "竣工检验", "现场勘查", "供电方案", "营业执照",
           "产权分界", "违约责任", "计量装置", "继电保护", "交接试验", "隐蔽工程", "调度部门",
           "委托期限", "欠费金额", "接入条件", "按图施工", "冷链仓储", "精密铸造", "机械制造",
           "自动续期", "停电区域", "用电类别", "动力用电", "高供低计", "表底示数")
PHRASES = ('"逾期按规定承担违约责任"', '"电能表资产编号"', '"分界点电源侧设施由供电人维护"',
           '"期满双方无异议的自动续期"', '"具备接入条件"', '"同意按图施工"',
           '"所有电费均已结清"', '"供电人 用电人"', '"申请 新装 用电"', '"检验结论合格"',
           '"应提前七天公告"', '"不得擅自改变用电类别"')

