"""Home: overview counts, the archive items by lifecycle state, customers."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dms.db.models import Business, Customer, Document, Page, Team
from dms.domain.access import Action
from dms.domain.facts import FIELD_NAMES_ZH
from dms.domain.lifecycle import State
from dms.services import access
from dms.services.gap_report import STATUS_NAMES_ZH, customer_report
from dms.services.missing_facts import missing_facts_of
from dms.web.access import allowed_teams, principal, requires, services
from dms.web.params import page_arg

bp = Blueprint("home", __name__)
PAGE_SIZE = 50


def _team_filter(stmt: Any, team_col: Any, action: Action = Action.CUSTOMER_READ) -> Any:
    teams = allowed_teams(action)
    if teams is None:
        return stmt
    return stmt.join(Team, Team.id == team_col).where(Team.code.in_(teams))


@bp.route("/")
@requires(Action.HOME)
def index() -> Any:
    with services().sessions() as s:
        state_counts = dict(s.execute(
            _team_filter(select(Business.archive_state, func.count()), Business.team_id)
            .group_by(Business.archive_state)).all())
        totals = {
            "customers": s.scalar(_team_filter(select(func.count(Customer.id)),
                                               Customer.team_id)),
            "documents": s.scalar(_team_filter(select(func.count(Document.id))
                                               .join(Customer), Customer.team_id,
                                               Action.DOCUMENT_READ)),
            "pages": s.scalar(select(func.count(Page.id))),
            "queue": s.scalar(select(func.count(Document.id))
                              .where(Document.ocr_status.in_(("queued", "ocr")))),
        }
        recent = s.scalars(_team_filter(
            select(Document).join(Customer).options(selectinload(Document.customer)),
            Customer.team_id, Action.DOCUMENT_READ).order_by(Document.id.desc()).limit(10)).all()
    from dms.web.inbox import inbox_of_current_user, template_names

    # The inbox (six reminder categories) is what a person sees first on logging in.
    return render_template("home.html", states=list(State), state_counts=state_counts,
                           totals=totals, recent=recent, inbox=inbox_of_current_user(),
                           **template_names())


@bp.route("/customers")
@requires(Action.CUSTOMER_READ)
def customers() -> Any:
    page = page_arg()
    q = request.args.get("q", "").strip()
    with services().sessions() as s:
        stmt = _team_filter(select(Customer), Customer.team_id)
        if q:
            stmt = stmt.where(Customer.customer_no.contains(q) | Customer.name.contains(q))
        total = s.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = s.scalars(stmt.order_by(Customer.customer_no)
                         .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
                         .options(selectinload(Customer.businesses),
                                  selectinload(Customer.documents))).all()
    return render_template("customers.html", customers=rows, total=total, page=page,
                           pages=max(1, -(-(total or 0) // PAGE_SIZE)), q=q)


@bp.route("/customers/<customer_no>")
@requires(Action.CUSTOMER_READ)
def customer(customer_no: str) -> Any:
    with services().sessions() as s:
        c = s.scalar(select(Customer).where(Customer.customer_no == customer_no).options(
            selectinload(Customer.businesses).selectinload(Business.documents),
            selectinload(Customer.documents)))
        if c is None:
            abort(404, f"customer {customer_no} not found")
        access.check_customer(principal(), Action.CUSTOMER_READ, c)
        # One definition of a gap: the gap report's (completed steps, agent, confirmation).
        svc = services()
        gaps = {bg.business_no: bg for bg in customer_report(
            s, svc.checklist, svc.settings.classify_review_below, customer_no)}
        loose = [d for d in c.documents if d.business_id is None]
        # Present but lacking a required fact (a contract with no end date…): named per row.
        lacking = {d.id: missing_facts_of(svc.checklist, d) for d in c.documents}
        return render_template("customer.html", c=c, gaps=gaps, loose=loose,
                               status_names=STATUS_NAMES_ZH, lacking=lacking,
                               field_names=FIELD_NAMES_ZH)
