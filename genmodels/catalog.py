"""The part-based vocabulary: one program per everyday category, writing parts in metres.

Each ``Category`` has a name (the noun the author reads back), a group, the synonyms the
text model trains on, the usual look per material role, and a program ``fn(b: Builder)``
that draws one instance: proportions, part counts and styles come from the seed through
``b.u / b.i / b.pick`` (and a style word in the prompt, e.g. "round", wins over the seed).
Programs build at real-world size with the base near y = 0; parts touch or overlap (the
bench checks connectivity) and left/right pairs come from ``mirror_x``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from genmodels.parts import Builder, Look

Program = Callable[[Builder], None]

WOOD = (0.55, 0.36, 0.2)
DARKWOOD = (0.36, 0.22, 0.12)
METAL = (0.6, 0.62, 0.65)
DARKMETAL = (0.18, 0.18, 0.2)
STONE = (0.55, 0.54, 0.5)
LEAF = (0.22, 0.5, 0.2)
BARK = (0.38, 0.25, 0.14)
WHITE = (0.92, 0.92, 0.9)
GLOW = (1.0, 0.82, 0.45)
RED = (0.78, 0.12, 0.1)
GLASS = (0.75, 0.88, 0.95)
BLACK = (0.07, 0.07, 0.08)


@dataclass
class Category:
    name: str
    group: str
    synonyms: tuple[str, ...]
    looks: dict[str, Look]
    fn: Program
    label: str = ""  # how the honest answer names it ("a stylised lizard figure")
    styles: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return self.label or f"a {self.name}"


CATEGORIES: dict[str, Category] = {}


def cat(
    name: str,
    group: str,
    synonyms: tuple[str, ...],
    looks: dict[str, tuple[str, tuple[float, float, float]]],
    label: str = "",
    styles: tuple[str, ...] = (),
) -> Callable[[Program], Program]:
    def deco(fn: Program) -> Program:
        CATEGORIES[name] = Category(
            name, group, (name, *synonyms), {r: Look(k, c) for r, (k, c) in looks.items()}, fn, label, styles
        )
        return fn

    return deco


def alias(
    name: str,
    group: str,
    synonyms: tuple[str, ...],
    looks: dict[str, tuple[str, tuple[float, float, float]]],
    fn: Program,
    label: str = "",
) -> None:
    cat(name, group, synonyms, looks, label)(fn)


# ============================== furniture ==============================
def _seat(b: Builder, h_seat: float, w: float, d: float, back: float, arms: bool, soft: bool, legs_h: float) -> None:
    t = 0.12 if soft else 0.05
    if legs_h > 0.02:
        b.legs(4, 0.05 if not soft else 0.07, legs_h, w / 2 - 0.05, d / 2 - 0.05, role="legs", round_=b.chance(0.4))
    seat_role = "cushion" if soft else "main"
    base_h = h_seat - legs_h
    if soft:
        b.box(w, base_h - t, d, 0, legs_h + (base_h - t) / 2, 0, "main")
        b.box(w - 0.06, t, d - 0.08, 0, h_seat - t / 2, 0.02, seat_role)
    else:
        b.box(w, t, d, 0, h_seat - t / 2, 0, "main")
    if back > 0:
        bt = 0.16 if soft else 0.04
        b.box(w, back, bt, 0, h_seat + back / 2 - 0.02, -d / 2 + bt / 2, "main")
    if arms:
        aw = 0.14 if soft else 0.05
        ah = 0.22 if soft else 0.2
        a = b.box(
            aw,
            ah + (base_h if soft else 0),
            d,
            w / 2 - aw / 2,
            h_seat + ah / 2 - (base_h / 2 if soft else 0),
            0,
            "main",
        )
        b.mirror_x(a)


@cat(
    "chair",
    "furniture",
    ("dining chair", "wooden chair", "kitchen chair", "office chair", "seat"),
    {"main": ("wood", WOOD), "legs": ("wood", WOOD)},
    styles=("modern", "classic", "tall"),
)
def chair(b: Builder) -> None:
    style = b.pick(("classic", "modern", "slat"))
    h = b.u(0.42, 0.48)
    w, d = b.u(0.4, 0.5), b.u(0.4, 0.5)
    _seat(b, h, w, d, b.u(0.4, 0.55), False, False, h - 0.05)
    if style == "slat":
        for k in range(b.i(2, 4)):
            b.box(w, 0.04, 0.03, 0, h + 0.12 + 0.1 * k, -d / 2 + 0.02, "accent")


@cat(
    "armchair",
    "furniture",
    ("easy chair", "lounge chair", "recliner", "club chair"),
    {"main": ("fabric", (0.5, 0.3, 0.25)), "cushion": ("fabric", (0.6, 0.4, 0.32)), "legs": ("wood", DARKWOOD)},
)
def armchair(b: Builder) -> None:
    _seat(b, b.u(0.42, 0.48), b.u(0.8, 0.95), b.u(0.75, 0.9), b.u(0.35, 0.5), True, True, b.u(0.05, 0.12))


@cat(
    "sofa",
    "furniture",
    ("couch", "settee", "loveseat", "sectional"),
    {
        "main": ("fabric", (0.35, 0.4, 0.55)),
        "cushion": ("fabric", (0.45, 0.5, 0.62)),
        "legs": ("wood", DARKWOOD),
        "accent": ("fabric", (0.8, 0.75, 0.6)),
    },
)
def sofa(b: Builder) -> None:
    w = b.u(1.6, 2.3)
    _seat(b, b.u(0.42, 0.47), w, b.u(0.8, 0.95), b.u(0.35, 0.45), True, True, b.u(0.05, 0.12))
    for k in range(b.i(0, 2)):
        p = b.box(0.35, 0.3, 0.1, w / 2 - 0.35 - 0.3 * k, 0.65, -0.25, "accent", rot=(-10, 0, 0))
        b.mirror_x(p)


@cat("stool", "furniture", ("bar stool", "footstool", "step stool"), {"main": ("wood", WOOD), "legs": ("wood", WOOD)})
def stool(b: Builder) -> None:
    h = b.u(0.45, 0.78)
    round_ = b.pick(("round", "square")) == "round"
    if round_:
        b.cyl(b.u(0.32, 0.4), 0.05, 0, h - 0.025, 0, "main")
    else:
        b.box(0.36, 0.05, 0.36, 0, h - 0.025, 0, "main")
    n = b.pick(("3", "4"))
    b.legs(int(n), 0.04, h - 0.05, 0.13, 0.13, role="legs", round_=True)
    if n == "4":
        b.box(0.28, 0.025, 0.025, 0, h * 0.35, 0.13, "legs")
        b.box(0.28, 0.025, 0.025, 0, h * 0.35, -0.13, "legs")
    else:
        b.torus(0.28, 0.025, 0, h * 0.35, 0, "legs")


@cat(
    "bench",
    "furniture",
    ("park bench", "garden bench", "wooden bench", "pew"),
    {"main": ("wood", WOOD), "legs": ("metal", DARKMETAL)},
)
def bench(b: Builder) -> None:
    w = b.u(1.2, 2.0)
    h = b.u(0.42, 0.47)
    for k in range(3):
        b.box(w, 0.035, 0.12, 0, h, -0.15 + 0.14 * k, "main")
    if b.chance(0.7):
        for k in range(2):
            b.box(w, 0.08, 0.03, 0, h + 0.2 + 0.13 * k, -0.24, "main", rot=(-8, 0, 0))
        b.box(0.05, 0.42, 0.05, w / 2 - 0.12, h + 0.21, -0.25, "legs")
        b.box(0.05, 0.42, 0.05, -(w / 2 - 0.12), h + 0.21, -0.25, "legs")
    leg = b.box(0.06, h, 0.45, w / 2 - 0.12, h / 2, 0, "legs")
    b.mirror_x(leg)


def _table(b: Builder, w: float, d: float, h: float, round_: bool, legs: str, top_t: float = 0.04) -> None:
    if round_:
        b.cyl(w, top_t, 0, h - top_t / 2, 0, "top" if "top" in b.words else "main", dz=d)
    else:
        b.box(w, top_t, d, 0, h - top_t / 2, 0, "main")
    if legs == "pedestal":
        b.cyl(0.1, h - top_t, 0, (h - top_t) / 2, 0, "legs")
        b.cyl(min(w, d) * 0.55, 0.04, 0, 0.02, 0, "legs")
    else:
        inset = 0.16 if round_ else 0.06
        b.legs(
            4,
            0.06,
            h - top_t,
            w / 2 - inset * (w / 0.9 if round_ else 1),
            d / 2 - inset * (d / 0.9 if round_ else 1),
            role="legs",
            round_=legs == "round",
        )


@cat(
    "table",
    "furniture",
    ("dining table", "kitchen table", "wooden table", "round table"),
    {"main": ("wood", WOOD), "legs": ("wood", WOOD)},
    styles=("round", "square", "long"),
)
def table(b: Builder) -> None:
    shape = b.pick(("square", "round", "long"))
    if shape == "round":
        dia = b.u(0.8, 1.2)
        _table(b, dia, dia, b.u(0.72, 0.76), True, b.pick(("pedestal", "square")))
    else:
        w = b.u(0.8, 1.0) if shape == "square" else b.u(1.4, 2.2)
        _table(b, w, b.u(0.8, 1.0), b.u(0.72, 0.76), False, b.pick(("square", "round")))


@cat(
    "coffee table",
    "furniture",
    ("low table", "side table", "end table", "tea table"),
    {"main": ("wood", DARKWOOD), "legs": ("wood", DARKWOOD)},
)
def coffee_table(b: Builder) -> None:
    round_ = b.chance(0.4)
    w = b.u(0.5, 1.2)
    _table(b, w, w if round_ else b.u(0.45, 0.7), b.u(0.38, 0.5), round_, "square" if not round_ else "pedestal")


@cat(
    "desk",
    "furniture",
    ("writing desk", "office desk", "work desk", "computer desk"),
    {"main": ("wood", WOOD), "legs": ("metal", DARKMETAL), "accent": ("wood", DARKWOOD)},
)
def desk(b: Builder) -> None:
    w, d, h = b.u(1.1, 1.6), b.u(0.6, 0.75), b.u(0.72, 0.76)
    _table(b, w, d, h, False, "square")
    if b.chance(0.7):
        b.box(0.4, h - 0.1, d - 0.06, w / 2 - 0.26, (h - 0.04) / 2 + 0.03, 0, "accent")
        for k in range(3):
            b.box(0.06, 0.02, 0.02, w / 2 - 0.26, 0.2 + 0.2 * k, d / 2 - 0.02, "legs")


@cat(
    "workbench",
    "furniture",
    ("work bench", "picnic table", "trestle table"),
    {"main": ("wood", (0.62, 0.45, 0.26)), "legs": ("wood", (0.5, 0.35, 0.2))},
)
def workbench(b: Builder) -> None:
    w = b.u(1.5, 2.0)
    _table(b, w, 0.8, 0.76, False, "square", 0.07)
    b.box(w - 0.2, 0.04, 0.7, 0, 0.2, 0, "legs")


@cat(
    "bed",
    "furniture",
    ("double bed", "single bed", "bunk", "cot"),
    {
        "main": ("wood", WOOD),
        "cushion": ("fabric", (0.9, 0.9, 0.92)),
        "accent": ("fabric", (0.35, 0.45, 0.7)),
        "legs": ("wood", WOOD),
    },
)
def bed(b: Builder) -> None:
    w, ln = b.u(0.9, 1.6), b.u(1.9, 2.1)
    b.legs(4, 0.07, 0.15, w / 2 - 0.04, ln / 2 - 0.04)
    b.box(w, 0.15, ln, 0, 0.22, 0, "main")
    b.box(w - 0.04, 0.18, ln - 0.06, 0, 0.38, 0, "cushion")
    b.box(w - 0.02, 0.04, ln * 0.6, 0, 0.48, ln * 0.18, "accent")
    b.box(w, b.u(0.5, 0.8), 0.06, 0, 0.4, -ln / 2, "main")
    b.box(w * 0.4, 0.1, 0.3, -w * 0.22 if w > 1.2 else 0, 0.51, -ln / 2 + 0.25, "cushion")


def _shelves(b: Builder, w: float, h: float, d: float, n: int, books: bool, doors: bool) -> None:
    t = 0.025
    b.box(t, h, d, w / 2 - t / 2, h / 2, 0, "main")
    b.box(t, h, d, -(w / 2 - t / 2), h / 2, 0, "main")
    b.box(w, h, t, 0, h / 2, -d / 2 + t / 2, "main")
    for k in range(n + 1):
        y = 0.05 + (h - 0.05 - t) * k / n
        b.box(w, t, d, 0, y + t / 2, 0, "main")
        if books and k < n:
            x = -w / 2 + t + 0.01
            gap = (h - 0.05) / n
            while x < w / 2 - 0.08:
                bw = b.u(0.025, 0.06)
                bh = gap * b.u(0.55, 0.85)
                if b.chance(0.85):
                    b.box(bw, bh, d * 0.8, x + bw / 2, y + t + bh / 2, 0.01, f"book{b.i(0, 2)}")
                x += bw + 0.004
    if doors:
        dr = b.box(w / 2 - 0.01, h - 0.04, 0.02, w / 4, h / 2, d / 2, "door")
        b.mirror_x(dr)


BOOKS = {
    "book0": ("paper", (0.7, 0.2, 0.15)),
    "book1": ("paper", (0.2, 0.35, 0.6)),
    "book2": ("paper", (0.85, 0.75, 0.45)),
}


@cat(
    "bookshelf", "furniture", ("bookcase", "book shelf", "shelving unit", "shelves"), {"main": ("wood", WOOD), **BOOKS}
)
def bookshelf(b: Builder) -> None:
    _shelves(b, b.u(0.7, 1.2), b.u(1.4, 2.0), b.u(0.28, 0.36), b.i(3, 5), True, False)


@cat(
    "cabinet",
    "furniture",
    ("cupboard", "sideboard", "dresser", "chest of drawers", "wardrobe", "closet"),
    {"main": ("wood", WOOD), "door": ("wood", (0.62, 0.42, 0.24)), "accent": ("metal", METAL)},
)
def cabinet(b: Builder) -> None:
    tall = "wardrobe" in b.words or "closet" in b.words or b.chance(0.3)
    w, h, d = b.u(0.8, 1.2), (b.u(1.7, 2.0) if tall else b.u(0.8, 1.1)), b.u(0.4, 0.6)
    b.box(w, h - 0.08, d, 0, (h - 0.08) / 2 + 0.08, 0, "main")
    b.legs(4, 0.05, 0.08, w / 2 - 0.05, d / 2 - 0.05, role="main")
    if tall or b.chance(0.5):
        dr = b.box(w / 2 - 0.01, h - 0.12, 0.02, w / 4, h / 2 + 0.04, d / 2, "door")
        b.mirror_x(dr)
        k = b.box(0.02, 0.12, 0.03, 0.05, h / 2 + 0.04, d / 2 + 0.02, "accent")
        b.mirror_x(k)
    else:
        n = b.i(3, 5)
        for j in range(n):
            y = 0.1 + (h - 0.12) * (j + 0.5) / n
            b.box(w - 0.04, (h - 0.12) / n - 0.02, 0.02, 0, y, d / 2, "door")
            b.box(0.14, 0.025, 0.03, 0, y, d / 2 + 0.02, "accent")


@cat(
    "crate",
    "furniture",
    ("wooden crate", "box", "shipping crate", "chest", "treasure chest", "trunk"),
    {"main": ("wood", (0.62, 0.45, 0.26)), "accent": ("wood", (0.45, 0.3, 0.16))},
)
def crate(b: Builder) -> None:
    s = b.u(0.4, 0.8)
    h = s * b.u(0.7, 1.0)
    b.box(s, h, s * b.u(0.7, 1.0), 0, h / 2, 0, "main")
    d = b.parts[-1].size[2]
    for y in (0.04, h - 0.04):
        b.box(s + 0.02, 0.06, d + 0.02, 0, y, 0, "accent")
    if "chest" in b.words or "treasure" in b.words or b.chance(0.3):
        b.cyl(d, s, 0, h, 0, "main", rot=(0, 0, 90), dz=d)
        b.box(0.08, 0.1, 0.03, 0, h - 0.02, d / 2 + 0.01, "accent")


@cat("barrel", "furniture", ("cask", "keg", "wine barrel"), {"main": ("wood", WOOD), "accent": ("metal", DARKMETAL)})
def barrel(b: Builder) -> None:
    h, r = b.u(0.7, 1.0), b.u(0.5, 0.65)
    b.cyl(r, h, 0, h / 2, 0, "main")
    b.cyl(r * 1.08, h * 0.5, 0, h / 2, 0, "main")
    for y in (0.1, h - 0.1, h * 0.35, h * 0.65):
        b.cyl(r * 1.1, 0.035, 0, y, 0, "accent")


@cat(
    "rug",
    "decor",
    ("carpet", "mat", "doormat", "round rug"),
    {"main": ("fabric", (0.65, 0.25, 0.2)), "accent": ("fabric", (0.9, 0.8, 0.55))},
)
def rug(b: Builder) -> None:
    w, d = b.u(1.2, 2.5), b.u(0.8, 1.7)
    if b.pick(("round", "rect")) == "round":
        b.cyl(w, 0.015, 0, 0.0075, 0, "main")
        b.cyl(w * 0.7, 0.016, 0, 0.008, 0, "accent")
    else:
        b.box(w, 0.015, d, 0, 0.0075, 0, "main")
        b.box(w * 0.8, 0.016, d * 0.7, 0, 0.008, 0, "accent")


# ============================== lighting ==============================
@cat(
    "floor lamp",
    "lighting",
    ("standing lamp", "lamp", "reading lamp", "uplighter"),
    {"main": ("metal", DARKMETAL), "shade": ("fabric", (0.95, 0.9, 0.78)), "glow": ("glow", GLOW)},
)
def floor_lamp(b: Builder) -> None:
    h = b.u(1.4, 1.8)
    b.cyl(b.u(0.25, 0.35), 0.04, 0, 0.02, 0, "main")
    b.cyl(0.03, h - 0.2, 0, (h - 0.2) / 2 + 0.03, 0, "main")
    b.sph(0.09, 0.09, 0.09, 0, h - 0.2, 0, "glow")
    shade = b.pick(("cone", "drum"))
    if shade == "cone":
        b.cone(b.u(0.35, 0.5), 0.3, 0, h - 0.15, 0, "shade")
    else:
        b.cyl(b.u(0.3, 0.45), 0.28, 0, h - 0.14, 0, "shade")


@cat(
    "desk lamp",
    "lighting",
    ("table lamp", "bedside lamp", "reading light", "nightlight"),
    {"main": ("metal", (0.2, 0.3, 0.5)), "shade": ("metal", (0.2, 0.3, 0.5)), "glow": ("glow", GLOW)},
)
def desk_lamp(b: Builder) -> None:
    style = b.pick(("arm", "shade"))
    b.cyl(0.16, 0.03, 0, 0.015, 0, "main")
    if style == "arm":
        b.cyl(0.025, 0.3, 0.05, 0.16, 0, "main", rot=(0, 0, -20))
        b.cyl(0.025, 0.28, 0.14, 0.38, 0, "main", rot=(0, 0, 40))
        b.cone(0.16, 0.14, 0.22, 0.44, 0, "shade", rot=(0, 0, 150))
        b.sph(0.06, 0.06, 0.06, 0.24, 0.41, 0, "glow")
    else:
        h = b.u(0.3, 0.5)
        b.cyl(0.03, h, 0, h / 2 + 0.03, 0, "main")
        b.sph(0.07, 0.07, 0.07, 0, h, 0, "glow")
        b.cyl(b.u(0.22, 0.3), 0.2, 0, h + 0.02, 0, "shade")
    b.words = b.words  # style is seed-only beyond this


@cat(
    "street lamp",
    "lighting",
    ("lamp post", "streetlight", "street light", "lamppost", "light pole"),
    {"main": ("metal", DARKMETAL), "glow": ("glow", GLOW), "glass": ("glass", GLASS)},
)
def street_lamp(b: Builder) -> None:
    h = b.u(3.0, 4.5)
    b.cyl(0.3, 0.3, 0, 0.15, 0, "main")
    b.cyl(0.1, h, 0, h / 2, 0, "main")
    style = b.pick(("lantern", "arm"))
    if style == "arm":
        b.box(0.9, 0.07, 0.07, 0.4, h - 0.05, 0, "main")
        b.box(0.4, 0.1, 0.22, 0.8, h - 0.12, 0, "main")
        b.box(0.34, 0.03, 0.18, 0.8, h - 0.18, 0, "glow")
    else:
        b.box(0.3, 0.4, 0.3, 0, h + 0.2, 0, "glass")
        b.sph(0.16, 0.2, 0.16, 0, h + 0.2, 0, "glow")
        b.cone(0.45, 0.22, 0, h + 0.5, 0, "main")


@cat(
    "lantern",
    "lighting",
    ("oil lamp", "hanging lantern", "paper lantern", "camping lantern"),
    {"main": ("metal", DARKMETAL), "glow": ("glow", GLOW), "glass": ("glass", (0.95, 0.85, 0.6))},
)
def lantern(b: Builder) -> None:
    if "paper" in b.words:
        b.sph(0.3, 0.4, 0.3, 0, 0.24, 0, "glow")
        b.cyl(0.14, 0.04, 0, 0.03, 0, "main")
        b.cyl(0.14, 0.04, 0, 0.45, 0, "main")
        return
    s = b.u(0.18, 0.28)
    b.box(s, 0.03, s, 0, 0.015, 0, "main")
    b.box(s * 0.9, s * 1.3, s * 0.9, 0, 0.03 + s * 0.65, 0, "glass")
    b.sph(s * 0.4, s * 0.6, s * 0.4, 0, 0.03 + s * 0.6, 0, "glow")
    b.cone(s * 1.2, s * 0.5, 0, 0.03 + s * 1.3 + s * 0.25, 0, "main")
    b.torus(s * 0.5, 0.015, 0, 0.03 + s * 1.6 + s * 0.2, 0, "main", rot=(90, 0, 0))


@cat(
    "candle",
    "lighting",
    ("candles", "candlestick", "candle holder", "tea light"),
    {
        "main": ("ceramic", (0.95, 0.92, 0.82)),
        "glow": ("glow", (1.0, 0.7, 0.25)),
        "accent": ("gold", (0.78, 0.63, 0.3)),
    },
)
def candle(b: Builder) -> None:
    n = b.i(1, 3)
    b.cyl(0.14 if n > 1 else 0.1, 0.02, 0, 0.01, 0, "accent")
    for k in range(n):
        x = 0.0 if n == 1 else (k - (n - 1) / 2) * 0.045
        h = b.u(0.1, 0.25)
        b.cyl(0.035, h, x, 0.02 + h / 2, 0, "main")
        b.cone(0.02, 0.04, x, 0.02 + h + 0.02, 0, "glow")


@cat(
    "chandelier",
    "lighting",
    ("ceiling light", "pendant light", "hanging lamp"),
    {"main": ("gold", (0.78, 0.63, 0.3)), "glow": ("glow", GLOW)},
)
def chandelier(b: Builder) -> None:
    n = b.i(4, 8)
    r = b.u(0.3, 0.5)
    b.cyl(0.03, 0.6, 0, 0.5, 0, "main")
    b.torus(2 * r, 0.03, 0, 0.2, 0, "main")
    b.sph(0.12, 0.12, 0.12, 0, 0.2, 0, "main")
    for k in range(n):
        a = 2 * math.pi * k / n
        b.box(r, 0.02, 0.02, r / 2 * math.cos(a), 0.2, r / 2 * math.sin(a), "main", rot=(0, -math.degrees(a), 0))
        b.cyl(0.03, 0.1, r * math.cos(a), 0.26, r * math.sin(a), "glow")
    b.cyl(0.04, 0.04, 0, 0.02, 0, "main")
    b.cyl(0.03, 0.2, 0, 0.1, 0, "main")


@cat(
    "torch",
    "lighting",
    ("tiki torch", "wall torch", "brazier", "fire bowl"),
    {"main": ("wood", BARK), "accent": ("metal", DARKMETAL), "glow": ("glow", (1.0, 0.5, 0.1))},
)
def torch(b: Builder) -> None:
    h = b.u(1.0, 1.6)
    b.cyl(0.05, h, 0, h / 2, 0, "main")
    b.cone(0.18, 0.22, 0, h + 0.05, 0, "accent", rot=(180, 0, 0))
    b.cone(0.14, 0.25, 0, h + 0.25, 0, "glow")


# ============================== plants and nature ==============================
@cat(
    "pine tree",
    "nature",
    ("pine", "fir tree", "spruce", "conifer", "christmas tree", "evergreen"),
    {"main": ("leaves", (0.15, 0.4, 0.2)), "trunk": ("wood", BARK)},
)
def pine_tree(b: Builder) -> None:
    h = b.u(2.5, 5.0)
    b.cyl(h * 0.07, h * 0.3, 0, h * 0.15, 0, "trunk")
    n = b.i(2, 4)
    for k in range(n):
        f = k / n
        w = h * (0.5 - 0.3 * f) * b.u(0.9, 1.1)
        b.cone(w, h * 0.45, 0, h * (0.2 + 0.6 * f) + h * 0.22, 0, "main")


@cat(
    "tree",
    "nature",
    ("oak tree", "oak", "maple tree", "leafy tree", "deciduous tree", "apple tree", "birch tree"),
    {"main": ("leaves", LEAF), "trunk": ("wood", BARK), "accent": ("food", RED)},
)
def tree(b: Builder) -> None:
    h = b.u(2.5, 5.0)
    t = h * 0.45
    b.cyl(h * 0.08, t + h * 0.1, 0, (t + h * 0.1) / 2, 0, "trunk")
    n = b.i(1, 4)
    c = h * b.u(0.45, 0.6)
    b.sph(c, c * 0.85, c, 0, t + c * 0.38, 0, "main")
    for _ in range(n - 1):
        a = b.u(0, 2 * math.pi)
        s = c * b.u(0.5, 0.7)
        b.sph(s, s * 0.85, s, c * 0.35 * math.cos(a), t + c * b.u(0.25, 0.55), c * 0.35 * math.sin(a), "main")
    if "apple" in b.words or "fruit" in b.words:
        for _ in range(8):
            a = b.u(0, 2 * math.pi)
            b.sph(0.1, 0.1, 0.1, c * 0.48 * math.cos(a), t + c * b.u(0.2, 0.5), c * 0.48 * math.sin(a), "accent")


@cat(
    "palm tree",
    "nature",
    ("palm", "coconut tree", "tropical tree"),
    {
        "main": ("leaves", (0.25, 0.6, 0.2)),
        "trunk": ("wood", (0.55, 0.42, 0.28)),
        "accent": ("wood", (0.4, 0.28, 0.15)),
    },
)
def palm_tree(b: Builder) -> None:
    h = b.u(3.0, 5.0)
    lean = b.u(-8, 8)
    segs = 5
    for k in range(segs):
        b.cyl(
            0.28 - 0.02 * k,
            h / segs + 0.05,
            math.sin(math.radians(lean)) * h * (k + 0.5) / segs,
            h * (k + 0.5) / segs,
            0,
            "trunk",
        )
    top_x = math.sin(math.radians(lean)) * h
    n = b.i(5, 8)
    for k in range(n):
        a = 360 * k / n
        b.box(
            1.6,
            0.05,
            0.35,
            top_x + 0.7 * math.cos(math.radians(a)),
            h - 0.15,
            0.7 * math.sin(math.radians(a)),
            "main",
            rot=(0, -a, -25),
        )
    for k in range(3):
        b.sph(0.18, 0.2, 0.18, top_x + 0.12 * math.cos(k * 2.1), h - 0.2, 0.12 * math.sin(k * 2.1), "accent")


@cat(
    "bush",
    "nature",
    ("shrub", "hedge", "bushes", "topiary", "shrubbery"),
    {"main": ("leaves", (0.2, 0.45, 0.18)), "accent": ("leaves", (0.9, 0.4, 0.5))},
)
def bush(b: Builder) -> None:
    if "hedge" in b.words:
        w, h = b.u(1.5, 3.0), b.u(0.8, 1.4)
        b.box(w, h, b.u(0.6, 0.9), 0, h / 2, 0, "main")
        return
    n = b.i(3, 6)
    r = b.u(0.5, 1.0)
    for k in range(n):
        a = 2 * math.pi * k / n
        s = r * b.u(0.6, 0.9)
        b.sph(s, s * 0.9, s, r * 0.3 * math.cos(a), s * 0.42, r * 0.3 * math.sin(a), "main")
    b.sph(r, r * 0.9, r, 0, r * 0.5, 0, "main")
    if "flowering" in b.words or b.chance(0.25):
        for _ in range(6):
            a = b.u(0, 2 * math.pi)
            b.sph(0.08, 0.08, 0.08, r * 0.48 * math.cos(a), r * b.u(0.4, 0.8), r * 0.48 * math.sin(a), "accent")


@cat(
    "cactus",
    "nature",
    ("saguaro", "succulent", "cacti"),
    {
        "main": ("leaves", (0.3, 0.55, 0.3)),
        "pot": ("ceramic", (0.75, 0.38, 0.22)),
        "accent": ("leaves", (0.95, 0.4, 0.6)),
    },
)
def cactus(b: Builder) -> None:
    potted = "pot" in b.words or "potted" in b.words or b.chance(0.4)
    y0 = 0.0
    h = b.u(0.8, 2.2) if not potted else b.u(0.25, 0.5)
    if potted:
        b.cyl(h * 0.6, h * 0.4, 0, h * 0.2, 0, "pot")
        y0 = h * 0.35
    w = h * 0.25
    b.cyl(w, h, 0, y0 + h / 2, 0, "main")
    b.sph(w, w, w, 0, y0 + h, 0, "main")
    for side in (1, -1) if b.chance(0.8) else (1,):
        y = y0 + h * b.u(0.35, 0.6)
        b.cyl(w * 0.7, w * 1.1, side * w * 0.9, y, 0, "main", rot=(0, 0, 90))
        b.cyl(w * 0.7, h * 0.3, side * w * 1.35, y + h * 0.15, 0, "main")
        b.sph(w * 0.7, w * 0.7, w * 0.7, side * w * 1.35, y + h * 0.3, 0, "main")
    if "flower" in b.words or "flowering" in b.words:
        b.sph(w * 0.5, w * 0.3, w * 0.5, 0, y0 + h + w * 0.45, 0, "accent")


@cat(
    "flower",
    "nature",
    ("flowers", "rose", "tulip", "daisy", "sunflower", "bouquet", "wildflower"),
    {"main": ("leaves", (0.9, 0.3, 0.4)), "stem": ("leaves", (0.25, 0.5, 0.2)), "accent": ("food", (0.95, 0.8, 0.2))},
)
def flower(b: Builder) -> None:
    big = "sunflower" in b.words
    n = 1 if big else b.i(1, 4)
    b.sph(0.2 if n > 1 else 0.1, 0.05, 0.2 if n > 1 else 0.1, 0, 0.0, 0, "stem")  # the tuft the stems grow from
    for k in range(n):
        a = 2 * math.pi * k / max(n, 1)
        x, z = (0.0, 0.0) if n == 1 else (0.06 * math.cos(a), 0.06 * math.sin(a))
        h = b.u(1.2, 1.8) if big else b.u(0.3, 0.55)
        b.cyl(0.015 if not big else 0.04, h, x, h / 2, z, "stem")
        s = 0.4 if big else b.u(0.08, 0.13)
        petals = b.i(5, 8)
        for j in range(petals):
            pa = 2 * math.pi * j / petals
            b.sph(
                s * 0.5,
                s * 0.12,
                s * 0.25,
                x + s * 0.3 * math.cos(pa),
                h,
                z + s * 0.3 * math.sin(pa),
                "main",
                rot=(0, -math.degrees(pa), 0),
            )
        b.sph(s * 0.35, s * 0.2, s * 0.35, x, h + 0.005, z, "accent")
        b.sph(0.12 if big else 0.05, 0.02, 0.04, x + 0.04, h * 0.4, z, "stem")


@cat(
    "potted plant",
    "nature",
    ("houseplant", "plant", "fern", "pot plant", "indoor plant", "planter"),
    {"main": ("leaves", (0.2, 0.55, 0.25)), "pot": ("ceramic", (0.75, 0.38, 0.22)), "stem": ("wood", BARK)},
)
def potted_plant(b: Builder) -> None:
    ph = b.u(0.2, 0.4)
    pw = ph * b.u(0.8, 1.2)
    b.cyl(pw, ph, 0, ph / 2, 0, "pot")
    b.cyl(pw * 1.1, 0.04, 0, ph - 0.02, 0, "pot")
    n = b.i(5, 9)
    for k in range(n):
        a = 360 * k / n + b.u(-10, 10)
        ln = b.u(0.25, 0.5)
        tilt = b.u(25, 55)
        r = math.radians(a)
        b.sph(
            ln * 0.35,
            0.03,
            ln,
            math.sin(math.radians(tilt)) * ln * 0.4 * math.cos(r),
            ph + ln * 0.35,
            math.sin(math.radians(tilt)) * ln * 0.4 * math.sin(r),
            "main",
            rot=(tilt - 90, -a + 90, 0),
        )


@cat(
    "mushroom",
    "nature",
    ("toadstool", "mushrooms", "fungus", "fly agaric"),
    {"main": ("food", (0.8, 0.15, 0.1)), "stem": ("food", (0.93, 0.9, 0.82)), "accent": ("food", WHITE)},
)
def mushroom(b: Builder) -> None:
    h = b.u(0.12, 0.4)
    w = h * b.u(0.9, 1.4)
    b.cyl(h * 0.3, h * 0.8, 0, h * 0.4, 0, "stem")
    b.sph(w, h * 0.5, w, 0, h * 0.85, 0, "main")
    spots = b.chance(0.7) or "spots" in b.words or "spotted" in b.words
    if spots:
        for k in range(7):
            a = 2 * math.pi * k / 7 + b.u(-0.2, 0.2)
            el = b.u(0.4, 0.8)
            x, y, z = (
                w / 2 * math.cos(el) * math.cos(a),
                h * 0.85 + h * 0.25 * math.sin(el),
                w / 2 * math.cos(el) * math.sin(a),
            )
            b.sph(w * 0.14, w * 0.06, w * 0.14, x * 0.98, y, z * 0.98, "accent")
        b.sph(w * 0.16, w * 0.06, w * 0.16, 0, h * 1.1, 0, "accent")


@cat("grass", "nature", ("grass tuft", "tall grass", "reeds", "weeds"), {"main": ("leaves", (0.35, 0.6, 0.2))})
def grass(b: Builder) -> None:
    for _ in range(b.i(7, 14)):
        a = b.u(0, 360)
        h = b.u(0.2, 0.6)
        r = b.u(0, 0.12)
        b.cone(
            0.04,
            h,
            r * math.cos(math.radians(a)),
            h / 2,
            r * math.sin(math.radians(a)),
            "main",
            rot=(b.u(-15, 15), 0, b.u(-15, 15)),
        )


@cat(
    "log",
    "nature",
    ("tree stump", "stump", "fallen log", "firewood", "log pile", "woodpile"),
    {"main": ("wood", BARK), "accent": ("wood", (0.75, 0.6, 0.4))},
)
def log(b: Builder) -> None:
    if "stump" in b.words:
        d = b.u(0.4, 0.7)
        b.cyl(d, d * 0.8, 0, d * 0.4, 0, "main")
        b.cyl(d * 0.92, 0.01, 0, d * 0.8, 0, "accent")
        return
    n = 1 if b.chance(0.5) and "pile" not in b.words else 3
    d = b.u(0.25, 0.45)
    ln = b.u(1.0, 2.0)
    pos = [(0.0, d / 2)] if n == 1 else [(-d / 2, d / 2), (d / 2, d / 2), (0.0, d * 1.35)]
    for x, y in pos:
        b.cyl(d, ln, 0, y, x, "main", rot=(0, 0, 90))
        b.cyl(d * 0.9, 0.01, ln / 2, y, x, "accent", rot=(0, 0, 90))
        b.cyl(d * 0.9, 0.01, -ln / 2, y, x, "accent", rot=(0, 0, 90))


# ============================== rocks and terrain ==============================
@cat(
    "boulder",
    "rocks",
    ("rock", "rocks", "stone", "big rock", "rock pile", "pebble"),
    {"main": ("stone", STONE), "accent": ("leaves", (0.3, 0.45, 0.2))},
)
def boulder(b: Builder) -> None:
    s = b.u(0.6, 1.4)
    n = b.i(2, 4)
    b.sph(s, s * b.u(0.55, 0.8), s * b.u(0.75, 1.0), 0, s * 0.3, 0, "main", rot=(0, b.u(0, 180), b.u(-8, 8)))
    for _ in range(n - 1):
        a = b.u(0, 2 * math.pi)
        t = s * b.u(0.35, 0.6)
        b.sph(
            t,
            t * 0.7,
            t * 0.9,
            s * 0.38 * math.cos(a),
            t * 0.3,
            s * 0.32 * math.sin(a),
            "main",
            rot=(0, b.u(0, 180), 0),
        )
    if "mossy" in b.words or "moss" in b.words:
        b.sph(s * 0.75, s * 0.15, s * 0.65, 0, s * 0.58, 0, "accent")


@cat(
    "cliff",
    "rocks",
    ("rock wall", "crag", "rock face", "outcrop", "mesa"),
    {"main": ("stone", (0.6, 0.52, 0.42)), "accent": ("stone", (0.5, 0.43, 0.35))},
)
def cliff(b: Builder) -> None:
    w = b.u(2.5, 4.5)
    for k in range(b.i(3, 5)):
        h = b.u(1.5, 3.5)
        b.box(
            w / 3 * b.u(0.9, 1.3),
            h,
            b.u(1.0, 1.8),
            (k - 1.5) * w / 4,
            h / 2,
            b.u(-0.2, 0.2),
            "main" if k % 2 else "accent",
            rot=(0, b.u(-15, 15), b.u(-4, 4)),
        )


@cat(
    "crystal",
    "rocks",
    ("crystals", "gem", "gemstone", "quartz", "amethyst", "crystal cluster"),
    {"main": ("glass", (0.6, 0.4, 0.9)), "accent": ("stone", (0.4, 0.38, 0.42))},
)
def crystal(b: Builder) -> None:
    b.sph(0.5, 0.2, 0.45, 0, 0.05, 0, "accent")
    for k in range(b.i(3, 6)):
        h = b.u(0.3, 0.8) * (1.0 if k == 0 else 0.7)
        a = b.u(0, 2 * math.pi)
        r = 0.0 if k == 0 else 0.12
        tilt = 0 if k == 0 else b.u(10, 30)
        x, z = r * math.cos(a), r * math.sin(a)
        rot = (tilt * math.sin(a), 0, -tilt * math.cos(a))
        b.add("cylinder", (0.12, h, 0.12), (x, h / 2, z), "main", rot)
        b.add(
            "cone",
            (0.12, 0.12, 0.12),
            (
                x + math.sin(math.radians(tilt)) * h / 2 * math.cos(a),
                h + 0.05,
                z + math.sin(math.radians(tilt)) * h / 2 * math.sin(a),
            ),
            "main",
            rot,
        )


@cat(
    "stalagmite",
    "rocks",
    ("rock spire", "stone spike", "stalactite", "rock pillar", "hoodoo"),
    {"main": ("stone", (0.6, 0.55, 0.5))},
)
def stalagmite(b: Builder) -> None:
    for k in range(b.i(1, 3)):
        h = b.u(0.8, 2.5) * (1 if k == 0 else 0.6)
        b.cone(h * 0.35, h, (k - 1) * h * 0.12 if k else 0, h / 2, 0.05 * k, "main")


@cat("hill", "rocks", ("mound", "dune", "sand dune", "dirt mound", "knoll"), {"main": ("leaves", (0.35, 0.55, 0.25))})
def hill(b: Builder) -> None:
    w = b.u(3.0, 5.0)
    b.sph(w, w * b.u(0.25, 0.4), w * b.u(0.7, 1.0), 0, 0, 0, "main")
    b.sph(w * 0.5, w * 0.25, w * 0.5, w * 0.2, 0, w * 0.1, "main")


# ============================== buildings and structures ==============================
def _house(b: Builder, w: float, d: float, h: float, roof_h: float, chimney: bool) -> None:
    b.box(w, h, d, 0, h / 2, 0, "main")
    # a pitched roof: two slabs meeting at the ridge
    half = w / 2 + 0.15
    slope = math.degrees(math.atan2(roof_h, half))
    ln = math.hypot(half, roof_h)
    r = b.box(ln, 0.08, d + 0.3, half / 2 - 0.05, h + roof_h / 2, 0, "roof", rot=(0, 0, -slope))
    b.mirror_x(r)
    b.add("box", (w * 0.7, roof_h, d), (0, h + roof_h * 0.3, 0), "main")  # gable fill
    b.box(w * 0.22, h * 0.55, 0.05, 0, h * 0.275, d / 2, "door")
    for x in (-w * 0.3, w * 0.3):
        b.box(w * 0.18, h * 0.2, 0.04, x, h * 0.6, d / 2, "glass")
    if chimney:
        b.box(w * 0.12, roof_h * 1.1, w * 0.12, w * 0.25, h + roof_h * 0.6, -d * 0.15, "accent")


HOUSE_LOOK = {
    "main": ("stone", (0.92, 0.88, 0.78)),
    "roof": ("stone", (0.65, 0.25, 0.18)),
    "door": ("wood", DARKWOOD),
    "glass": ("glass", GLASS),
    "accent": ("stone", (0.6, 0.35, 0.28)),
}


@cat("house", "buildings", ("cottage", "cabin", "home", "hut", "bungalow", "villa", "shack"), HOUSE_LOOK)
def house(b: Builder) -> None:
    w = b.u(4.0, 5.0)
    _house(b, w, w * b.u(0.7, 1.0), b.u(2.4, 3.0), b.u(1.0, 1.8), b.chance(0.6))


@cat(
    "shed",
    "buildings",
    ("barn", "garden shed", "outhouse", "kiosk", "booth", "stall", "market stall"),
    {**HOUSE_LOOK, "main": ("wood", (0.6, 0.2, 0.15)), "roof": ("metal", (0.4, 0.4, 0.42))},
)
def shed(b: Builder) -> None:
    w = b.u(2.0, 3.5)
    _house(b, w, w * b.u(0.7, 1.1), b.u(2.0, 2.4), b.u(0.5, 1.0), False)


@cat(
    "tower",
    "buildings",
    ("castle tower", "watchtower", "turret", "keep", "bell tower", "clock tower"),
    {
        "main": ("stone", (0.62, 0.6, 0.55)),
        "roof": ("stone", (0.3, 0.3, 0.45)),
        "accent": ("stone", (0.5, 0.48, 0.45)),
        "door": ("wood", DARKWOOD),
    },
)
def tower(b: Builder) -> None:
    h = b.u(3.5, 5.0)
    r = b.u(1.2, 1.8)
    b.cyl(r, h, 0, h / 2, 0, "main")
    if b.pick(("cone", "battlement")) == "cone":
        b.cone(r * 1.25, h * 0.4, 0, h + h * 0.2, 0, "roof")
    else:
        b.cyl(r * 1.15, 0.3, 0, h, 0, "accent")
        for k in range(8):
            a = 2 * math.pi * k / 8
            b.box(0.22, 0.3, 0.22, r * 0.5 * math.cos(a), h + 0.3, r * 0.5 * math.sin(a), "accent")
    b.box(0.5, 1.0, 0.1, 0, 0.5, r / 2 - 0.02, "door")


@cat(
    "lighthouse",
    "buildings",
    ("beacon", "light tower"),
    {"main": ("stone", WHITE), "accent": ("stone", RED), "glow": ("glow", GLOW), "roof": ("metal", DARKMETAL)},
)
def lighthouse(b: Builder) -> None:
    h = b.u(3.5, 4.6)
    for k in range(4):  # tapering banded tower
        b.cyl(1.3 - 0.15 * k, h / 4 * 1.02, 0, h / 8 + k * h / 4, 0, "main" if k % 2 == 0 else "accent")
    b.cyl(0.7, 0.1, 0, h, 0, "roof")
    b.cyl(0.45, 0.45, 0, h + 0.27, 0, "glow")
    b.cone(0.6, 0.35, 0, h + 0.67, 0, "roof")


@cat(
    "tent",
    "buildings",
    ("camping tent", "teepee", "tipi", "yurt", "pavilion", "marquee"),
    {"main": ("fabric", (0.85, 0.5, 0.2)), "accent": ("wood", WOOD)},
)
def tent(b: Builder) -> None:
    if b.pick(("ridge", "cone")) == "cone" or "teepee" in b.words or "tipi" in b.words:
        h = b.u(2.0, 3.0)
        b.cone(h * 0.8, h, 0, h / 2, 0, "main")
        for k in range(3):
            a = 2 * math.pi * k / 3
            b.cyl(0.05, 0.5, 0.05 * math.cos(a), h + 0.1, 0.05 * math.sin(a), "accent")
        return
    w, ln, h = b.u(1.6, 2.4), b.u(2.0, 2.8), b.u(1.1, 1.6)
    slope = math.degrees(math.atan2(h, w / 2))
    s = b.box(math.hypot(w / 2, h), 0.04, ln, w / 4, h / 2, 0, "main", rot=(0, 0, -slope))
    b.mirror_x(s)
    b.cyl(0.04, h, 0, h / 2, ln / 2, "accent")
    b.cyl(0.04, h, 0, h / 2, -ln / 2, "accent")


@cat(
    "well",
    "buildings",
    ("wishing well", "water well", "stone well"),
    {"main": ("stone", STONE), "roof": ("wood", (0.55, 0.25, 0.15)), "accent": ("wood", WOOD)},
)
def well(b: Builder) -> None:
    r = b.u(1.0, 1.4)
    b.cyl(r, 0.8, 0, 0.4, 0, "main")
    b.cyl(r * 0.8, 0.02, 0, 0.8, 0, "accent")
    p = b.box(0.1, 1.2, 0.1, r / 2 - 0.05, 1.4, 0, "accent")
    b.mirror_x(p)
    b.cyl(0.08, r, 0, 1.6, 0, "accent", rot=(0, 0, 90))
    slope = 35
    rf = b.box(r * 0.75, 0.06, 0.9, r * 0.28, 2.1, 0, "roof", rot=(0, 0, -slope))
    b.mirror_x(rf)


@cat(
    "fountain",
    "buildings",
    ("water fountain", "birdbath", "bird bath", "drinking fountain"),
    {"main": ("stone", (0.8, 0.78, 0.74)), "water": ("glass", (0.35, 0.6, 0.9))},
)
def fountain(b: Builder) -> None:
    r = b.u(1.6, 2.8)
    tiers = b.i(1, 3)
    b.cyl(r, 0.5, 0, 0.25, 0, "main")
    b.cyl(r * 0.9, 0.05, 0, 0.46, 0, "water")
    y = 0.5
    for k in range(tiers):
        rr = r * (0.45 - 0.12 * k)
        b.cyl(0.2, 0.6, 0, y + 0.3, 0, "main")
        b.cyl(rr, 0.15, 0, y + 0.65, 0, "main")
        b.cyl(rr * 0.85, 0.03, 0, y + 0.72, 0, "water")
        y += 0.7
    b.cone(0.25, 0.4, 0, y + 0.2, 0, "water")


@cat(
    "bridge",
    "buildings",
    ("footbridge", "wooden bridge", "stone bridge", "arched bridge"),
    {"main": ("wood", WOOD), "accent": ("wood", DARKWOOD)},
)
def bridge(b: Builder) -> None:
    ln, w = b.u(3.0, 5.0), b.u(1.0, 1.6)
    n = 7
    for k in range(n):
        x = -ln / 2 + ln * (k + 0.5) / n
        y = 0.5 * math.cos(math.pi * (k + 0.5) / n - math.pi / 2)
        b.box(
            ln / n + 0.02,
            0.08,
            w,
            x,
            y + 0.1,
            0,
            "main",
            rot=(0, 0, -math.degrees(math.atan(0.5 * math.pi / ln * -math.sin(math.pi * (k + 0.5) / n - math.pi / 2)))),
        )
        for z in (w / 2, -w / 2):
            b.box(0.06, 0.7, 0.06, x, y + 0.45, z, "accent")
    for z in (w / 2, -w / 2):
        b.box(ln * 0.9, 0.06, 0.06, 0, 0.75 + 0.25, z, "accent")
    for x in (-ln / 2 + 0.1, ln / 2 - 0.1):
        b.box(0.2, 0.12, w, x, 0.06, 0, "accent")


@cat(
    "fence",
    "structures",
    ("picket fence", "railing", "fence section", "wooden fence", "barrier"),
    {"main": ("wood", (0.9, 0.88, 0.82)), "accent": ("wood", (0.85, 0.83, 0.78))},
)
def fence(b: Builder) -> None:
    ln = b.u(1.8, 3.0)
    h = b.u(0.8, 1.3)
    n = b.i(6, 12)
    for k in range(n):
        x = -ln / 2 + ln * k / (n - 1)
        b.box(0.08, h, 0.03, x, h / 2, 0, "main")
        if (b.words and "picket" in b.words) or k % 2 == 0:
            b.cone(0.08, 0.08, x, h + 0.03, 0, "main")
    for y in (h * 0.3, h * 0.75):
        b.box(ln + 0.08, 0.07, 0.03, 0, y, -0.03, "accent")


@cat(
    "wall",
    "structures",
    ("stone wall", "brick wall", "low wall", "garden wall", "ruin", "ruins"),
    {"main": ("stone", (0.62, 0.58, 0.52)), "accent": ("stone", (0.52, 0.5, 0.46))},
)
def wall(b: Builder) -> None:
    ln, h = b.u(2.0, 4.0), b.u(0.7, 2.0)
    rows = max(2, int(h / 0.25))
    for r in range(rows):
        off = 0.2 if r % 2 else 0.0
        x = -ln / 2 + off
        while x < ln / 2 - 0.05:
            bw = min(b.u(0.35, 0.5), ln / 2 - x)
            b.box(
                bw - 0.02,
                h / rows - 0.02,
                0.35,
                x + bw / 2,
                (r + 0.5) * h / rows,
                0,
                "main" if b.chance(0.6) else "accent",
            )
            x += bw
    b.box(ln, 0.02, 0.3, 0, 0.01, 0, "accent")
    b.box(ln, h, 0.25, 0, h / 2, 0, "accent")


@cat(
    "arch",
    "structures",
    ("archway", "gate", "gateway", "torii", "portal", "doorway"),
    {"main": ("stone", (0.8, 0.76, 0.68)), "accent": ("stone", (0.7, 0.66, 0.6))},
)
def arch(b: Builder) -> None:
    h, w = b.u(2.4, 3.5), b.u(1.8, 3.0)
    p = b.box(0.4, h, 0.5, w / 2, h / 2, 0, "main")
    b.mirror_x(p)
    if b.pick(("round", "flat")) == "round":
        b.torus(w + 0.4, 0.4, 0, h, 0, "main", rot=(90, 0, 0))
        b.box(w + 0.8, 0.2, 0.55, 0, h + 0.05, 0, "accent")
    else:
        b.box(w + 1.0, 0.35, 0.6, 0, h + 0.17, 0, "accent")
        b.box(w + 0.4, 0.2, 0.45, 0, h - 0.4, 0, "main")


@cat(
    "column",
    "structures",
    ("pillar", "pedestal", "plinth", "greek column", "obelisk", "post"),
    {"main": ("stone", (0.92, 0.9, 0.86)), "accent": ("stone", (0.85, 0.83, 0.8))},
)
def column(b: Builder) -> None:
    if "pedestal" in b.words or "plinth" in b.words:
        h = b.u(0.8, 1.2)
        b.box(0.55, 0.1, 0.55, 0, 0.05, 0, "accent")
        b.box(0.45, h - 0.2, 0.45, 0, h / 2, 0, "main")
        b.box(0.55, 0.1, 0.55, 0, h - 0.05, 0, "accent")
        return
    if "obelisk" in b.words:
        h = b.u(2.5, 4.5)
        b.box(h * 0.15, h, h * 0.15, 0, h / 2, 0, "main")
        b.cone(h * 0.2, h * 0.1, 0, h + h * 0.05, 0, "main")
        return
    h = b.u(2.0, 4.0)
    d = h * b.u(0.12, 0.16)
    b.box(d * 1.5, 0.2, d * 1.5, 0, 0.1, 0, "accent")
    b.cyl(d, h - 0.4, 0, h / 2, 0, "main")
    b.box(d * 1.5, 0.2, d * 1.5, 0, h - 0.1, 0, "accent")
    b.cyl(d * 1.2, 0.12, 0, 0.26, 0, "accent")
    b.cyl(d * 1.2, 0.12, 0, h - 0.26, 0, "accent")


@cat("stairs", "structures", ("staircase", "steps", "stairway", "stair"), {"main": ("stone", (0.7, 0.68, 0.64))})
def stairs(b: Builder) -> None:
    n = b.i(3, 8)
    w, rise, run = b.u(0.9, 1.6), 0.18, 0.28
    for k in range(n):
        b.box(w, rise * (k + 1), run, 0, rise * (k + 1) / 2, -k * run, "main")


@cat(
    "gazebo",
    "structures",
    ("bandstand", "pergola", "canopy", "shelter", "bus shelter", "bus stop"),
    {"main": ("wood", (0.9, 0.88, 0.82)), "roof": ("stone", (0.35, 0.45, 0.4)), "accent": ("wood", WOOD)},
)
def gazebo(b: Builder) -> None:
    r = b.u(1.4, 2.0)
    h = b.u(2.2, 2.6)
    n = b.pick(("6", "4"))
    b.cyl(r * 2.1, 0.2, 0, 0.1, 0, "accent")
    for k in range(int(n)):
        a = 2 * math.pi * k / int(n)
        b.cyl(0.12, h, r * math.cos(a), h / 2 + 0.2, r * math.sin(a), "main")
    b.cyl(r * 2.2, 0.12, 0, h + 0.2, 0, "main")
    b.cone(r * 2.5, r * 0.9, 0, h + 0.26 + r * 0.45, 0, "roof")


@cat(
    "campfire",
    "structures",
    ("bonfire", "fire", "fire pit", "camp fire", "firepit"),
    {
        "main": ("wood", BARK),
        "glow": ("glow", (1.0, 0.45, 0.1)),
        "accent": ("stone", STONE),
        "embers": ("glow", (1.0, 0.25, 0.05)),
    },
)
def campfire(b: Builder) -> None:
    r = b.u(0.35, 0.5)
    n = b.i(7, 11)
    for k in range(n):
        a = 2 * math.pi * k / n
        b.sph(0.16, 0.12, 0.14, r * math.cos(a), 0.05, r * math.sin(a), "accent", rot=(0, -math.degrees(a), 0))
    for k in range(b.i(3, 5)):
        a = 180 * k / 3
        b.cyl(0.08, r * 1.6, 0, 0.06 + 0.04 * k, 0, "main", rot=(0, a, 80))
    b.cyl(r * 2.0, 0.03, 0, 0.02, 0, "embers")
    b.cone(r * 0.7, r * 1.3, 0, 0.1 + r * 0.65, 0, "glow")
    for k in range(3):
        a = 2 * math.pi * k / 3
        b.cone(r * 0.35, r * 0.8, r * 0.22 * math.cos(a), 0.1 + r * 0.4, r * 0.22 * math.sin(a), "glow")


@cat(
    "statue",
    "decor",
    ("sculpture", "monument", "figure", "bust", "abstract sculpture", "art piece"),
    {"main": ("stone", (0.9, 0.89, 0.86)), "accent": ("stone", (0.6, 0.58, 0.55))},
    label="an abstract sculpture on a plinth",
)
def statue(b: Builder) -> None:
    b.box(0.5, 0.5, 0.5, 0, 0.25, 0, "accent")
    style = b.pick(("stack", "twist", "ring"))
    if style == "ring":
        b.torus(0.7, 0.14, 0, 0.84, 0, "main", rot=(90, b.u(0, 90), 0))
    elif style == "twist":
        for k in range(5):
            b.box(0.32 - 0.03 * k, 0.2, 0.32 - 0.03 * k, 0, 0.6 + 0.2 * k, 0, "main", rot=(0, 18 * k, 0))
    else:
        y = 0.5
        for _ in range(b.i(2, 4)):
            s = b.u(0.2, 0.35)
            b.sph(s, s, s, b.u(-0.05, 0.05), y + s / 2, 0, "main")
            y += s * 0.9


# ============================== street furniture ==============================
@cat(
    "trash can",
    "street",
    ("bin", "rubbish bin", "garbage can", "dustbin", "litter bin", "wastebasket"),
    {"main": ("metal", (0.2, 0.35, 0.25)), "accent": ("metal", DARKMETAL)},
)
def trash_can(b: Builder) -> None:
    h, d = b.u(0.7, 1.0), b.u(0.45, 0.6)
    if b.pick(("round", "square")) == "round":
        b.cyl(d, h, 0, h / 2, 0, "main")
        b.cyl(d * 1.06, 0.06, 0, h, 0, "accent")
    else:
        b.box(d, h, d, 0, h / 2, 0, "main")
        b.box(d * 1.06, 0.06, d * 1.06, 0, h, 0, "accent")


@cat(
    "mailbox",
    "street",
    ("postbox", "letterbox", "post box", "pillar box"),
    {"main": ("metal", RED), "accent": ("metal", DARKMETAL)},
)
def mailbox(b: Builder) -> None:
    if b.pick(("pillar", "post")) == "pillar":
        h = b.u(1.3, 1.6)
        b.cyl(0.5, h, 0, h / 2, 0, "main")
        b.sph(0.5, 0.22, 0.5, 0, h, 0, "main")
        b.box(0.25, 0.04, 0.05, 0, h * 0.75, 0.24, "accent")
    else:
        b.box(0.08, 1.0, 0.08, 0, 0.5, 0, "accent")
        b.box(0.25, 0.25, 0.45, 0, 1.1, 0, "main")
        b.cyl(0.25, 0.45, 0, 1.22, 0, "main", rot=(90, 0, 0))


@cat("fire hydrant", "street", ("hydrant", "fireplug"), {"main": ("metal", RED), "accent": ("metal", (0.85, 0.8, 0.3))})
def fire_hydrant(b: Builder) -> None:
    h = b.u(0.6, 0.8)
    b.cyl(0.32, 0.06, 0, 0.03, 0, "accent")
    b.cyl(0.24, h, 0, h / 2, 0, "main")
    b.sph(0.26, 0.2, 0.26, 0, h, 0, "main")
    b.cyl(0.06, 0.05, 0, h + 0.1, 0, "accent")
    n = b.cyl(0.1, 0.12, 0.15, h * 0.7, 0, "accent", rot=(0, 0, 90))
    b.mirror_x(n)


@cat(
    "traffic cone",
    "street",
    ("road cone", "safety cone", "pylon", "cone"),
    {"main": ("plastic", (0.98, 0.45, 0.05)), "accent": ("plastic", WHITE), "legs": ("plastic", (0.98, 0.45, 0.05))},
)
def traffic_cone(b: Builder) -> None:
    h = b.u(0.45, 0.75)
    b.box(h * 0.65, 0.04, h * 0.65, 0, 0.02, 0, "legs")
    b.cone(h * 0.5, h, 0, h / 2 + 0.02, 0, "main")
    b.cyl(h * 0.3, h * 0.12, 0, h * 0.55, 0, "accent")


@cat(
    "bollard",
    "street",
    ("post", "hitching post", "parking post"),
    {"main": ("metal", DARKMETAL), "accent": ("metal", (0.9, 0.8, 0.2))},
)
def bollard(b: Builder) -> None:
    h = b.u(0.8, 1.1)
    b.cyl(0.16, h, 0, h / 2, 0, "main")
    b.sph(0.16, 0.12, 0.16, 0, h, 0, "main")
    b.cyl(0.165, 0.06, 0, h * 0.8, 0, "accent")


@cat(
    "traffic light",
    "street",
    ("traffic signal", "stoplight", "signal light"),
    {
        "main": ("metal", DARKMETAL),
        "red": ("glow", (1, 0.1, 0.1)),
        "amber": ("glow", (1, 0.7, 0.1)),
        "green": ("glow", (0.1, 1, 0.3)),
    },
)
def traffic_light(b: Builder) -> None:
    h = b.u(2.6, 3.4)
    b.cyl(0.12, h, 0, h / 2, 0, "main")
    b.box(0.35, 0.95, 0.3, 0, h + 0.3, 0, "main")
    for k, role in enumerate(("red", "amber", "green")):
        b.cyl(0.2, 0.04, 0, h + 0.6 - 0.28 * k, 0.16, role, rot=(90, 0, 0))


@cat(
    "road sign",
    "signs",
    ("street sign", "traffic sign", "stop sign", "warning sign", "yield sign"),
    {"main": ("metal", RED), "accent": ("paint", WHITE) if False else ("plastic", WHITE), "legs": ("metal", METAL)},
)
def road_sign(b: Builder) -> None:
    h = b.u(2.0, 2.6)
    b.cyl(0.06, h, 0, h / 2, 0, "legs")
    shape = "octagon" if "stop" in b.words else b.pick(("round", "square", "triangle"))
    if shape in ("round", "octagon"):
        b.add("cylinder", (0.6, 0.03, 0.6), (0, h, 0.04), "main", (90, 0, 0))
        b.add("box", (0.4, 0.1, 0.01), (0, h, 0.06), "accent")
    elif shape == "square":
        b.box(0.6, 0.6, 0.03, 0, h, 0.04, "main")
        b.box(0.5, 0.5, 0.01, 0, h, 0.06, "accent")
    else:
        b.add("cone", (0.7, 0.03, 0.7), (0, h, 0.04), "main", (90, 0, 0))


@cat(
    "signpost",
    "signs",
    ("sign post", "direction sign", "wooden sign", "trail sign", "fingerpost", "sign"),
    {"main": ("wood", WOOD), "accent": ("wood", (0.75, 0.6, 0.4))},
)
def signpost(b: Builder) -> None:
    h = b.u(1.6, 2.2)
    b.box(0.1, h, 0.1, 0, h / 2, 0, "main")
    for k in range(b.i(1, 3)):
        side = 1 if k % 2 == 0 else -1
        b.box(0.7, 0.16, 0.04, side * 0.3, h - 0.15 - 0.22 * k, 0.06, "accent", rot=(0, b.u(-20, 20), 0))


@cat(
    "billboard",
    "signs",
    (
        "notice board",
        "noticeboard",
        "bulletin board",
        "poster board",
        "sandwich board",
        "menu board",
        "advertising board",
    ),
    {"main": ("wood", WOOD), "accent": ("paper", (0.95, 0.92, 0.8)), "legs": ("metal", DARKMETAL)},
)
def billboard(b: Builder) -> None:
    w = b.u(1.0, 2.5)
    h = b.u(1.6, 2.4)
    ph = w * 0.5
    leg = b.box(0.08, h, 0.08, w / 2 - 0.1, h / 2, 0, "legs")
    b.mirror_x(leg)
    b.box(w, ph, 0.06, 0, h - ph / 2, 0.07, "main")
    b.box(w - 0.1, ph - 0.1, 0.01, 0, h - ph / 2, 0.105, "accent")


@cat("bike rack", "street", ("bicycle rack", "cycle stand", "hoop rack"), {"main": ("metal", METAL)})
def bike_rack(b: Builder) -> None:
    n = b.i(2, 5)
    for k in range(n):
        z = (k - (n - 1) / 2) * 0.5
        b.torus(0.75, 0.05, 0, 0.0, z, "main", rot=(90, 0, 0))
    b.box(0.05, 0.05, 0.5 * (n - 1) + 0.05, 0.35, 0.02, 0, "main")
    b.box(0.05, 0.05, 0.5 * (n - 1) + 0.05, -0.35, 0.02, 0, "main")


@cat(
    "phone booth",
    "street",
    ("telephone box", "phone box", "telephone booth", "photo booth"),
    {"main": ("metal", RED), "glass": ("glass", GLASS), "roof": ("metal", RED)},
)
def phone_booth(b: Builder) -> None:
    h = b.u(2.3, 2.6)
    w = 0.9
    for x, z in ((w / 2, w / 2), (-w / 2, w / 2), (w / 2, -w / 2), (-w / 2, -w / 2)):
        b.box(0.1, h, 0.1, x, h / 2, z, "main")
    b.box(w, h * 0.75, w, 0, h * 0.45, 0, "glass")
    b.box(w + 0.1, 0.2, w + 0.1, 0, h, 0, "roof")
    b.box(w + 0.1, 0.1, w + 0.1, 0, 0.05, 0, "main")
    b.cyl(w, 0.1, 0, h + 0.12, 0, "roof", rot=(0, 0, 90), dz=w)


@cat(
    "vending machine",
    "street",
    ("drinks machine", "snack machine", "arcade machine", "arcade cabinet", "atm"),
    {"main": ("metal", (0.2, 0.35, 0.7)), "glow": ("glow", (0.6, 0.85, 1.0)), "accent": ("metal", DARKMETAL)},
)
def vending_machine(b: Builder) -> None:
    h, w = b.u(1.7, 1.9), b.u(0.8, 1.0)
    b.box(w, h, 0.8, 0, h / 2, 0, "main")
    b.box(w * 0.6, h * 0.55, 0.02, -w * 0.12, h * 0.62, 0.41, "glow")
    b.box(w * 0.2, h * 0.3, 0.02, w * 0.32, h * 0.6, 0.41, "accent")
    b.box(w * 0.6, 0.15, 0.03, -w * 0.12, h * 0.15, 0.41, "accent")


# ============================== vehicles ==============================
def _wheels(b: Builder, x: float, z: float, d: float, t: float, n_axles: int = 2, span: float = 0.0) -> None:
    xs = [x, -x] if n_axles == 2 else [x - i * span for i in range(n_axles)]
    for xx in xs:
        w = b.cyl(d, t, xx, d / 2, z, "wheels", rot=(90, 0, 0))
        b.add(w.prim, w.size, (xx, d / 2, -z), "wheels", w.rot)


@cat(
    "car",
    "vehicles",
    ("automobile", "sedan", "hatchback", "taxi", "sports car", "jeep", "suv", "race car"),
    {
        "main": ("metal", (0.75, 0.12, 0.1)),
        "wheels": ("rubber", BLACK),
        "glass": ("glass", (0.3, 0.4, 0.5)),
        "glow": ("glow", (1.0, 0.95, 0.8)),
    },
)
def car(b: Builder) -> None:
    ln, w = b.u(3.8, 4.6), b.u(1.7, 1.9)
    low = b.pick(("sedan", "sports", "suv")) if not ({"jeep", "suv"} & b.words) else "suv"
    body_h = {"sedan": 0.6, "sports": 0.45, "suv": 0.85}[low]
    wd = 0.65 if low != "suv" else 0.8
    b.box(ln, body_h, w, 0, wd * 0.45 + body_h / 2, 0, "main")
    cab_l = ln * (0.5 if low != "suv" else 0.65)
    cab_h = {"sedan": 0.5, "sports": 0.38, "suv": 0.6}[low]
    b.box(cab_l, cab_h, w * 0.92, -ln * 0.05, wd * 0.45 + body_h + cab_h / 2, 0, "glass")
    b.box(cab_l * 0.9, 0.06, w * 0.9, -ln * 0.05, wd * 0.45 + body_h + cab_h, 0, "main")
    _wheels(b, ln * 0.32, w / 2 - 0.1, wd, 0.25)
    for z in (w * 0.32, -w * 0.32):
        b.box(0.04, 0.12, 0.3, ln / 2, wd * 0.45 + body_h * 0.6, z, "glow")


@cat(
    "truck",
    "vehicles",
    ("lorry", "pickup truck", "van", "delivery van", "fire truck", "dump truck"),
    {
        "main": ("metal", (0.2, 0.4, 0.75)),
        "wheels": ("rubber", BLACK),
        "glass": ("glass", (0.3, 0.4, 0.5)),
        "accent": ("metal", (0.85, 0.85, 0.85)),
    },
)
def truck(b: Builder) -> None:
    ln, w = b.u(5.0, 7.0), b.u(2.1, 2.4)
    wd = 0.95
    cab = ln * 0.3
    b.box(cab, 1.6, w, ln / 2 - cab / 2, wd * 0.4 + 0.8, 0, "main")
    b.box(0.05, 0.7, w * 0.9, ln / 2, wd * 0.4 + 1.15, 0, "glass")
    box_h = 2.0 if b.chance(0.6) else 0.6
    b.box(ln - cab - 0.1, box_h, w, -cab / 2 - 0.05, wd * 0.4 + box_h / 2, 0, "accent")
    b.box(ln, 0.25, w * 0.8, 0, wd * 0.4, 0, "main")
    _wheels(b, ln * 0.33, w / 2 - 0.15, wd, 0.35)


@cat(
    "bus",
    "vehicles",
    ("coach", "school bus", "double decker", "tram", "trolley"),
    {"main": ("metal", (0.95, 0.75, 0.1)), "wheels": ("rubber", BLACK), "glass": ("glass", (0.3, 0.4, 0.5))},
)
def bus(b: Builder) -> None:
    ln, w = b.u(9.0, 11.0), 2.5
    h = 3.0 if "double" in b.words else 2.4
    b.box(ln, h, w, 0, 0.5 + h / 2, 0, "main")
    for y in [1.9, 3.3] if h > 2.5 else [1.9]:
        b.box(ln * 0.9, 0.6, w + 0.02, 0, y, 0, "glass")
    _wheels(b, ln * 0.33, w / 2 - 0.2, 1.0, 0.35)


@cat(
    "bicycle",
    "vehicles",
    ("bike", "cycle", "mountain bike", "push bike", "tricycle"),
    {"main": ("metal", (0.1, 0.5, 0.75)), "wheels": ("rubber", BLACK), "accent": ("fabric", BLACK)},
)
def bicycle(b: Builder) -> None:
    d = b.u(0.6, 0.72)
    for x in (-0.52, 0.52):
        b.torus(d, 0.04, x, d / 2, 0, "wheels", rot=(90, 0, 0))
        b.cyl(0.06, 0.1, x, d / 2, 0, "main", rot=(90, 0, 0))
    y = d / 2
    b.box(0.75, 0.04, 0.04, 0.05, y + 0.3, 0, "main", rot=(0, 0, -8))
    b.box(0.04, 0.55, 0.04, -0.1, y + 0.05, 0, "main", rot=(0, 0, 18))
    b.box(0.62, 0.04, 0.04, -0.26, y + 0.02, 0, "main", rot=(0, 0, 30))
    b.box(0.04, 0.5, 0.04, 0.45, y + 0.15, 0, "main", rot=(0, 0, 12))
    b.box(0.04, 0.04, 0.45, 0.42, y + 0.42, 0, "main")
    b.box(0.22, 0.05, 0.1, -0.18, y + 0.34, 0, "accent")
    b.box(0.58, 0.04, 0.04, -0.26, y - 0.01, 0, "main")


@cat(
    "motorbike",
    "vehicles",
    ("motorcycle", "scooter", "moped", "vespa", "dirt bike"),
    {"main": ("metal", (0.1, 0.1, 0.12)), "wheels": ("rubber", BLACK), "accent": ("metal", METAL)},
)
def motorbike(b: Builder) -> None:
    d = b.u(0.55, 0.7)
    for x in (-0.7, 0.7):
        b.torus(d, 0.12, x, d / 2, 0, "wheels", rot=(90, 0, 0))
    b.box(1.1, 0.35, 0.3, 0, d / 2 + 0.25, 0, "main")
    b.box(0.5, 0.12, 0.28, -0.25, d / 2 + 0.46, 0, "accent")
    b.box(0.06, 0.6, 0.06, 0.62, d / 2 + 0.25, 0, "accent", rot=(0, 0, 20))
    b.box(0.06, 0.06, 0.6, 0.56, d / 2 + 0.55, 0, "accent")


@cat(
    "boat",
    "vehicles",
    ("rowing boat", "rowboat", "canoe", "kayak", "dinghy", "fishing boat", "ship"),
    {"main": ("wood", WOOD), "accent": ("wood", (0.9, 0.88, 0.8))},
)
def boat(b: Builder) -> None:
    ln = b.u(2.5, 4.0)
    w = ln * b.u(0.25, 0.35)
    b.sph(ln, 0.7, w, 0, 0.3, 0, "main")
    b.box(ln * 0.85, 0.04, w * 0.85, 0, 0.62, 0, "accent")
    for k in range(b.i(1, 3)):
        b.box(0.2, 0.04, w * 0.9, -ln * 0.25 + ln * 0.25 * k, 0.66, 0, "main")


@cat(
    "sailboat",
    "vehicles",
    ("sailing boat", "yacht", "sailing ship", "pirate ship", "galleon"),
    {"main": ("wood", WOOD), "sail": ("fabric", WHITE), "accent": ("wood", DARKWOOD)},
)
def sailboat(b: Builder) -> None:
    ln = b.u(3.0, 4.5)
    w = ln * 0.3
    b.sph(ln, 0.9, w, 0, 0.35, 0, "main")
    b.box(ln * 0.85, 0.05, w * 0.85, 0, 0.78, 0, "accent")
    mh = ln * 0.9
    b.cyl(0.08, mh, 0, 0.78 + mh / 2, 0, "accent")
    b.add("cone", (ln * 0.5, mh * 0.8, 0.02), (-ln * 0.15, 0.78 + mh * 0.5, 0), "sail")


@cat(
    "train",
    "vehicles",
    ("locomotive", "steam engine", "train engine", "railway carriage"),
    {
        "main": ("metal", (0.15, 0.35, 0.2)),
        "wheels": ("metal", DARKMETAL),
        "accent": ("metal", RED),
        "roof": ("metal", BLACK),
    },
)
def train(b: Builder) -> None:
    ln, w = b.u(4.0, 5.0), 1.6
    b.cyl(1.3, ln * 0.6, ln * 0.15, 1.5, 0, "main", rot=(0, 0, 90))
    b.box(ln * 0.35, 2.0, w, -ln * 0.3, 1.8, 0, "main")
    b.box(ln * 0.4, 0.1, w + 0.2, -ln * 0.3, 2.85, 0, "roof")
    b.cyl(0.35, 0.8, ln * 0.35, 2.4, 0, "roof")
    b.box(ln, 0.35, w * 0.9, 0, 0.8, 0, "accent")
    for x in (-ln * 0.35, -ln * 0.05, ln * 0.25):
        wl = b.cyl(0.9, 0.15, x, 0.45, w / 2 - 0.08, "wheels", rot=(90, 0, 0))
        b.add(wl.prim, wl.size, (x, 0.45, -(w / 2 - 0.08)), "wheels", wl.rot)


@cat(
    "airplane",
    "vehicles",
    ("aeroplane", "plane", "jet", "aircraft", "biplane", "glider"),
    {"main": ("metal", (0.9, 0.9, 0.92)), "accent": ("metal", (0.2, 0.35, 0.7)), "wheels": ("rubber", BLACK)},
)
def airplane(b: Builder) -> None:
    ln = b.u(4.0, 5.0)
    b.cyl(0.6, ln, 0, 1.0, 0, "main", rot=(0, 0, 90))
    b.cone(0.6, 0.6, ln / 2 + 0.3, 1.0, 0, "main", rot=(0, 0, -90))
    b.box(1.0, 0.08, ln * 1.0, 0.2, 1.0, 0, "accent")
    b.box(0.6, 0.06, 1.6, -ln / 2 + 0.3, 1.1, 0, "accent")
    b.box(0.6, 0.8, 0.06, -ln / 2 + 0.3, 1.5, 0, "accent")
    for x, z in ((0.6, 0.22), (0.6, -0.22), (-ln / 2 + 0.5, 0.0)):
        b.cyl(0.12, 0.75, x, 0.375, z, "wheels")


@cat(
    "rocket",
    "vehicles",
    ("spaceship", "space rocket", "rocket ship", "spacecraft"),
    {"main": ("metal", WHITE), "accent": ("metal", RED), "glow": ("glow", (1.0, 0.6, 0.2))},
)
def rocket(b: Builder) -> None:
    h = b.u(3.0, 5.0)
    r = h * 0.13
    b.cyl(r * 2, h * 0.65, 0, h * 0.35, 0, "main")
    b.cone(r * 2, h * 0.3, 0, h * 0.67 + h * 0.15 - 0.01, 0, "accent")
    for k in range(b.i(3, 4)):
        a = 360 * k / 4 if True else 0
        rad = math.radians(a)
        b.box(
            r * 1.3,
            h * 0.25,
            0.05,
            r * 1.2 * math.cos(rad),
            h * 0.14,
            r * 1.2 * math.sin(rad),
            "accent",
            rot=(0, -a, 0),
        )
    b.cone(r * 1.2, h * 0.1, 0, h * 0.03, 0, "glow", rot=(180, 0, 0))


@cat(
    "tractor",
    "vehicles",
    ("farm tractor", "bulldozer", "digger", "excavator", "forklift"),
    {"main": ("metal", (0.2, 0.55, 0.2)), "wheels": ("rubber", BLACK), "glass": ("glass", GLASS)},
)
def tractor(b: Builder) -> None:
    b.box(1.6, 0.8, 1.0, 0.4, 1.0, 0, "main")
    gh = b.u(1.0, 1.3)
    b.box(1.0, gh, 1.1, -0.6, 1.0 + gh / 2, 0, "glass")
    b.box(1.1, 0.08, 1.2, -0.6, 1.0 + gh + 0.04, 0, "main")
    bw = b.cyl(1.5, 0.4, -0.6, 0.75, 0.75, "wheels", rot=(90, 0, 0))
    b.add(bw.prim, bw.size, (-0.6, 0.75, -0.75), "wheels", bw.rot)
    fw = b.cyl(0.8, 0.3, 0.9, 0.4, 0.6, "wheels", rot=(90, 0, 0))
    b.add(fw.prim, fw.size, (0.9, 0.4, -0.6), "wheels", fw.rot)
    b.cyl(0.12, 0.8, 0.9, 1.7, 0.3, "main")


@cat(
    "cart",
    "vehicles",
    ("wagon", "wheelbarrow", "handcart", "hay cart", "shopping cart", "carriage"),
    {"main": ("wood", WOOD), "wheels": ("wood", DARKWOOD)},
)
def cart(b: Builder) -> None:
    ln, w = b.u(1.2, 2.0), b.u(0.8, 1.2)
    b.box(ln, 0.08, w, 0, 0.55, 0, "main")
    for z in (w / 2, -w / 2):
        b.box(ln, 0.35, 0.05, 0, 0.75, z, "main")
    b.box(0.05, 0.35, w, ln / 2, 0.75, 0, "main")
    b.box(0.05, 0.35, w, -ln / 2, 0.75, 0, "main")
    ax = b.cyl(0.9, 0.08, 0, 0.45, w / 2 + 0.06, "wheels", rot=(90, 0, 0))
    b.add(ax.prim, ax.size, (0, 0.45, -(w / 2 + 0.06)), "wheels", ax.rot)
    b.box(1.0, 0.05, 0.05, ln / 2 + 0.45, 0.5, w * 0.3, "main")
    b.box(1.0, 0.05, 0.05, ln / 2 + 0.45, 0.5, -w * 0.3, "main")
    b.box(0.06, 0.5, 0.06, -ln / 2 + 0.1, 0.27, 0, "main")


# ============================== musical instruments ==============================
@cat(
    "guitar",
    "instruments",
    ("acoustic guitar", "electric guitar", "bass guitar", "ukulele", "banjo", "lute"),
    {"main": ("wood", (0.75, 0.45, 0.2)), "accent": ("wood", DARKWOOD), "legs": ("metal", DARKMETAL)},
)
def guitar(b: Builder) -> None:
    s = (0.6 if "ukulele" in b.words else 1.0) * b.u(0.9, 1.1)
    # on a stand: body upright, neck up
    b.box(0.4 * s, 0.05, 0.3 * s, 0, 0.025, 0, "legs")
    b.cyl(0.36 * s, 0.1 * s, 0, 0.22 * s, 0, "main", rot=(90, 0, 0))
    b.cyl(0.28 * s, 0.1 * s, 0, 0.46 * s, 0, "main", rot=(90, 0, 0))
    b.cyl(0.09 * s, 0.11 * s, 0, 0.4 * s, 0.005, "accent", rot=(90, 0, 0))
    b.box(0.06 * s, 0.5 * s, 0.04 * s, 0, 0.82 * s, 0, "accent")
    b.box(0.09 * s, 0.16 * s, 0.04 * s, 0, 1.13 * s, 0, "accent")
    b.box(0.3 * s, 0.05, 0.06, 0, 0.06, 0.0, "legs")


@cat(
    "piano",
    "instruments",
    ("grand piano", "upright piano", "keyboard", "organ", "synthesizer"),
    {"main": ("wood", BLACK), "keys": ("plastic", WHITE), "legs": ("wood", BLACK)},
)
def piano(b: Builder) -> None:
    if "grand" in b.words or b.chance(0.3):
        b.legs(3, 0.1, 0.65, 0.6, 0.7)
        b.cyl(1.4, 0.3, 0, 0.8, -0.2, "main", dz=1.8)
        b.box(1.4, 0.3, 0.5, 0, 0.8, 0.6, "main")
        b.box(1.2, 0.04, 0.2, 0, 0.97, 0.8, "keys")
        return
    w = b.u(1.4, 1.6)
    b.box(w, 1.2, 0.55, 0, 0.6, 0, "main")
    b.box(w, 0.1, 0.25, 0, 0.72, 0.38, "main")
    b.box(w - 0.15, 0.03, 0.18, 0, 0.78, 0.4, "keys")
    leg = b.box(0.06, 0.67, 0.06, w / 2 - 0.05, 0.335, 0.45, "legs")
    b.mirror_x(leg)


@cat(
    "drum kit",
    "instruments",
    ("drums", "drum set", "drum", "drumkit", "bass drum", "snare"),
    {
        "main": ("plastic", (0.75, 0.1, 0.1)),
        "accent": ("fabric", WHITE),
        "metal": ("gold", (0.85, 0.7, 0.3)),
        "legs": ("metal", METAL),
    },
)
def drum_kit(b: Builder) -> None:
    if "drum" in b.words and not ({"kit", "set", "drums"} & b.words):
        b.cyl(0.5, 0.4, 0, 0.2, 0, "main")
        b.cyl(0.52, 0.02, 0, 0.41, 0, "accent")
        return
    b.box(2.0, 0.02, 1.3, 0.05, 0.01, 0, "accent")  # the drum rug: everything stands on it
    b.cyl(0.55, 0.4, 0, 0.3, -0.1, "main", rot=(90, 0, 0))
    b.cyl(0.56, 0.02, 0, 0.3, 0.1, "accent", rot=(90, 0, 0))
    b.box(0.05, 0.1, 0.3, 0.2, 0.05, 0, "legs")
    b.box(0.05, 0.1, 0.3, -0.2, 0.05, 0, "legs")
    for x, y, d in ((0.22, 0.68, 0.3), (-0.22, 0.68, 0.3), (0.55, 0.45, 0.4)):
        b.cyl(d, 0.22, x, y, 0.0 if abs(x) < 0.5 else 0.3, "main")
    b.cyl(0.04, 0.45, 0.55, 0.17, 0.3, "legs")
    b.cyl(0.45, 0.02, 0.55, 0.35, 0.3, "accent")
    ch = b.u(0.85, 1.15)
    for x in (-0.7, 0.8):
        b.cyl(0.03, ch, x, ch / 2, -0.2, "legs")
        b.cyl(b.u(0.35, 0.5), 0.015, x, ch, -0.2, "metal")
    b.cyl(0.02, 0.3, 0, 0.6, -0.05, "legs")


@cat(
    "violin",
    "instruments",
    ("fiddle", "cello", "double bass", "viola"),
    {"main": ("wood", (0.65, 0.32, 0.12)), "accent": ("wood", BLACK)},
)
def violin(b: Builder) -> None:
    s = (1.2 if ({"cello", "double"} & b.words) else 0.6) * b.u(0.9, 1.1)
    b.cyl(0.2 * s, 0.03, 0, 0.015, 0, "accent")
    b.sph(0.4 * s, 0.35 * s, 0.12 * s, 0, 0.2 * s, 0, "main")
    b.sph(0.32 * s, 0.3 * s, 0.11 * s, 0, 0.45 * s, 0, "main")
    b.box(0.05 * s, 0.45 * s, 0.04 * s, 0, 0.8 * s, 0.02 * s, "accent")
    b.sph(0.07 * s, 0.09 * s, 0.05 * s, 0, 1.05 * s, 0.02 * s, "main")


@cat(
    "trumpet",
    "instruments",
    ("horn", "trombone", "saxophone", "tuba", "bugle", "french horn"),
    {"main": ("gold", (0.85, 0.7, 0.3)), "legs": ("metal", DARKMETAL)},
)
def trumpet(b: Builder) -> None:
    b.box(0.25, 0.02, 0.2, 0, 0.01, 0, "legs")
    b.cyl(0.02, 0.3, 0, 0.16, 0, "legs")
    b.cyl(0.04, 0.45, 0, 0.33, 0, "main", rot=(0, 0, 90))
    b.cone(b.u(0.13, 0.2), 0.18, 0.3, 0.33, 0, "main", rot=(0, 0, 90))
    b.torus(0.14, 0.035, -0.05, 0.39, 0, "main", rot=(90, 0, 0))
    for k in range(3):
        b.cyl(0.03, 0.08, -0.04 + 0.04 * k, 0.4, 0, "main")


@cat("harp", "instruments", ("lyre", "harp frame"), {"main": ("gold", (0.8, 0.6, 0.25)), "accent": ("metal", WHITE)})
def harp(b: Builder) -> None:
    h = b.u(1.2, 1.7)
    b.box(0.4, 0.08, 0.3, 0, 0.04, 0, "main")
    b.box(0.1, h, 0.1, -0.15, h / 2, 0, "main", rot=(0, 0, -5))
    b.box(0.7, 0.1, 0.08, 0.15, h - 0.05, 0, "main", rot=(0, 0, -15))
    b.box(0.08, h * 0.8, 0.08, 0.4, h * 0.45, 0, "main", rot=(0, 0, 20))
    for k in range(7):
        x = -0.08 + 0.07 * k
        b.box(0.008, h * (0.8 - 0.07 * k), 0.008, x, h * (0.8 - 0.07 * k) / 2 + 0.08, 0, "accent")


@cat(
    "microphone",
    "instruments",
    ("mic", "microphone stand", "mic stand"),
    {"main": ("metal", DARKMETAL), "accent": ("metal", METAL)},
)
def microphone(b: Builder) -> None:
    h = b.u(1.4, 1.7)
    b.cyl(0.4, 0.02, 0, 0.01, 0, "main")
    b.cyl(0.025, h, 0, h / 2, 0, "main")
    b.cyl(0.05, 0.16, 0, h + 0.06, 0.03, "main", rot=(25, 0, 0))
    b.sph(0.07, 0.08, 0.07, 0, h + 0.16, 0.07, "accent")


@cat(
    "xylophone",
    "instruments",
    ("marimba", "glockenspiel", "chimes", "wind chime"),
    {
        "main": ("wood", WOOD),
        "legs": ("metal", DARKMETAL),
        "b0": ("plastic", RED),
        "b1": ("plastic", (0.95, 0.8, 0.1)),
        "b2": ("plastic", (0.2, 0.6, 0.3)),
        "b3": ("plastic", (0.2, 0.4, 0.8)),
    },
)
def xylophone(b: Builder) -> None:
    n = b.i(6, 10)
    w = 0.08 * n
    b.legs(4, 0.04, 0.75, w / 2, 0.2)
    b.box(w + 0.1, 0.05, 0.45, 0, 0.77, 0, "main")
    for k in range(n):
        ln = 0.42 - 0.025 * k
        b.box(0.06, 0.03, ln, -w / 2 + 0.04 + 0.08 * k, 0.81, 0, f"b{k % 4}")


# ============================== food and tableware ==============================
@cat(
    "cup",
    "tableware",
    ("mug", "coffee mug", "teacup", "coffee cup", "tea cup", "tankard"),
    {"main": ("ceramic", WHITE), "accent": ("food", (0.35, 0.2, 0.1))},
)
def cup(b: Builder) -> None:
    h = b.u(0.08, 0.12)
    d = h * b.u(0.75, 1.0)
    b.cyl(d, h, 0, h / 2, 0, "main")
    b.cyl(d * 0.85, 0.005, 0, h - 0.008, 0, "accent")
    b.torus(h * 0.6, h * 0.12, d / 2 + h * 0.15, h * 0.5, 0, "main", rot=(90, 0, 0))


@cat(
    "plate",
    "tableware",
    ("dish", "saucer", "platter", "dinner plate"),
    {"main": ("ceramic", WHITE), "accent": ("ceramic", (0.3, 0.45, 0.75))},
)
def plate(b: Builder) -> None:
    d = b.u(0.22, 0.32)
    b.cyl(d, 0.012, 0, 0.006, 0, "main")
    b.torus(d, 0.012, 0, 0.014, 0, "accent")


@cat(
    "bowl",
    "tableware",
    ("salad bowl", "fruit bowl", "soup bowl", "basin", "bowl of fruit"),
    {
        "main": ("ceramic", (0.85, 0.85, 0.8)),
        "a0": ("food", RED),
        "a1": ("food", (0.95, 0.8, 0.2)),
        "a2": ("food", (0.3, 0.7, 0.2)),
    },
)
def bowl(b: Builder) -> None:
    d = b.u(0.18, 0.3)
    b.cyl(d * 0.45, d * 0.06, 0, d * 0.03, 0, "main")
    b.cone(d, d * 0.4, 0, d * 0.24, 0, "main", rot=(180, 0, 0))
    b.torus(d, d * 0.06, 0, d * 0.42, 0, "main")
    if "fruit" in b.words or b.chance(0.4):
        for k in range(5):
            a = 2 * math.pi * k / 5
            b.sph(d * 0.28, d * 0.28, d * 0.28, d * 0.2 * math.cos(a), d * 0.46, d * 0.2 * math.sin(a), f"a{k % 3}")


@cat(
    "bottle",
    "tableware",
    ("wine bottle", "water bottle", "jar", "flask", "potion", "potion bottle", "jug"),
    {"main": ("glass", (0.2, 0.5, 0.3)), "accent": ("wood", (0.7, 0.55, 0.35)), "label": ("paper", (0.95, 0.92, 0.8))},
)
def bottle(b: Builder) -> None:
    h = b.u(0.22, 0.34)
    d = h * b.u(0.25, 0.35)
    b.cyl(d, h * 0.6, 0, h * 0.3, 0, "main")
    b.cone(d, h * 0.2, 0, h * 0.7, 0, "main")
    b.cyl(d * 0.35, h * 0.2, 0, h * 0.85, 0, "main")
    b.cyl(d * 0.3, h * 0.06, 0, h * 0.97, 0, "accent")
    b.cyl(d * 1.02, h * 0.2, 0, h * 0.3, 0, "label")


@cat(
    "teapot",
    "tableware",
    ("kettle", "coffee pot", "tea pot"),
    {"main": ("ceramic", (0.85, 0.9, 0.95)), "accent": ("ceramic", (0.3, 0.45, 0.75))},
)
def teapot(b: Builder) -> None:
    s = b.u(0.18, 0.26)
    b.sph(s, s * 0.8, s, 0, s * 0.4, 0, "main")
    b.cyl(s * 0.45, s * 0.08, 0, s * 0.82, 0, "accent")
    b.sph(s * 0.12, s * 0.12, s * 0.12, 0, s * 0.9, 0, "accent")
    b.cyl(s * 0.12, s * 0.5, s * 0.55, s * 0.55, 0, "main", rot=(0, 0, -50))
    b.torus(s * 0.45, s * 0.08, -s * 0.55, s * 0.45, 0, "main", rot=(90, 0, 0))


@cat(
    "wine glass",
    "tableware",
    ("goblet", "glass", "champagne glass", "chalice", "cocktail glass"),
    {"main": ("glass", (0.85, 0.92, 0.95)), "accent": ("food", (0.5, 0.05, 0.15))},
)
def wine_glass(b: Builder) -> None:
    h = b.u(0.16, 0.24)
    b.cyl(h * 0.4, 0.006, 0, 0.003, 0, "main")
    b.cyl(0.008, h * 0.45, 0, h * 0.225, 0, "main")
    b.cone(h * 0.45, h * 0.5, 0, h * 0.72, 0, "main", rot=(180, 0, 0))
    if b.chance(0.5):
        b.cone(h * 0.3, h * 0.25, 0, h * 0.6, 0, "accent", rot=(180, 0, 0))


@cat(
    "cake",
    "food",
    ("birthday cake", "wedding cake", "cupcake", "pie", "cheesecake", "layer cake"),
    {
        "main": ("food", (0.95, 0.85, 0.75)),
        "accent": ("food", (0.9, 0.4, 0.55)),
        "glow": ("glow", GLOW),
        "plate": ("ceramic", WHITE),
    },
)
def cake(b: Builder) -> None:
    tiers = 3 if "wedding" in b.words else b.i(1, 2)
    d = b.u(0.22, 0.32)
    b.cyl(d * 1.2, 0.01, 0, 0.005, 0, "plate")
    y = 0.01
    for k in range(tiers):
        dd = d * (1 - 0.25 * k)
        th = d * 0.4
        b.cyl(dd, th, 0, y + th / 2, 0, "main")
        b.torus(dd, 0.02, 0, y + th, 0, "accent")
        y += th
    if "birthday" in b.words or b.chance(0.4):
        for k in range(b.i(3, 6)):
            a = 2 * math.pi * k / 6
            b.cyl(0.008, 0.06, d * 0.25 * math.cos(a), y + 0.03, d * 0.25 * math.sin(a), "accent")
            b.sph(0.01, 0.02, 0.01, d * 0.25 * math.cos(a), y + 0.07, d * 0.25 * math.sin(a), "glow")


@cat(
    "apple",
    "food",
    ("fruit", "orange", "pear", "peach", "tomato", "plum"),
    {"main": ("food", RED), "stem": ("wood", BARK), "leaves": ("leaves", LEAF)},
)
def apple(b: Builder) -> None:
    s = b.u(0.07, 0.1)
    b.sph(s, s * 0.9, s, 0, s * 0.45, 0, "main")
    b.cyl(0.006, s * 0.3, 0, s * 0.95, 0, "stem")
    b.sph(s * 0.35, 0.004, s * 0.18, s * 0.12, s * 0.95, 0, "leaves", rot=(0, 0, 20))


@cat(
    "banana",
    "food",
    ("bananas", "carrot", "cucumber", "baguette", "corn"),
    {"main": ("food", (0.95, 0.85, 0.25)), "stem": ("food", (0.4, 0.3, 0.1))},
)
def banana(b: Builder) -> None:
    n = b.i(3, 5)
    for k in range(n):
        a = -40 + 80 * k / (n - 1)
        r = math.radians(a)
        b.cyl(0.04, 0.05, 0.07 * math.sin(r), 0.02 + 0.07 * (1 - math.cos(r)), 0, "main", rot=(0, 0, 90 + a))
    b.cyl(0.015, 0.03, 0.07 * math.sin(math.radians(45)), 0.05, 0, "stem", rot=(0, 0, 45))


@cat(
    "watermelon",
    "food",
    ("melon", "pumpkin", "squash", "jack o lantern", "gourd"),
    {"main": ("food", (0.2, 0.5, 0.2)), "stem": ("wood", BARK), "accent": ("food", (0.35, 0.65, 0.3))},
)
def watermelon(b: Builder) -> None:
    s = b.u(0.25, 0.45)
    if "pumpkin" in b.words or "jack" in b.words:
        for k in range(8):
            a = 2 * math.pi * k / 8
            b.sph(s * 0.45, s * 0.75, s * 0.45, s * 0.25 * math.cos(a), s * 0.37, s * 0.25 * math.sin(a), "main")
        b.cyl(0.04, s * 0.25, 0, s * 0.8, 0, "stem")
        return
    b.sph(s * 1.25, s, s, 0, s / 2, 0, "main")
    b.sph(s * 1.26, s * 0.2, s * 1.01, 0, s / 2, 0, "accent")


@cat(
    "burger",
    "food",
    ("hamburger", "cheeseburger", "sandwich", "sub"),
    {
        "main": ("food", (0.85, 0.6, 0.3)),
        "meat": ("food", (0.4, 0.22, 0.12)),
        "leaves": ("leaves", (0.4, 0.75, 0.2)),
        "accent": ("food", (0.98, 0.8, 0.2)),
    },
)
def burger(b: Builder) -> None:
    d = b.u(0.1, 0.14)
    b.cyl(d, d * 0.2, 0, d * 0.1, 0, "main")
    b.cyl(d * 1.08, d * 0.08, 0, d * 0.24, 0, "leaves")
    b.cyl(d * 1.02, d * 0.22, 0, d * 0.38, 0, "meat")
    b.box(d * 0.95, d * 0.03, d * 0.95, 0, d * 0.5, 0, "accent", rot=(0, 45, 0))
    b.sph(d, d * 0.6, d, 0, d * 0.52, 0, "main")


@cat(
    "pizza",
    "food",
    ("pizza slice", "pie slice", "flatbread", "tart"),
    {"main": ("food", (0.9, 0.7, 0.35)), "accent": ("food", (0.8, 0.2, 0.1)), "cheese": ("food", (0.98, 0.88, 0.5))},
)
def pizza(b: Builder) -> None:
    d = b.u(0.28, 0.4)
    b.cyl(d, 0.02, 0, 0.01, 0, "main")
    b.cyl(d * 0.9, 0.022, 0, 0.012, 0, "cheese")
    for _ in range(b.i(5, 9)):
        a = b.u(0, 2 * math.pi)
        r = d * b.u(0.05, 0.38)
        b.cyl(d * 0.12, 0.006, r * math.cos(a), 0.024, r * math.sin(a), "accent")


@cat(
    "donut",
    "food",
    ("doughnut", "bagel", "ring donut"),
    {"main": ("food", (0.85, 0.6, 0.3)), "accent": ("food", (0.95, 0.5, 0.7))},
)
def donut(b: Builder) -> None:
    d = b.u(0.08, 0.12)
    b.torus(d, d * 0.35, 0, d * 0.175, 0, "main")
    b.torus(d * 0.98, d * 0.22, 0, d * 0.27, 0, "accent")


@cat(
    "ice cream",
    "food",
    ("ice cream cone", "gelato", "sundae", "popsicle"),
    {"main": ("food", (0.98, 0.75, 0.8)), "cone": ("food", (0.85, 0.6, 0.3)), "accent": ("food", RED)},
)
def ice_cream(b: Builder) -> None:
    h = b.u(0.14, 0.2)
    b.cone(h * 0.4, h, 0, h / 2, 0, "cone", rot=(180, 0, 0))
    for k in range(b.i(1, 3)):
        b.sph(h * 0.45, h * 0.4, h * 0.45, 0, h + h * 0.15 + k * h * 0.33, 0, "main")
    b.sph(h * 0.1, h * 0.1, h * 0.1, 0, h + h * 0.35 + (b.i(0, 0)) * h * 0.33, 0, "accent")


@cat(
    "bread",
    "food",
    ("loaf", "loaf of bread", "croissant", "bun", "pastry"),
    {"main": ("food", (0.8, 0.55, 0.3)), "accent": ("food", (0.9, 0.72, 0.45))},
)
def bread(b: Builder) -> None:
    ln = b.u(0.22, 0.35)
    b.sph(ln, ln * 0.4, ln * 0.5, 0, ln * 0.2, 0, "main")
    for k in range(3):
        b.box(0.01, 0.01, ln * 0.35, -ln * 0.2 + ln * 0.2 * k, ln * 0.4, 0, "accent", rot=(0, 30, 0))


# ============================== decor ==============================
@cat(
    "vase",
    "decor",
    ("urn", "amphora", "flower vase", "pot", "planter pot"),
    {
        "main": ("ceramic", (0.3, 0.45, 0.75)),
        "accent": ("ceramic", WHITE),
        "leaves": ("leaves", LEAF),
        "flower": ("leaves", (0.9, 0.3, 0.4)),
    },
)
def vase(b: Builder) -> None:
    h = b.u(0.25, 0.6)
    w = h * b.u(0.35, 0.6)
    b.cyl(w * 0.6, h * 0.05, 0, h * 0.025, 0, "main")
    b.sph(w, h * 0.6, w, 0, h * 0.35, 0, "main")
    b.cyl(w * 0.45, h * 0.35, 0, h * 0.78, 0, "main")
    b.torus(w * 0.55, h * 0.04, 0, h * 0.95, 0, "accent")
    b.torus(w * 1.0, h * 0.03, 0, h * 0.35, 0, "accent")
    if "flowers" in b.words or b.chance(0.3):
        for k in range(3):
            x = (k - 1) * w * 0.12
            b.cyl(0.01, h * 0.5, x, h * 1.15, 0, "leaves")
            b.sph(h * 0.12, h * 0.1, h * 0.12, x, h * 1.4, 0, "flower")


@cat(
    "picture frame",
    "decor",
    ("painting", "framed picture", "portrait", "photo frame", "easel", "canvas"),
    {
        "frame": ("gold", (0.8, 0.62, 0.3)),
        "main": ("paper", (0.3, 0.55, 0.75)),
        "accent": ("paper", (0.95, 0.8, 0.3)),
        "legs": ("wood", WOOD),
    },
)
def picture_frame(b: Builder) -> None:
    w, h = b.u(0.5, 1.0), b.u(0.4, 0.9)
    y0 = 0.75
    # on an easel, so it stands on the floor
    b.box(0.05, y0 + h, 0.05, 0, (y0 + h) / 2, -0.12, "legs", rot=(-8, 0, 0))
    lg = b.box(0.05, y0 + 0.2, 0.05, w * 0.35, (y0 + 0.2) / 2, 0.05, "legs", rot=(8, 0, -6))
    b.mirror_x(lg)
    b.box(w + 0.2, 0.05, 0.12, 0, y0, 0.02, "legs")
    b.box(w + 0.1, h + 0.1, 0.05, 0, y0 + h / 2 + 0.03, 0.04, "frame")
    b.box(w, h, 0.02, 0, y0 + h / 2 + 0.03, 0.07, "main")
    b.sph(w * 0.3, h * 0.3, 0.01, w * 0.15, y0 + h * 0.6, 0.08, "accent")


@cat(
    "clock",
    "decor",
    ("grandfather clock", "wall clock", "alarm clock", "pendulum clock", "sundial"),
    {"main": ("wood", DARKWOOD), "face": ("ceramic", WHITE), "accent": ("gold", (0.85, 0.7, 0.3))},
)
def clock(b: Builder) -> None:
    if "alarm" in b.words:
        b.cyl(0.12, 0.05, 0, 0.08, 0, "main", rot=(90, 0, 0))
        b.cyl(0.1, 0.01, 0, 0.08, 0.027, "face", rot=(90, 0, 0))
        bl = b.sph(0.05, 0.04, 0.04, 0.05, 0.15, 0, "accent")
        b.mirror_x(bl)
        leg = b.box(0.01, 0.04, 0.01, 0.04, 0.01, 0, "accent")
        b.mirror_x(leg)
        return
    h = b.u(1.8, 2.2)
    b.box(0.5, 0.15, 0.35, 0, 0.075, 0, "main")
    b.box(0.4, h - 0.55, 0.28, 0, (h - 0.55) / 2 + 0.15, 0, "main")
    b.box(0.5, 0.45, 0.32, 0, h - 0.225, 0, "main")
    b.cyl(0.34, 0.02, 0, h - 0.22, 0.165, "face", rot=(90, 0, 0))
    b.box(0.02, 0.12, 0.01, 0, h - 0.18, 0.18, "accent")
    b.sph(0.12, 0.12, 0.03, 0, 0.5, 0.14, "accent")


@cat(
    "mirror",
    "decor",
    ("standing mirror", "cheval mirror", "looking glass", "full length mirror"),
    {"main": ("glass", (0.85, 0.9, 0.95)), "frame": ("wood", WOOD)},
)
def mirror(b: Builder) -> None:
    h = b.u(1.4, 1.8)
    b.box(0.6, 0.05, 0.4, 0, 0.025, 0, "frame")
    p = b.box(0.05, h, 0.05, 0.3, h / 2, 0, "frame")
    b.mirror_x(p)
    b.sph(0.58, h * 0.75, 0.04, 0, h * 0.55, 0, "frame")
    b.sph(0.44, h * 0.7, 0.05, 0, h * 0.55, 0.005, "main")


@cat(
    "trophy",
    "decor",
    ("cup trophy", "award", "medal stand", "prize"),
    {"main": ("gold", (0.9, 0.72, 0.25)), "accent": ("stone", BLACK)},
)
def trophy(b: Builder) -> None:
    h = b.u(0.3, 0.5)
    b.box(h * 0.4, h * 0.15, h * 0.4, 0, h * 0.075, 0, "accent")
    b.cyl(h * 0.06, h * 0.3, 0, h * 0.3, 0, "main")
    b.cone(h * 0.5, h * 0.45, 0, h * 0.65, 0, "main", rot=(180, 0, 0))
    hd = b.torus(h * 0.22, h * 0.04, h * 0.28, h * 0.7, 0, "main", rot=(90, 0, 0))
    b.mirror_x(hd)


@cat(
    "globe",
    "decor",
    ("world globe", "desk globe", "crystal ball", "snow globe", "orb"),
    {"main": ("plastic", (0.2, 0.45, 0.8)), "accent": ("leaves", (0.3, 0.6, 0.3)), "legs": ("gold", (0.8, 0.62, 0.3))},
)
def globe(b: Builder) -> None:
    s = b.u(0.25, 0.4)
    b.cyl(s * 0.6, 0.03, 0, 0.015, 0, "legs")
    b.cyl(0.02, s * 0.35, 0, s * 0.18, 0, "legs")
    b.sph(s, s, s, 0, s * 0.35 + s / 2, 0, "main")
    b.torus(s * 1.12, 0.02, 0, s * 0.85, 0, "legs", rot=(90, 0, 23))
    for k in range(3):
        a = 2 * math.pi * k / 3
        b.sph(
            s * 0.35,
            s * 0.3,
            s * 0.1,
            s * 0.45 * math.cos(a),
            s * 0.9,
            s * 0.45 * math.sin(a),
            "accent",
            rot=(0, -math.degrees(a) + 90, 0),
        )


@cat(
    "book",
    "decor",
    ("books", "stack of books", "book stack", "pile of books", "journal", "notebook"),
    {**BOOKS, "main": ("paper", (0.95, 0.93, 0.85))},
)
def book(b: Builder) -> None:
    y = 0.0
    for k in range(b.i(1, 6)):
        th = b.u(0.03, 0.06)
        b.box(
            b.u(0.18, 0.26),
            th,
            b.u(0.13, 0.19),
            b.u(-0.01, 0.01),
            y + th / 2,
            0,
            f"book{k % 3}",
            rot=(0, b.u(-12, 12), 0),
        )
        y += th


@cat(
    "cushion",
    "decor",
    ("pillow", "bean bag", "beanbag", "pouf", "ottoman"),
    {"main": ("fabric", (0.8, 0.5, 0.3)), "accent": ("fabric", (0.95, 0.9, 0.8))},
)
def cushion(b: Builder) -> None:
    if {"bean", "beanbag", "pouf", "ottoman"} & b.words:
        s = b.u(0.6, 0.9)
        b.sph(s, s * 0.7, s, 0, s * 0.35, 0, "main")
        return
    s = b.u(0.4, 0.55)
    b.sph(s, s * 0.3, s, 0, s * 0.15, 0, "main", rot=(0, 45, 0))
    b.sph(s * 0.2, s * 0.05, s * 0.2, 0, s * 0.29, 0, "accent")


@cat(
    "flag",
    "decor",
    ("banner", "flagpole", "pennant", "flag pole"),
    {"main": ("fabric", RED), "accent": ("fabric", WHITE), "legs": ("metal", METAL)},
)
def flag(b: Builder) -> None:
    h = b.u(2.5, 4.5)
    b.cyl(0.3, 0.1, 0, 0.05, 0, "legs")
    b.cyl(0.05, h, 0, h / 2, 0, "legs")
    b.sph(0.08, 0.08, 0.08, 0, h + 0.02, 0, "legs")
    w = h * 0.35
    b.box(w, w * 0.6, 0.02, w / 2 + 0.02, h - w * 0.3 - 0.05, 0, "main")
    b.box(w, w * 0.12, 0.022, w / 2 + 0.02, h - w * 0.3 - 0.05, 0, "accent")


# ============================== toys ==============================
@cat(
    "ball",
    "toys",
    ("beach ball", "football", "soccer ball", "basketball", "bouncy ball", "beach ball"),
    {"main": ("plastic", (0.95, 0.3, 0.2)), "accent": ("plastic", WHITE)},
)
def ball(b: Builder) -> None:
    d = b.u(0.2, 0.4)
    b.sph(d, d, d, 0, d / 2, 0, "main")
    b.torus(d * 1.01, d * 0.08, 0, d / 2, 0, "accent", rot=(90, b.u(0, 90), 0))
    b.torus(d * 1.01, d * 0.08, 0, d / 2, 0, "accent")


@cat(
    "teddy bear",
    "toys",
    ("teddy", "stuffed animal", "plush toy", "soft toy", "plushie"),
    {"main": ("fur", (0.6, 0.4, 0.22)), "accent": ("fur", (0.85, 0.7, 0.5)), "eyes": ("plastic", BLACK)},
)
def teddy_bear(b: Builder) -> None:
    s = b.u(0.25, 0.45)
    b.sph(s * 0.7, s * 0.8, s * 0.6, 0, s * 0.45, 0, "main")
    b.sph(s * 0.55, s * 0.5, s * 0.5, 0, s * 1.05, 0, "main")
    b.sph(s * 0.25, s * 0.18, s * 0.2, 0, s * 0.98, s * 0.22, "accent")
    e = b.sph(s * 0.2, s * 0.2, s * 0.1, s * 0.2, s * 1.28, 0, "main")
    b.mirror_x(e)
    ey = b.sph(s * 0.06, s * 0.06, s * 0.03, s * 0.1, s * 1.12, s * 0.23, "eyes")
    b.mirror_x(ey)
    a = b.sph(s * 0.22, s * 0.45, s * 0.22, s * 0.38, s * 0.6, s * 0.05, "main", rot=(0, 0, 30))
    b.mirror_x(a)
    lg = b.sph(s * 0.25, s * 0.22, s * 0.4, s * 0.2, s * 0.11, s * 0.15, "main")
    b.mirror_x(lg)
    b.sph(s * 0.4, s * 0.45, s * 0.1, 0, s * 0.45, s * 0.27, "accent")


@cat(
    "toy blocks",
    "toys",
    ("building blocks", "blocks", "toy block", "dice", "die", "cubes", "alphabet blocks"),
    {
        "b0": ("plastic", RED),
        "b1": ("plastic", (0.2, 0.45, 0.85)),
        "b2": ("plastic", (0.95, 0.8, 0.15)),
        "main": ("plastic", (0.2, 0.65, 0.3)),
    },
)
def toy_blocks(b: Builder) -> None:
    s = b.u(0.06, 0.12)
    n = 1 if ({"dice", "die"} & b.words) else b.i(3, 6)
    rows = [min(3, n)]
    left = n - rows[0]
    while left > 0:
        rows.append(min(rows[-1] - 1, left) or 1)
        left -= rows[-1]
    for r, cnt in enumerate(rows):
        for k in range(cnt):
            x = (k - (cnt - 1) / 2) * s * 1.02
            b.box(s, s, s, x, s / 2 + r * s, 0, ["main", "b0", "b1", "b2"][(r + k) % 4], rot=(0, b.u(-6, 6), 0))


@cat(
    "rocking horse",
    "toys",
    ("hobby horse", "toy horse", "carousel horse"),
    {"main": ("wood", (0.85, 0.75, 0.6)), "accent": ("wood", RED), "hair": ("fur", DARKWOOD)},
)
def rocking_horse(b: Builder) -> None:
    b.torus(1.3, 0.05, 0, 0.45, 0.15, "accent", rot=(0, 0, 0)) if False else None
    for z in (0.15, -0.15):
        b.box(1.2, 0.05, 0.05, 0, 0.05, z, "accent")
        b.box(0.5, 0.05, 0.05, 0.6, 0.12, z, "accent", rot=(0, 0, 20))
        b.box(0.5, 0.05, 0.05, -0.6, 0.12, z, "accent", rot=(0, 0, -20))
    b.legs(4, 0.06, 0.45, 0.3, 0.12, y0=0.05, role="main")
    b.sph(b.u(0.7, 0.9), 0.3, 0.3, 0, 0.6, 0, "main")
    b.box(0.12, 0.35, 0.12, 0.38, 0.8, 0, "main", rot=(0, 0, -30))
    b.sph(0.32, 0.16, 0.14, 0.5, 0.95, 0, "main", rot=(0, 0, -25))
    b.box(0.3, 0.1, 0.04, 0.33, 0.9, 0, "hair", rot=(0, 0, -55))
    b.box(0.2, 0.04, 0.32, 0, 0.76, 0, "accent")


@cat("kite", "toys", ("toy kite", "pinwheel", "windmill toy"), {"main": ("fabric", RED), "accent": ("wood", WOOD)})
def kite(b: Builder) -> None:
    b.cyl(0.03, 1.2, 0, 0.6, 0, "accent")
    k = b.u(0.5, 0.75)
    b.box(k, k, 0.01, 0, 1.35, 0, "main", rot=(0, 0, 45))
    b.box(0.02, 0.85, 0.02, 0, 1.35, 0.01, "accent")
    b.box(0.85, 0.02, 0.02, 0, 1.35, 0.01, "accent")
    b.box(0.3, 0.03, 0.3, 0, 0.015, 0, "accent")


@cat(
    "balloon",
    "toys",
    ("balloons", "party balloon", "hot air balloon"),
    {"main": ("plastic", RED), "accent": ("fabric", WHITE), "basket": ("wood", WOOD)},
)
def balloon(b: Builder) -> None:
    if "hot" in b.words:
        b.box(0.8, 0.6, 0.8, 0, 0.3, 0, "basket")
        for x, z in ((0.35, 0.35), (-0.35, 0.35), (0.35, -0.35), (-0.35, -0.35)):
            b.cyl(0.02, 1.0, x, 1.1, z, "accent")
        b.sph(2.6, 3.0, 2.6, 0, 3.0, 0, "main")
        b.cone(1.0, 0.8, 0, 1.5, 0, "main", rot=(180, 0, 0))
        return
    n = b.i(1, 4)
    b.box(0.12, 0.06, 0.12, 0, 0.03, 0, "accent")
    for k in range(n):
        a = 2 * math.pi * k / n
        x, z = (0.0, 0.0) if n == 1 else (0.18 * math.cos(a), 0.18 * math.sin(a))
        h = b.u(1.1, 1.5)
        b.cyl(0.008, h, x / 2, h / 2, z / 2, "accent", rot=(math.degrees(z / h * 0.5), 0, -math.degrees(x / h * 0.5)))
        b.sph(0.3, 0.36, 0.3, x, h + 0.17, z, ["main", "b0", "b1"][k % 3])


@cat(
    "toy car",
    "toys",
    ("toy truck", "toy train", "toy robot", "robot", "toy"),
    {
        "main": ("plastic", (0.2, 0.45, 0.85)),
        "accent": ("plastic", (0.95, 0.8, 0.15)),
        "wheels": ("rubber", BLACK),
        "eyes": ("glow", (0.3, 0.9, 1.0)),
    },
)
def toy_car(b: Builder) -> None:
    if "robot" in b.words:
        s = b.u(0.3, 0.6)
        b.legs(4, s * 0.15, s * 0.4, s * 0.15, 0.0001, role="accent") if False else None
        lg = b.box(s * 0.15, s * 0.4, s * 0.15, s * 0.15, s * 0.2, 0, "accent")
        b.mirror_x(lg)
        b.box(s * 0.55, s * 0.5, s * 0.35, 0, s * 0.64, 0, "main")
        ar = b.box(s * 0.12, s * 0.42, s * 0.12, s * 0.34, s * 0.66, 0, "accent")
        b.mirror_x(ar)
        b.box(s * 0.4, s * 0.3, s * 0.3, 0, s * 1.04, 0, "main")
        ey = b.cyl(s * 0.08, s * 0.02, s * 0.1, s * 1.06, s * 0.15, "eyes", rot=(90, 0, 0))
        b.mirror_x(ey)
        b.cyl(s * 0.02, s * 0.15, 0, s * 1.26, 0, "accent")
        return
    s = b.u(0.15, 0.3)
    b.box(s, s * 0.25, s * 0.45, 0, s * 0.22, 0, "main")
    b.box(s * 0.5, s * 0.2, s * 0.4, -s * 0.08, s * 0.44, 0, "accent")
    _wheels(b, s * 0.32, s * 0.2, s * 0.22, s * 0.08)


# ============================== stylised animals ==============================
def _quadruped(
    b: Builder,
    body: tuple[float, float, float],
    leg_h: float,
    head: float,
    neck: float,
    tail: float,
    ears: str,
    snout: float = 0.0,
) -> None:
    bl, bh, bw = body
    lw = min(bw * 0.28, 0.15)
    b.legs(4, lw, leg_h + bh * 0.2, bl / 2 - lw, bw / 2 - lw / 2, role="legs", round_=True)
    by = leg_h + bh / 2
    b.sph(bl, bh, bw, 0, by, 0, "main")
    hx, hy = bl / 2 + neck * 0.3, by + bh * 0.3 + neck * 0.6
    if neck > 0:
        b.cyl(head * 0.5, neck, bl / 2 - 0.02 + neck * 0.12, by + bh * 0.3 + neck * 0.35, 0, "main", rot=(0, 0, -35))
    b.sph(head * 1.1, head, head * 0.9, hx, hy, 0, "main")
    if snout > 0:
        b.sph(snout * 1.2, snout * 0.8, snout * 0.9, hx + head * 0.55, hy - head * 0.15, 0, "accent")
    e = b.sph(head * 0.14, head * 0.14, head * 0.1, hx + head * 0.4, hy + head * 0.12, head * 0.25, "eyes")
    b.add(e.prim, e.size, (e.pos[0], e.pos[1], -e.pos[2]), "eyes", e.rot)
    if ears == "pointy":
        for z in (head * 0.28, -head * 0.28):
            b.cone(head * 0.3, head * 0.4, hx - head * 0.1, hy + head * 0.55, z, "main")
    elif ears == "floppy":
        for z in (head * 0.45, -head * 0.45):
            b.sph(head * 0.25, head * 0.6, head * 0.12, hx - head * 0.1, hy - head * 0.1, z, "accent")
    elif ears == "long":
        for z in (head * 0.2, -head * 0.2):
            b.sph(head * 0.22, head * 1.1, head * 0.12, hx - head * 0.15, hy + head * 0.85, z, "main")
    elif ears == "horns":
        for z in (head * 0.3, -head * 0.3):
            b.cone(head * 0.15, head * 0.45, hx - head * 0.1, hy + head * 0.6, z, "accent")
    elif ears == "round":
        for z in (head * 0.35, -head * 0.35):
            b.sph(head * 0.3, head * 0.3, head * 0.12, hx - head * 0.1, hy + head * 0.45, z, "main")
    if tail > 0:
        b.cyl(tail * 0.18, tail, -bl / 2 - tail * 0.3, by + bh * 0.2, 0, "main", rot=(0, 0, 55))


ANIMAL = {"eyes": ("plastic", BLACK), "legs": ("fur", (0.45, 0.3, 0.18))}


def animal(
    name: str,
    synonyms: tuple[str, ...],
    main: tuple[float, float, float],
    accent: tuple[float, float, float],
    build: Callable[[Builder], None],
    legs: tuple[float, float, float] | None = None,
    label: str = "",
) -> None:
    looks = {**ANIMAL, "main": ("fur", main), "accent": ("fur", accent), "legs": ("fur", legs or main)}
    alias(name, "animals", synonyms, looks, build, label or f"a stylised {name} figure")


animal(
    "cat",
    ("kitten", "kitty", "tabby", "lion", "tiger", "leopard"),
    (0.85, 0.55, 0.25),
    (0.95, 0.85, 0.75),
    lambda b: _quadruped(b, (b.u(0.4, 0.5), 0.2, 0.18), 0.14, 0.17, 0.02, b.u(0.25, 0.35), "pointy", 0.05),
)
animal(
    "dog",
    ("puppy", "hound", "labrador", "terrier", "wolf", "fox"),
    (0.6, 0.4, 0.22),
    (0.3, 0.2, 0.12),
    lambda b: _quadruped(
        b, (b.u(0.55, 0.8), 0.3, 0.25), b.u(0.2, 0.35), 0.22, 0.1, 0.2, b.pick(("floppy", "pointy")), 0.09
    ),
)
animal(
    "horse",
    ("pony", "stallion", "mare", "donkey", "zebra", "deer", "reindeer"),
    (0.45, 0.28, 0.15),
    (0.2, 0.12, 0.08),
    lambda b: _quadruped(b, (1.5, 0.6, 0.45), b.u(0.75, 0.9), 0.3, 0.5, 0.5, "pointy", 0.15),
)
animal(
    "cow",
    ("bull", "ox", "cattle", "calf", "buffalo", "goat"),
    (0.95, 0.95, 0.92),
    (0.15, 0.12, 0.1),
    lambda b: _quadruped(b, (b.u(1.4, 1.8), 0.8, 0.65), b.u(0.5, 0.65), 0.35, 0.1, 0.5, "horns", 0.18),
)
animal(
    "pig",
    ("piglet", "hog", "boar"),
    (0.95, 0.65, 0.65),
    (0.9, 0.5, 0.55),
    lambda b: _quadruped(b, (b.u(0.8, 1.1), 0.5, 0.45), 0.2, 0.3, 0.0, 0.08, "pointy", 0.12),
)
animal(
    "sheep",
    ("lamb", "ram", "llama", "alpaca"),
    (0.95, 0.93, 0.88),
    (0.2, 0.18, 0.16),
    lambda b: _quadruped(b, (b.u(0.8, 1.0), 0.6, 0.55), b.u(0.3, 0.4), 0.25, 0.1, 0.1, "floppy", 0.08),
    legs=(0.2, 0.18, 0.16),
)
animal(
    "rabbit",
    ("bunny", "hare"),
    (0.85, 0.82, 0.78),
    (0.95, 0.75, 0.75),
    lambda b: _quadruped(b, (b.u(0.3, 0.4), 0.25, 0.22), 0.05, 0.16, 0.0, 0.06, "long", 0.04),
)
animal(
    "bear",
    ("polar bear", "grizzly", "panda"),
    (0.4, 0.25, 0.15),
    (0.25, 0.15, 0.08),
    lambda b: _quadruped(b, (b.u(1.4, 1.8), 0.9, 0.8), b.u(0.4, 0.55), 0.45, 0.05, 0.1, "round", 0.15),
)
animal(
    "elephant",
    ("mammoth", "rhino", "hippo"),
    (0.55, 0.55, 0.58),
    (0.5, 0.5, 0.52),
    lambda b: _quadruped(b, (b.u(2.2, 2.6), 1.5, 1.3), b.u(0.8, 1.0), 0.8, 0.0, 0.4, "floppy", 0.35),
)
animal(
    "lizard",
    ("gecko", "iguana", "dinosaur", "dragon", "crocodile", "alligator", "chameleon"),
    (0.35, 0.6, 0.25),
    (0.8, 0.75, 0.3),
    lambda b: _quadruped(b, (b.u(0.6, 1.0), 0.2, 0.28), 0.08, 0.18, 0.05, 0.7, "none", 0.1),
)


def _bird(b: Builder) -> None:
    s = b.u(0.2, 0.5) * (2.5 if {"ostrich", "flamingo", "emu"} & b.words else 1)
    leg = s * (1.2 if "flamingo" in b.words else 0.4)
    lg = b.cyl(s * 0.05, leg, s * 0.02, leg / 2, s * 0.1, "legs")
    b.add(lg.prim, lg.size, (lg.pos[0], lg.pos[1], -lg.pos[2]), "legs", lg.rot)
    for z in (s * 0.1, -s * 0.1):
        b.box(s * 0.2, s * 0.03, s * 0.08, s * 0.08, s * 0.015, z, "legs")
    b.sph(s, s * 0.7, s * 0.6, 0, leg + s * 0.3, 0, "main", rot=(0, 0, 15))
    b.sph(s * 0.45, s * 0.45, s * 0.42, s * 0.45, leg + s * 0.72, 0, "main")
    b.cone(s * 0.15, s * 0.3, s * 0.78, leg + s * 0.7, 0, "legs", rot=(0, 0, -90))
    w = b.sph(s * 0.7, s * 0.15, s * 0.35, -s * 0.05, leg + s * 0.42, s * 0.32, "accent", rot=(0, 0, 15))
    b.add(w.prim, w.size, (w.pos[0], w.pos[1], -w.pos[2]), "accent", w.rot)
    b.box(s * 0.45, s * 0.06, s * 0.3, -s * 0.6, leg + s * 0.45, 0, "accent", rot=(0, 0, -20))
    e = b.sph(s * 0.08, s * 0.08, s * 0.05, s * 0.6, leg + s * 0.8, s * 0.18, "eyes")
    b.add(e.prim, e.size, (e.pos[0], e.pos[1], -e.pos[2]), "eyes", e.rot)


alias(
    "bird",
    "animals",
    (
        "bird",
        "parrot",
        "crow",
        "robin",
        "sparrow",
        "pigeon",
        "chicken",
        "hen",
        "rooster",
        "owl",
        "eagle",
        "paper crane",
        "crane",
        "flamingo",
        "ostrich",
        "seagull",
    ),
    {
        **ANIMAL,
        "main": ("fur", (0.3, 0.45, 0.75)),
        "accent": ("fur", (0.2, 0.3, 0.6)),
        "legs": ("plastic", (0.95, 0.6, 0.1)),
    },
    _bird,
    "a stylised bird figure",
)
alias(
    "duck",
    "animals",
    ("duckling", "goose", "swan", "rubber duck", "penguin"),
    {
        **ANIMAL,
        "main": ("plastic", (0.98, 0.85, 0.15)),
        "accent": ("plastic", (0.95, 0.8, 0.12)),
        "legs": ("plastic", (0.95, 0.5, 0.1)),
    },
    _bird,
    "a stylised duck figure",
)


def _fish(b: Builder) -> None:
    s = b.u(0.3, 0.7)
    b.box(s * 0.5, 0.04, s * 0.3, 0, 0.02, 0, "legs")
    b.cyl(0.02, s * 0.25, 0, s * 0.14, 0, "legs")
    y = s * 0.25 + s * 0.2
    b.sph(s, s * 0.45, s * 0.25, 0, y, 0, "main")
    b.cone(s * 0.4, s * 0.3, -s * 0.6, y, 0, "accent", rot=(0, 0, 90))
    b.cone(s * 0.3, s * 0.2, 0, y + s * 0.25, 0, "accent")
    e = b.sph(s * 0.08, s * 0.08, s * 0.04, s * 0.32, y + s * 0.06, s * 0.11, "eyes")
    b.add(e.prim, e.size, (e.pos[0], e.pos[1], -e.pos[2]), "eyes", e.rot)


alias(
    "fish",
    "animals",
    ("goldfish", "shark", "whale", "dolphin", "koi", "salmon", "trout"),
    {
        **ANIMAL,
        "main": ("plastic", (0.95, 0.5, 0.15)),
        "accent": ("plastic", (0.98, 0.8, 0.3)),
        "legs": ("metal", DARKMETAL),
    },
    _fish,
    "a stylised fish figure on a stand",
)


def _frog(b: Builder) -> None:
    s = b.u(0.1, 0.3)
    b.sph(s, s * 0.6, s * 0.9, 0, s * 0.3, 0, "main")
    for z in (s * 0.25, -s * 0.25):
        b.sph(s * 0.25, s * 0.25, s * 0.25, s * 0.3, s * 0.6, z, "accent")
        b.sph(s * 0.1, s * 0.1, s * 0.08, s * 0.4, s * 0.65, z, "eyes")
        b.sph(s * 0.5, s * 0.2, s * 0.25, -s * 0.25, s * 0.12, z * 1.6, "main")
        b.sph(s * 0.2, s * 0.08, s * 0.15, s * 0.35, s * 0.04, z * 1.3, "main")


alias(
    "frog",
    "animals",
    ("toad", "tree frog"),
    {**ANIMAL, "main": ("plastic", (0.3, 0.65, 0.25)), "accent": ("plastic", (0.9, 0.9, 0.6))},
    _frog,
    "a stylised frog figure",
)


def _turtle(b: Builder) -> None:
    s = b.u(0.2, 0.6)
    for x in (s * 0.3, -s * 0.3):
        for z in (s * 0.3, -s * 0.3):
            b.sph(s * 0.2, s * 0.12, s * 0.2, x, s * 0.06, z, "main")
    b.sph(s, s * 0.5, s * 0.85, 0, s * 0.25, 0, "accent")
    b.sph(s * 0.3, s * 0.25, s * 0.25, s * 0.58, s * 0.22, 0, "main")
    b.cone(s * 0.1, s * 0.15, -s * 0.55, s * 0.12, 0, "main", rot=(0, 0, 90))


alias(
    "turtle",
    "animals",
    ("tortoise", "terrapin", "snail"),
    {**ANIMAL, "main": ("plastic", (0.45, 0.6, 0.3)), "accent": ("plastic", (0.45, 0.3, 0.15))},
    _turtle,
    "a stylised turtle figure",
)


def _snake(b: Builder) -> None:
    s = b.u(0.08, 0.15)
    for k in range(3):
        b.torus(s * (6 - 1.5 * k), s, 0, s * 0.5 + k * s * 0.85, 0, "main")
    b.sph(s * 1.6, s * 1.0, s * 1.2, s * 0.8, s * 3.2, 0, "main")
    e = b.sph(s * 0.3, s * 0.3, s * 0.2, s * 1.3, s * 3.45, s * 0.4, "eyes")
    b.add(e.prim, e.size, (e.pos[0], e.pos[1], -e.pos[2]), "eyes", e.rot)


alias(
    "snake",
    "animals",
    ("serpent", "cobra", "python", "worm"),
    {**ANIMAL, "main": ("plastic", (0.4, 0.6, 0.2))},
    _snake,
    "a stylised coiled snake figure",
)


def _butterfly(b: Builder) -> None:
    s = b.u(0.2, 0.4)
    b.box(s * 0.5, 0.02, s * 0.3, 0, 0.01, 0, "legs")
    b.cyl(0.01, s * 0.6, 0, s * 0.3, 0, "legs")
    y = s * 0.65
    b.cyl(s * 0.08, s * 0.6, 0, y, 0, "legs", rot=(90, 0, 0))
    for x in (1, -1):
        b.sph(s * 0.6, s * 0.05, s * 0.5, x * s * 0.3, y + s * 0.05, s * 0.12, "main", rot=(0, 0, x * 20))
        b.sph(s * 0.45, s * 0.05, s * 0.35, x * s * 0.25, y + s * 0.02, -s * 0.2, "accent", rot=(0, 0, x * 20))


alias(
    "butterfly",
    "animals",
    ("moth", "dragonfly", "bee", "ladybird", "ladybug", "insect", "bug"),
    {
        **ANIMAL,
        "main": ("plastic", (0.2, 0.45, 0.9)),
        "accent": ("plastic", (0.95, 0.6, 0.1)),
        "legs": ("plastic", BLACK),
    },
    _butterfly,
    "a stylised butterfly figure on a stand",
)


def names() -> list[str]:
    return list(CATEGORIES)


def groups() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in CATEGORIES.values():
        out.setdefault(c.group, []).append(c.name)
    return out
