"""事件对账 (event reconciliation), for administrators: what the marketing system and the
archive disagree on, rejected events to apply or dismiss, external handlers to map."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dms.db.models import User
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.domain.roles import ROLE_NAMES_ZH
from dms.errors import DmsError
from dms.services import reconcile
from dms.web.access import current_user, requires, services
from dms.web.i18n import error_flash, translate

bp = Blueprint("events_admin", __name__, url_prefix="/admin/events")


def _admin() -> User:
    """The signed-in administrator (``requires`` has let only them through)."""
    user = current_user()
    assert user is not None
    return user


@bp.get("")
@requires(Action.EVENT_RESOLVE)
def page() -> Any:
    _admin()
    with services().sessions() as s:
        rec = reconcile.reconciliation(s)
        users = s.query(User.username, User.display_name, User.role).filter(
            User.active.is_(True)).order_by(User.username).all()
    return render_template("events_admin.html", rec=rec,
                           users=users, role_names=ROLE_NAMES_ZH)


@bp.post("/<int:row_id>/apply")
@requires(Action.EVENT_RESOLVE)
def apply(row_id: int) -> Any:
    user = _admin()
    try:
        no = reconcile.apply_rejected(services(), row_id, user,
                                      reason=request.form.get("reason", ""))
        flash(translate("已按事件内容处理：%(no)s", no=no), "ok")
    except DmsError as exc:
        flash(error_flash(exc), "error")
    return redirect(url_for("events_admin.page"))


@bp.post("/<int:row_id>/dismiss")
@requires(Action.EVENT_RESOLVE)
def dismiss(row_id: int) -> Any:
    user = _admin()
    try:
        reconcile.dismiss_rejected(services(), row_id, user, request.form.get("reason", ""))
        flash(translate("已忽略事件 #%(id)s", id=row_id), "ok")
    except DmsError as exc:
        flash(error_flash(exc), "error")
    return redirect(url_for("events_admin.page"))


@bp.post("/handlers/<int:handler_id>/map")
@requires(Action.EVENT_RESOLVE)
def map_handler(handler_id: int) -> Any:
    user = _admin()
    try:
        with session_scope(services().sessions) as s:
            n = reconcile.map_handler(s, handler_id, request.form.get("username", ""), user,
                                      datetime.now(UTC))
        flash(translate("已关联：%(n)d 项任务已分派", n=n), "ok")
    except DmsError as exc:
        flash(error_flash(exc), "error")
    return redirect(url_for("events_admin.page"))
