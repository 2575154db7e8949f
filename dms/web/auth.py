"""Login, logout and role checks."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from dms.db.models import User
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.errors import TooManyAttemptsError
from dms.services import login_throttle
from dms.services.users import authenticate, end_sessions
from dms.web.access import allowed_teams, current_user, requires, services
from dms.web.i18n import translate
from dms.web.params import local_referrer, local_target

__all__ = ["allowed_teams", "current_user", "login_required", "requires", "services"]

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def login_required(fn: F) -> F:
    """Sign-in only; views declare their action with ``requires`` instead (kept for callers
    outside the web package)."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                abort(401, "login required")
            return redirect(url_for("auth.login", next=request.full_path))
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
@requires(Action.PUBLIC)
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        address = request.remote_addr or ""
        now = datetime.now(UTC)
        user = None
        try:
            login_throttle.begin_attempt(services().sessions, username, address, now)
        except TooManyAttemptsError as exc:
            error, status = exc.message, exc.http_status
        else:
            with session_scope(services().sessions) as s:
                user = authenticate(s, username, request.form.get("password", ""))
                if user is None:  # the attempt stays counted as a failure
                    error, status = translate("用户名或密码错误"), 401
                else:
                    login_throttle.succeeded(s, username)
                    session.clear()
                    session["uid"] = user.id
                    session["sv"] = user.session_version
                    session["lang"] = user.locale
        if user is not None:
            return redirect(local_target(request.args.get("next")))
    resp = render_template("login.html", error=error), status
    if status == 429:
        return resp[0], status, {"Retry-After": str(int(login_throttle.WINDOW.total_seconds()))}
    return resp


@bp.route("/logout", methods=["POST"])
@requires(Action.PUBLIC)
def logout() -> Any:
    uid = session.get("uid")
    if uid is not None and current_user() is not None:
        with session_scope(services().sessions) as s:
            end_sessions(s, uid)  # the cookie, if kept or copied, no longer works
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
@requires(Action.PUBLIC)
def set_lang(code: str) -> Any:
    if code in ("zh_CN", "en"):
        session["lang"] = code
        user = current_user()
        if user is not None and user.locale != code:
            # The user's preference: the next login starts in this language too.
            with session_scope(services().sessions) as s:
                row = s.get(User, user.id)
                if row is not None:
                    row.locale = code
    return redirect(local_referrer())
