"""Draw a :class:`DocSpec` onto A4 pages at 300 dpi and record the exact text drawn.

Layout choices (font face, size, margins, ruled grid vs. ``label：value`` lines...) are
drawn from the seed so one document type looks different from one file to the next.
Truth lines are collected *while drawing*, from the very strings handed to PIL, so
the ground truth cannot drift from the pixels.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, cache

from PIL import Image, ImageDraw, ImageFont

from dms.sample_data import ink
from dms.sample_data.blocks import (
    Checks, DocSpec, Fields, Gap, IdCard, Line, PageBreak, Para, Sign, Table, Title,
)
from hanzi.fonts import NOTO_SANS, NOTO_SERIF, WQY_ZENHEI, MissingFontError

A4 = (2480, 3508)  # 210 x 297 mm at 300 dpi
DPI = 300
# The faces documents are set in (their files: hanzi.fonts), in this order: the seed
# picks among them by position.
_FACES = {f.name: f for f in (NOTO_SANS, NOTO_SERIF, WQY_ZENHEI)}
FontT = ImageFont.FreeTypeFont


def face_name(face: str, script: str) -> str:
    """Full face name; WenQuanYi has one face covering both scripts."""
    if face.startswith("Noto"):
        return f"{face} {'TC' if script == 'traditional' else 'SC'}"
    return face


@cache
def _face_index(path: str, wanted: str) -> int:
    # .ttc collections order their faces differently per version: look the name up
    i = 0
    while True:
        try:
            f = ImageFont.truetype(path, 12, index=i)
        except OSError:
            raise LookupError(f"{wanted!r} not in {path}") from None
        if f.getname()[0] == wanted:
            return i
        i += 1


@lru_cache(maxsize=512)
def get_font(face: str, script: str, px: int, bold: bool = False) -> FontT:
    path = str(_FACES[face].file(bold))
    return ImageFont.truetype(path, px, index=_face_index(path, face_name(face, script)))


@cache
def available_faces() -> tuple[str, ...]:
    out = []
    for face in _FACES:
        try:
            get_font(face, "simplified", 20)
            get_font(face, "traditional", 20)
            out.append(face)
        except (OSError, LookupError):
            continue
    if not out:
        raise MissingFontError("CJK font", tuple(_FACES.values()))
    return tuple(out)


@dataclass
class Style:
    face: str
    script: str
    size_pt: float
    layout: str  # "table" | "lines"
    margins: tuple[int, int, int, int]  # left, top, right, bottom in px
    line_gap: float
    pairs: int  # label/value pairs per table row or line
    underline: bool  # values on underlined blanks, as on pre-printed forms
    runin: bool  # contract clause heading on the same line as its text
    ink: int

    @property
    def px(self) -> int:
        return round(self.size_pt * DPI / 72)


def choose_style(r: random.Random, script: str, framed: bool) -> Style:
    size = r.choice((10.5, 11.0, 12.0, 12.0, 14.0, 15.0, 16.0))
    side = r.randint(170, 320)
    return Style(face=r.choice(available_faces()), script=script, size_pt=size,
                 layout="lines" if framed or r.random() < 0.4 else "table",
                 margins=(side + r.randint(-20, 40), r.randint(200, 340),
                          side + r.randint(-30, 20), r.randint(220, 320)),
                 line_gap=r.uniform(1.5, 1.9), pairs=r.choice((1, 2, 2)),
                 underline=r.random() < 0.4, runin=r.random() < 0.5, ink=r.randint(0, 45))


@dataclass
class Layout:
    pages: list[Image.Image] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)
    seals: list[list[str]] = field(default_factory=list)
    hands: list[list[str]] = field(default_factory=list)


class Canvas:
    """A page-flowing cursor: blocks ask for height, the canvas turns pages."""

    def __init__(self, st: Style, conv: Callable[[str], str], r: random.Random, framed: bool):
        self.st, self.conv, self.r, self.framed = st, conv, r, framed
        self.out = Layout()
        self.font = get_font(st.face, st.script, st.px)
        self.bold = get_font(st.face, st.script, st.px, bold=True)
        self.lh = round(st.px * st.line_gap)
        self.left, self.top = st.margins[0], st.margins[1]
        self.right, self.bottom = A4[0] - st.margins[2], A4[1] - st.margins[3]
        self.width = self.right - self.left
        self.ink = (st.ink,) * 3
        self.new_page()

    # -- page mechanics ---------------------------------------------------------
    def new_page(self) -> None:
        self.img = Image.new("RGB", A4, "white")
        self.draw = ImageDraw.Draw(self.img)
        for bucket in (self.out.lines, self.out.seals, self.out.hands):
            bucket.append([])
        self.out.pages.append(self.img)
        self.y = self.top
        if self.framed:
            m = 60
            box = (self.left - m, self.top - m, self.right + m, self.bottom + m)
            self.draw.rectangle(box, outline=self.ink, width=10)
            self.draw.rectangle((box[0] + 22, box[1] + 22, box[2] - 22, box[3] - 22),
                                outline=self.ink, width=3)
            self.y += m // 2

    def ensure(self, h: int) -> None:
        if self.y + h > self.bottom and self.y > self.top + 10:
            self.new_page()

    def emit(self, text: str) -> None:
        self.out.lines[-1].append(text)

    def width_of(self, s: str, font: FontT | None = None) -> float:
        return (font or self.font).getlength(s)

    def put(self, x: float, y: float, s: str, font: FontT | None = None) -> None:
        self.draw.text((x, y), s, font=font or self.font, fill=self.ink)

    def wrap(self, s: str, width: float, font: FontT | None = None, indent: float = 0) -> list[str]:
        f = font or self.font
        lines, cur, w, avail = [], "", 0.0, width - indent
        for ch in s:
            cw = f.getlength(ch)
            # CJK line-breaking rule: closing punctuation never starts a line, so let it hang
            if w + cw > avail and cur and ch not in "，。；：、）》”！？":
                lines.append(cur)
                cur, w, avail = "", 0.0, width
            cur += ch
            w += cw
        return lines + ([cur] if cur else [])

    # -- blocks ---------------------------------------------------------------
    def title(self, b: Title) -> None:
        f = get_font(self.st.face, self.st.script, round(self.st.px * b.scale), bold=True)
        s = self.conv(b.text)
        if len(s) <= 6 and self.r.random() < 0.5:  # titles are often letter-spaced
            s = "　".join(s) if self.r.random() < 0.3 else s
        self.ensure(int(f.size * 2.2))
        self.y += int(f.size * 0.3)
        self.put(self.left + (self.width - self.width_of(s, f)) / 2, self.y, s, f)
        self.emit(s.replace("　", ""))
        self.y += int(f.size * 1.9)

    def line(self, b: Line) -> None:
        f = get_font(self.st.face, self.st.script, round(self.st.px * b.scale))
        s = self.conv(b.text)
        for part in self.wrap(s, self.width, f):
            self.ensure(self.lh)
            w = self.width_of(part, f)
            x = {"left": self.left, "center": self.left + (self.width - w) / 2,
                 "right": self.right - w}[b.align]
            self.put(x, self.y, part, f)
            self.emit(part)
            self.y += round(self.lh * b.scale)

    def para(self, b: Para) -> None:
        body = self.conv(b.text)
        indent = 2 * self.st.px if b.indent else 0
        if b.heading and not self.st.runin:
            self.ensure(self.lh * 2)
            head = self.conv(b.heading)
            self.put(self.left, self.y, head, self.bold)
            self.emit(head)
            self.y += self.lh
        elif b.heading:
            body, indent = self.conv(b.heading) + " " + body, 0
        for i, part in enumerate(self.wrap(body, self.width, indent=indent)):
            self.ensure(self.lh)
            self.put(self.left + (indent if i == 0 else 0), self.y, part)
            self.emit(part)
            self.y += self.lh
        self.y += self.lh // 4

    def gap(self, b: Gap) -> None:
        self.y += int(self.lh * b.lines)

    def fields(self, b: Fields) -> None:
        items = [(self.conv(k), self.conv(v)) for k, v in b.items]
        if self.st.layout == "table":
            self.fields_table(items)
        else:
            self.fields_lines(items)
        self.y += self.lh // 2

    def fields_lines(self, items: list[tuple[str, str]]) -> None:
        half = self.width / 2
        i = 0
        while i < len(items):
            row = [f"{k}：{v}" for k, v in items[i:i + self.st.pairs]]
            if len(row) == 2 and all(self.width_of(s) < half - self.st.px for s in row):
                i += 2
            else:
                row = row[:1]
                i += 1
            self.ensure(self.lh)
            for j, s in enumerate(row):
                x = self.left + j * half
                k = s.index("：") + 1
                wrapped = self.wrap(s, self.width if len(row) == 1 else half)
                for n, part in enumerate(wrapped):
                    if n:
                        self.y += self.lh
                        self.ensure(self.lh)
                    self.put(x, self.y, part)
                    if self.st.underline:
                        x0 = x + (self.width_of(part[:k]) if n == 0 else 0)
                        yb = self.y + self.st.px * 1.25
                        self.draw.line((x0, yb, x + self.width_of(part) + 20, yb), self.ink, 2)
                if len(row) == 1:
                    self.out.lines[-1].extend(wrapped)
            if len(row) == 2:
                self.emit(" ".join(row))
            self.y += self.lh

    def fields_table(self, items: list[tuple[str, str]]) -> None:
        pad = self.st.px // 2
        lw = min(max(self.width_of(k) for k, _ in items) + 2 * pad, self.width * 0.32)
        two = self.st.pairs == 2
        vw = (self.width - 2 * lw) / 2 if two else self.width - lw
        rows: list[list[tuple[str, str]]] = []
        pending: list[tuple[str, str]] = []
        for k, v in items:  # short values share a row, long ones get the full width
            fits = self.width_of(v) + 2 * pad <= vw and self.width_of(k) + 2 * pad <= lw
            if two and fits:
                pending.append((k, v))
                if len(pending) == 2:
                    rows.append(pending)
                    pending = []
            else:
                rows.append([(k, v)])
        if pending:
            rows.append(pending)
        w = 3
        for row in rows:
            cells = (2 * [lw, vw] if len(row) == 2 else [lw, self.width - lw])
            texts = [t for kv in row for t in kv]
            wrapped = [self.wrap(t, cw - 2 * pad) for t, cw in zip(texts, cells, strict=True)]
            n = max(len(x) for x in wrapped)
            rh = int(self.lh * max(n, 1) + self.st.px * 0.5)
            self.ensure(rh)
            x = float(self.left)
            for cw, parts in zip(cells, wrapped, strict=True):
                self.draw.rectangle((x, self.y, x + cw, self.y + rh), outline=self.ink, width=w)
                ty = self.y + (rh - self.lh * len(parts)) / 2 + (self.lh - self.st.px) / 2 - 4
                for j, part in enumerate(parts):
                    self.put(x + pad, ty + j * self.lh, part)
                x += cw
            for j in range(n):  # reading order: the j-th line of every cell, left to right
                self.emit(" ".join(p[j] for p in wrapped if len(p) > j))
            self.y += rh - w

    def table(self, b: Table) -> None:
        pad = self.st.px // 2
        data = [[self.conv(c) for c in b.header]] + [[self.conv(c) for c in r] for r in b.rows]
        need = [max(self.width_of(r[i]) for r in data) + 2 * pad for i in range(len(b.header))]
        cells = [n * self.width / sum(need) for n in need]
        rh = int(self.lh + self.st.px * 0.4)
        for ri, row in enumerate(data):
            self.ensure(rh)
            x = float(self.left)
            font = self.bold if ri == 0 else self.font
            for cw, t in zip(cells, row, strict=True):
                self.draw.rectangle((x, self.y, x + cw, self.y + rh), outline=self.ink, width=3)
                self.put(x + (cw - self.width_of(t, font)) / 2, self.y + (rh - self.st.px) / 2 - 4,
                         t, font)
                x += cw
            self.emit(" ".join(row))
            self.y += rh - 3
        self.y += self.lh // 2

    def checks(self, b: Checks) -> None:
        tokens = [self.conv(b.label)] + ["□" + self.conv(o) for o in b.options]
        gap = self.st.px
        self.ensure(self.lh)
        x, line = float(self.left), list[str]()
        for i, t in enumerate(tokens):
            w = self.width_of(t)
            if x + w > self.right:
                self.emit(" ".join(line))
                self.y, x, line = self.y + self.lh, float(self.left + 2 * gap), []
            self.put(x, self.y, t)
            if i - 1 == b.selected:
                ink.tick(self.img, int(x), int(self.y), self.st.px, self.r)
            line.append(t)
            x += w + gap
        self.emit(" ".join(line))
        self.y += self.lh

    def sign(self, b: Sign) -> None:
        self.y += self.lh // 2
        self.ensure(self.lh * 4)
        labels = [self.conv(s) for s in b.labels]
        xs = [self.left + i * self.width / len(labels) for i in range(len(labels))]
        if len(labels) == 1 and self.r.random() < 0.6:  # single signature: right half
            xs = [self.left + self.width * 0.5]
        for x, lab, who in zip(xs, labels, b.signers + [""] * len(labels), strict=False):
            self.put(x, self.y, lab)
            if who:
                who = self.conv(who)
                hand = get_font(self.r.choice(available_faces()), self.st.script, self.st.px)
                ink.signature(self.img, who, (int(x + self.width_of(lab) + 10), int(self.y)),
                              self.st.px, self.r, hand)
                self.out.hands[-1].append(who)
        self.emit(" ".join(labels))
        self.y += self.lh * 2
        if b.date:
            d = self.conv(b.date)
            self.put(self.right - self.width_of(d) - self.st.px, self.y, d)
            self.emit(d)
        if b.seal:
            s = self.conv(b.seal)
            cx = int(xs[-1] + self.r.uniform(0.05, 0.3) * self.width / len(xs))
            purpose = self.conv(self.r.choice(("合同专用章", "业务专用章", "", "")))
            ink.seal(self.img, s, (cx, int(self.y - self.lh * 0.5)), self.r,
                     get_font(self.st.face, self.st.script, 60, bold=True), purpose)
            self.out.seals[-1].append(f"{s} {purpose}".strip())
        self.y += self.lh * 2

    def idcard(self, b: IdCard) -> None:
        scale = self.r.uniform(1.0, 1.35)
        cw, ch = int(1011 * scale), int(638 * scale)
        x0 = int(self.left + (self.width - cw) / 2)
        f = get_font(self.st.face, self.st.script, int(34 * scale))
        big = get_font(self.st.face, self.st.script, int(64 * scale), bold=True)
        lh = int(f.size * 1.6)
        for side in ("front", "back"):
            self.ensure(ch + 80)
            y0 = self.y
            self.draw.rounded_rectangle((x0, y0, x0 + cw, y0 + ch), 40, fill=(236,) * 3,
                                        outline=(150,) * 3, width=3)
            tx, ty = x0 + int(60 * scale), y0 + int(60 * scale)
            if side == "front":
                self.draw.rectangle((x0 + cw * 0.64, y0 + ch * 0.12, x0 + cw * 0.93,
                                     y0 + ch * 0.7), fill=(200,) * 3)
                pairs = [(self.conv(k), self.conv(v)) for k, v in b.front]
                rows = [[pairs[0]], pairs[1:3], [pairs[3]]]
                for row in rows:
                    s = "  ".join(f"{k}  {v}" for k, v in row)
                    self.put(tx, ty, s, f)
                    self.emit(s.replace("  ", " "))
                    ty += lh
                k, v = pairs[4]
                for i, part in enumerate(self.wrap(v, cw * 0.5, f)):
                    s = f"{k}  {part}" if i == 0 else part
                    self.put(tx if i == 0 else tx + self.width_of(k + "  ", f), ty, s, f)
                    self.emit(s.replace("  ", " "))
                    ty += lh
                s = f"{self.conv('公民身份号码')}  {b.id_number}"
                self.put(tx, y0 + ch - int(110 * scale), s, f)
                self.emit(s.replace("  ", " "))
            else:
                self.draw.ellipse((tx, ty, tx + 140 * scale, ty + 140 * scale), outline=(120,) * 3,
                                  width=4)
                for s, yy in ((self.conv("中华人民共和国"), 0.12), (self.conv("居民身份证"), 0.3)):
                    fnt = f if yy < 0.2 else big
                    self.put(x0 + (cw - self.width_of(s, fnt)) / 2 + 60, y0 + ch * yy, s, fnt)
                    self.emit(s)
                ty = y0 + int(ch * 0.66)
                for k, v in b.back:
                    s = f"{self.conv(k)}  {self.conv(v)}"
                    self.put(tx + 120 * scale, ty, s, f)
                    self.emit(s.replace("  ", " "))
                    ty += lh
            self.y += ch + 80

    def draw_block(self, b: object) -> None:
        if isinstance(b, PageBreak):
            self.new_page()
            return
        handler = {Title: self.title, Line: self.line, Para: self.para, Fields: self.fields,
                   Table: self.table, Checks: self.checks, Sign: self.sign, IdCard: self.idcard,
                   Gap: self.gap}[type(b)]
        handler(b)  # type: ignore[operator]

    def footers(self, fmt: str) -> None:
        n = len(self.out.pages)
        f = get_font(self.st.face, self.st.script, max(self.st.px - 8, 30))
        for i, (img, lines) in enumerate(zip(self.out.pages, self.out.lines, strict=True)):
            s = self.conv(fmt.format(i=i + 1, n=n))
            ImageDraw.Draw(img).text(((A4[0] - f.getlength(s)) / 2, A4[1] - self.st.margins[3]
                                      + 60), s, font=f, fill=self.ink)
            lines.append(s)


def layout(spec: DocSpec, st: Style, conv: Callable[[str], str], r: random.Random) -> Layout:
    cv = Canvas(st, conv, r, spec.framed)
    for b in spec.blocks:
        cv.draw_block(b)
    if len(cv.out.pages) > 1:
        cv.footers(r.choice(("第 {i} 页 共 {n} 页", "第{i}页/共{n}页", "- {i} -")))
    return cv.out
