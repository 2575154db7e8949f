"""Valid-looking fake identifiers and customer profiles.

Every identifier carries a *correct* check character (GB 11643 for resident IDs,
GB 32100 for unified social credit codes) so that extraction code which validates
checksums sees realistic input; none of them belongs to a real person or company
(names, serials and addresses are drawn at random).
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

# --- GB 11643-1999: citizen identification number -----------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def resident_id_check(body17: str) -> str:
    """Check character for the first 17 digits of a resident ID."""
    total = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_resident_id(s: str) -> bool:
    """True when ``s`` is an 18-character resident ID with a plausible birth date
    and a correct GB 11643 check character (a lowercase ``x`` is accepted)."""
    s = s.strip().upper()
    if not _ID_RE.match(s):
        return False
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return resident_id_check(s[:17]) == s[17]


def make_resident_id(rng: random.Random, region: str, born: dt.date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + resident_id_check(body)


# --- GB 32100-2015: unified social credit code ----------------------------------
_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# GB 11714 organisation code (characters 9..17 of the credit code)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_check(body17: str) -> str:
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(body17, _CC_WEIGHTS, strict=True))
    return _CC_CHARS[(31 - total % 31) % 31]


def _org_code_check(body8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "0" if r == 11 else "X" if r == 10 else str(r)


def valid_credit_code(s: str) -> bool:
    """True for an 18-character unified social credit code with a correct
    GB 32100 check character. The embedded organisation code is not checked:
    codes issued to bodies that never had one do not always satisfy GB 11714."""
    s = s.strip().upper()
    if not _CC_RE.match(s):
        return False
    return credit_code_check(s[:17]) == s[17]


def make_credit_code(rng: random.Random, region: str, kind: str = "91") -> str:
    """``kind``: 9 = market regulator, then 1 = enterprise, 2 = individual business.
    The embedded organisation code gets its own valid GB 11714 check."""
    org8 = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    org9 = org8 + _org_code_check(org8)
    body = f"{kind}{region}{org9}"
    return body + credit_code_check(body)


# --- reference lists for fake profiles ------------------------------------------
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建国 志强 文 红"
    " 玉兰 海 鹏 晨 宇 浩 欣 婷 雪 琳 博 思远 子涵 俊 辉 斌 晓东 建华 国庆 春梅 丹 凤 亮 新民"
    " 雨萱 家豪 振华 立新 德明 淑珍 秀兰 永红 海燕 文博 嘉怡 志刚 宏伟"
).split()
ETHNIC = ("汉",) * 12 + ("回", "满", "壮", "蒙古")
# city, province, province abbreviation, romanised prefix, districts with GB/T 2260 codes
CITIES = (
    ("南京市", "江苏省", "苏", "JS", (("玄武区", "320102"), ("秦淮区", "320104"),
        ("建邺区", "320105"), ("鼓楼区", "320106"), ("江宁区", "320115"))),
    ("杭州市", "浙江省", "浙", "ZJ", (("上城区", "330102"), ("拱墅区", "330105"),
        ("西湖区", "330106"), ("滨江区", "330108"), ("余杭区", "330110"))),
    ("武汉市", "湖北省", "鄂", "HB", (("江岸区", "420102"), ("江汉区", "420103"),
        ("武昌区", "420106"), ("洪山区", "420111"))),
    ("成都市", "四川省", "川", "SC", (("锦江区", "510104"), ("青羊区", "510105"),
        ("金牛区", "510106"), ("武侯区", "510107"), ("成华区", "510108"))),
    ("济南市", "山东省", "鲁", "SD", (("历下区", "370102"), ("市中区", "370103"),
        ("槐荫区", "370104"), ("历城区", "370112"))),
    ("长沙市", "湖南省", "湘", "HN", (("芙蓉区", "430102"), ("天心区", "430103"),
        ("岳麓区", "430104"), ("开福区", "430105"), ("雨花区", "430111"))),
)
ROADS = ("中山路", "解放路", "人民路", "建设路", "和平路", "新华路", "长江路", "文化路", "胜利路",
         "东风路", "青年路", "光明路", "北京路", "友谊路", "花园路", "健康路", "工业大道", "科技路")
FIRM_WORDS = ("恒信", "华泰", "金源", "鑫达", "宏远", "瑞丰", "联创", "海润", "中诚", "天元",
              "博远", "正和", "永盛", "德润", "新锐", "嘉禾", "盛华", "汇通", "兴业", "启明")
TRADES = ("机械制造", "食品", "纺织", "电子科技", "物流", "建材", "塑料制品", "商贸", "餐饮管理",
          "酒店管理", "医药", "印务", "精密铸造", "新材料", "冷链仓储")
FIRM_FORMS = ("有限公司", "有限责任公司", "股份有限公司")


@dataclass(frozen=True)
class CustomerProfile:
    """One customer ("一户") and the current state of its supply."""

    customer_no: str  # 户号, 10 digits
    kind: str  # "resident" | "company"
    name: str  # natural person: the resident, or the company's legal representative
    male: bool
    ethnic: str
    born: dt.date
    id_number: str
    id_address: str  # address printed on the ID card
    company: str  # "" for residents
    credit_code: str  # "" for residents
    address: str  # 用电地址
    city: str
    province: str
    province_abbr: str
    prov_code: str  # two-letter romanised province prefix used in document numbers
    district: str
    phone: str
    capacity_kva: int
    contract_no: str
    contract_start: dt.date
    contract_end: dt.date
    meter_no: str
    agent_name: str  # who applies on the customer's behalf (SQWTS)
    agent_id: str

    @property
    def account_name(self) -> str:
        """户名: the name the supply account is registered under."""
        return self.company or self.name

    @property
    def utility(self) -> str:
        return f"国网{self.city.removesuffix('市')}供电公司"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def street_address(rng: random.Random, city: str, district: str, resident: bool) -> str:
    road = rng.choice(ROADS)
    if resident:
        return (f"{city}{district}{road}{rng.randint(1, 399)}号{rng.randint(1, 30)}栋"
                f"{rng.randint(1, 4)}单元{rng.randint(1, 28)}0{rng.randint(1, 4)}室")
    return f"{city}{district}{road}{rng.randint(1, 999)}号"


def contract_no(rng: random.Random, prov: str, kind: str, year: int) -> str:
    return f"{prov}{kind}{year}{rng.randint(1, 999999):06d}"


def make_customer(seed: int, kind: str | None = None) -> CustomerProfile:
    """A consistent fake customer; the same seed always gives the same profile."""
    rng = random.Random(f"customer-{seed}")
    kind = kind or rng.choice(("resident", "resident", "company"))
    city, province, abbr, prov, districts = rng.choice(CITIES)
    district, region = rng.choice(districts)
    male = rng.random() < 0.55
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 52))
    name = person_name(rng)
    resident = kind == "resident"
    company = credit = ""
    if not resident:
        company = (city.removesuffix("市") + rng.choice(FIRM_WORDS) + rng.choice(TRADES)
                   + rng.choice(FIRM_FORMS))
        credit = make_credit_code(rng, region)
    address = street_address(rng, city, district, resident)
    id_address = address if resident and rng.random() < 0.6 else street_address(
        rng, city, district, True)
    if resident:
        capacity = rng.choice((8, 10, 12, 16, 20))
    else:
        capacity = rng.choice((30, 50, 80, 100, 160, 315, 400, 630, 800, 1000, 1250, 2000))
    start = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 5))
    years = rng.choice((3, 5)) if resident else rng.choice((3, 5, 10))
    end = dt.date(start.year + years, start.month, 1) - dt.timedelta(days=1)
    end = max(end, start + dt.timedelta(days=365))
    agent_male = rng.random() < 0.5
    agent_born = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 35))
    return CustomerProfile(
        customer_no=f"{region[:2]}{rng.randint(0, 99_999_999):08d}",
        kind=kind, name=name, male=male, ethnic=rng.choice(ETHNIC), born=born,
        id_number=make_resident_id(rng, region, born, male), id_address=id_address,
        company=company, credit_code=credit, address=address, city=city, province=province,
        province_abbr=abbr, prov_code=prov, district=district,
        phone="1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9)),
        capacity_kva=capacity,
        contract_no=contract_no(rng, prov, "GDHT", start.year),
        contract_start=start, contract_end=end,
        meter_no="33" + "".join(rng.choice("0123456789") for _ in range(20)),
        agent_name=person_name(rng),
        agent_id=make_resident_id(rng, region, agent_born, agent_male),
    )
