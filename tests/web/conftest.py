"""The seeded two-team archive of the policy walk, with a signed-in client per walker."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dms.services.container import Services
from dms.testing.policy_walk import PASSWORD, Objects, Walker, seed


@dataclass
class Archive:
    own: Objects      # team YYB: the handler's and collector's own team
    other: Objects    # team DKH
    walkers: dict[str, Walker]
    as_: Callable[[str], FlaskClient]   # a client signed in as w-<role>
    services: Services


@pytest.fixture
def archive(app: Flask, web_services: Services) -> Archive:
    objs, walkers = seed(web_services)

    def as_(role: str) -> FlaskClient:
        c = app.test_client()
        res = c.post("/login", data={"username": f"w-{role}", "password": PASSWORD})
        assert res.status_code == 302
        return c

    return Archive(objs["own"], objs["other"], {w.subject or "anonymous": w for w in walkers},
                   as_, web_services)
