"""`dms rooms create` and `dms labels boxes` as an operator runs them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dms.db.migrate import upgrade
from dms.db.models import Slot
from dms.db.session import session_scope
from dms.services import physical as P
from dms.services.container import build_services
from dms.settings import load_settings


def dms(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DMS_DATA_DIR": str(root / "var"), "DMS_SECRET_KEY": "cli" * 32}
    return subprocess.run([sys.executable, "-m", "dms", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow  # four `dms` processes
def test_rooms_create_and_label_boxes(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var", _env_file=None)
    upgrade(settings.database_url)
    res = dms(tmp_path, "rooms", "create", "3", "--name", "三号档案室", "--units", "2",
              "--sections", "10", "--levels", "6")
    assert res.returncode == 0, res.stderr
    assert "240 slots created" in res.stdout
    again = dms(tmp_path, "rooms", "create", "3", "--units", "1")
    assert again.returncode != 0 and "already has unit" in again.stderr
    svc = build_services(settings)
    try:
        with svc.sessions() as s:
            assert s.scalar(select(func.count(Slot.id))) == 240
        with session_scope(svc.sessions) as s:
            P.create_boxes(s, count=3, actor="cli")
    finally:
        svc.close()
    out = tmp_path / "labels.pdf"
    res = dms(tmp_path, "labels", "boxes", "--from", "BX00000001", "--to", "BX00000003",
              "--layout", "a4", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "3 labels" in res.stdout and out.read_bytes().startswith(b"%PDF")
    missing = dms(tmp_path, "labels", "boxes", "BX00000099", "-o", str(out))
    assert missing.returncode == 66 and "unknown box" in missing.stderr
