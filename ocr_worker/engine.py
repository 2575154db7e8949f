"""Tesseract behind the engine protocol (:mod:`ocr_worker.engine_api`): the in-process
reading, its TSV parsed into words, its text assembled in reading order, and OSD.

The engines are chosen by name from the registry in :mod:`ocr_worker.engines`; the
protocol, :class:`EngineOutput` and the helpers every engine uses are in
:mod:`ocr_worker.engine_api` (imported here too, for the modules that read tesseract's
output).
"""
from __future__ import annotations

import csv
import functools
import io
import itertools
import re
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from errorkit import ConfigError, ExternalToolError, ExternalToolTimeout, MissingDependencyError
from ocr_worker import tesseract_api
from ocr_worker.engine_api import EngineOutput, OcrEngine, is_cjk, mean_confidence
from ocr_worker.layout import regions
from ocr_worker.pdf_image import put_image_under_text
from ocr_worker.results import Word
from ocr_worker.text_layer import relayer_page_pdf
from ocr_worker.tools import run_tool, tesseract_env

__all__ = ["EngineOutput", "OcrEngine", "Osd", "TesseractEngine", "assemble_text",
           "by_region", "check_languages", "is_cjk", "join_line", "mean_confidence",
           "parse_tsv", "tesseract_languages", "tesseract_osd"]

# --- text assembly -------------------------------------------------------------------


def join_line(words: list[Word]) -> str:
    """Join one line's words the way the script wants.

    Tesseract splits Chinese into "words" of one or two characters; spaces between them are
    noise. Between two Latin/digit words a space is real. Next to a CJK character we only
    keep a space when the gap is wide (a real space there is about half an em or more).
    """
    if not words:
        return ""
    height = statistics.median(max(1, w.bbox[3] - w.bbox[1]) for w in words)
    out = [words[0].text]
    for prev, cur in itertools.pairwise(words):
        gap = cur.bbox[0] - prev.bbox[2]
        a, b = prev.text[-1], cur.text[0]
        if is_cjk(a) or is_cjk(b):
            spaced = gap > 0.6 * height
        else:
            spaced = True
        out.append((" " if spaced else "") + cur.text)
    return "".join(out)


def assemble_text(words: list[Word], line_keys: list[tuple[int, int, int]]) -> str:
    """Text in the engine's reading order from words and their (block, par, line) keys."""
    blocks: list[list[str]] = []
    line: list[Word] = []
    last_key: tuple[int, int, int] | None = None
    for w, key in zip(words, line_keys, strict=True):
        if key != last_key and line:
            blocks[-1].append(join_line(line))
            line = []
        if last_key is None or key[0] != last_key[0]:
            blocks.append([])
        line.append(w)
        last_key = key
    if line:
        blocks[-1].append(join_line(line))
    return "\n\n".join("\n".join(b) for b in blocks if b)


# --- tesseract ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def tesseract_languages() -> frozenset[str]:
    out = run_tool(["tesseract", "--list-langs"], timeout=30, env=tesseract_env())
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(x.strip() for x in lines[1:] if x.strip())


def check_languages(languages: str) -> None:
    missing = [lang for lang in languages.split("+") if lang not in tesseract_languages()]
    if missing:
        pkgs = " ".join("tesseract-ocr-" + m.replace("_", "-").lower() for m in missing)
        raise MissingDependencyError(
            f"tesseract language data missing: {', '.join(missing)}",
            hint=f"apt-get install {pkgs}",
        )


def parse_tsv(tsv: str) -> tuple[list[Word], list[tuple[int, int, int]]]:
    words: list[Word] = []
    keys: list[tuple[int, int, int]] = []
    reader = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        if row.get("level") != "5":
            continue
        text = (row.get("text") or "").strip()
        conf = float(row.get("conf") or -1)
        if not text or conf < 0:
            continue
        x, y = int(row["left"]), int(row["top"])
        w, h = int(row["width"]), int(row["height"])
        block, par, line = int(row["block_num"]), int(row["par_num"]), int(row["line_num"])
        # A line id unique on the page: tesseract restarts line_num in every paragraph.
        words.append(Word(text, round(conf, 2), (x, y, x + w, y + h), block, par * 1000 + line))
        keys.append((block, par, line))
    return words, keys


