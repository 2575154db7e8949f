"""Health checks of the background processes, as the compose file runs them."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dms.testing.postgres import ThrowawayRedis
from dms.worker.health import BEAT_STALE_AFTER_S, beat_alive, beat_schedule_path
from tests.worker.conftest import WorkerSystem

pytestmark = pytest.mark.slow


def _check(system: WorkerSystem, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dms", *args, "--healthcheck"],
                          env=system.env, capture_output=True, text=True, timeout=120)


@pytest.mark.redis
def test_a_worker_answers_its_health_check_over_redis(
        worker_system: Callable[..., WorkerSystem], redis_server: ThrowawayRedis) -> None:
    system = worker_system(DMS_BROKER_URL=redis_server.url.rsplit("/", 1)[0] + "/7")
    assert _check(system, "worker").returncode == 1  # no worker yet
    system.start_worker(concurrency=1)
    system.wait_ready(1)
    out = _check(system, "worker")
    assert out.returncode == 0 and ": ok" in out.stdout, out.stdout + out.stderr
    system.stop_workers()
    assert _check(system, "worker").returncode == 1


def test_beat_is_healthy_while_it_writes_its_schedule(
        worker_system: Callable[..., WorkerSystem]) -> None:
    system = worker_system()
    assert _check(system, "beat").returncode == 1  # never ran
    beat = subprocess.Popen([sys.executable, "-m", "dms", "beat"], env=system.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    system.workers.append(beat)
    data_dir = system.settings.data_dir
    system.wait(lambda: any(data_dir.glob("celerybeat-schedule*")), 120, "the schedule file")
    out = _check(system, "beat")
    assert out.returncode == 0 and "ok" in out.stdout
    assert not beat_alive(data_dir, now=time.time() + BEAT_STALE_AFTER_S + 1)


def test_beat_schedule_path(tmp_path: Path) -> None:
    assert beat_schedule_path(tmp_path) == tmp_path / "celerybeat-schedule"
