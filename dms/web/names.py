"""Chinese names of the codes pages would otherwise print as they are stored (roles,
task kinds and statuses, audit actions, event statuses): one place, template globals."""
from __future__ import annotations

from flask import Flask

from dms.domain.lifecycle import GATE_NAMES_ZH
from dms.domain.reminders import TaskKind
from dms.domain.roles import ROLE_NAMES_ZH

TASK_KIND_NAMES_ZH = {TaskKind.DIGITISE.value: "资料数字化并发送",
                      TaskKind.TRANSFER.value: "纸质资料移交档案室"}
TASK_STATUS_NAMES_ZH = {"open": "进行中", "done": "已完成"}
EVENT_STATUS_NAMES_ZH = {"accepted": "已接收", "rejected": "已拒绝"}
ACTION_NAMES_ZH = {
    "transition": "状态变更", "step_completed": "业务环节完成", "business_typed": "业务类型确定",
    "customer_created": "客户建档", "event_applied": "按事件处理", "event_dismissed": "忽略事件",
    "handler_mapped": "关联经办人", "classified": "分类", "type_corrected": "更正类型",
    "fact_edited": "修改要素", "ocr_finished": "识别完成", "ocr_failed": "识别失败",
    "page_ocr_failed": "页面识别失败", "ocr_reprocess": "重新识别",
    "document_deleted": "删除文档", "volume_formed": "组卷", "volume_boxed": "装盒",
    "box_moved": "移动档案盒", "boxes_created": "建档案盒", "room_configured": "配置库房",
    "stock_take": "盘点",
}


def register_names(app: Flask) -> None:
    @app.context_processor
    def _names() -> dict[str, object]:
        return {"role_names": {r.value: n for r, n in ROLE_NAMES_ZH.items()},
                "task_kind_names": TASK_KIND_NAMES_ZH,
                "task_status_names": TASK_STATUS_NAMES_ZH,
                "event_status_names": EVENT_STATUS_NAMES_ZH,
                "action_names": ACTION_NAMES_ZH, "gate_names": GATE_NAMES_ZH}
