"""Login, logout and role checks."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request, session,
                   url_for)

from dms.db.models import User
from dms.domain.roles import Role, sees_all_teams
from dms.services.container import Services
from dms.services.users import authenticate

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def services() -> Services:
    svc: Services = current_app.extensions["dms"]
    return svc


def current_user() -> User | None:
    if "user" not in g:
        uid = session.get("uid")
        g.user = None
        if uid is not None:
            with services().sessions() as s:
                user = s.get(User, uid)
                if user is not None and user.active:
                    _ = user.team  # load before the session closes
                    g.user = user
    return g.user  # type: ignore[no-any-return]


def allowed_teams() -> list[str] | None:
    """The teams whose archive the user may see; None means all."""
    user = current_user()
    if user is None:
        return []
    if sees_all_teams(Role(user.role)):
        return None
    return [user.team.code] if user.team else []


def login_required(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                abort(401, "login required")
            return redirect(url_for("auth.login", next=request.full_path))
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
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
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_lang(code: str) -> Any:
    if code in ("zh_CN", "en"):
        session["lang"] = code
    return redirect(request.referrer or "/")
