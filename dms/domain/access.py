"""The access policy: one table of who (role) may do what (action) on how much (scope).

Written from docs/DOMAIN.md ("Who uses it"); docs/ACCESS.md is generated from this table
(``policy_markdown``) and a test keeps the two equal. Everything that decides access —
web pages, JSON APIs, token APIs, search filters, exports, the dispute view — asks this
table through ``dms.services.access``; nothing else writes a team rule out.

Scopes:
- ``all``: every team's objects;
- ``team``: objects of the actor's own team (a business's team, else its customer's);
- ``own``: objects the actor made: a station's own ingest batches, a person's own loans;
- ``none``: not at all.

Decisions not spelled out in DOMAIN.md (see docs/ACCESS.md):
- Managers (营销部 / 办公室) get statistics, gap reports and the archive's metadata for every
  team, not the scans, OCR text or originals. Their way to an original is a loan: reasoned,
  approved by the archive room (four eyes) and kept in the volume's history.
- Personal data (ID, phone and bank account numbers) is shown unmasked only to the people who
  settle disputes and keep the originals (dispute, archivist) and to administrators; handlers
  and collectors see their own team's documents with those numbers masked in text (the page
  image is the paper they scanned themselves).
- A scanner station (its web account or its token) uploads and reads its own batches only;
  the marketing system's token posts events only.
"""
from __future__ import annotations

from enum import StrEnum

from dms.domain.roles import Role


class Subject(StrEnum):
    """Who acts: the roles of people, plus the upstream marketing system (a token only)."""

    HANDLER = Role.HANDLER.value
    COLLECTOR = Role.COLLECTOR.value
    ARCHIVIST = Role.ARCHIVIST.value
    DISPUTE = Role.DISPUTE.value
    MANAGER = Role.MANAGER.value
    STATION = Role.STATION.value
    ADMIN = Role.ADMIN.value
    SYSTEM = "system"  # 营销系统


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


class Action(StrEnum):
    PUBLIC = "public"                        # login page, language switch, health check
    HOME = "home"                            # the start page and one's own inbox
    CUSTOMER_READ = "customer.read"          # customer lists and pages, archive item pages
    DOCUMENT_READ = "document.read"          # scans, OCR text, originals, full-text search
    DOCUMENT_CLASSIFY = "document.classify"  # type review, key facts edits
    DOCUMENT_REPROCESS = "document.reprocess"
    ITEM_GATE = "item.gate"                  # pass or return an archive item at a gate
    EVENT_LOG = "event.log"                  # the inbound event log
    REPORT_READ = "report.read"              # gap reports, statistics and their exports
    PHYSICAL_READ = "physical.read"          # rooms, boxes, volumes: where the paper is
    PHYSICAL_MANAGE = "physical.manage"      # rooms, boxing, shelving, labels, stock-taking
    LOAN_READ = "loan.read"                  # loan lists (with borrowers' names)
    LOAN_REQUEST = "loan.request"
    LOAN_CANCEL = "loan.cancel"
    LOAN_DECIDE = "loan.decide"              # approve, reject, check out, take back
    DISPUTE_LOOKUP = "dispute.lookup"        # by customer, contract or ID number
    PII_UNMASKED = "pii.unmasked"            # ID, phone and bank account numbers in full
    BATCH_UPLOAD = "batch.upload"            # the station upload API
    BATCH_READ = "batch.read"
    EVENT_POST = "event.post"                # the marketing system's events API
    AUDIT_READ = "audit.read"                # the audit log of reads and changes, its export
    BATCH_PROGRESS = "batch.progress"        # ingest batches and how far their OCR is
    EVENT_RESOLVE = "event.resolve"          # rejected events applied or dismissed, handlers mapped


ACTION_NAMES_ZH = {
    Action.PUBLIC: "公开页面", Action.HOME: "首页与待办", Action.CUSTOMER_READ: "查看客户与档案项",
    Action.DOCUMENT_READ: "查看扫描件与全文检索", Action.DOCUMENT_CLASSIFY: "分类复核与关键信息",
    Action.DOCUMENT_REPROCESS: "重新识别", Action.ITEM_GATE: "档案流转（通过/退回）",
    Action.EVENT_LOG: "接口事件日志", Action.REPORT_READ: "缺件报告与统计（含导出）",
    Action.PHYSICAL_READ: "实体档案位置", Action.PHYSICAL_MANAGE: "组卷装盒上架与盘点",
    Action.LOAN_READ: "借阅记录", Action.LOAN_REQUEST: "申请借阅", Action.LOAN_CANCEL: "取消借阅",
    Action.LOAN_DECIDE: "审批借出归还", Action.DISPUTE_LOOKUP: "纠纷查档",
    Action.PII_UNMASKED: "查看完整身份证号/电话/银行账号", Action.BATCH_UPLOAD: "扫描批次上传",
    Action.BATCH_READ: "扫描批次报告", Action.EVENT_POST: "推送业务事件",
    Action.AUDIT_READ: "查看与导出审计日志",
    Action.EVENT_RESOLVE: "事件对账（处理被拒事件、关联经办人）",
    Action.BATCH_PROGRESS: "扫描批次识别进度",
}

