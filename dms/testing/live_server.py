"""A real ``python -m dms serve`` on a free loopback port, and headless Chromium to drive it.

The browser tests all need the same three things: the web server as a separate process
(so it reads its settings from the environment, as in production), a wait until it really
answers, and Debian's Chromium under Playwright with flags that work in a container.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dms.settings import Settings
from dms.testing.postgres import free_port

if TYPE_CHECKING:  # playwright is a test extra; import it only where a browser is started
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
HEALTH_PATH = "/healthz"


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The ``DMS_*`` variables that make a ``dms`` subprocess use the same deployment."""
    return {"DMS_DATA_DIR": str(settings.data_dir), "DMS_DATABASE_URL": settings.database_url,
            "DMS_CONFIG_DIR": str(settings.config_dir),
            "DMS_SECRET_KEY": settings.secret_key.get_secret_value(),
            **extra}


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM the process's group (it was started in a session of its own), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:  # exited between poll() and killpg()
        proc.wait()


def _healthy(url: str) -> bool:
    """True once /healthz answers 200: every seam is up ('ok', or 'degraded' when no OCR
    worker runs beside the server); a 503 'down' is not ready."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200 and json.load(resp).get("status") in ("ok", "degraded")
    except (OSError, ValueError):  # refused while starting, or an HTTP error status
        return False


@contextmanager
def live_server(env: Mapping[str, str], log_path: Path, timeout: float = 60) -> Iterator[str]:
    """Run ``dms serve`` with ``env`` (``DMS_*`` settings) until the block ends; yield its URL.

    ``DMS_*`` variables of the calling shell are dropped so that only ``env`` configures it.
    """
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")}
    full_env.update(env)
    full_env.update({"DMS_HOST": "127.0.0.1", "DMS_PORT": str(port)})
    base_url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dms", "serve"], env=full_env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(base_url + HEALTH_PATH):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                state = f"exited with {proc.returncode}" if proc.poll() is not None \
                    else f"not healthy after {timeout:.0f} s"
                raise AssertionError(f"dms serve {state}; log tail:\n{tail}")
            time.sleep(0.2)
        yield base_url
    finally:
        stop_process_group(proc)


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh page in Debian's headless Chromium, closed (with the browser) afterwards."""
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser.new_page()
        finally:
            browser.close()


def log_in(page: Page, username: str, password: str) -> None:
    """Fill the login form the page is on (any protected page redirects there)."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
