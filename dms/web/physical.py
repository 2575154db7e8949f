"""The physical archive in the browser: rooms, boxes, volumes, labels, scanning, stock-taking.

Lending and the dispute view are in ``dms.web.physical_lending``, the JSON API in
``dms.web.physical_api``; all hang on the one blueprint of ``dms.web.physical_base``.
This module is the blueprint's face: importing it registers every route, and ``bp``
is registered on the app from here.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from dms.db.models import Box, Room, ShelvingUnit, Slot, Volume
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.domain.locations import parse_sides
from dms.errors import DmsError, InvalidInputError
from dms.services import access, labels, physical, physical_query
from dms.services.lending import loans_of_volume
from dms.services.scanning import MODES, handle_scan
# The lending pages and the JSON API add their routes to bp as they are imported.
from dms.web import physical_api, physical_lending  # noqa: F401
from dms.web.access import current_user, principal, requires, services
from dms.web.i18n import get_locale, translate
from dms.web.params import float_arg, local_referrer
from dms.web.physical_base import (archive_room_only, attempt, bp, check_code, now,
                                   only_visible)

MAX_LABELS = 2000  # one print job

@bp.route("/physical/")
@requires(Action.PHYSICAL_READ)
def index() -> Any:
    with services().sessions() as s:
        units = s.execute(
            select(Room.number, Room.name, ShelvingUnit.number, ShelvingUnit.sections,
                   ShelvingUnit.levels, func.count(Slot.id), func.sum(Slot.capacity),
                   func.sum(Slot.occupied))
            .join(ShelvingUnit, ShelvingUnit.room_id == Room.id)
            .outerjoin(Slot, Slot.unit_id == ShelvingUnit.id)
            .group_by(Room.number, Room.name, ShelvingUnit.number, ShelvingUnit.sections,
                      ShelvingUnit.levels)
            .order_by(Room.number, ShelvingUnit.number)).all()
        counts = {"boxes": s.scalar(select(func.count(Box.id))),
                  "volumes": s.scalar(select(func.count(Volume.id))),
                  "unshelved": s.scalar(select(func.count(Box.id)).where(Box.slot_id.is_(None)))}
        recent_boxes = s.scalars(select(Box.code).order_by(Box.id.desc()).limit(20)).all()
    return render_template("physical/index.html", units=units, counts=counts,
                           recent_boxes=recent_boxes)


@bp.route("/physical/rooms/new", methods=["GET", "POST"])
@requires(Action.PHYSICAL_MANAGE)
def room_new() -> Any:
    name, _role = archive_room_only()
    if request.method == "GET":
        return render_template("physical/room_form.html")
    f = request.form
    try:
        args = dict(number=int(f["number"]), name=f.get("name", ""),
                    first_unit=int(f.get("first_unit") or 1), unit_count=int(f["unit_count"]),
                    sections=int(f["sections"]), levels=int(f["levels"]),
                    sides=parse_sides(f.get("sides", "AB")),
                    boxes_per_slot=int(f.get("boxes_per_slot") or 10))
    except (KeyError, ValueError, DmsError) as exc:
        flash(translate("表单有误：%(why)s", why=exc), "error")
        return redirect(url_for("physical.room_new"))
    done = attempt(lambda s: physical.create_room(s, actor=name, **args),  # type: ignore[arg-type]
                   url_for("physical.room_new"))
    if isinstance(done, physical.RoomSetup):
        flash(translate("已创建 %(n)d 个库位", n=done.slots), "ok")
        return redirect(url_for("physical.index"))
    return done


@bp.route("/physical/boxes", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def boxes_create() -> Any:
    name, _role = archive_room_only()
    count = request.form.get("count", 1, type=int)
    capacity = request.form.get("capacity", 10, type=int)
    made = attempt(lambda s: [b.code for b in physical.create_boxes(
        s, count=count, capacity=capacity, actor=name)], url_for("physical.index"))
    if isinstance(made, list):
        flash(translate("已创建档案盒 %(first)s – %(last)s", first=made[0], last=made[-1]), "ok")
        return redirect(url_for("physical.label_pdf", kind="boxes", codes=",".join(made)))
    return made


@bp.route("/physical/boxes/<code>")
@requires(Action.PHYSICAL_READ)
def box_page(code: str) -> Any:
    with services().sessions() as s:
        access.check_box(s, principal(), Action.PHYSICAL_READ, code)
        found = only_visible(s, physical_query.locate(s, code, now()))
        history = physical_query.box_history(s, code)
        try:
            hint: physical_query.SlotSuggestion | None = physical_query.suggest_slot(
                s, box_code=code)
        except DmsError:
            hint = None
    return render_template("physical/box.html", found=found, history=history, hint=hint)


@bp.route("/physical/volumes", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def volume_form() -> Any:
    name, _role = archive_room_only()
    f = request.form
    vno = attempt(lambda s: physical.form_volume(
        s, actor=name, business_no=f.get("business_no") or None,
        customer_no=f.get("customer_no") or None, title=f.get("title", "")).volume_no,
        local_referrer(url_for("physical.index")))
    if isinstance(vno, str):
        flash(translate("已组卷 %(no)s", no=vno), "ok")
        return redirect(url_for("physical.volume_page", volume_no=vno))
    return vno


@bp.route("/physical/volumes/<volume_no>")
@requires(Action.PHYSICAL_READ)
def volume_page(volume_no: str) -> Any:
    with services().sessions() as s:
        access.check_volume(s, principal(), Action.PHYSICAL_READ, volume_no)
        found = physical_query.locate(s, volume_no, now())
        history = physical_query.volume_history(s, volume_no)
        loans = loans_of_volume(s, volume_no)
    return render_template("physical/volume.html", v=found.volumes[0], history=history,
                           loans=loans, now=now())


@bp.route("/physical/volumes/<volume_no>/box", methods=["POST"])
@requires(Action.PHYSICAL_MANAGE)
def volume_box(volume_no: str) -> Any:
    archive_room_only()
    user = current_user()
    assert user is not None
    back = url_for("physical.volume_page", volume_no=volume_no)
    done = attempt(lambda s: physical.put_volume_in_box(
        s, volume_no=volume_no, box_code=request.form.get("box_code", ""), user=user,
        checklist=services().checklist, now=now()), back)
    if isinstance(done, Volume):
        flash(translate("已装盒"), "ok")
        return redirect(back)
    return done


@bp.route("/physical/labels/<kind>.pdf")
@requires(Action.PHYSICAL_MANAGE)
def label_pdf(kind: str) -> Response:
    """Labels as PDF: ?codes=BX…,BX… (or volume numbers), layout=label|a4, w=, h= in mm."""
    archive_room_only()
    codes = [c for c in request.args.get("codes", "").replace(" ", ",").split(",") if c]
    if not codes:
        abort(400, "codes: give the box or volume codes to print, e.g. ?codes=BX00000001")
    if len(codes) > MAX_LABELS or any(len(c) > 32 for c in codes):
        raise InvalidInputError(f"codes: at most {MAX_LABELS} codes of 32 characters",
                                field="codes")
    layout: labels.Layout = "a4" if request.args.get("layout") == "a4" else "label"
    settings = services().settings
    # Label sizes a printer takes; A4 is 210 x 297 mm.
    size = labels.LabelSize(float_arg("w", settings.label_width_mm, lo=10, hi=300),
                            float_arg("h", settings.label_height_mm, lo=10, hi=300))
    with services().sessions() as s:
        if kind == "boxes":
            contents = labels.box_label_contents(s, codes)
        elif kind == "volumes":
            contents = labels.volume_label_contents(s, codes)
        else:
            abort(404)
    pdf = labels.render_labels_pdf(contents, size=size, layout=layout)
    name = quote(f"{kind}-{codes[0]}-{layout}.pdf")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"})


@bp.route("/physical/scan", methods=["GET", "POST"])
@requires(Action.PHYSICAL_READ)
def scan() -> Any:
    """The scanning desk: one input, Enter submits, the answer comes back at once."""
    mode = request.values.get("mode", "shelve")
    mode = mode if mode in MODES else "shelve"
    answer = None
    pending = request.values.get("pending_box", "")
    if request.method == "POST" and request.form.get("code", "").strip():
        if mode != "locate":
            archive_room_only()
        user = current_user()
        assert user is not None
        with session_scope(services().sessions) as s:
            check_code(s, request.form["code"])
            answer = handle_scan(s, request.form["code"], pending_box=pending, mode=mode,
                                 user=user, checklist=services().checklist, now=now(),
                                 locale=get_locale())
        pending = answer.pending_box
    return render_template("physical/scan.html", mode=mode, answer=answer, pending=pending)


@bp.route("/physical/stocktake", methods=["GET", "POST"])
@requires(Action.PHYSICAL_MANAGE)
def stocktake() -> Any:
    report = None
    f = request.form
    if request.method == "POST":
        name, _role = archive_room_only()
        report = attempt(lambda s: physical_query.stock_take(
            s, first_slot=f.get("first", ""), last_slot=f.get("last", ""),
            scans=f.get("scans", "").split(), actor=name), url_for("physical.stocktake"))
        if not hasattr(report, "clean"):
            return report
    return render_template("physical/stocktake.html", report=report, form=f)


