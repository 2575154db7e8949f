"""The weekly report per team (周报), delivered to each team leader through the notifier:
the team's completeness, old gaps, timeliness, returns and overdue businesses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db.models import Team, User
from dms.services.container import Services
from dms.services.gap_report import GapFilter
from dms.services.notify import Notice, make_notifier
from dms.services.statistics import completeness, overdue_by_team, return_rates, timeliness

OLD_GAP_DAYS = 7


def team_summary(session: Session, services: Services, team_code: str, now: datetime) -> str:
    """Plain text (the notifier mails text) of one team's week, in Chinese."""
    cl = services.checklist
    below = services.settings.classify_review_below
    teams = (team_code,)
    comp = completeness(session, cl, below, group_by="team", now=now,
                        older_than_days=OLD_GAP_DAYS, f=GapFilter(team=team_code))
    lines = [f"班组 {team_code} 档案周报（截至 {now:%Y-%m-%d %H:%M}）", ""]
    for r in comp:
        lines.append(f"资料完整率 {r.rate:.1%}（{r.present}/{r.required}），完整业务 "
                     f"{r.complete_businesses}/{r.businesses}，缺件 {r.open_gaps} 项，"
                     f"其中超过 {OLD_GAP_DAYS} 天 {r.old_gaps} 项")
    if not comp:
        lines.append("本班组暂无业务。")
    for t in timeliness(session, cl, now=now, teams=teams):
        lines.append(f"48小时内数字化并发送 {t.sent_rate:.1%}（{t.sent_in_time}/{t.steps}），"
                     f"7天内移交档案室 {t.transfer_rate:.1%}"
                     f"（{t.transferred_in_time}/{t.steps_for_transfer}）")
    for g in return_rates(session, since=now - timedelta(days=7), until=now, teams=teams):
        if g.returns:
            reasons = "；".join(f"{why or '未注明'} ×{n}" for why, n in g.reasons[:3])
            lines.append(f"本周 {g.gate} 退回 {g.returns} 次（退回率 {g.rate:.1%}）：{reasons}")
    for o in overdue_by_team(session, now=now, teams=teams):
        lines.append(f"超业扩时限业务 {o.past_time_limit} 件，归档工作超期业务 "
                     f"{o.archive_work_overdue} 件")
    return "\n".join(lines)


@dataclass(frozen=True)
class WeeklyResult:
    teams: int
    sent: int


def send_weekly_reports(services: Services, now: datetime) -> WeeklyResult:
    """One notice per team leader (a team without an active leader gets none)."""
    notices: list[Notice] = []
    with services.sessions() as s:
        teams = s.scalars(select(Team).order_by(Team.code)).all()
        for t in teams:
            leaders = s.scalars(select(User).where(User.team_id == t.id, User.active.is_(True),
                                                   User.is_team_leader.is_(True))).all()
            if not leaders:
                continue
            body = team_summary(s, services, t.code, now)
            notices += [Notice(u.username, u.email, f"【档案周报】{t.name} {now:%Y-%m-%d}", body)
                        for u in leaders]
    sent = make_notifier(services.settings).send(notices) if notices else 0
    return WeeklyResult(len(teams), sent)
