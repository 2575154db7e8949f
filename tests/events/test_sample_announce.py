"""`dms up`'s sample: the marketing system announces each sample business before its paper
is scanned, so the demo handler (team YYB) has an archive to work in. Before, every sample
business had no team and the handler's search and inbox were empty."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from dms.db.models import Business, User
from dms.db.session import session_scope
from dms.domain.access import Action
from dms.launcher import DEMO_USERS, announce_sample_businesses
from dms.sample_data import generate_corpus
from dms.services import access
from dms.services.users import create_user
from ingest.batch import ingest_folder
from tests.ingest.conftest import RecordingDispatcher, make_services


def test_sample_businesses_belong_to_the_demo_handlers_team(tmp_path: Path) -> None:
    services = make_services(tmp_path / "var")
    folder = tmp_path / "scans"
    manifest = generate_corpus(folder, customers=1, seed=1, formats=("png",))
    with session_scope(services.sessions) as s:
        for username, role, name, team in DEMO_USERS:
            create_user(s, username, "demo-password-1234", role, display_name=name,
                        team_code=team)
    expected = {f.business_no for f in manifest.files}
    assert announce_sample_businesses(services, folder) == len(expected)
    assert announce_sample_businesses(services, folder) == len(expected)  # a rerun: duplicates
    ingest_folder(services, folder, dispatcher=RecordingDispatcher())
    with services.sessions() as s:
        businesses = s.scalars(select(Business)).all()
        assert {b.business_no for b in businesses} == expected
        assert all(access.team_code(s, b.team_id) == "YYB" and b.business_type
                   for b in businesses)
        user = s.scalars(select(User).where(User.username == "handler")).one()
        handler = access.Principal.of(user)
        assert all(access.may(handler, Action.DOCUMENT_READ, b.team_id) for b in businesses)
    services.close()
