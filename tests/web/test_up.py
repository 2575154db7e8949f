"""Issue 16, "Done when": `dms up` (the README's command) still starts, now with a generated
secret key in the data directory and gunicorn instead of Flask's development server."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dms.testing.live_server import stop_process_group
from dms.testing.postgres import free_port


def test_dms_up_generates_a_key_and_serves_with_gunicorn(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")}
    env.update(DMS_DATA_DIR=str(data), DMS_PORT=str(port), DMS_LOG_LEVEL="WARNING")
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dms", "up", "--no-sample"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=tmp_path)
    try:
        deadline, headers = time.monotonic() + 120, None
        while headers is None:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    headers = r.headers
            except OSError:
                time.sleep(0.5)
        assert headers["Server"] == "gunicorn"  # not Werkzeug/x Python/y
        key_file = data / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert len(key_file.read_text().strip()) >= 32
        assert "Content-Security-Policy" in headers
    finally:
        stop_process_group(proc)
