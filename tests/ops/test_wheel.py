"""The built wheel carries every template, static and config file: built from a copy of the
source (no stale build/ folder can hide a missing file), installed with --no-deps into a
fresh virtual environment that sees the test venv's dependencies but not its editable dms,
then `dms --help`, `dms up --help`, `dms db upgrade` and page renders run FROM THAT COPY."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                              "var", ".*_cache", "tests", "docs", "benchmarks")

RENDER = r"""
import sys
from pathlib import Path
import dms
from dms.settings import load_settings
from dms.domain.checklist import load_checklist
from dms.web import create_app

venv = Path(sys.argv[1]).resolve()
assert Path(dms.__file__).resolve().is_relative_to(venv), dms.__file__
settings = load_settings(data_dir=Path(sys.argv[2]), secret_key="wheel-test-" + "w" * 32,
                         _env_file=None)
assert Path(settings.config_dir).resolve().is_relative_to(venv), settings.config_dir
assert load_checklist(settings.checklist_path)  # the checklist the archive is checked against
app = create_app(settings)
page = app.test_client().get("/login")
assert page.status_code == 200 and "登录" in page.get_data(as_text=True), page.status_code
# the compiled catalogs ship: English comes from en/LC_MESSAGES/messages.mo
assert "Log in" in app.test_client().get("/login?lang=en").get_data(as_text=True)
for name in app.jinja_env.list_templates():  # every template ships and compiles
    app.jinja_env.get_template(name)
assert "physical/index.html" in app.jinja_env.list_templates()
assert app.test_client().get("/static/dms.css").status_code == 200
print("rendered from", dms.__file__)
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True, timeout=600)
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_from_a_fresh_venv(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DMS_", "PYTHON"))}
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(tmp_path / "dist"), str(src)], tmp_path, env)
    wheel = next((tmp_path / "dist").glob("dms-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    py = venv / "bin" / "python"
    new_site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         tmp_path, env).strip())
    # The dependencies come from the test venv's site-packages as a plain path entry: its
    # .pth files (the editable dms) are not processed from there, so only the wheel's dms
    # can be imported.
    (new_site / "test-venv-deps.pth").write_text(site.getsitepackages()[0] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
          str(wheel)], tmp_path, env)

    dms = str(venv / "bin" / "dms")
    data = tmp_path / "var"
    run_env = {**env, "DMS_DATA_DIR": str(data)}
    assert "backup" in _run([dms, "--help"], tmp_path, run_env)
    assert "--help" in _run([dms, "up", "--help"], tmp_path, run_env)
    assert "up to date" in _run([dms, "db", "upgrade"], tmp_path, run_env)
    assert (data / "dms.sqlite").is_file()
    out = _run([str(py), "-c", RENDER, str(venv), str(data)], tmp_path, run_env)
    assert "rendered from " + str(venv) in out