def by_region(words: list[Word], keys: list[tuple[int, int, int]]
              ) -> tuple[list[Word], list[tuple[int, int, int]]] | None:
    """Tesseract's words regrouped by layout region (:mod:`ocr_worker.layout`), or None
    when the page is one region. Its own layout analysis reads two ID cards side by side
    as lines running across both; inside a region its order and lines are kept (a line
    across two regions is cut in two), and region n's blocks are numbered n * 1000 + b."""
    found = regions(list(range(len(words))), lambda i: words[i].bbox)
    if len(found) < 2:
        return None
    out_words: list[Word] = []
    out_keys: list[tuple[int, int, int]] = []
    for n, region in enumerate(found, 1):
        for i in region:
            block, par, line = keys[i]
            out_words.append(replace(words[i], block=n * 1000 + block))
            out_keys.append((n * 1000 + block, par, line))
    return out_words, out_keys


class TesseractEngine:
    """Tesseract 5, loaded once per worker process (:mod:`ocr_worker.tesseract_api`). One
    recognition pass gives the TSV (boxes, confidences) and, when asked, the PDF page."""

    name = "tesseract"

    def __init__(self, psm: int = 3) -> None:
        # psm 3 = automatic layout; archives mix forms, tables and free text.
        self.psm = psm

    def psm_for(self, layout: str) -> int:
        if layout == "auto":
            return self.psm
        if layout == "block":
            return 6  # a single uniform block of text, horizontal lines only
        raise ConfigError(f"unknown layout {layout!r} for tesseract")

    def recognise(
        self, image: Path, *, languages: str, dpi: int, timeout: float, pdf: bool = False,
        layout: str = "auto", under: Path | None = None,
    ) -> EngineOutput:
        check_languages(languages)
        pdf_base = image.with_name(image.stem + ".ocr") if pdf else None
        # A "block" read tests an orientation: no second, inverted reading of poor lines.
        tsv = tesseract_api.read_tsv(image, languages=languages, dpi=dpi,
                                     psm=self.psm_for(layout), timeout=timeout, pdf_base=pdf_base,
                                     try_inverted=layout != "block")
        words, keys = parse_tsv(tsv)
        split = by_region(words, keys)
        pdf_path = None
        if pdf_base is not None:
            text_layer = pdf_base.with_name(pdf_base.name + ".pdf")
            pdf_path = put_image_under_text(text_layer, under or image, text_layer)
            if split is not None:  # tesseract's own layer interleaves the regions
                pdf_path = relayer_page_pdf(pdf_path, image, split[0],
                                            pdf_base.with_name(pdf_base.name + ".regions.pdf"),
                                            dpi=dpi)
        if split is not None:
            words, keys = split
        return EngineOutput(
            words=words,
            text=assemble_text(words, keys),
            mean_confidence=round(mean_confidence(words), 2),
            pdf=pdf_path,
        )

    def searchable_page_pdf(
        self, image: Path, *, languages: str, dpi: int, timeout: float
    ) -> Path:
        out = self.recognise(image, languages=languages, dpi=dpi, timeout=timeout, pdf=True)
        if out.pdf is None:  # read_tsv checks the file; this keeps the type honest
            raise ExternalToolError(f"tesseract wrote no PDF for {image.name}")
        return out.pdf


@dataclass(frozen=True)
class Osd:
    rotate: int  # degrees clockwise to make the page upright, as tesseract reports it
    confidence: float


def tesseract_osd(image: Path, *, dpi: int, timeout: float) -> Osd | None:
    """Tesseract's orientation guess, or None when it cannot tell (too little text)."""
    try:
        out = run_tool(
            ["tesseract", str(image), "-", "--psm", "0", "--dpi", str(int(dpi))],
            timeout=timeout,
            env=tesseract_env(),
        )
    except ExternalToolTimeout:
        raise
    except ExternalToolError:  # "Too few characters": no opinion, not a failure
        return None
    text = out.stdout.decode("utf-8", "replace")
    rot = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    if not rot or not conf:
        return None
    return Osd(int(rot.group(1)) % 360, float(conf.group(1)))
