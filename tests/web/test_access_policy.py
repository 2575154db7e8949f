"""The access policy holds at the door: every route declares its action, and a walk of
every route with every role (and anonymously, and with station and system tokens) against
own-team and other-team objects gets the answers the policy table gives."""
from __future__ import annotations

from collections import Counter

from flask import Flask

from dms.services.container import Services
from dms.testing.policy_walk import seed, walk
from dms.web.access import action_of

# Routes outside the policy on purpose: Flask's static files.
UNDECLARED_OK = {"static"}


def test_every_route_declares_an_action(app: Flask) -> None:
    missing = [f"{r.rule} ({r.endpoint})" for r in app.url_map.iter_rules()
               if r.endpoint not in UNDECLARED_OK
               and action_of(app.view_functions[r.endpoint]) is None]
    assert missing == [], "routes without @requires(Action.…): " + ", ".join(missing)


def test_a_route_without_an_action_fails_the_check(app: Flask) -> None:
    """The check above can fail: a bare route is caught."""
    @app.route("/undeclared-probe")
    def undeclared_probe() -> str:
        return "x"

    assert action_of(app.view_functions["undeclared_probe"]) is None


def test_route_role_walk_agrees_with_the_policy(app: Flask, web_services: Services) -> None:
    objs, walkers = seed(web_services)
    result = walk(app, objs, walkers)
    bad = [f"{o.walker} {o.method} {o.url} [{o.action}, {o.case}] expected {o.expected}, "
           f"got {o.status}" for o in result.violations]
    assert bad == [], f"{len(bad)} of {result.checked} answers disagree:\n" + "\n".join(bad)
    # The walk covered every subject, both cases and every route.
    assert result.subjects == 9 and result.routes >= 60
    assert Counter(o.case for o in result.outcomes)["other"] > 0
    assert {o.expected for o in result.outcomes} == {"allow", "deny", "public"}
