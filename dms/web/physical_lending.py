"""Lending pages (request, approve, check out, overdue) and the dispute view."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from dms.db.models import User
from dms.errors import NotFoundError
from dms.domain.lending import LOAN_REASON_NAMES_ZH, LOAN_STATE_NAMES_ZH, LoanState
from dms.services import dispute, lending
from dms.web.auth import allowed_teams, current_user, login_required, services
from dms.web.params import local_referrer
from dms.web.physical import actor, archive_room_only, attempt, bp, now


@bp.route("/physical/loans")
@login_required
def loans() -> Any:
    with services().sessions() as s:
        open_loans = lending.loans_in_state(
            s, [LoanState.REQUESTED, LoanState.APPROVED, LoanState.CHECKED_OUT])
        overdue = lending.overdue_loans(s, now())
    return render_template("physical/loans.html", loans=open_loans, overdue=overdue,
                           now=now(), state_names=LOAN_STATE_NAMES_ZH,
                           reason_names=LOAN_REASON_NAMES_ZH)


@bp.route("/physical/volumes/<volume_no>/loans", methods=["POST"])
@login_required
def loan_request(volume_no: str) -> Any:
    user = current_user()
    assert user is not None
    back = local_referrer(url_for("physical.volume_page", volume_no=volume_no))

    def work(s: Any) -> int:
        me = s.get(User, user.id)
        return lending.request_loan(s, volume_no=volume_no, user=me,
                                    reason=request.form.get("reason", ""),
                                    note=request.form.get("note", ""), now=now()).id

    done = attempt(work, back)
    if isinstance(done, int):
        flash(f"已提交借阅申请 #{done}，等待档案管理员审批", "ok")
        return redirect(back)
    return done


@bp.route("/physical/loans/<int:loan_id>/<action>", methods=["POST"])
@login_required
def loan_action(loan_id: int, action: str) -> Any:
    name, role = actor() if action == "cancel" else archive_room_only()
    back = local_referrer(url_for("physical.loans"))
    f = request.form

    def work(s: Any) -> str:
        if action == "approve":
            return lending.approve_loan(s, loan_id, actor=name, role=role, now=now(),
                                        note=f.get("note", "")).state
        if action == "reject":
            return lending.reject_loan(s, loan_id, actor=name, role=role, now=now(),
                                       reason=f.get("reason", "")).state
        if action == "checkout":
            days = f.get("days", type=int)
            return lending.check_out(s, loan_id, actor=name, role=role, now=now(),
                                     days=days).state
        if action == "cancel":
            return lending.cancel_loan(s, loan_id, actor=name, role=role, now=now()).state
        raise NotFoundError(f"unknown loan action {action!r}")

    done = attempt(work, back)
    if isinstance(done, str):
        flash(f"借阅 #{loan_id}：{LOAN_STATE_NAMES_ZH.get(done, done)}", "ok")
        return redirect(back)
    return done


@bp.route("/physical/dispute")
@login_required
def dispute_view() -> Any:
    """From a customer number, name, contract or ID number to the originals, in one screen."""
    q = request.args.get("q", "").strip()
    customer_no = request.args.get("customer", "").strip()
    teams = allowed_teams()
    with services().sessions() as s:
        matches = dispute.find_customers(s, q, teams) if q and not customer_no else []
        if len(matches) == 1:
            customer_no = matches[0].customer_no
        file = dispute.dispute_file(s, customer_no, teams, now()) if customer_no else None
    return render_template("physical/dispute.html", q=q, matches=matches, file=file,
                           state_names=LOAN_STATE_NAMES_ZH, reason_names=LOAN_REASON_NAMES_ZH)
