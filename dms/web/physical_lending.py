"""Lending pages (request, approve, check out, overdue) and the dispute view."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from dms.db.models import User
from dms.domain.access import Action
from dms.domain.lending import LOAN_REASON_NAMES_ZH, LOAN_STATE_NAMES_ZH, LoanState
from dms.errors import NotFoundError
from dms.services import access, dispute, lending
from dms.web.access import allowed_teams, current_user, principal, requires, services
from dms.web.i18n import translate
from dms.web.params import local_referrer
from dms.web.physical_base import actor, archive_room_only, attempt, bp, now


@bp.route("/physical/loans")
@requires(Action.LOAN_READ)
def loans() -> Any:
    mine = access.loan_requester_filter(principal())  # borrowers' names: own loans only
    with services().sessions() as s:
        open_loans = lending.loans_in_state(
            s, [LoanState.REQUESTED, LoanState.APPROVED, LoanState.CHECKED_OUT],
            requester_id=mine)
        overdue = lending.overdue_loans(s, now(), requester_id=mine)
    return render_template("physical/loans.html", loans=open_loans, overdue=overdue,
                           now=now(), state_names=LOAN_STATE_NAMES_ZH,
                           reason_names=LOAN_REASON_NAMES_ZH)


@bp.route("/physical/volumes/<volume_no>/loans", methods=["POST"])
@requires(Action.LOAN_REQUEST)
def loan_request(volume_no: str) -> Any:
    user = current_user()
    assert user is not None
    with services().sessions() as s:
        access.check_volume(s, principal(), Action.LOAN_REQUEST, volume_no)
    back = local_referrer(url_for("physical.volume_page", volume_no=volume_no))

    def work(s: Any) -> int:
        me = s.get(User, user.id)
        return lending.request_loan(s, volume_no=volume_no, user=me,
                                    reason=request.form.get("reason", ""),
                                    note=request.form.get("note", ""), now=now()).id

    done = attempt(work, back)
    if isinstance(done, int):
        flash(translate("已提交借阅申请 #%(id)s，等待档案管理员审批", id=done), "ok")
        return redirect(back)
    return done


@bp.route("/physical/loans/<int:loan_id>/<action>", methods=["POST"])
@requires(Action.LOAN_DECIDE, variants={"action": {"cancel": Action.LOAN_CANCEL}})
def loan_action(loan_id: int, action: str) -> Any:
    name, role = actor() if action == "cancel" else archive_room_only(Action.LOAN_DECIDE)
    with services().sessions() as s:
        access.check_loan(s, principal(), Action.LOAN_CANCEL if action == "cancel"
                          else Action.LOAN_DECIDE, loan_id)
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
        flash(translate("借阅 #%(id)s：%(state)s", id=loan_id,
                        state=translate(LOAN_STATE_NAMES_ZH.get(done, done))), "ok")
        return redirect(back)
    return done


@bp.route("/physical/dispute", methods=["GET", "POST"])
@requires(Action.DISPUTE_LOOKUP)
def dispute_view() -> Any:
    """From a customer number, name, contract or ID number to the originals, in one screen.

    The look-up is POSTed so that an ID number never appears in a URL or the access log."""
    q = request.form.get("q", "").strip()
    customer_no = request.values.get("customer", "").strip()
    teams = allowed_teams(Action.DISPUTE_LOOKUP)
    with services().sessions() as s:
        matches = dispute.find_customers(s, q, teams) if q and not customer_no else []
        if len(matches) == 1:  # one customer: show its file at an address without the query
            return redirect(url_for("physical.dispute_view", customer=matches[0].customer_no))
        file = dispute.dispute_file(s, customer_no, teams, now()) if customer_no else None
    return render_template("physical/dispute.html", q=q, matches=matches, file=file,
                           state_names=LOAN_STATE_NAMES_ZH, reason_names=LOAN_REASON_NAMES_ZH)
