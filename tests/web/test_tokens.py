"""Tokens per station and per system (issue 16: one shared station token read every
batch's report): ``dms tokens create/list/revoke``, each token scoped to its own work."""
from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from dms.cli import cli
from dms.errors import InvalidInputError
from dms.services import tokens
from dms.services.container import Services

EVENT = {"event_id": "e-1", "customer_no": "3301000001", "business_no": "YK1",
         "business_type": "LV_RES_NEW", "step": "accept",
         "completed_at": "2026-03-02T10:00:00+08:00", "handler": "nobody", "team": "YYB"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(runner: CliRunner, *args: str) -> str:
    res = runner.invoke(cli, ["tokens", "create", *args])
    assert res.exit_code == 0, res.output
    return res.stdout.strip().splitlines()[-1]


def test_cli_create_list_revoke(runner: CliRunner, client: FlaskClient,
                                web_services: Services) -> None:
    a = _create(runner, "--station", "营业厅-1")
    sysk = _create(runner, "--system", "yingxiao")
    assert len(a) >= 40 and a != sysk
    listed = json.loads(runner.invoke(cli, ["tokens", "list", "--json"]).stdout)
    assert [(t["kind"], t["name"], t["active"]) for t in listed] == [
        ("station", "营业厅-1", True), ("system", "yingxiao", True)]
    assert a not in json.dumps(listed)  # only hashes are kept
    assert client.post("/api/v1/ingest/batches", headers=_bearer(a)).status_code == 201
    res = runner.invoke(cli, ["tokens", "revoke", str(listed[0]["id"])])
    assert res.exit_code == 0 and "revoked" in res.output
    assert client.post("/api/v1/ingest/batches", headers=_bearer(a)).status_code == 401
    bad = runner.invoke(cli, ["tokens", "create", "--station", "x", "--system", "y"])
    assert bad.exit_code != 0


def test_a_station_reads_only_its_own_batches(client: FlaskClient,
                                              web_services: Services) -> None:
    _, a = tokens.create_token(web_services, "station", "station-a")
    _, b = tokens.create_token(web_services, "station", "station-b")
    # The body cannot claim another station's name: the batch is the token's station's.
    made = client.post("/api/v1/ingest/batches", json={"station": "station-b"},
                       headers=_bearer(a))
    batch = made.get_json()["batch_id"]
    own = client.get(f"/api/v1/ingest/batches/{batch}", headers=_bearer(a))
    assert own.status_code == 200 and own.get_json()["source"] == "upload:station-a"
    for call in (client.get(f"/api/v1/ingest/batches/{batch}", headers=_bearer(b)),
                 client.post(f"/api/v1/ingest/batches/{batch}/close", headers=_bearer(b)),
                 client.post(f"/api/v1/ingest/batches/{batch}/files", headers=_bearer(b))):
        assert call.status_code == 403


def test_each_token_does_its_one_job(client: FlaskClient, web_services: Services) -> None:
    _, station = tokens.create_token(web_services, "station", "station-a")
    _, system = tokens.create_token(web_services, "system", "yingxiao")
    assert client.post("/api/v1/events", json=EVENT, headers=_bearer(station)).status_code \
        == 401
    assert client.post("/api/v1/ingest/batches", headers=_bearer(system)).status_code == 401
    assert client.post("/api/v1/events", json=EVENT, headers=_bearer(system)).status_code \
        in (201, 400)  # through the door; the event itself is judged on its content
    # Neither token opens a page or another API.
    for token in (station, system):
        assert client.get("/customers", headers=_bearer(token)).status_code == 302
        assert client.get("/api/v1/search?q=x", headers=_bearer(token)).status_code == 401
    # A name is a station's or a system's, not both.
    with pytest.raises(InvalidInputError, match="already names"):
        tokens.create_token(web_services, "system", "station-a")


def test_the_shared_station_token_is_a_deprecated_station_of_its_own(
        client: FlaskClient, web_services: Services, caplog: pytest.LogCaptureFixture) -> None:
    legacy = web_services.settings.station_token.get_secret_value()
    assert legacy  # tests/conftest.py sets one
    _, a = tokens.create_token(web_services, "station", "station-a")
    theirs = client.post("/api/v1/ingest/batches", headers=_bearer(a)).get_json()["batch_id"]
    with caplog.at_level(logging.WARNING):
        made = client.post("/api/v1/ingest/batches", headers=_bearer(legacy))
    assert made.status_code == 201 and "deprecated" in caplog.text
    mine = made.get_json()["batch_id"]
    assert client.get(f"/api/v1/ingest/batches/{mine}", headers=_bearer(legacy)) \
        .status_code == 200
    assert client.get(f"/api/v1/ingest/batches/{theirs}", headers=_bearer(legacy)) \
        .status_code == 403
