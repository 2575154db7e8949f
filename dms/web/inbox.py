"""The inbox (six reminder categories), archive item pages with their gate actions, the
review queue with bulk accept/return, and the inbound-event log."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (Blueprint, abort, flash, redirect, render_template, request, url_for)
from sqlalchemy import select

from dms.db.models import User
from dms.db.models_lifecycle import InboundEvent
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.domain.lifecycle import STATE_NAMES_ZH
from dms.domain.reminders import CATEGORY_NAMES_ZH, LIMIT_NAMES_ZH, Category
from dms.errors import DmsError
from dms.services import access, lifecycle
from dms.services.archive_item import item_view
from dms.services.reminders import Inbox, category_page, inbox_for, review_queue
from dms.web.access import current_user, principal, requires, services
from dms.web.i18n import detailed, error_flash, translate
from dms.web.params import page_arg

bp = Blueprint("inbox", __name__, url_prefix="/archive")


def _now() -> datetime:
    return datetime.now(UTC)


def _me(session: Any) -> User:
    user = current_user()
    assert user is not None  # login_required
    me = session.get(User, user.id)
    assert me is not None
    return me


def inbox_of_current_user() -> Inbox:
    """Used by the home page too: the inbox is what a person sees on logging in."""
    svc = services()
    with svc.sessions() as s:
        return inbox_for(s, _me(s), svc.checklist, _now())


def template_names() -> dict[str, Any]:
    return {"category_names": CATEGORY_NAMES_ZH, "limit_names": LIMIT_NAMES_ZH,
            "categories": list(Category)}


@bp.route("/inbox")
@requires(Action.HOME)
def inbox() -> Any:
    return render_template("lifecycle_inbox.html", inbox=inbox_of_current_user(),
                           **template_names())


@bp.route("/inbox/<category>")
@requires(Action.HOME)
def category(category: str) -> Any:
    try:
        cat = Category(category)
    except ValueError:
        abort(404, f"no reminder category {category}")
    page = page_arg()
    svc = services()
    with svc.sessions() as s:
        rows = category_page(s, _me(s), svc.checklist, cat, _now(), offset=(page - 1) * 50)
    return render_template("lifecycle_category.html", cat=cat, rows=rows, page=page,
                           **template_names())


@bp.route("/items/<business_no>")
@requires(Action.CUSTOMER_READ)
def item(business_no: str) -> Any:
    svc = services()
    with svc.sessions() as s:
        access.check_business(principal(), Action.CUSTOMER_READ,
                              lifecycle.get_business(s, business_no))
        view = item_view(s, svc.checklist, business_no, _me(s), _now())
        return render_template("lifecycle_item.html", v=view, **template_names())


def _act(business_no: str, fn: Any) -> Any:
    svc = services()
    with svc.sessions() as s:  # another team's item is refused, not shown as a failed step
        access.check_business(principal(), Action.ITEM_GATE,
                              lifecycle.get_business(s, business_no))
    try:
        with session_scope(svc.sessions) as s:
            t = fn(s, lifecycle.get_business(s, business_no), _me(s))
        flash(f"{business_no}：{translate(STATE_NAMES_ZH[t.source])} → "
              f"{translate(STATE_NAMES_ZH[t.target])}", "ok")
    except DmsError as exc:
        flash(error_flash(exc), "error")
    return redirect(url_for("inbox.item", business_no=business_no))


@bp.post("/items/<business_no>/pass")
@requires(Action.ITEM_GATE)
def pass_gate(business_no: str) -> Any:
    location = request.form.get("location", "").strip()
    return _act(business_no, lambda s, b, me: lifecycle.pass_gate(
        s, services().checklist, b, me, _now(), location=location))


@bp.post("/items/<business_no>/return")
@requires(Action.ITEM_GATE)
def return_item(business_no: str) -> Any:
    reason = request.form.get("reason", "")
    return _act(business_no, lambda s, b, me: lifecycle.return_item(s, b, me, reason, _now()))


@bp.route("/review", methods=["GET", "POST"])
@requires(Action.ITEM_GATE)
def review() -> Any:
    svc = services()
    if request.method == "POST":
        chosen = request.form.getlist("business_no")
        accept = request.form.get("action") == "accept"
        with session_scope(svc.sessions) as s:
            result = lifecycle.bulk_act(s, svc.checklist, chosen, _me(s), _now(), accept=accept,
                                        reason=request.form.get("reason", ""))
        if result.done:
            n, items = len(result.done), ", ".join(result.done)
            flash(translate("已通过 %(n)d：%(items)s", n=n, items=items) if accept
                  else translate("已退回 %(n)d：%(items)s", n=n, items=items), "ok")
        for no, why in result.failed.items():
            flash(detailed(no, why), "error")
        return redirect(url_for("inbox.review"))
    with svc.sessions() as s:
        rows = review_queue(s, _me(s))
    return render_template("lifecycle_review.html", rows=rows, **template_names())


@bp.route("/events")
@requires(Action.EVENT_LOG)
def events() -> Any:
    status = request.args.get("status", "")
    with services().sessions() as s:
        stmt = select(InboundEvent).order_by(InboundEvent.id.desc()).limit(200)
        if status:
            stmt = stmt.where(InboundEvent.status == status)
        rows = s.scalars(stmt).all()
    return render_template("lifecycle_events.html", rows=rows, status=status)
