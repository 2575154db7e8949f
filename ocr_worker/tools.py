"""The one place where dms starts external programs (tesseract, pdftoppm, pdftotext, pdfinfo).

Every call gets a timeout, and failures become typed errors so the task layer can decide
retry-or-fail without parsing messages:

* binary not on PATH -> :class:`MissingDependencyError` naming the Debian package,
* non-zero exit      -> :class:`ExternalToolError` with the tail of stderr,
* timeout            -> :class:`ExternalToolTimeout`; the whole process group is killed.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from errorkit import ExternalToolError, ExternalToolTimeout, MissingDependencyError

# Which Debian package provides each program we call (for the "apt-get install" hint).
DEBIAN_PACKAGES: dict[str, str] = {
    "tesseract": "tesseract-ocr",
    "pdftoppm": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "pdftotext": "poppler-utils",
}

_STDERR_TAIL = 2000


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process: ours plus ``extra``."""
    env = dict(os.environ)
    if extra:
        env.update(extra)
    return env


def tesseract_env() -> dict[str, str]:
    """Tesseract's OpenMP threads fight with our one-process-per-core workers and make it
    several times *slower*; OCRmyPDF learnt the same lesson. Always one thread."""
    return tool_env({"OMP_THREAD_LIMIT": "1"})


def require(program: str) -> str:
    """Absolute path of ``program`` or :class:`MissingDependencyError` with the apt hint."""
    found = shutil.which(program)
    if found is None:
        package = DEBIAN_PACKAGES.get(Path(program).name, Path(program).name)
        raise MissingDependencyError(
            f"external program {program!r} not found on PATH",
            hint=f"apt-get install {package}",
        )
    return found


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_tool(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``args`` to completion, capturing stdout/stderr as bytes.

    ``timeout`` is in seconds (``<= 0`` counts as already expired). ``env`` replaces the
    environment when given (use :func:`tool_env`/:func:`tesseract_env` to extend ours).
    """
    argv = [os.fspath(a) for a in args]
    if not argv:
        raise ValueError("run_tool needs a program")
    argv[0] = require(argv[0])
    name = Path(argv[0]).name
    if timeout <= 0:
        raise ExternalToolTimeout(f"{name}: no time left in the page budget")
    try:
        # A new session so a timeout can kill helpers the program spawned too.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:  # raced with an uninstall, or a bad cwd
        raise MissingDependencyError(
            f"cannot start {name}: {exc}",
            hint=f"apt-get install {DEBIAN_PACKAGES.get(name, name)}",
        ) from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        proc.communicate()  # reap, close pipes
        raise ExternalToolTimeout(f"{name} timed out after {timeout:.2f} s") from exc
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    if proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace")[-_STDERR_TAIL:].strip()
        raise ExternalToolError(f"{name} exited with {proc.returncode}: {tail}")
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
