"""Han characters in one place: which code points are Han (``hanzi.ranges``), the
Traditional/Simplified fold and script detection (``hanzi.folding``) and the CJK font
files (``hanzi.fonts``). A leaf: it imports nothing from the project, and search,
ocr_worker and dms import it instead of keeping copies of their own.

The submodules are imported by name (``from hanzi.ranges import HAN``) so that a caller
of the ranges does not load OpenCC or reportlab.
"""
