"""``dms rooms …`` and ``dms labels …``: the physical archive from the shell."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from dms.cli_context import CliContext, pass_ctx
from dms.db.models import Box
from dms.db.session import session_scope
from dms.domain.audit import ReadAction
from dms.domain.locations import parse_sides
from dms.errors import InvalidInputError
from dms.services import labels, physical
from dms.services.audit_log import record_cli_read


@click.group(help="Archive rooms and their compact shelving.")
def rooms() -> None:
    pass


@rooms.command("create", help="Configure a room and its shelving units; all slots at once, "
                              "e.g. dms rooms create 1 --units 5 --sections 10 --levels 6")
@click.argument("number", type=int)
@click.option("--name", default="")
@click.option("--units", "unit_count", type=int, default=1, show_default=True)
@click.option("--first-unit", type=int, default=1, show_default=True)
@click.option("--sections", type=int, default=10, show_default=True)
@click.option("--levels", type=int, default=6, show_default=True)
@click.option("--sides", default="AB", show_default=True, help="AB, A or B")
@click.option("--boxes-per-slot", type=int, default=10, show_default=True)
@click.option("--actor", default="cli", show_default=True, help="name written to the audit log")
@pass_ctx
def rooms_create(c: CliContext, number: int, name: str, unit_count: int, first_unit: int,
                 sections: int, levels: int, sides: str, boxes_per_slot: int,
                 actor: str) -> None:
    with session_scope(c.services.sessions) as s:
        done = physical.create_room(s, number=number, name=name, actor=actor,
                                    unit_count=unit_count, first_unit=first_unit,
                                    sections=sections, levels=levels, sides=parse_sides(sides),
                                    boxes_per_slot=boxes_per_slot)
    click.echo(f"room R{done.room_number:02d}: units {done.units[0]}–{done.units[-1]}, "
               f"{done.slots} slots created")


@click.group(help="Print barcode labels (PDF).")
def labels_group() -> None:
    pass


def _write(c: CliContext, contents: list[labels.LabelContent], out: Path, layout: str,
           width: float | None, height: float | None) -> None:
    size = labels.LabelSize(width or c.settings.label_width_mm,
                            height or c.settings.label_height_mm)
    pdf = labels.render_labels_pdf(contents, size=size,
                                   layout="a4" if layout == "a4" else "label")
    out.write_bytes(pdf)
    codes = [lc.code for lc in contents]  # labels carry customers' names: audited
    record_cli_read(c.services.sessions, ReadAction.LABEL_PRINT,
                    "volumes" if codes and codes[0].startswith("JZ") else "boxes",
                    ",".join(codes)[:64], data={"codes": codes, "file": str(out)})
    click.echo(f"{len(contents)} labels → {out} "
               f"({layout}, {size.width_mm:g}×{size.height_mm:g} mm)")


_layout = click.option("--layout", type=click.Choice(["label", "a4"]), default="label",
                       show_default=True, help="one label per page, or A4 sheets")
_width = click.option("--width", type=float, default=None, help="label width in mm")
_height = click.option("--height", type=float, default=None, help="label height in mm")
_out = click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True)


@labels_group.command("boxes", help="Box labels: dms labels boxes BX00000001 BX00000002 -o l.pdf "
                                    "or --from BX00000001 --to BX00000500")
@click.argument("codes", nargs=-1)
@click.option("--from", "first", default=None)
@click.option("--to", "last", default=None)
@_layout
@_width
@_height
@_out
@pass_ctx
def labels_boxes(c: CliContext, codes: tuple[str, ...], first: str | None, last: str | None,
                 layout: str, width: float | None, height: float | None, out: Path) -> None:
    with c.services.sessions() as s:
        wanted = [x.upper() for x in codes]
        if first or last:
            wanted += list(s.scalars(select(Box.code).where(
                Box.code >= (first or "").upper(), Box.code <= (last or "BX99999999").upper())
                .order_by(Box.code)))
        if not wanted:
            raise InvalidInputError("name the boxes: codes, or --from/--to")
        contents = labels.box_label_contents(s, wanted)
    _write(c, contents, out, layout, width, height)


@labels_group.command("volumes",
                      help="Volume spine/cover labels: dms labels volumes JZ…-01 -o v.pdf")
@click.argument("volume_nos", nargs=-1, required=True)
@_layout
@_width
@_height
@_out
@pass_ctx
def labels_volumes(c: CliContext, volume_nos: tuple[str, ...], layout: str,
                   width: float | None, height: float | None, out: Path) -> None:
    with c.services.sessions() as s:
        contents = labels.volume_label_contents(s, list(volume_nos))
    _write(c, contents, out, layout, width, height)
