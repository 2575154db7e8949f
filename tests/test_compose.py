"""The production compose file keeps its rules (no Docker engine here: the YAML is read).

Health checks on web, workers and beat; every image at an exact version; no secret with
a default value (compose must refuse to start without it), and every required variable
documented in .env.example; DMS_DATA_DIR on a volume; a one-shot init before the dms
services.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DMS_SERVICES = ("web", "worker", "beat")
# x.y.z, or PostgreSQL's major.minor, or MinIO's release stamp: never a bare major or latest
PINNED = re.compile(r"^[\w./-]+:(\d+\.\d+\.\d+|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)$")
VAR = re.compile(r"\$\{(\w+)(:?[-?])?([^}]*)\}")
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def variables() -> list[tuple[str, str, str]]:
    """(name, operator, default or message) of every ${...} in the compose file."""
    return VAR.findall((ROOT / "docker-compose.yml").read_text("utf-8"))


def documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text("utf-8").splitlines()
    return {ln.split("=", 1)[0] for ln in lines if "=" in ln and not ln.startswith("#")}


def test_every_image_is_pinned_to_an_exact_version(compose: dict[str, Any]) -> None:
    images = {name: svc["image"] for name, svc in compose["services"].items() if "image" in svc}
    assert set(images) >= {"postgres", "redis", "minio", "elasticsearch"}
    for name, image in images.items():
        assert PINNED.match(image) or re.fullmatch(r"postgres:\d+\.\d+", image), \
            f"{name}: {image} is not an exact version"


def test_no_secret_has_a_default(compose: dict[str, Any]) -> None:
    found = variables()
    assert found, "no ${...} variables read: the check would pass vacuously"
    for name, op, rest in found:
        if SECRET.search(name):
            assert not (op in ("-", ":-") and rest), f"{name} defaults to {rest!r}"
    required = {name for name, op, _ in found if op in ("?", ":?")}
    assert {"DMS_SECRET_KEY", "MINIO_ROOT_PASSWORD", "POSTGRES_PASSWORD"} <= required
    assert required <= documented(), "a required variable is missing from .env.example"
    assert "POSTGRES_PASSWORD: dms" not in (ROOT / "docker-compose.yml").read_text("utf-8")


def test_health_checks_on_web_workers_and_beat(compose: dict[str, Any]) -> None:
    services = compose["services"]
    tests = {name: " ".join(services[name]["healthcheck"]["test"]) for name in DMS_SERVICES}
    assert "/healthz" in tests["web"]
    assert "dms worker --healthcheck" in tests["worker"]
    assert "dms beat --healthcheck" in tests["beat"]
    for name in ("postgres", "redis", "minio", "elasticsearch"):
        assert services[name]["healthcheck"]["test"]


def test_the_data_dir_is_on_a_volume(compose: dict[str, Any]) -> None:
    data_dir = compose["x-dms-env"]["DMS_DATA_DIR"]
    for name in (*DMS_SERVICES, "init"):
        mounts = dict(v.split(":", 1) for v in compose["services"][name]["volumes"])
        assert data_dir in mounts.values(), f"{name} has no volume at {data_dir}"
        volume = next(k for k, v in mounts.items() if v == data_dir)
        assert volume in compose["volumes"]


def test_a_one_shot_init_runs_before_the_dms_services(compose: dict[str, Any]) -> None:
    init = compose["services"]["init"]
    command = " ".join(init["command"])
    assert "dms db upgrade" in command and "dms init" in command
    assert init.get("restart", "no") == "no"
    for name in DMS_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["init"] == {"condition": "service_completed_successfully"}
