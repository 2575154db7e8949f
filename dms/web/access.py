"""Every route declares the action it performs: ``@requires(Action.X)``.

The decorator records the action on the view (a test walks ``app.url_map`` and fails on a
route without one), lets public actions through, sends anonymous people to the login
(401 for JSON APIs), and refuses (403) a role the policy gives no scope for the action.
Object-level checks (this document, that volume) go through ``dms.services.access``.
Token-authenticated APIs (stations, the marketing system) declare their action too; their
blueprint authenticates the token and checks the action itself.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for

from dms.db.models import User
from dms.domain.access import TOKEN_ACTIONS, Action, Scope
from dms.domain.personal_data import mask_value
from dms.services import access as policy
from dms.services.access import Principal
from dms.services.container import Services

F = TypeVar("F", bound=Callable[..., Any])
ACTION_ATTR = "access_action"
VARIANTS_ATTR = "access_variants"


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
                # A cookie from before the last logout or password change is revoked.
                if user is not None and user.active and \
                        session.get("sv") == user.session_version:
                    _ = user.team  # load before the session closes
                    g.user = user
    return g.user  # type: ignore[no-any-return]


def principal() -> Principal:
    """The signed-in person as the policy sees them (behind ``requires``)."""
    user = current_user()
    if user is None:
        abort(401, "login required")
    return Principal.of(user)


def allowed_teams(action: Action = Action.DOCUMENT_READ) -> list[str] | None:
    """The teams whose objects the signed-in person may ``action``; None means all."""
    user = current_user()
    if user is None:
        return []
    return policy.visible_teams(Principal.of(user), action)


def sees_personal_data() -> bool:
    """Whether the signed-in person sees ID, phone and bank account numbers unmasked."""
    user = current_user()
    return user is not None and policy.sees_personal_data(Principal.of(user))


def pii(value: Any) -> Any:
    """``value`` as the signed-in person may see it: masked unless the policy says not."""
    return value if sees_personal_data() else mask_value(value)


def action_of(view: Callable[..., Any], view_args: Mapping[str, Any] | None = None) -> \
        Action | None:
    """The action a view declared, for these URL arguments (None: it declared none)."""
    action: Action | None = getattr(view, ACTION_ATTR, None)
    variants: dict[str, dict[str, Action]] = getattr(view, VARIANTS_ATTR, {})
    for arg, by_value in variants.items():
        value = (view_args or {}).get(arg)
        if value in by_value:
            return by_value[value]
    return action


def requires(action: Action, *, variants: dict[str, dict[str, Action]] | None = None) \
        -> Callable[[F], F]:
    """Declare and enforce the action of a view. ``variants`` picks another action by a URL
    argument's value, e.g. ``{"action": {"cancel": Action.LOAN_CANCEL}}``."""
    def deco(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            act = action_of(wrapper, kwargs)
            if act is Action.PUBLIC or act in TOKEN_ACTIONS:
                return fn(*args, **kwargs)
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    abort(401, "login required")
                return redirect(url_for("auth.login", next=request.full_path))
            assert act is not None
            if policy.scope_of(Principal.of(user), act) is Scope.NONE:
                abort(403, f"{user.role} may not {act.value}")
            return fn(*args, **kwargs)

        setattr(wrapper, ACTION_ATTR, action)
        setattr(wrapper, VARIANTS_ATTR, variants or {})
        return wrapper  # type: ignore[return-value]

    return deco
