"""The small archive every search backend is tested against (see test_index_contract)."""
from __future__ import annotations

import datetime as dt

from search.base import PageDoc

D = dt.date


def corpus() -> list[PageDoc]:
    return [
        PageDoc("1:1", 1, 1, "供用电合同 本合同由供电公司与客户签订。户号 3301234567。",
                "3301234567", customer_name="张三", doc_type="合同", business_type="新装",
                team="A", state="已归档", date=D(2024, 3, 1),
                identifiers=["GDHT-2024-000123", "11010519491231002X"], title="供用电合同"),
        PageDoc("1:2", 1, 2, "电费结算方式：按月结算。Payment Terms apply.", "3301234567",
                customer_name="张三", doc_type="合同", business_type="新装", team="A",
                state="已归档", date=D(2024, 3, 1)),
        # 合 and 同 both occur here, but never next to each other (合作同意书).
        PageDoc("2:1", 2, 1, "增容申请表 合作同意书 客户同意配合现场勘查。参见 GDHT 编号 2024 附件 "
                "000123", "3301234568", customer_name="李四", doc_type="申请表",
                business_type="增容", team="B", state="待审核", date=D(2023, 6, 15)),
        # Traditional characters.
        PageDoc("3:1", 3, 1, "電費繳納通知 本月電費已繳納。", "3301234569", doc_type="发票",
                business_type="新装", team="A", state="已归档", date=D(2022, 1, 10)),
        # Mentions the contract number in its text only (not as an identifier).
        PageDoc("4:1", 4, 1, "销户协议 <script>alert('x')</script> 原合同 GDHT-2024-000123 终止 "
                "electricity CONTRACT", "3301234570", doc_type="合同", business_type="销户",
                team="C", state="已归档", date=D(2021, 12, 31)),
        PageDoc("5:1", 5, 1, "低压居民供用电合同 用电地址 杭州市西湖区", "3301234571",
                doc_type="合同", business_type="新装", team="B", state="已归档",
                date=D(2020, 5, 5)),
        # Near-duplicate of document 1, for more_like_this.
        PageDoc("6:1", 6, 1, "供用电合同 本合同由供电公司与客户签订。户号 3301234999。",
                "3301234999", doc_type="合同", business_type="新装", team="A",
                state="已归档", date=D(2019, 7, 1)),
    ]
