"""Procedural shape corpus: analytic SDFs, parameters, captions and fixed splits.

No model hub is reachable, so the training data is generated here.  Each shape is a
smooth union of analytic primitives evaluated on a regular grid in [-1, 1]^3 (y up,
objects stand on the floor y = FLOOR).  Every shape carries its parameters so that
captions ("a tall pine tree") and evaluation (asked height vs measured height) use
the same numbers.

Splits are deterministic for a seed.  The test split is not a random sample: for every
category the band of normalised heights ``HELD_OUT_BAND`` never appears in train or
val, so the test set measures interpolation to unseen parameter values.

Public API:
    CATEGORIES, COLOURS, MATERIALS, VOCAB
    Shape (dataclass), make_shape(category, rng) -> Shape
    grid_points(res) -> (res^3, 3) array
    Shape.sdf(points) / Shape.tsdf(res, trunc)
    build_corpus(per_category, seed) -> dict split -> list[Shape]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from genmodels.heights import HEIGHT_WORDS, UNIT_WORDS, format_height

FLOOR = -0.9  # objects stand on this plane so heights are comparable across shapes
HELD_OUT_BAND = (0.40, 0.55)  # normalised height range reserved for the test split
# thin parts are at least ~2 voxels across at 32^3 (a voxel is 6.5 cm): thinner table legs (9 cm)
# were lost by every 32^3 model tried, even by a 512-component PCA of the real shapes
LEG_R = 0.07
POLE_R = 0.05

Sdf = Callable[[np.ndarray], np.ndarray]

# ----------------------------------------------------------------------------- primitives
# All primitives take points of shape (N, 3) and return signed distances of shape (N,).


def _len(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(v * v, axis=-1))


def sphere(c: tuple[float, float, float], r: float) -> Sdf:
    cc = np.asarray(c)
    return lambda p: _len(p - cc) - r


def ellipsoid(c: tuple[float, float, float], radii: tuple[float, float, float]) -> Sdf:
    cc, rr = np.asarray(c), np.asarray(radii)

    def f(p: np.ndarray) -> np.ndarray:
        q = p - cc
        k0 = _len(q / rr)
        k1 = _len(q / (rr * rr))
        return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)  # iq's bound; exact enough once truncated

    return f


def box(c: tuple[float, float, float], half: tuple[float, float, float], rounding: float = 0.0) -> Sdf:
    cc, hh = np.asarray(c), np.asarray(half)

    def f(p: np.ndarray) -> np.ndarray:
        q = np.abs(p - cc) - hh + rounding
        outside = _len(np.maximum(q, 0.0))
        inside = np.minimum(q.max(axis=-1), 0.0)
        return outside + inside - rounding

    return f


def capsule(a: tuple[float, float, float], b: tuple[float, float, float], r: float) -> Sdf:
    aa, bb = np.asarray(a), np.asarray(b)
    ab = bb - aa
    denom = float(ab @ ab) or 1e-9

    def f(p: np.ndarray) -> np.ndarray:
        ap = p - aa
        h = np.clip(ap @ ab / denom, 0.0, 1.0)
        return _len(ap - h[:, None] * ab) - r

    return f


def cylinder(c: tuple[float, float, float], r: float, half_h: float, rounding: float = 0.0) -> Sdf:
    """Vertical capped cylinder centred at c."""
    cc = np.asarray(c)

    def f(p: np.ndarray) -> np.ndarray:
        q = p - cc
        d = np.stack([np.hypot(q[:, 0], q[:, 2]) - r + rounding, np.abs(q[:, 1]) - half_h + rounding], -1)
        return np.minimum(d.max(-1), 0.0) + _len(np.maximum(d, 0.0)) - rounding

    return f


def cone(c: tuple[float, float, float], half_h: float, r_bottom: float, r_top: float) -> Sdf:
    """Vertical capped cone (iq's sdCappedCone) centred at c."""
    cc = np.asarray(c)
    k1 = np.array([r_top, half_h])
    k2 = np.array([r_top - r_bottom, 2.0 * half_h])
    k2k2 = float(k2 @ k2)

    def f(p: np.ndarray) -> np.ndarray:
        q3 = p - cc
        q = np.stack([np.hypot(q3[:, 0], q3[:, 2]), q3[:, 1]], -1)
        rad = np.where(q[:, 1] < 0.0, r_bottom, r_top)
        ca = np.stack([q[:, 0] - np.minimum(q[:, 0], rad), np.abs(q[:, 1]) - half_h], -1)
        t = np.clip(((k1 - q) @ k2) / k2k2, 0.0, 1.0)
        cb = q - k1 + t[:, None] * k2
        s = np.where((cb[:, 0] < 0.0) & (ca[:, 1] < 0.0), -1.0, 1.0)
        return s * np.sqrt(np.minimum((ca * ca).sum(-1), (cb * cb).sum(-1)))

    return f


def torus_xy(c: tuple[float, float, float], big_r: float, small_r: float) -> Sdf:
    """Torus lying in the xy plane (an arch's curve), centred at c."""
    cc = np.asarray(c)

    def f(p: np.ndarray) -> np.ndarray:
        q = p - cc
        return np.hypot(np.hypot(q[:, 0], q[:, 1]) - big_r, q[:, 2]) - small_r

    return f


def shard(base: tuple[float, float, float], direction: np.ndarray, length: float, width: float) -> Sdf:
    """Crystal shard from ``base`` along ``direction``: a hexagon-ish prism with a pointed tip.

    Built in a local frame where ``direction`` is +y; rotations preserve distances so the
    result is still an exact SDF.
    """
    b = np.asarray(base)
    d = direction / np.linalg.norm(direction)
    helper = np.array([1.0, 0.0, 0.0]) if abs(d[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    u = np.cross(d, helper)
    u /= np.linalg.norm(u)
    w = np.cross(d, u)
    body_len = 0.7 * length
    tip_len = length - body_len
    body = cylinder((0.0, body_len / 2, 0.0), width, body_len / 2)
    tip = cone((0.0, body_len + tip_len / 2, 0.0), tip_len / 2, width, 0.0)

    def f(p: np.ndarray) -> np.ndarray:
        q = p - b
        local = np.stack([q @ u, q @ d, q @ w], -1)
        return np.minimum(body(local), tip(local))

    return f


def smooth_union(fs: list[Sdf], k: float) -> Sdf:
    """Polynomial smooth minimum: blends primitives so shapes look organic, not glued."""

    def f(p: np.ndarray) -> np.ndarray:
        d = fs[0](p)
        for g in fs[1:]:
            e = g(p)
            h = np.clip(0.5 + 0.5 * (e - d) / k, 0.0, 1.0)
            d = e * (1 - h) + d * h - k * h * (1 - h)
        return d

    return f


def union(fs: list[Sdf]) -> Sdf:
    return lambda p: np.min(np.stack([g(p) for g in fs]), axis=0)


def intersect(a: Sdf, b: Sdf) -> Sdf:
    return lambda p: np.maximum(a(p), b(p))


def half_space_above(y0: float) -> Sdf:
    return lambda p: y0 - p[:, 1]


# ----------------------------------------------------------------------------- vocabulary

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.80, 0.15, 0.12),
    "green": (0.20, 0.60, 0.22),
    "blue": (0.15, 0.30, 0.80),
    "brown": (0.45, 0.28, 0.14),
    "grey": (0.50, 0.50, 0.50),
    "gray": (0.50, 0.50, 0.50),
    "white": (0.92, 0.92, 0.90),
    "black": (0.08, 0.08, 0.08),
    "yellow": (0.92, 0.82, 0.20),
    "orange": (0.95, 0.50, 0.10),
    "purple": (0.50, 0.20, 0.70),
    "pink": (0.95, 0.55, 0.70),
    "golden": (0.85, 0.65, 0.13),
    "teal": (0.10, 0.55, 0.55),
}
# material word -> (metallic, roughness, emissive strength); colours a default base colour
MATERIALS: dict[str, tuple[float, float, float]] = {
    "wooden": (0.0, 0.8, 0.0),
    "stone": (0.0, 0.95, 0.0),
    "metal": (1.0, 0.3, 0.0),
    "marble": (0.0, 0.3, 0.0),
    "glass": (0.0, 0.05, 0.0),
    "glowing": (0.0, 0.5, 1.0),
    "plastic": (0.0, 0.5, 0.0),
    "mossy": (0.0, 1.0, 0.0),
}
SIZE_WORDS = {0: ["short", "small", "low"], 1: ["medium", "average", "mid-sized"], 2: ["tall", "big", "towering"]}
WIDTH_WORDS = {0: ["narrow", "slim", "thin"], 1: ["", "", ""], 2: ["wide", "broad", "chunky"]}


@dataclass
class Shape:
    """One corpus item: category, parameters (raw and normalised) and an SDF closure."""

    category: str
    params: dict[str, float | int | str]
    height_t: float  # height normalised to [0, 1] within the category range: used for splits
    sdf: Sdf = field(repr=False)
    nouns: list[str] = field(default_factory=list)  # category nouns incl. sub-kind ("pine tree")
    adjectives: list[str] = field(default_factory=list)  # shape adjectives beyond size ("round")
    uid: int = 0
    captions: list[str] = field(default_factory=list)

    @property
    def height(self) -> float:
        return float(self.params["height"])

    def tsdf(self, res: int = 32, trunc: float = 0.15) -> np.ndarray:
        """Truncated SDF on a res^3 grid, scaled to [-1, 1] (negative inside), float32."""
        d = self.sdf(grid_points(res)).reshape(res, res, res)
        return np.clip(d / trunc, -1.0, 1.0).astype(np.float32)


_GRID_CACHE: dict[int, np.ndarray] = {}


def grid_points(res: int) -> np.ndarray:
    """Grid sample positions, indexed [x, y, z] (ij order) so tsdf[i, j, k] is at (x_i, y_j, z_k)."""
    if res not in _GRID_CACHE:
        lin = np.linspace(-1.0, 1.0, res)
        g = np.stack(np.meshgrid(lin, lin, lin, indexing="ij"), -1).reshape(-1, 3)
        _GRID_CACHE[res] = g
    return _GRID_CACHE[res]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


# ----------------------------------------------------------------------------- categories
# Each maker gets (rng, height_t) and returns (params, sdf, nouns, adjectives).
# height_t in [0, 1] maps linearly to the category's height range so that the held-out
# band means the same thing for every category.

HEIGHT_RANGE: dict[str, tuple[float, float]] = {
    "tree": (0.8, 1.75),
    "rock": (0.3, 0.9),
    "mushroom": (0.5, 1.5),
    "crystal": (0.6, 1.7),
    "chair": (0.9, 1.7),
    "table": (0.45, 1.1),
    "lamp": (0.8, 1.75),
    "column": (1.0, 1.75),
    "arch": (0.8, 1.7),
    "house": (0.8, 1.6),
}
CATEGORIES: list[str] = list(HEIGHT_RANGE)
DEFAULT_COLOUR: dict[str, str] = {
    "tree": "green",
    "rock": "grey",
    "mushroom": "red",
    "crystal": "purple",
    "chair": "brown",
    "table": "brown",
    "lamp": "yellow",
    "column": "white",
    "arch": "grey",
    "house": "orange",
}


def _tree(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    kind = "pine" if rng.random() < 0.5 else "round"
    width = _u(rng, 0.3, 0.65)
    branches = int(rng.integers(1, 5))
    trunk_r = _u(rng, 0.05, 0.09)
    top = FLOOR + h
    parts: list[Sdf] = []
    if kind == "pine":
        trunk_top = FLOOR + 0.25 * h
        parts.append(cylinder((0, (FLOOR + trunk_top) / 2, 0), trunk_r, (trunk_top - FLOOR) / 2 + 0.02))
        tiers = branches + 1
        span = top - trunk_top
        for i in range(tiers):
            # tiers overlap and shrink upwards: the silhouette of a conifer
            y0 = trunk_top + span * i / (tiers + 1)
            tier_h = span * 2.0 / (tiers + 1)
            r = width * (1.0 - 0.6 * i / tiers)
            parts.append(cone((0, y0 + tier_h / 2, 0), tier_h / 2, r, 0.0))
        sdf = union(parts)
        nouns = ["pine tree", "pine", "conifer", "fir tree", "tree"]
        adjectives = ["pointy", "conical"]
    else:
        trunk_top = FLOOR + 0.55 * h
        parts.append(cylinder((0, (FLOOR + trunk_top) / 2, 0), trunk_r, (trunk_top - FLOOR) / 2 + 0.02))
        crown_r = min(width, (top - trunk_top) / 1.6)
        cy = top - crown_r
        parts.append(sphere((0, cy, 0), crown_r))
        for _ in range(branches - 1):
            ang = rng.uniform(0, 2 * np.pi)
            off = crown_r * 0.6
            parts.append(sphere((off * np.cos(ang), cy - 0.2 * crown_r, off * np.sin(ang)), crown_r * 0.65))
        sdf = smooth_union(parts, 0.08)
        nouns = ["oak tree", "round tree", "leafy tree", "tree"]
        adjectives = ["round", "bushy"]
    params = {"height": h, "width": width, "branches": branches, "kind": kind}
    return params, sdf, nouns, adjectives


def _rock(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    width = _u(rng, 0.5, 1.5)
    roundness = _u(rng, 0.0, 1.0)
    depth = width * _u(rng, 0.6, 1.0)
    cy = FLOOR + h / 2
    parts = [ellipsoid((0, cy, 0), (width / 2, h / 2, depth / 2))]
    for _ in range(int(rng.integers(1, 4))):
        off = rng.uniform(-0.25, 0.25, 3) * np.array([width, h * 0.5, depth])
        rr = 0.35 * min(width, h)
        parts.append(sphere((off[0], cy + off[1] * 0.5, off[2]), rr))
    base = smooth_union(parts, 0.15)
    amp = 0.05 * (1.0 - roundness)
    freq = rng.uniform(5, 9, 3)
    phase = rng.uniform(0, 2 * np.pi, 3)

    def sdf(p: np.ndarray) -> np.ndarray:
        bumps = (
            np.sin(freq[0] * p[:, 0] + phase[0])
            * np.sin(freq[1] * p[:, 1] + phase[1])
            * np.sin(freq[2] * p[:, 2] + phase[2])
        )
        # cut at the floor so every rock rests flat, like the other objects
        return np.maximum(base(p) + amp * bumps, FLOOR - p[:, 1])

    params = {"height": h, "width": width, "roundness": roundness}
    adjectives = ["smooth", "rounded"] if roundness > 0.5 else ["jagged", "rough"]
    return params, sdf, ["rock", "boulder", "stone"], adjectives


def _mushroom(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    cap_w = _u(rng, 0.35, 0.85)
    flat = _u(rng, 0.3, 0.8)  # cap height relative to cap width
    stem_r = _u(rng, 0.07, 0.15)
    cap_h = min(cap_w * flat, 0.6 * h)
    cap_base = FLOOR + h - cap_h
    stem = capsule((0, FLOOR + stem_r * 0.5, 0), (0, cap_base + 0.05, 0), stem_r)
    cap = intersect(ellipsoid((0, cap_base, 0), (cap_w, cap_h, cap_w)), half_space_above(cap_base - 0.03))
    base_cut = half_space_above(FLOOR)
    sdf = intersect(smooth_union([stem, cap], 0.05), base_cut)
    params = {"height": h, "width": 2 * cap_w, "flatness": flat}
    adjectives = ["flat", "wide-capped"] if flat < 0.5 else ["domed", "round-capped"]
    return params, sdf, ["mushroom", "toadstool"], adjectives


def _crystal(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    count = int(rng.integers(1, 6))
    width = _u(rng, 0.1, 0.2)
    parts = [shard((0, FLOOR - 0.05, 0), np.array([0.0, 1.0, 0.0]), h + 0.05, width)]
    for _ in range(count - 1):
        ang = rng.uniform(0, 2 * np.pi)
        tilt = rng.uniform(0.3, 0.7)
        d = np.array([np.sin(tilt) * np.cos(ang), np.cos(tilt), np.sin(tilt) * np.sin(ang)])
        parts.append(shard((0, FLOOR - 0.05, 0), d, h * rng.uniform(0.5, 0.8), width * 0.8))
    sdf = intersect(smooth_union(parts, 0.03), half_space_above(FLOOR))
    params = {"height": h, "width": width, "spikes": count}
    adjectives = ["single"] if count == 1 else ["clustered", "spiky"]
    return params, sdf, ["crystal", "gem", "crystal cluster"], adjectives


def _chair(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    width = _u(rng, 0.55, 1.0)
    seat_h = _u(rng, 0.38, 0.5) * min(h, 1.1)
    legs = 4 if rng.random() < 0.75 else 3
    rnd = _u(rng, 0.0, 0.04)
    t = 0.05  # board thickness
    seat_y = FLOOR + seat_h
    hw = width / 2
    parts: list[Sdf] = [box((0, seat_y, 0), (hw, t, hw), rnd)]
    leg_r = 0.045
    inset = hw - 0.07
    if legs == 4:
        corners = [(inset, inset), (-inset, inset), (inset, -inset), (-inset, -inset)]
    else:
        corners = [(inset * np.cos(a), inset * np.sin(a)) for a in (0.5 * np.pi, 1.2 * np.pi, 1.8 * np.pi)]
    for x, z in corners:
        parts.append(box((x, (FLOOR + seat_y) / 2, z), (leg_r, seat_h / 2, leg_r), rnd * 0.5))
    back_top = FLOOR + h
    parts.append(box((0, (seat_y + back_top) / 2, -hw + t), (hw, (back_top - seat_y) / 2, t), rnd))
    params = {"height": h, "width": width, "legs": legs, "roundness": rnd / 0.04}
    return params, union(parts), ["chair", "seat"], ["three-legged"] if legs == 3 else ["four-legged"]


def _table(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    width = _u(rng, 0.9, 1.7)
    shape = "round" if rng.random() < 0.5 else "square"
    legs = int(rng.choice([1, 3, 4])) if shape == "round" else 4
    t = 0.05
    top_y = FLOOR + h - t
    parts: list[Sdf] = []
    if shape == "round":
        parts.append(cylinder((0, top_y, 0), width / 2, t, 0.02))
    else:
        parts.append(box((0, top_y, 0), (width / 2, t, width / 2 * _u(rng, 0.6, 1.0)), 0.02))
    leg_len = h - t
    if legs == 1:
        parts.append(cylinder((0, FLOOR + leg_len / 2, 0), 0.07, leg_len / 2))
        parts.append(cylinder((0, FLOOR + 0.03, 0), width * 0.25, 0.03))
    else:
        r = width / 2 * (0.6 if shape == "round" else 0.75)
        angs = np.linspace(0, 2 * np.pi, legs, endpoint=False) + (np.pi / 4 if legs == 4 else 0)
        for a in angs:
            x, z = r * np.cos(a), r * np.sin(a)
            if shape == "square":
                z *= 0.75
            parts.append(cylinder((x, FLOOR + leg_len / 2, z), LEG_R, leg_len / 2))
    params = {"height": h, "width": width, "legs": legs, "top": shape}
    adjectives = [shape, "one-legged" if legs == 1 else f"{['', '', '', 'three', 'four'][legs]}-legged"]
    return params, union(parts), ["table", "desk" if shape == "square" else "table"], adjectives


def _lamp(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    shade_w = _u(rng, 0.25, 0.6)
    shade_h = _u(rng, 0.2, 0.4) * h
    base_r = _u(rng, 0.15, 0.3)
    pole_r = POLE_R
    shade_bottom = FLOOR + h - shade_h
    parts = [
        cylinder((0, FLOOR + 0.03, 0), base_r, 0.03, 0.01),
        cylinder((0, (FLOOR + shade_bottom) / 2 + 0.02, 0), pole_r, (shade_bottom - FLOOR) / 2),
        cone((0, shade_bottom + shade_h / 2, 0), shade_h / 2, shade_w, shade_w * 0.55),
    ]
    params = {"height": h, "width": 2 * shade_w, "shade": shade_h}
    return (
        params,
        smooth_union(parts, 0.02),
        ["lamp", "floor lamp", "lantern"],
        ["wide-shaded" if shade_w > 0.45 else "slender"],
    )


def _column(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    r = _u(rng, 0.13, 0.3)
    flutes = int(rng.choice([0, 8, 12]))
    cap_h = 0.08
    body_h = h - 2 * cap_h
    body = cylinder((0, FLOOR + cap_h + body_h / 2, 0), r, body_h / 2 + 0.01)

    def fluted(p: np.ndarray) -> np.ndarray:
        d = body(p)
        if flutes:
            # radial ripples: classical fluting, bounded so the SDF stays Lipschitz enough
            ang = np.arctan2(p[:, 2], p[:, 0])
            d = d + 0.02 * np.maximum(np.cos(flutes * ang), 0.0)
        return d

    plinth = 1.5 * r
    parts = [
        fluted,
        box((0, FLOOR + cap_h / 2, 0), (plinth, cap_h / 2, plinth), 0.01),
        box((0, FLOOR + h - cap_h / 2, 0), (plinth, cap_h / 2, plinth), 0.01),
    ]
    params = {"height": h, "width": 2 * plinth, "flutes": flutes}
    return params, union(parts), ["column", "pillar"], ["fluted"] if flutes else ["plain", "smooth"]


def _arch(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    width = _u(rng, 0.8, 1.7)
    thick = _u(rng, 0.08, 0.16)
    depth = _u(rng, 0.1, 0.3)
    span = width / 2 - thick  # radius of the curved top, centre of the pillars
    spring = FLOOR + max(h - span - thick, 0.1)  # where the curve starts
    parts = [
        box((span, (FLOOR + spring) / 2, 0), (thick, (spring - FLOOR) / 2 + 0.01, depth), 0.01),
        box((-span, (FLOOR + spring) / 2, 0), (thick, (spring - FLOOR) / 2 + 0.01, depth), 0.01),
    ]

    def thick_ring(p: np.ndarray) -> np.ndarray:
        q = p - np.array([0.0, spring, 0.0])
        rad = np.hypot(q[:, 0], q[:, 1])
        d2 = np.abs(rad - span) - thick
        return np.maximum(np.maximum(d2, np.abs(q[:, 2]) - depth), -q[:, 1])

    parts.append(thick_ring)
    # the top is spring + span + thick: record that so the height parameter is truthful
    params = {"height": spring + span + thick - FLOOR, "width": width, "thickness": thick}
    return params, union(parts), ["arch", "archway", "gate"], ["wide" if width > 1.3 else "narrow", "curved"]


def _house(rng: np.random.Generator, h: float) -> tuple[dict, Sdf, list[str], list[str]]:
    width = _u(rng, 0.8, 1.6)
    depth = width * _u(rng, 0.6, 1.0)
    roof_frac = _u(rng, 0.3, 0.5)
    wall_h = h * (1 - roof_frac)
    roof_h = h * roof_frac
    chimney = rng.random() < 0.5
    walls = box((0, FLOOR + wall_h / 2, 0), (width / 2, wall_h / 2, depth / 2), 0.01)
    eave = FLOOR + wall_h
    hw = width / 2 + 0.05
    slope = roof_h / hw

    def roof(p: np.ndarray) -> np.ndarray:
        # gable roof: intersection of two slanted half-spaces, a floor and the depth slab
        n = np.array([slope, 1.0]) / np.hypot(slope, 1.0)
        y = p[:, 1] - eave
        a = (np.abs(p[:, 0]) * n[0] + y * n[1]) - roof_h * n[1]
        return np.maximum(np.maximum(a, -y), np.abs(p[:, 2]) - depth / 2 - 0.05)

    parts: list[Sdf] = [walls, roof]
    if chimney:
        parts.append(box((width * 0.25, eave + roof_h * 0.6, 0), (0.06, roof_h * 0.45, 0.06)))
    params = {"height": h, "width": width, "roof": roof_frac, "chimney": int(chimney)}
    adjectives = ["steep-roofed" if roof_frac > 0.4 else "flat-roofed"] + (["chimneyed"] if chimney else [])
    return params, union(parts), ["house", "cottage", "hut"], adjectives


MAKERS: dict[str, Callable[[np.random.Generator, float], tuple[dict, Sdf, list[str], list[str]]]] = {
    "tree": _tree,
    "rock": _rock,
    "mushroom": _mushroom,
    "crystal": _crystal,
    "chair": _chair,
    "table": _table,
    "lamp": _lamp,
    "column": _column,
    "arch": _arch,
    "house": _house,
}

TEMPLATES = [
    "a {size} {adj} {noun}",
    "a {colour} {noun}",
    "a {size} {material} {noun}",
    "a {width} {colour} {adj} {noun}",
    "{noun}, {size}, {colour}",
    "a {material} {adj} {noun} that is {size}",
]


# captions that state the height in metres or centimetres ("a 1.25 m tall pine tree"): what an
# author asks for, and the only way a prompt can ask for a height inside the held-out band
HEIGHT_TEMPLATES = [
    "a {height} tall {adj} {noun}",
    "a {colour} {noun}, {height} tall",
    "a {material} {noun} {height} high",
    "{noun}, {height} tall, {colour}",
]


def size_bin(height_t: float) -> int:
    return 0 if height_t < 0.33 else (1 if height_t < 0.66 else 2)


def make_captions(shape: Shape, rng: np.random.Generator, n: int = 4, templates: list[str] = TEMPLATES) -> list[str]:
    """Templated captions from the parameters plus colour/material words (appearance only)."""
    out: list[str] = []
    wt = (float(shape.params.get("width", 1.0)) - 0.0) / 1.8
    wbin = 0 if wt < 0.3 else (1 if wt < 0.6 else 2)
    for i in rng.permutation(len(templates))[:n]:
        words = {
            "size": str(rng.choice(SIZE_WORDS[size_bin(shape.height_t)])),
            "adj": str(rng.choice(shape.adjectives)) if shape.adjectives else "",
            "noun": str(rng.choice(shape.nouns)),
            "colour": str(rng.choice(list(COLOURS))),
            "material": str(rng.choice(list(MATERIALS))),
            "width": str(rng.choice(WIDTH_WORDS[wbin])),
        }
        if "{height}" in templates[i]:  # drawn only when used: the plain captions' stream stays as it was
            words["height"] = format_height(shape.height, rng)
        text = re.sub(r"\s+", " ", templates[i].format(**words)).replace(" ,", ",").strip()
        out.append(re.sub(r"\ba ([aeiou])", r"an \1", text))
    return out


def height_caption_rng(shape: Shape) -> np.random.Generator:
    """Own stream for the height captions, so adding them left every shape and split unchanged."""
    return np.random.default_rng([CATEGORIES.index(shape.category), int(shape.height_t * 2**32)])


def make_shape(category: str, rng: np.random.Generator, height_t: float | None = None) -> Shape:
    if height_t is None:
        height_t = float(rng.uniform(0.0, 1.0))
    lo, hi = HEIGHT_RANGE[category]
    params, sdf, nouns, adjectives = MAKERS[category](rng, lo + height_t * (hi - lo))
    shape = Shape(category, params, height_t, sdf, nouns, adjectives)
    shape.captions = make_captions(shape, rng) + make_captions(
        shape, height_caption_rng(shape), n=2, templates=HEIGHT_TEMPLATES
    )
    return shape


def in_held_out_band(height_t: float) -> bool:
    return HELD_OUT_BAND[0] <= height_t < HELD_OUT_BAND[1]


def build_corpus(per_category: int = 160, seed: int = 0, val_frac: float = 0.1) -> dict[str, list[Shape]]:
    """Deterministic train/val/test split; test = held-out height band of every category."""
    rng = np.random.default_rng(seed)
    splits: dict[str, list[Shape]] = {"train": [], "val": [], "test": []}
    uid = 0
    for cat in CATEGORIES:
        for _ in range(per_category):
            s = make_shape(cat, rng)
            s.uid = uid
            uid += 1
            if in_held_out_band(s.height_t):
                splits["test"].append(s)
            elif rng.random() < val_frac:
                splits["val"].append(s)
            else:
                splits["train"].append(s)
    return splits


def vocabulary() -> set[str]:
    """Every word the captions can contain: used to flag unknown prompt words."""
    words: set[str] = set(COLOURS) | set(MATERIALS) | set(CATEGORIES) | set(UNIT_WORDS) | set(HEIGHT_WORDS)
    for ws in list(SIZE_WORDS.values()) + list(WIDTH_WORDS.values()):
        for w in ws:
            words |= set(re.findall(r"[a-z]+", w))  # "mid-sized" -> mid, sized: prompts are split the same way
    for t in TEMPLATES + HEIGHT_TEMPLATES:
        words |= set(re.findall(r"[a-z]+", re.sub(r"\{[a-z]+\}", " ", t)))
    rng = np.random.default_rng(0)
    for cat in CATEGORIES:
        for _ in range(30):
            s = make_shape(cat, rng)
            for phrase in s.nouns + s.adjectives:
                words |= set(re.findall(r"[a-z]+", phrase))
    return words


VOCAB: frozenset[str] = frozenset()  # filled lazily by vocab() to keep import cheap


def vocab() -> frozenset[str]:
    global VOCAB
    if not VOCAB:
        VOCAB = frozenset(vocabulary())
    return VOCAB
