"""Fast tests without tesseract runs (or only trivial ones)."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from dms.errors import ConfigError, ExternalToolError, ExternalToolTimeout, MissingDependencyError
from ocr_worker.engine import TesseractEngine, check_languages, join_line, parse_tsv
from ocr_worker.engine_api import OcrEngine
from ocr_worker.engines import get_engine, register_engine
from ocr_worker.metrics import cer, levenshtein
from ocr_worker.results import PageResult, Word
from ocr_worker.tools import run_tool


def test_cer() -> None:
    assert cer("供用电 合同", "供用电合同") == 0.0
    assert cer("abcd", "abxd") == 0.25
    assert cer("", "") == 0.0 and cer("", "x") == 1.0
    assert levenshtein("kitten", "sitting") == 3


def w(text: str, x0: int, x1: int, h: int = 50) -> Word:
    return Word(text, 90.0, (x0, 0, x1, h))


def test_join_line_cjk_without_spaces_latin_with() -> None:
    assert join_line([w("供用", 0, 100), w("电", 110, 160), w("合同", 170, 270)]) == "供用电合同"
    assert join_line([w("GDHT", 0, 100), w("2024", 110, 200)]) == "GDHT 2024"
    # A wide gap between Chinese words is a real space (form field separation).
    assert join_line([w("户名", 0, 100), w("张三", 160, 260)]) == "户名 张三"


def test_parse_tsv_skips_structure_rows() -> None:
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n"
        "5\t1\t1\t1\t1\t1\t10\t20\t30\t40\t95.5\t供用\n"
        "5\t1\t1\t1\t1\t2\t45\t20\t30\t40\t90\t电\n"
        "5\t1\t1\t1\t2\t1\t10\t80\t30\t40\t-1\t \n"
    )
    words, keys = parse_tsv(tsv)
    assert [x.text for x in words] == ["供用", "电"]
    assert words[0].bbox == (10, 20, 40, 60)
    assert keys == [(1, 1, 1), (1, 1, 1)]


def test_page_result_json_round_trip(tmp_path: Path) -> None:
    r = PageResult(
        page_no=2, text="供用电合同", words=[Word("供用电合同", 91.5, (1, 2, 3, 4), 1, 1001)],
        mean_confidence=91.5, rotation=90, skew=-1.5, needs_review=False, engine="tesseract",
        languages="chi_sim", dpi=300, page_pdf=tmp_path / "p.pdf",
        processed_image=tmp_path / "p.png", timings={"recognise": 1.0},
        existing_text="x", notes={"axis_ratio": 8.0},
    )
    import json

    again = PageResult.from_dict(json.loads(json.dumps(r.to_dict(), ensure_ascii=False)))
    assert again == r


def test_engine_registry() -> None:
    assert isinstance(get_engine("tesseract"), OcrEngine)
    with pytest.raises(ConfigError, match="unknown OCR engine"):
        get_engine("paddle-nope")
    register_engine("tesseract-psm6", lambda: TesseractEngine(psm=6))
    assert get_engine("tesseract-psm6").name == "tesseract"


def test_missing_language_names_package() -> None:
    with pytest.raises(MissingDependencyError) as exc:
        check_languages("chi_sim+klingon")
    assert "tesseract-ocr-klingon" in str(exc.value)


def test_missing_binary_names_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: nothing is installed
    with pytest.raises(MissingDependencyError) as exc:
        run_tool(["tesseract", "--version"], timeout=10)
    assert "apt-get install tesseract-ocr" in str(exc.value)
    with pytest.raises(MissingDependencyError, match="poppler-utils"):
        run_tool(["pdftoppm", "-v"], timeout=10)


def test_nonzero_exit_has_stderr_tail(tmp_path: Path) -> None:
    with pytest.raises(ExternalToolError) as exc:
        run_tool(["tesseract", str(tmp_path / "nope.png"), "-"], timeout=30)
    assert not isinstance(exc.value, ExternalToolTimeout)
    assert "tesseract exited with" in str(exc.value)


def test_timeout_kills_process() -> None:
    t0 = time.monotonic()
    with pytest.raises(ExternalToolTimeout):
        run_tool(["sleep", "30"], timeout=0.2)
    assert time.monotonic() - t0 < 5
    # no sleep left behind
    out = subprocess.run(["pgrep", "-P", str(os.getpid()), "sleep"], capture_output=True)
    assert out.stdout.strip() == b""


def test_tesseract_timeout_on_real_page(page_png: Path) -> None:
    with pytest.raises(ExternalToolTimeout):
        TesseractEngine().recognise(page_png, languages="chi_sim", dpi=300, timeout=0.01)


def test_tesseract_models_load_once_per_process(page_png: Path) -> None:
    """The second page costs no model loading: the library keeps one model set per
    (languages, layout) in the worker process, and reads the same text again."""
    from ocr_worker import tesseract_api

    engine = TesseractEngine()
    first = engine.recognise(page_png, languages="chi_sim", dpi=300, timeout=120, pdf=True)
    loaded = tesseract_api.loaded_model_sets()
    again = engine.recognise(page_png, languages="chi_sim", dpi=300, timeout=120, pdf=True)
    assert ("chi_sim", 3) in loaded and tesseract_api.loaded_model_sets() == loaded
    assert first.text == again.text and "合同" in first.text
    assert first.pdf is not None and first.pdf.read_bytes().startswith(b"%PDF")
    assert first.words and all(w.bbox[2] > w.bbox[0] for w in first.words)


def _words(text: str, conf: float) -> list[Word]:
    return [Word(ch, conf, (0, 0, 10, 10)) for ch in text]


def test_reads_upright_by_sure_characters() -> None:
    from ocr_worker.orientation import reads_upright, sure_characters

    garbage = _words("丶丿乙亅乛亠亻冫冖讠凵刂卩阝厶廴", 20.0)
    # An upright Traditional crop read with chi_sim: a middling mean, many sure characters.
    tc = _words("臺灣電力公司用電契約戶名", 95.0) + garbage
    assert sure_characters(tc) == (12, len(tc))
    assert reads_upright(55.0, tc)
    # A turned crop: the characters a half turn keeps read well, they prove nothing.
    alike = _words("一二三十工日中田口王" * 2, 96.0) + garbage
    assert sure_characters(alike)[0] == 0 and not reads_upright(55.0, alike)
    # Digits, Latin and table rules (|) read well turned over too: not counted.
    assert sure_characters(_words("0186|||IlHN", 97.0))[0] == 0
    # Eight sure characters lost in a long garbage read: too small a share.
    assert not reads_upright(40.0, _words("臺灣電力公司契約", 95.0) + garbage * 4)
    assert not reads_upright(69.0, _words("臺灣電力", 95.0) + garbage)  # too few
    assert reads_upright(70.0, garbage)  # a mean this high is enough on its own
