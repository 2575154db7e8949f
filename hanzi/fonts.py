"""Where the CJK font files are, as the Debian packages install them.

Two uses, two lists:

* PDFs written with reportlab (the OCR text layer, box labels, report exports,
  born-digital sample documents) need TrueType outlines: reportlab cannot embed the
  CFF-flavoured Noto CJK collections, so only WenQuanYi qualifies (``EMBEDDABLE``).
* Rendering sample pages with Pillow can use any face (``FACES``).

A missing font is a ``MissingFontError`` naming the apt package that installs it.
Imports nothing from the project: ocr_worker and dms both import it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

_NOTO = Path("/usr/share/fonts/opentype/noto")
_WQY = Path("/usr/share/fonts/truetype/wqy")


@dataclass(frozen=True)
class Face:
    name: str            # family name as the font calls itself (Noto adds " SC"/" TC")
    regular: Path
    bold: Path           # WenQuanYi has no bold: the regular file again
    package: str         # Debian package that installs both files
    truetype: bool       # TrueType outlines (reportlab can embed it), not CFF
    pdf_name: str = ""   # name a reportlab PDF gives the embedded font

    def file(self, bold: bool = False) -> Path:
        return self.bold if bold else self.regular


NOTO_SANS = Face("Noto Sans CJK", _NOTO / "NotoSansCJK-Regular.ttc",
                 _NOTO / "NotoSansCJK-Bold.ttc", "fonts-noto-cjk", truetype=False)
NOTO_SERIF = Face("Noto Serif CJK", _NOTO / "NotoSerifCJK-Regular.ttc",
                  _NOTO / "NotoSerifCJK-Bold.ttc", "fonts-noto-cjk", truetype=False)
WQY_ZENHEI = Face("WenQuanYi Zen Hei", _WQY / "wqy-zenhei.ttc", _WQY / "wqy-zenhei.ttc",
                  "fonts-wqy-zenhei", truetype=True, pdf_name="WenQuanYiZenHei")
WQY_MICROHEI = Face("WenQuanYi Micro Hei", _WQY / "wqy-microhei.ttc",
                    _WQY / "wqy-microhei.ttc", "fonts-wqy-microhei", truetype=True,
                    pdf_name="WenQuanYiMicroHei")

FACES = {f.name: f for f in (NOTO_SANS, NOTO_SERIF, WQY_ZENHEI, WQY_MICROHEI)}
# In order of preference for PDFs.
EMBEDDABLE: tuple[Face, ...] = (WQY_ZENHEI, WQY_MICROHEI)
# Adobe's CID font for Simplified Chinese, known to every PDF reader by name: enough for
# invisible text (no glyphs drawn) and a last resort for sample PDFs.
CID_FALLBACK = "STSong-Light"


class MissingFontError(FileNotFoundError):
    """No file of the wanted faces is installed; ``hint`` is the apt command."""

    def __init__(self, what: str, faces: tuple[Face, ...]) -> None:
        packages = " or ".join(dict.fromkeys(f.package for f in faces))
        paths = ", ".join(str(f.regular) for f in faces)
        super().__init__(f"缺少中文字体 {what}（查找了 {paths}）")
        self.hint = f"apt-get install {packages}"


def face_file(face: Face, bold: bool = False) -> Path:
    """The face's file, or MissingFontError naming its package."""
    path = face.file(bold)
    if not path.exists():
        raise MissingFontError(f"{face.name} font", (face,))
    return path


def embeddable_face(candidates: tuple[Face, ...] = EMBEDDABLE) -> Face:
    """The first installed TrueType CJK face, for reportlab."""
    for face in candidates:
        if face.truetype and face.regular.exists():
            return face
    raise MissingFontError("TrueType CJK font", candidates)


@functools.lru_cache(maxsize=2)
def reportlab_font(cid_fallback: bool = False) -> str:
    """Register the embeddable CJK font with reportlab once per process (parsing the
    .ttc takes ~1 s) and return its name. With ``cid_fallback`` a machine without one
    gets STSong-Light instead of MissingFontError."""
    try:
        face = embeddable_face()
    except MissingFontError:
        if not cid_fallback:
            raise
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
        return CID_FALLBACK
    if face.pdf_name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(face.pdf_name, str(face.regular), subfontIndex=0))
    return face.pdf_name
