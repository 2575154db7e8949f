"""Login, logout and role checks."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from dms.domain.access import Action
from dms.services.users import authenticate
from dms.web.access import allowed_teams, current_user, requires, services

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
    error = None
    if request.method == "POST":
        with services().sessions() as s:
            user = authenticate(s, request.form.get("username", ""),
                                request.form.get("password", ""))
        if user:
            session.clear()
            session["uid"] = user.id
            session["lang"] = user.locale
            nxt = request.args.get("next", "")
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/")
        error = "用户名或密码错误"
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST", "GET"])
@requires(Action.PUBLIC)
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
@requires(Action.PUBLIC)
def set_lang(code: str) -> Any:
    if code in ("zh_CN", "en"):
        session["lang"] = code
    return redirect(request.referrer or "/")
