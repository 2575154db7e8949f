"""The dispute view: from a customer number, name, contract number or ID number to the
customer's contracts, their scans and where each paper original is (or who has it)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dms.db.models import Business, Customer, Document, Team, Volume
from dms.db.models_physical import VolumeDocument
from dms.errors import NotFoundError, PermissionDeniedError
from dms.services.physical_query import VolumeLocation, volume_locations

CONTRACT_TYPES = ("GYDHT", "DDXY")
IDENTIFIER_FACTS = ("contract_no", "id_number", "credit_code")


@dataclass
class DisputeDocument:
    id: int
    doc_type: str | None
    title: str
    source_name: str
    page_count: int
    has_searchable_pdf: bool
    contract_no: str
    signed_on: str
    created_at: datetime
    originals: list[VolumeLocation] = field(default_factory=list)


@dataclass
class DisputeFile:
    customer_no: str
    name: str
    address: str
    contracts: list[DisputeDocument]
    others: list[DisputeDocument]
    volumes: list[VolumeLocation]


def find_customers(session: Session, q: str, teams: list[str] | None,
                   limit: int = 20) -> list[Customer]:
    """Customers whose number, name, business number or a document's contract / ID /
    credit-code number matches ``q``; ``teams`` None means every team."""
    q = q.strip()
    if not q:
        return []
    by_fact = select(Document.customer_id).where(
        or_(*(Document.facts[k].as_string() == q for k in IDENTIFIER_FACTS)))
    by_business = select(Business.customer_id).where(Business.business_no == q)
    stmt = select(Customer).where(or_(Customer.customer_no == q, Customer.name.contains(q),
                                      Customer.id.in_(by_fact), Customer.id.in_(by_business)))
    if teams is not None:
        stmt = stmt.join(Team, Team.id == Customer.team_id).where(Team.code.in_(teams))
    return list(session.scalars(stmt.order_by(Customer.customer_no).limit(limit)))


def dispute_file(session: Session, customer_no: str, teams: list[str] | None,
                 now: datetime | None = None) -> DisputeFile:
    customer = session.scalar(select(Customer).where(Customer.customer_no == customer_no))
    if customer is None:
        raise NotFoundError(f"customer {customer_no} not found")
    if teams is not None:
        team = session.get(Team, customer.team_id) if customer.team_id else None
        if team is None or team.code not in teams:
            raise PermissionDeniedError("this customer belongs to another team")
    volumes = volume_locations(session, Volume.customer_id == customer.id, now)
    by_volume = {v.volume_id: v for v in volumes}
    originals: dict[int, list[VolumeLocation]] = defaultdict(list)
    for doc_id, vol_id in session.execute(
            select(VolumeDocument.document_id, VolumeDocument.volume_id)
            .where(VolumeDocument.volume_id.in_(list(by_volume)))):
        originals[doc_id].append(by_volume[vol_id])
    docs = [DisputeDocument(d.id, d.doc_type, d.title, d.source_name, d.page_count,
                            bool(d.searchable_pdf_key), str(d.facts.get("contract_no", "")),
                            str(d.facts.get("contract_start", "")), d.created_at,
                            originals.get(d.id, []))
            for d in session.scalars(select(Document).where(Document.customer_id == customer.id))]
    # Newest contract first: by the date it was signed, else when it was scanned.
    docs.sort(key=lambda d: (d.signed_on, d.created_at.isoformat(), d.id), reverse=True)
    return DisputeFile(customer.customer_no, customer.name, customer.address,
                       [d for d in docs if d.doc_type in CONTRACT_TYPES],
                       [d for d in docs if d.doc_type not in CONTRACT_TYPES], volumes)
