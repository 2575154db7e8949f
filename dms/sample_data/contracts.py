"""Multi-page agreements: the supply contract (供用电合同) and the dispatch agreement
(电力调度协议). Numbered clauses (第一条...), a signing page after （以下无正文）."""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from dms.sample_data.blocks import (
    Block, BusinessInfo, DocSpec, Fields, Gap, Line, PageBreak, Para, Sign, Title, _acct, _feeder,
    _ident, _tariff, _voltage, fmt_date,
)
from dms.sample_data.identity import CustomerProfile, contract_no, person_name


def _clauses(texts: list[tuple[str, str]]) -> list[Block]:
    nums = "一二三四五六七八九十"
    out: list[Block] = []
    for i, (head, body) in enumerate(texts):
        n = nums[i] if i < 10 else "十" + nums[i - 10]
        out.append(Para(body, heading=f"第{n}条 {head}"))
    return out


def _signing_page(c: CustomerProfile, r: random.Random, roles: tuple[str, str],
                  signed: dt.date) -> list[Block]:
    """Chinese contracts end the body with （以下无正文） and sign on a separate page."""
    bank = r.choice(("中国工商银行", "中国建设银行", "中国农业银行", "中国银行"))
    acct = "".join(r.choice("0123456789") for _ in range(19))
    ours = [(f"{roles[0]}（盖章）", c.utility), ("法定代表人或委托代理人", person_name(r)),
            ("地址", f"{c.city}{c.district}{r.choice(('电力路', '供电路', '人民路'))}"
                   f"{r.randint(1, 200)}号"), ("电话", "95598")]
    theirs = [(f"{roles[1]}（签章）", c.account_name), ("法定代表人或委托代理人", c.name),
              ("地址", c.address), ("电话", c.phone), ("开户银行", bank), ("账号", acct)]
    return [Line("（以下无正文）", "center"), PageBreak(), Fields(ours), Gap(1), Fields(theirs),
            Sign([f"{roles[0]}签章：", f"{roles[1]}签章："], [person_name(r), c.name],
                 f"签订日期：{fmt_date(signed, r)}", c.utility)]


def gydht(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    label, ident, f = _ident(c)
    start, end = fmt_date(c.contract_start, r), fmt_date(c.contract_end, r)
    parties: list[Block] = [Line(f"合同编号：{c.contract_no}", "right"),
                            Line(f"供电人：{c.utility}"), Line(f"用电人：{c.account_name}"),
                            Line(f"{label}：{ident}"), Line(f"户号：{c.customer_no}"),
                            Line(f"签订地点：{c.city}{c.district}")]
    blocks: list[Block] = [Title("供用电合同", 2.0)] + parties
    if r.random() < 0.4:  # some contracts come with a cover page
        blocks = [Gap(6), Title("供用电合同", 2.4), Gap(4), *parties, PageBreak()]
    blocks.append(Para("为明确供电人和用电人在电力供应与使用中的权利和义务，根据《中华人民共和国"
                       "民法典》《电力供应与使用条例》等规定，经双方协商一致，订立本合同。"))
    blocks += _clauses([
        ("用电地址、性质和容量", f"用电地址为{c.address}，用电性质为{_tariff(c)}，"
                         f"用电容量为{c.capacity_kva}kVA。"),
        ("供电方式", f"供电人以{_voltage(c)}电压向用电人供电，电源为{_feeder(r)}。"),
        ("电价", "按政府主管部门批准的电价标准执行，电价调整时按调整后的标准执行。"),
        ("计量", f"计量装置安装在产权分界点，电能表资产编号为{c.meter_no}。"),
        ("电费结算", "电费按月结算，用电人应于每月结算日后十五日内交清电费，逾期按规定"
                   "承担违约责任。"),
        ("产权分界", "供用电设施的产权分界点为用电人进线电缆与供电人线路的连接处，"
                   "分界点电源侧由供电人负责维护，负荷侧由用电人负责维护。"),
        ("安全用电", "用电人应遵守安全用电规定，不得私自增加容量、转供电或窃电。"),
        ("供电质量", "供电人应按国家标准保证供电质量，因检修需要停电的，应提前公告。"),
        ("违约责任", "任何一方违反本合同约定，应依法承担违约责任并赔偿对方损失。"),
        ("争议解决", f"因履行本合同发生争议，双方协商解决；协商不成的，向{c.city}人民法院"
                   "提起诉讼。"),
        ("合同有效期", f"本合同有效期自{start}起至{end}止。有效期届满双方均未提出书面"
                    "异议的，继续履行。"),
        ("其他", "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。")])
    blocks += _signing_page(c, r, ("供电人", "用电人"), c.contract_start)
    f |= {"contract_no": c.contract_no, "contract_start": c.contract_start.isoformat(),
          "contract_end": c.contract_end.isoformat(), "capacity_kva": str(c.capacity_kva),
          "address": c.address, "customer_no": c.customer_no, "meter_no": c.meter_no}
    return DocSpec("GYDHT", blocks, f | _acct(c))


def ddxy(c: CustomerProfile, b: BusinessInfo, r: random.Random) -> DocSpec:
    no = contract_no(r, c.prov_code, "DDXY", c.contract_start.year)
    start, end = c.contract_start, c.contract_start.replace(year=c.contract_start.year + 3)
    blocks: list[Block] = [Title("电力调度协议", 2.0), Line(f"协议编号：{no}", "right"),
                           Line(f"调度方：{c.utility}电力调度控制中心"),
                           Line(f"被调度方：{c.account_name}"), Line(f"户号：{c.customer_no}")]
    blocks += _clauses([
        ("调度管辖", f"被调度方{c.capacity_kva}kVA受电设施中，进线开关由调度方调度管辖。"),
        ("运行方式", "被调度方应按调度方批准的运行方式运行，不得擅自改变。"),
        ("联系人", f"被调度方运行联系人为{c.name}，联系电话{c.phone}，应保持通讯畅通。"),
        ("操作管理", "倒闸操作应严格执行调度指令和操作票制度，操作完毕立即汇报。"),
        ("事故处理", "发生事故时，被调度方应立即报告并按调度指令处理，事后提交书面报告。"),
        ("有效期", f"本协议有效期自{fmt_date(start, r)}至{fmt_date(end, r)}。")])
    blocks += _signing_page(c, r, ("调度方", "被调度方"), start)
    return DocSpec("DDXY", blocks, {"contract_no": no, "contract_start": start.isoformat(),
                                    "contract_end": end.isoformat(), "customer_no": c.customer_no,
                                    "capacity_kva": str(c.capacity_kva)} | _acct(c))


CONTRACT_BUILDERS: dict[str, Callable[[CustomerProfile, BusinessInfo, random.Random], DocSpec]] = {
    "GYDHT": gydht, "DDXY": ddxy,
}
