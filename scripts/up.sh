#!/usr/bin/env bash
# The README's first command: install everything, then start the embedded system
# (SQLite, local object store, tantivy index, a Celery worker on a SQLite broker)
# with sample scanned documents, and serve the web UI. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/dms up "$@"
