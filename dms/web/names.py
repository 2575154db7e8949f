"""Chinese names of the codes pages would otherwise print as they are stored (roles,
task kinds and statuses, audit actions, event statuses, loans, ingest batches, report
groupings): one place, template globals. Templates show them through ``_()``; the names
are msgids of ``dms.translations`` (``dms.translations.tool`` extracts these tables)."""
from __future__ import annotations

from flask import Flask

from dms.domain.audit import ACTION_NAMES_ZH as AUDIT_ACTION_NAMES_ZH
from dms.domain.lending import LOAN_REASON_NAMES_ZH, LOAN_STATE_NAMES_ZH
from dms.domain.lifecycle import GATE_NAMES_ZH
from dms.domain.reminders import TASK_KIND_NAMES_ZH as TASK_KINDS
from dms.domain.roles import ROLE_NAMES_ZH
from dms.web.i18n import translate
from ingest.report import STATUS_NAMES as BATCH_STATUS_NAMES_ZH

TASK_KIND_NAMES_ZH = TASK_KINDS  # StrEnum keys: found by value
TASK_STATUS_NAMES_ZH = {"open": "进行中", "done": "已完成"}
EVENT_STATUS_NAMES_ZH = {"accepted": "已接收", "rejected": "已拒绝"}
ACTION_NAMES_ZH = AUDIT_ACTION_NAMES_ZH  # one table, the audit log's
# Who did it, when no person did: the actors services write in the audit log and histories.
ACTOR_NAMES_ZH = {"system": "系统", "cli": "命令行", "fsck": "完整性检查", "marketing": "营销系统",
                  "ingest": "入库程序"}
# dms.services.statistics.GROUPS
GROUP_NAMES_ZH = {"team": "班组", "handler": "业务经办人", "business_type": "业务类型",
                  "month": "月份"}


def actor_name(actor: str) -> str:
    """A person's user name as it is; a program's by its name in the request's language."""
    return translate(ACTOR_NAMES_ZH[actor]) if actor in ACTOR_NAMES_ZH else actor


def register_names(app: Flask) -> None:
    app.add_template_filter(actor_name, "actor")

    @app.context_processor
    def _names() -> dict[str, object]:
        return {"role_names": {r.value: n for r, n in ROLE_NAMES_ZH.items()},
                "task_kind_names": TASK_KIND_NAMES_ZH,
                "task_status_names": TASK_STATUS_NAMES_ZH,
                "event_status_names": EVENT_STATUS_NAMES_ZH,
                "action_names": ACTION_NAMES_ZH, "gate_names": GATE_NAMES_ZH,
                "loan_state_names": LOAN_STATE_NAMES_ZH,  # StrEnum keys: found by value
                "loan_reason_names": LOAN_REASON_NAMES_ZH,
                "batch_status_names": BATCH_STATUS_NAMES_ZH, "group_names": GROUP_NAMES_ZH}