SUBJECT_NAMES_ZH = {
    Subject.HANDLER: "业务经办人", Subject.COLLECTOR: "班组档案收集员",
    Subject.ARCHIVIST: "档案管理员", Subject.DISPUTE: "纠纷处理", Subject.MANAGER: "营销部管理人员",
    Subject.STATION: "扫描站", Subject.ADMIN: "系统管理员", Subject.SYSTEM: "营销系统",
}

# N none, S self (own), T team, A all
N, S, T, A = Scope.NONE, Scope.OWN, Scope.TEAM, Scope.ALL
COLUMNS = tuple(Subject)

# One row per action, one column per subject, in the order of ``COLUMNS``:
#            handler collector archivist dispute manager station admin system
_ROWS: dict[Action, tuple[Scope, ...]] = {
    Action.PUBLIC:             (A, A, A, A, A, A, A, A),
    Action.HOME:               (T, T, A, A, A, S, A, N),
    Action.CUSTOMER_READ:      (T, T, A, A, A, N, A, N),
    Action.DOCUMENT_READ:      (T, T, A, A, N, N, A, N),
    Action.DOCUMENT_CLASSIFY:  (T, T, A, N, N, N, A, N),
    Action.DOCUMENT_REPROCESS: (N, N, A, N, N, N, A, N),
    Action.ITEM_GATE:          (T, T, A, N, N, N, A, N),
    Action.EVENT_LOG:          (N, N, A, N, A, N, A, N),
    Action.REPORT_READ:        (T, T, A, N, A, N, A, N),
    Action.PHYSICAL_READ:      (T, T, A, A, A, N, A, N),
    Action.PHYSICAL_MANAGE:    (N, N, A, N, N, N, A, N),
    Action.LOAN_READ:          (S, S, A, S, S, N, A, N),
    Action.LOAN_REQUEST:       (T, T, A, A, A, N, A, N),
    Action.LOAN_CANCEL:        (S, S, A, S, S, N, A, N),
    Action.LOAN_DECIDE:        (N, N, A, N, N, N, A, N),
    Action.DISPUTE_LOOKUP:     (T, T, A, A, N, N, A, N),
    Action.PII_UNMASKED:       (N, N, A, A, N, N, A, N),
    Action.BATCH_UPLOAD:       (N, N, N, N, N, S, N, N),
    Action.BATCH_READ:         (N, N, N, N, N, S, N, N),
    Action.EVENT_POST:         (N, N, N, N, N, N, N, A),
    Action.AUDIT_READ:         (N, N, N, N, N, N, A, N),
    Action.EVENT_RESOLVE:      (N, N, N, N, N, N, A, N),
    # batch sources and counts only, no customer data; a station's own batches: its token
    Action.BATCH_PROGRESS:     (A, A, A, A, A, N, A, N),
}
assert set(_ROWS) == set(Action) and all(len(r) == len(COLUMNS) for r in _ROWS.values())

POLICY: dict[Action, dict[Subject, Scope]] = {
    action: dict(zip(COLUMNS, row, strict=True)) for action, row in _ROWS.items()}

# Actions a signed-in person can never get: they come with a token, not a session.
TOKEN_ACTIONS = frozenset({Action.BATCH_UPLOAD, Action.BATCH_READ, Action.EVENT_POST})


def scope(who: Role | Subject | str, action: Action) -> Scope:
    """How far ``who`` may do ``action``; an unknown role may do nothing."""
    try:
        subject = Subject(str(who))
    except ValueError:
        return Scope.NONE
    return POLICY[action][subject]


def allowed(who: Role | Subject | str, action: Action) -> bool:
    return scope(who, action) is not Scope.NONE


def sees_all_teams(role: Role | str, action: Action = Action.CUSTOMER_READ) -> bool:
    return scope(role, action) is Scope.ALL


def in_scope(sc: Scope, *, actor_team_id: int | None, object_team_id: int | None,
             actor_owns: bool = False) -> bool:
    """Whether an object of ``object_team_id`` (owned by the actor or not) is within ``sc``."""
    if sc is Scope.ALL:
        return True
    if sc is Scope.TEAM:
        return actor_team_id is not None and actor_team_id == object_team_id
    if sc is Scope.OWN:
        return actor_owns
    return False


_SCOPE_CELLS = {Scope.NONE: "—", Scope.OWN: "own 本人", Scope.TEAM: "team 本班组",
                Scope.ALL: "all 全部"}


def policy_markdown() -> str:
    """The table as docs/ACCESS.md shows it (Chinese first, English beside)."""
    head = "| 操作 / action | " + " | ".join(
        f"{SUBJECT_NAMES_ZH[s]} / {s.value}" for s in COLUMNS) + " |"
    rule = "|---|" + "---|" * len(COLUMNS)
    rows = [f"| {ACTION_NAMES_ZH[a]} / `{a.value}` | "
            + " | ".join(_SCOPE_CELLS[POLICY[a][s]] for s in COLUMNS) + " |" for a in Action]
    return "\n".join([head, rule, *rows]) + "\n"
