"""JSON API of the physical archive (/api/physical/…); errors become JSON in dms.web.errors."""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from flask import jsonify, request

from dms.db.models import User
from dms.db.models_physical import Loan
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.domain.locations import SIDES, parse_sides
from dms.errors import NotFoundError
from dms.services import access, lending, physical, physical_query
from dms.web.access import current_user, principal, requires, services
from dms.web.api_models import (BoxesIn, LoanActionIn, LoanRequestIn, MoveIn, ReturnIn, RoomIn,
                                StocktakeIn, VolumeIn, json_body)
from dms.web.physical_base import actor, archive_room_only, bp, check_code, now, only_visible


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _me() -> User:
    user = current_user()
    assert user is not None  # behind login_required
    return user


def _loan(loan: Loan) -> dict[str, Any]:
    return {"id": loan.id, "state": loan.state, "reason": loan.reason,
            "borrower": loan.borrower, "borrower_team": loan.borrower_team,
            "due_at": loan.due_at.isoformat() if loan.due_at else None}


@bp.route("/api/physical/locate/<code>")
@requires(Action.PHYSICAL_READ)
def api_locate(code: str) -> Any:
    with services().sessions() as s:
        check_code(s, code)
        return jsonify(_plain(only_visible(s, physical_query.locate(s, code, now()))))


@bp.route("/api/physical/suggest")
@requires(Action.PHYSICAL_MANAGE)
def api_suggest() -> Any:
    with services().sessions() as s:
        return jsonify(_plain(physical_query.suggest_slot(
            s, box_code=request.args.get("box") or None,
            customer_no=request.args.get("customer") or None)))


@bp.route("/api/physical/rooms", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def api_rooms() -> Any:
    name, _role = archive_room_only()
    b = json_body(RoomIn)
    with session_scope(services().sessions) as s:
        done = physical.create_room(
            s, actor=name, number=b.number, name=b.name, unit_count=b.unit_count,
            first_unit=b.first_unit, sections=b.sections, levels=b.levels,
            sides=parse_sides(b.sides or "".join(SIDES)), boxes_per_slot=b.boxes_per_slot)
    return jsonify(_plain(done)), 201


@bp.route("/api/physical/boxes", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def api_boxes() -> Any:
    name, _role = archive_room_only()
    b = json_body(BoxesIn)
    with session_scope(services().sessions) as s:
        boxes = physical.create_boxes(s, count=b.count, capacity=b.capacity, actor=name)
        codes = [x.code for x in boxes]
    return jsonify({"codes": codes}), 201


@bp.route("/api/physical/volumes", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def api_volumes() -> Any:
    name, _role = archive_room_only()
    b = json_body(VolumeIn)
    with session_scope(services().sessions) as s:
        vol = physical.form_volume(s, actor=name, business_no=b.business_no or None,
                                   customer_no=b.customer_no or None, title=b.title)
        if b.box_code:
            physical.put_volume_in_box(s, volume_no=vol.volume_no, box_code=b.box_code,
                                       user=_me(), checklist=services().checklist, now=now())
        vno = vol.volume_no
    return jsonify({"volume_no": vno}), 201


@bp.route("/api/physical/moves", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def api_move() -> Any:
    archive_room_only()
    b = json_body(MoveIn)
    with session_scope(services().sessions) as s:
        moved = physical.move_box(s, box_code=b.box, slot_code=b.slot, user=_me(),
                                  checklist=services().checklist, now=now())
    return jsonify(_plain(moved))


@bp.route("/api/physical/boxes/<code>/history")
@requires(Action.PHYSICAL_READ)
def api_box_history(code: str) -> Any:
    with services().sessions() as s:
        access.check_box(s, principal(), Action.PHYSICAL_READ, code)
        return jsonify(_plain(physical_query.box_history(s, code)))


@bp.route("/api/physical/stocktake", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def api_stocktake() -> Any:
    name, _role = archive_room_only()
    b = json_body(StocktakeIn)
    with session_scope(services().sessions) as s:
        report = physical_query.stock_take(s, first_slot=b.first, last_slot=b.last,
                                           scans=b.scans, actor=name)
    return jsonify({**_plain(report), "clean": report.clean})


@bp.route("/api/physical/loans", methods=["POST"])
@requires(Action.LOAN_REQUEST)
def api_loan_request() -> Any:
    user = current_user()
    assert user is not None
    b = json_body(LoanRequestIn)
    with session_scope(services().sessions) as s:
        access.check_volume(s, principal(), Action.LOAN_REQUEST, b.volume_no)
        me = s.get(User, user.id)
        assert me is not None
        loan = lending.request_loan(s, volume_no=b.volume_no, user=me, reason=b.reason,
                                    note=b.note, now=now())
        body = _loan(loan)
    return jsonify(body), 201


@bp.route("/api/physical/loans/<int:loan_id>/<action>", methods=["POST"])
@requires(Action.LOAN_DECIDE, variants={"action": {"cancel": Action.LOAN_CANCEL}})
def api_loan_action(loan_id: int, action: str) -> Any:
    name, role = actor() if action == "cancel" else archive_room_only(Action.LOAN_DECIDE)
    b = json_body(LoanActionIn, optional=True)
    with session_scope(services().sessions) as s:
        access.check_loan(s, principal(), Action.LOAN_CANCEL if action == "cancel"
                          else Action.LOAN_DECIDE, loan_id)
        if action == "approve":
            loan = lending.approve_loan(s, loan_id, actor=name, role=role, now=now(),
                                        note=b.note)
        elif action == "reject":
            loan = lending.reject_loan(s, loan_id, actor=name, role=role, now=now(),
                                       reason=b.reason)
        elif action == "checkout":
            loan = lending.check_out(s, loan_id, actor=name, role=role, now=now(),
                                     days=b.days)
        elif action == "cancel":
            loan = lending.cancel_loan(s, loan_id, actor=name, role=role, now=now())
        else:
            raise NotFoundError(f"unknown loan action {action!r}")
        body = _loan(loan)
    return jsonify(body)


@bp.route("/api/physical/returns", methods=["POST"])
@requires(Action.LOAN_DECIDE)
def api_return() -> Any:
    name, role = archive_room_only(Action.LOAN_DECIDE)
    with session_scope(services().sessions) as s:
        loan = lending.return_volume(s, json_body(ReturnIn).volume_no, actor=name,
                                     role=role, now=now())
        body = _loan(loan)
    return jsonify(body)


@bp.route("/api/physical/loans/overdue")
@requires(Action.LOAN_READ)
def api_overdue() -> Any:
    mine = access.loan_requester_filter(principal())
    with services().sessions() as s:
        return jsonify(_plain(lending.overdue_loans(s, now(), requester_id=mine)))
