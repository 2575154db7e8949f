"""The physical archive's blueprint and what its pages and API share: who acts, the
archive room's guard, what a user may see of a box, one transaction per form.

Beneath ``dms.web.physical`` (the pages), ``dms.web.physical_lending`` (lending and the
dispute view) and ``dms.web.physical_api`` (the JSON API), which all hang their routes
on this one blueprint.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect
from sqlalchemy.orm import Session

from dms.db.models import utcnow
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.domain.locations import ScanKind, classify_scan
from dms.domain.roles import Role
from dms.errors import DmsError
from dms.services import access, physical_query
from dms.web.access import current_user, principal, services
from dms.web.i18n import error_flash

bp = Blueprint("physical", __name__)
T = TypeVar("T")



def now() -> datetime:
    return utcnow()


def actor() -> tuple[str, Role]:
    user = current_user()
    assert user is not None  # behind login_required
    return user.username, Role(user.role)


def archive_room_only(action: Action = Action.PHYSICAL_MANAGE) -> tuple[str, Role]:
    """Shelving, boxing, labels and loan decisions are the archive room's work."""
    name, role = actor()
    if access.scope_of(principal(), action) is access.Scope.NONE:
        abort(403, "archivists only")
    return name, role


def only_visible(s: Session, found: physical_query.Located) -> physical_query.Located:
    """A shared box may hold other teams' volumes: keep only those the user may see."""
    keep = access.visible_volume_nos(s, principal(), Action.PHYSICAL_READ,
                                     [v.volume_no for v in found.volumes])
    found.volumes = [v for v in found.volumes if v.volume_no in keep]
    return found


def check_code(s: Session, code: str, action: Action = Action.PHYSICAL_READ) -> None:
    """Refuse a scanned box or volume outside the user's scope (slots hold no customer data
    beyond box codes)."""
    kind = classify_scan(code.strip().upper())
    if kind is ScanKind.VOLUME:
        access.check_volume(s, principal(), action, code)
    elif kind is ScanKind.BOX:
        access.check_box(s, principal(), action, code)


def attempt(work: Callable[[Session], T], back: str) -> T | Any:
    """Run a form's use case in one transaction; a refusal is shown on the page it came from."""
    try:
        with session_scope(services().sessions) as s:
            return work(s)
    except DmsError as exc:
        flash(error_flash(exc), "error")
        return redirect(back)
