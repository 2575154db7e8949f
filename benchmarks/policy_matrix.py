"""The policy matrix: every route × every subject × own/other-team objects, checked.

    .venv/bin/python benchmarks/policy_matrix.py [--show-violations]

Runs the same walk as ``tests/web/test_access_policy.py`` (``dms.testing.policy_walk``)
on a fresh SQLite archive in a temp directory: 7 roles, anonymous, a station's token and
the marketing system's token; handler and collector belong to team A, every object-bearing
route is tried with team A's and team B's objects. Prints the matrix size, the answers per
subject (allowed / denied / public) and the violations (answers that disagree with the
policy table, or any 5xx). A figure of correctness, not of speed: the baseline is the
policy table itself (docs/ACCESS.md).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dms.db.migrate import upgrade
from dms.services.container import build_services
from dms.settings import load_settings
from dms.testing.dispatch import RecordingDispatcher
from dms.testing.policy_walk import matrix, seed, walk
from dms.web.app import create_app


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show-violations", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "var", secret_key="policy-matrix-" + "k" * 32,
                                 station_token="", _env_file=None)
        upgrade(settings.database_url)
        svc = build_services(settings)
        try:
            app = create_app(settings, dispatcher=RecordingDispatcher(), services=svc)
            # the walk checks the access policy, not CSRF (tests/web covers CSRF with it on)
            app.config["WTF_CSRF_ENABLED"] = False
            objs, walkers = seed(svc)
            started = time.perf_counter()
            result = walk(app, objs, walkers)
            took = time.perf_counter() - started
        finally:
            svc.close()
    methods = len({(o.endpoint, o.method) for o in result.outcomes})
    scoped = len({(o.endpoint, o.method) for o in result.outcomes if o.case != "-"})
    print(f"routes {result.routes} ({methods} route×method, {scoped} with own/other-team "
          f"objects) × subjects {result.subjects} = {result.checked} answers checked "
          f"in {took:.1f} s")
    print(f"{'subject':<16}{'allowed':>9}{'denied':>9}{'public':>9}{'violations':>12}")
    for who, row in matrix(result).items():
        print(f"{who:<16}{row['allow']:>9}{row['deny']:>9}{row['public']:>9}"
              f"{row['violations']:>12}")
    bad = result.violations
    print(f"violations: {len(bad)}")
    if args.show_violations:
        for o in bad:
            print(f"  {o.walker} {o.method} {o.url} [{o.action}, {o.case}] expected "
                  f"{o.expected}, got {o.status}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
