"""The harder corpus says how much of a bilevel page's printed ink its scan kept, so the
engines benchmark can count the scans with nothing left to read apart (issue 20)."""
from __future__ import annotations

import json
from pathlib import Path

from dms.sample_data.hard import HardPage, generate_hard_pages, render_hard_page


def test_light_toner_under_a_low_threshold_keeps_next_to_no_ink() -> None:
    gone, _ = render_hard_page(HardPage("GYDHT", 1257, 1, "faint_bilevel", ink=0.37,
                                        threshold=153, dpi=200))
    kept, _ = render_hard_page(HardPage("GYDHT", 1257, 1, "faint_bilevel", ink=0.6,
                                        threshold=160, dpi=200))
    assert gone.info["ink_kept"] < 0.05
    assert kept.info["ink_kept"] > 0.3


def test_grey_pages_carry_no_ink_share_and_the_truth_file_has_it(tmp_path: Path) -> None:
    grey, _ = render_hard_page(HardPage("GYDHT", 1, 0, "low_contrast", ink=0.4))
    assert "ink_kept" not in grey.info  # faint but grey: contrast stretching reads it
    entries = generate_hard_pages(tmp_path, 2, seed=11)
    saved = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert [e["ink_kept"] for e in saved] == [e["ink_kept"] for e in entries]
    assert all(0.0 <= e["ink_kept"] <= 1.0 for e in entries)
    assert entries[0]["degrade"] == "faint_bilevel" and entries[0]["ink_kept"] < 0.05
