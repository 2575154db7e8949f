#!/usr/bin/env bash
# The README's second command: install everything the tests need and run the whole
# suite. The tests start their own PostgreSQL, Redis and S3 (seaweedfs) servers on
# free loopback ports, and real Celery worker processes; nothing needs to be running.
#   scripts/test.sh                 everything
#   scripts/test.sh -m "not slow"   pass pytest options through
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
.venv/bin/ruff check .
.venv/bin/mypy dms ocr_worker search ingest errorkit hanzi
exec .venv/bin/python -m pytest "$@"
