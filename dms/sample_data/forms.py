"""What each document type says: abstract blocks (``dms.sample_data.blocks``), no pixels.

A builder returns a :class:`DocSpec` (blocks + the key fields it shows). The renderer
decides how the blocks look (ruled table or ``label：value`` lines, fonts, margins),
so one builder yields many different-looking documents. Text is written in
simplified Chinese; the renderer converts it for traditional variants. The multi-page
agreements have builders of their own (``dms.sample_data.contracts``); :func:`build`
serves both.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from dms.sample_data.blocks import (
    Block, BusinessInfo, Checks, DocSpec, Fields, Gap, IdCard, Line, Para, Sign, Table, Title,
    _acct, _feeder, _ident, _tariff, _voltage, fmt_date,
)
from dms.sample_data.contracts import CONTRACT_BUILDERS
from dms.sample_data.identity import (
    CustomerProfile,
    make_credit_code,
    person_name,
)


CHANGE_TYPES = {"CAP_INC": "增容", "CAP_DEC": "减容", "TRANSFER": "过户", "RENAME": "更名",
                "CLOSE": "销户", "CATEGORY_CHANGE": "改类", "SUSPEND": "暂停"}


def _header(c: CustomerProfile, r: random.Random, number: str = "") -> list[Block]:
    out: list[Block] = []
    if r.random() < 0.7:
        out.append(Line(c.utility, "center", 1.15))
    return out + ([Line(number, "right", 0.9)] if number else [])


def ydsqs(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    label, ident, f = _ident(c)
    items = [("户名", c.account_name), (label, ident), ("用电地址", c.address),
             ("申请容量", f"{c.capacity_kva}kVA"), ("用电类别", _tariff(c)),
             ("联系人", c.name), ("联系电话", c.phone), ("申请日期", fmt_date(b.accept_date, r))]
    f |= {"address": c.address, "capacity_kva": str(c.capacity_kva), "name": c.name}
    if c.company:
        items.insert(2, ("法定代表人", c.name))
        f["company"] = c.company
    if r.random() < 0.6:
        items.insert(0, ("户号", c.customer_no))
        f["customer_no"] = c.customer_no
    blocks = _header(c, r, f"业务编号：{b.business_no}") + [Title("用电申请书"), Fields(items)]
    blocks += [Line("用电需求说明：", "left"),
               Para(f"本户因{r.choice(('新建住宅', '生产经营', '商铺开业', '厂房投产'))}需要，"
                    f"申请在上述地址新装用电，申请容量{c.capacity_kva}kVA，所提供资料真实有效。"),
               Sign(["申请人（签字/盖章）："], [c.name], fmt_date(b.accept_date, r),
                    c.company if c.company and r.random() < 0.7 else "")]
    return DocSpec("YDSQS", blocks, f)


def bgsq(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    opts = list(CHANGE_TYPES.values())
    change = b.change_type or r.choice(opts)
    new_cap = c.capacity_kva
    items = [("户号", c.customer_no), ("户名", c.account_name), ("用电地址", c.address),
             ("原容量", f"{c.capacity_kva}kVA"), ("联系电话", c.phone)]
    if change in ("增容", "减容"):
        new_cap = c.capacity_kva * 2 if change == "增容" else max(c.capacity_kva // 2, 4)
        items.append(("变更后容量", f"{new_cap}kVA"))
    reason = {"增容": "生产规模扩大，现有容量不足", "减容": "部分设备停运，减少容量",
              "过户": "房屋产权已转让", "更名": "单位名称已变更", "销户": "不再用电，申请销户",
              "改类": "用电性质发生变化", "暂停": "设备检修，申请暂停用电"}[change]
    blocks = _header(c, r, f"申请编号：{b.business_no}") + [
        Title("变更用电申请书"), Fields(items), Checks("变更类型：", opts, opts.index(change)),
        Line("变更原因：", "left"), Para(reason + "，特此申请，请予办理。"),
        Sign(["申请人（签章）："], [c.name], fmt_date(b.accept_date, r),
             c.company if c.company and r.random() < 0.6 else "")]
    return DocSpec("BGSQ", blocks, {"customer_no": c.customer_no, "address": c.address} | _acct(c))


def sfzm(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    born = c.born
    front = [("姓名", c.name), ("性别", "男" if c.male else "女"), ("民族", c.ethnic),
             ("出生", f"{born.year}年{born.month}月{born.day}日"), ("住址", c.id_address)]
    issued = dt.date(min(b.accept_date.year - 1, 2022), born.month, min(born.day, 28))
    years = 20 if (issued.year - born.year) < 46 else 0
    until = "长期" if not years else f"{issued.year + years}.{issued:%m.%d}"
    back = [("签发机关", f"{c.city}公安局{c.district}分局"),
            ("有效期限", f"{issued:%Y.%m.%d}-{until}")]
    blocks: list[Block] = [IdCard(front, c.id_number, back)]
    if r.random() < 0.7:
        blocks.append(Line("此复印件仅供办理用电业务使用，他用无效。", "center"))
    if c.company and r.random() < 0.5:
        blocks.insert(0, Line(f"{c.company} 法定代表人身份证复印件", "center", 1.1))
    return DocSpec("SFZM", blocks, {"name": c.name, "id_number": c.id_number})


def yyzz(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    company, credit = c.company or f"{c.city.removesuffix('市')}{c.name}便利店", c.credit_code
    if not credit:  # an individual business (个体工商户) run by a resident customer
        credit = make_credit_code(r, c.id_number[:6], "92")
    firm = bool(c.company)
    founded = c.contract_start - dt.timedelta(days=r.randint(200, 3000))
    items = [("统一社会信用代码", credit), ("名称", company),
             ("类型", r.choice(("有限责任公司（自然人投资或控股）", "股份有限公司（非上市）",
                              "有限责任公司（法人独资）")) if firm else "个体工商户"),
             ("法定代表人" if firm else "经营者", c.name),
             ("注册资本", f"{r.choice((50, 100, 200, 500, 1000))}万元人民币"),
             ("成立日期", f"{founded.year}年{founded.month:02d}月{founded.day:02d}日"),
             ("营业期限", f"{founded.year}年{founded.month:02d}月{founded.day:02d}日至长期"),
             ("住所", c.address),
             ("经营范围", "生产、销售；技术开发、技术咨询；货物进出口（依法须经批准的项目，"
                      "经相关部门批准后方可开展经营活动）")]
    blocks: list[Block] = [Title("营业执照", 2.2), Line("（副本）", "center"), Fields(items),
                           Sign(["登记机关"], [],
                                f"{founded.year}年{founded.month}月{founded.day}日",
                                f"{c.city}{c.district}市场监督管理局")]
    if r.random() < 0.6:
        blocks.append(Line("与原件一致", "right", 1.2))
    return DocSpec("YYZZ", blocks, {"company": company, "credit_code": credit, "name": c.name,
                                    "address": c.address}, framed=True)


def cqzm(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    area = f"{r.uniform(45, 160):.2f}" if not c.company else f"{r.uniform(300, 8000):.2f}"
    holder = c.account_name
    f = {"address": c.address} | _acct(c)
    if r.random() < 0.7 or c.company:
        no = f"{c.province_abbr}（{b.accept_date.year - r.randint(1, 8)}）{c.city}不动产权第" \
             f"{r.randint(1, 999999):07d}号"
        items = [("权利人", holder), ("共有情况", "单独所有"), ("坐落", c.address),
                 ("不动产单元号", f"{c.id_number[:6]}{r.randint(1, 999):03d}{r.randint(1, 999):03d}"
                               f"GB{r.randint(1, 99999):05d}F{r.randint(1, 9999):08d}"),
                 ("权利类型", "国有建设用地使用权/房屋所有权"), ("权利性质", "出让/市场化商品房"),
                 ("用途", "城镇住宅用地/住宅" if not c.company else "工业用地/工业"),
                 ("面积", f"共有宗地面积{r.randint(5000, 90000)}㎡/房屋建筑面积{area}㎡"),
                 ("使用期限", f"{r.randint(2003, 2018)}年至{r.randint(2053, 2088)}年止")]
        return DocSpec("CQZM", [Title("不动产权证书", 2.0), Line(no, "center"), Fields(items)],
                       f, framed=True)
    landlord = person_name(r)
    blocks: list[Block] = [Title("房屋租赁合同"), Line(f"出租方（甲方）：{landlord}"),
                           Line(f"承租方（乙方）：{holder}"),
                           Para(f"甲方将坐落于{c.address}的房屋（建筑面积{area}平方米）出租给乙方"
                                f"使用，租赁期限自{fmt_date(b.day(-30), r)}起共"
                                f"{r.randint(1, 5)}年。"),
                           Para("租赁期间的水、电、燃气等费用由乙方承担，甲方同意乙方以本人名义"
                                "办理用电手续。"),
                           Sign(["甲方（签字）：", "乙方（签字）："], [landlord, holder],
                                fmt_date(b.day(-30), r))]
    return DocSpec("CQZM", blocks, f)


def kcd(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    d = b.day(r.randint(1, 3))
    staff = [person_name(r), person_name(r)]
    meter = "高供高计" if c.capacity_kva >= 315 else "低供低计"
    items = [("户号", c.customer_no), ("户名", c.account_name), ("用电地址", c.address),
             ("申请容量", f"{c.capacity_kva}kVA"), ("勘查日期", fmt_date(d, r)),
             ("勘查人员", "、".join(staff)), ("电源点", _feeder(r)), ("计量方式", meter),
             ("接入方案", f"从{_voltage(c)}线路T接，新建{r.choice(('电缆', '架空线'))}"
                      f"{r.randint(30, 400)}米")]
    blocks = _header(c, r, f"工单编号：KC{b.business_no}") + [
        Title("现场勘查工作单"), Fields(items), Line("现场情况：", "left"),
        Para(f"现场具备供电条件，{r.choice(('周边有公用变压器', '附近有10kV线路'))}，"
             f"用电设备主要为{r.choice(('照明及空调', '生产机床', '冷库压缩机', '电梯及水泵'))}，"
             "未发现安全隐患。"),
        Sign(["勘查人员签字：", "客户签字："], [staff[0], c.name], fmt_date(d, r))]
    return DocSpec("KCD", blocks, {"customer_no": c.customer_no, "address": c.address,
                                   "capacity_kva": str(c.capacity_kva)} | _acct(c))


def gdfa(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    d = b.day(r.randint(3, 10))
    items = [("户号", c.customer_no), ("户名", c.account_name), ("用电地址", c.address),
             ("供电电压", _voltage(c)), ("供电容量", f"{c.capacity_kva}kVA"),
             ("电源", _feeder(r)),
             ("计量方案", ("高供高计" if c.capacity_kva >= 315 else "低供低计")
              + "，安装智能电能表"),
             ("方案有效期", "一年"), ("答复日期", fmt_date(d, r))]
    blocks = _header(c, r, f"编号：FA{b.business_no}") + [
        Title("供电方案答复单"), Fields(items),
        Para("请贵户按本方案委托具备资质的单位进行受电工程设计与施工，方案有效期内未实施的，"
             "须重新办理。"),
        Sign(["供电企业（盖章）："], [], fmt_date(d, r), c.utility if r.random() < 0.8 else "")]
    return DocSpec("GDFA", blocks, {"customer_no": c.customer_no, "address": c.address,
                                    "capacity_kva": str(c.capacity_kva)} | _acct(c))


def _project(c: CustomerProfile) -> str:
    return f"{c.account_name}{_voltage(c)}{'配电' if c.capacity_kva >= 250 else '接电'}工程"


def _opinion(c: CustomerProfile, b: BusinessInfo, r: random.Random, code: str, title: str,
             items: list[str], verdict: str) -> DocSpec:
    d = b.day(r.randint(8, 40))
    head = [("工程名称", _project(c)), ("户号", c.customer_no), ("用电地址", c.address),
            ("容量", f"{c.capacity_kva}kVA")]
    if code == "SJSC":
        firm = r.choice(("电力设计院有限公司", "恒源电力工程设计有限公司"))
        head.insert(1, ("设计单位", c.city.removesuffix("市") + firm))
    rows = [[str(i + 1), it, r.choice(("符合要求", "合格", "满足规范"))]
            for i, it in enumerate(items)]
    blocks = _header(c, r) + [Title(title), Fields(head), Table(["序号", "项目", "结果"], rows),
                              Line("意见：", "left"),
                              Para(r.choice(("经审查，资料齐全，符合国家及行业有关标准。",
                                             "现场未发现缺陷，无需整改。",
                                             "存在接地标识不清问题，已现场整改完毕。"))),
                              Line(f"结论：{verdict}", "left"),
                              Sign(["检查人员：", "客户代表："], [person_name(r), c.name],
                                   fmt_date(d, r), c.utility if r.random() < 0.5 else "")]
    return DocSpec(code, blocks, {"customer_no": c.customer_no, "address": c.address,
                                  "capacity_kva": str(c.capacity_kva)} | _acct(c))


def sjsc(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    return _opinion(c, b, r, "SJSC", "受电工程设计审查意见书",
                    ["主接线方案", "设备选型", "继电保护配置", "计量装置设计", "无功补偿"],
                    "审查通过，同意按此设计施工")


def zjjc(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    return _opinion(c, b, r, "ZJJC", "中间检查意见书",
                    ["电缆沟及电缆敷设（隐蔽工程）", "接地装置", "配电室土建", "设备基础"],
                    "合格，同意继续施工")


def jgjy(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    return _opinion(c, b, r, "JGJY", "竣工检验意见书",
                    ["变压器及高低压设备", "电气试验报告", "接地电阻测试", "安全工器具",
                     "计量装置"], "合格，同意送电")


def zbjd(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    d = b.day(r.randint(10, 60))
    ct = "直接接入" if c.capacity_kva < 100 else f"{r.choice((100, 200, 300, 400))}/5"
    items = [("户号", c.customer_no), ("户名", c.account_name), ("用电地址", c.address),
             ("电能表资产编号", c.meter_no), ("表底示数", f"{r.uniform(0, 30):.2f}"),
             ("互感器变比", ct), ("装表日期", fmt_date(d, r)),
             ("装表人员", f"{person_name(r)}、{person_name(r)}")]
    blocks = _header(c, r, f"工单号：ZB{b.business_no}") + [
        Title("装拆表工作单"), Checks("工作类型：", ["新装", "换表", "拆表"], 0), Fields(items),
        Para("客户确认：电能表安装位置、表底示数无误，封印完好。", indent=False),
        Sign(["客户签字："], [c.name], fmt_date(d, r))]
    return DocSpec("ZBJD", blocks, {"customer_no": c.customer_no, "address": c.address,
                                    "meter_no": c.meter_no} | _acct(c))


def jfpz(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    d = b.accept_date
    blocks = _header(c, r) + [
        Title("电费结清证明"), Gap(1),
        Para(f"兹证明户号{c.customer_no}，户名{c.account_name}，用电地址{c.address}，截至"
             f"{fmt_date(d, r)}，已结清全部电费，欠费金额0.00元。"),
        Para("特此证明。"), Gap(1),
        Sign([f"{c.utility}营业厅（盖章）"], [], fmt_date(d, r), f"{c.utility}营业厅")]
    return DocSpec("JFPZ", blocks, {"customer_no": c.customer_no, "address": c.address} | _acct(c))


def sqwts(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    principal = c.account_name
    label, ident, f = _ident(c)
    until = b.day(r.choice((30, 90, 180)))
    blocks: list[Block] = [
              Title("授权委托书"), Line(f"委托人：{principal}"), Line(f"{label}：{ident}"),
              Line(f"受托人：{c.agent_name}"), Line(f"身份证号码：{c.agent_id}"),
              Para(f"现委托{c.agent_name}作为我方代理人，代为办理位于{c.address}的"
                   f"{b.type_name}用电业务，包括提交资料、签署相关文件。代理人在其权限范围内签署"
                   "的一切文件，我方均予以承认。"),
              Para(f"委托期限：自{fmt_date(b.accept_date, r)}至{fmt_date(until, r)}。"),
              Para("受托人无转委托权。", indent=True),
              Sign(["委托人（签字/盖章）：", "受托人（签字）："], [c.name, c.agent_name],
                   fmt_date(b.accept_date, r), c.company if c.company else "")]
    return DocSpec("SQWTS", blocks, f | {"address": c.address} | _acct(c))


BUILDERS: dict[str, Callable[[CustomerProfile, BusinessInfo, random.Random], DocSpec]] = {
    "YDSQS": ydsqs, "BGSQ": bgsq, "SFZM": sfzm, "YYZZ": yyzz, "CQZM": cqzm, "SQWTS": sqwts,
    "KCD": kcd, "GDFA": gdfa, "SJSC": sjsc, "ZJJC": zjjc, "JGJY": jgjy, "ZBJD": zbjd,
    "JFPZ": jfpz,
}


def build(doc_type: str, c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    builder = BUILDERS.get(doc_type) or CONTRACT_BUILDERS.get(doc_type)
    if builder is None:
        raise ValueError(f"unknown document type {doc_type!r}")
    return builder(c, b, r)
