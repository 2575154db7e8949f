"""A row id past the database's INTEGER range is no row: 404, never a driver overflow (500)."""
from __future__ import annotations

from tests.conftest import LoginAs

HUGE = 1337788454758849708032  # found by schemathesis on /api/v1/ingest/batches/<id>


def test_huge_ids_in_urls_are_404(login_as: LoginAs) -> None:
    admin = login_as("admin")
    for url in (f"/documents/{HUGE}", f"/documents/{2**31}", f"/api/physical/loans/{HUGE}/cancel"):
        res = admin.get(url) if not url.endswith("cancel") else admin.post(url, json={})
        assert res.status_code == 404, (url, res.status_code)
    assert admin.get(f"/documents/{2**31 - 1}").status_code == 404  # in range: looked up
