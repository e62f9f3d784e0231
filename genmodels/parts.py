"""Part-based assets: primitives with a transform and a material role -> a multi-material GLB.

A category program (genmodels/catalog.py) writes parts into a ``Builder``: boxes, cylinders,
spheres, cones and tori, each with a centre, size, rotation and a *role* ("main", "legs",
"accent", "leaves", "glow", ...). The category maps roles to a material kind and a usual
colour; the prompt's colour and material words re-tint roles (``appearance``). ``assemble``
then stands the asset on y = 0, applies the requested size and writes one glTF mesh per role
with its own PBR material (metallic/roughness/emissive/alpha per material kind).

Boxes and cones keep sharp edges (split vertices: flat normals); spheres, cylinders and tori
are smooth-shaded. numpy + trimesh only; no torch.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import trimesh

# material kind -> (metallic, roughness, emissive strength, alpha)
MATERIAL_KINDS: dict[str, tuple[float, float, float, float]] = {
    "wood": (0.0, 0.8, 0.0, 1.0),
    "metal": (0.85, 0.35, 0.0, 1.0),
    "gold": (1.0, 0.25, 0.0, 1.0),
    "stone": (0.0, 0.95, 0.0, 1.0),
    "fabric": (0.0, 1.0, 0.0, 1.0),
    "glass": (0.1, 0.05, 0.0, 0.45),
    "leaves": (0.0, 0.85, 0.0, 1.0),
    "glow": (0.0, 0.5, 1.0, 1.0),
    "plastic": (0.0, 0.45, 0.0, 1.0),
    "ceramic": (0.0, 0.25, 0.0, 1.0),
    "paper": (0.0, 0.95, 0.0, 1.0),
    "fur": (0.0, 1.0, 0.0, 1.0),
    "food": (0.0, 0.6, 0.0, 1.0),
    "rubber": (0.0, 0.9, 0.0, 1.0),
}

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.78, 0.12, 0.1),
    "crimson": (0.6, 0.05, 0.1),
    "orange": (0.95, 0.48, 0.1),
    "yellow": (0.95, 0.82, 0.15),
    "gold": (0.9, 0.7, 0.2),
    "golden": (0.9, 0.7, 0.2),
    "green": (0.2, 0.6, 0.22),
    "lime": (0.55, 0.85, 0.2),
    "olive": (0.45, 0.45, 0.15),
    "teal": (0.1, 0.55, 0.55),
    "cyan": (0.15, 0.75, 0.85),
    "blue": (0.15, 0.3, 0.8),
    "navy": (0.08, 0.12, 0.4),
    "turquoise": (0.2, 0.75, 0.7),
    "purple": (0.5, 0.2, 0.65),
    "violet": (0.55, 0.3, 0.8),
    "pink": (0.95, 0.5, 0.65),
    "magenta": (0.85, 0.15, 0.6),
    "brown": (0.45, 0.28, 0.14),
    "tan": (0.75, 0.6, 0.42),
    "beige": (0.85, 0.78, 0.62),
    "white": (0.93, 0.93, 0.9),
    "ivory": (0.95, 0.92, 0.82),
    "cream": (0.95, 0.9, 0.75),
    "black": (0.06, 0.06, 0.07),
    "grey": (0.5, 0.5, 0.52),
    "gray": (0.5, 0.5, 0.52),
    "silver": (0.78, 0.78, 0.8),
    "bronze": (0.6, 0.4, 0.2),
    "copper": (0.72, 0.42, 0.25),
    "brass": (0.78, 0.63, 0.3),
    "maroon": (0.45, 0.07, 0.1),
    "lavender": (0.7, 0.6, 0.9),
    "mint": (0.6, 0.9, 0.75),
    "peach": (0.98, 0.7, 0.55),
    "rainbow": (0.9, 0.3, 0.6),
}

# material words: (kind, colour when the prompt names no colour)
MATERIAL_WORDS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "wooden": ("wood", (0.52, 0.34, 0.18)),
    "wood": ("wood", (0.52, 0.34, 0.18)),
    "oak": ("wood", (0.6, 0.43, 0.25)),
    "walnut": ("wood", (0.36, 0.22, 0.12)),
    "bamboo": ("wood", (0.75, 0.68, 0.4)),
    "wicker": ("wood", (0.7, 0.55, 0.32)),
    "metal": ("metal", (0.62, 0.63, 0.66)),
    "metallic": ("metal", (0.62, 0.63, 0.66)),
    "steel": ("metal", (0.66, 0.68, 0.7)),
    "iron": ("metal", (0.3, 0.3, 0.32)),
    "chrome": ("metal", (0.85, 0.86, 0.88)),
    "aluminium": ("metal", (0.8, 0.81, 0.83)),
    "rusty": ("metal", (0.55, 0.3, 0.15)),
    "gold": ("gold", (0.9, 0.7, 0.2)),
    "golden": ("gold", (0.9, 0.7, 0.2)),
    "silver": ("metal", (0.8, 0.8, 0.82)),
    "brass": ("gold", (0.78, 0.63, 0.3)),
    "bronze": ("gold", (0.6, 0.4, 0.2)),
    "copper": ("gold", (0.72, 0.42, 0.25)),
    "stone": ("stone", (0.55, 0.54, 0.5)),
    "marble": ("stone", (0.9, 0.89, 0.86)),
    "granite": ("stone", (0.45, 0.44, 0.45)),
    "concrete": ("stone", (0.62, 0.62, 0.6)),
    "brick": ("stone", (0.66, 0.3, 0.2)),
    "mossy": ("stone", (0.35, 0.48, 0.22)),
    "sandstone": ("stone", (0.8, 0.68, 0.48)),
    "glass": ("glass", (0.75, 0.88, 0.95)),
    "crystal": ("glass", (0.8, 0.9, 1.0)),
    "fabric": ("fabric", (0.55, 0.55, 0.6)),
    "velvet": ("fabric", (0.5, 0.1, 0.2)),
    "leather": ("fabric", (0.4, 0.22, 0.12)),
    "wool": ("fabric", (0.85, 0.82, 0.75)),
    "plastic": ("plastic", (0.9, 0.9, 0.9)),
    "paper": ("paper", (0.95, 0.94, 0.9)),
    "cardboard": ("paper", (0.7, 0.55, 0.35)),
    "ceramic": ("ceramic", (0.92, 0.9, 0.86)),
    "porcelain": ("ceramic", (0.95, 0.95, 0.95)),
    "clay": ("ceramic", (0.72, 0.4, 0.26)),
    "terracotta": ("ceramic", (0.75, 0.38, 0.22)),
    "glowing": ("glow", (1.0, 0.8, 0.4)),
    "neon": ("glow", (0.3, 1.0, 0.9)),
    "ice": ("glass", (0.8, 0.92, 1.0)),
    "icy": ("glass", (0.8, 0.92, 1.0)),
    "rubber": ("rubber", (0.15, 0.15, 0.15)),
}
SHADES = {"dark": 0.55, "light": 1.35, "pale": 1.45, "bright": 1.2, "deep": 0.7}
ACCENT_WORDS = (
    "spots",
    "spot",
    "dots",
    "stripes",
    "stripe",
    "trim",
    "details",
    "accents",
    "legs",
    "roof",
    "cushions",
    "leaves",
    "shade",
    "frame",
    "top",
    "handle",
    "wheels",
    "door",
    "doors",
)
PRIMS = ("box", "cylinder", "sphere", "cone", "torus")


@dataclass
class Part:
    prim: str  # one of PRIMS
    size: tuple[float, float, float]  # full extents before rotation (torus: outer diameter, tube diameter, -)
    pos: tuple[float, float, float]  # centre
    rot: tuple[float, float, float] = (0.0, 0.0, 0.0)  # degrees about x, y, z (applied in that order)
    role: str = "main"


@dataclass
class Builder:
    """What a category program writes into; ``rng`` carries the seed's choices."""

    rng: np.random.Generator
    words: frozenset[str] = frozenset()
    parts: list[Part] = field(default_factory=list)

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def i(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi] inclusive."""
        return int(self.rng.integers(lo, hi + 1))

    def pick(self, options: list[str] | tuple[str, ...]) -> str:
        """A style: one the prompt names wins, else the seed picks."""
        named = [o for o in options if o in self.words]
        return named[0] if named else str(options[int(self.rng.integers(len(options)))])

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def add(
        self,
        prim: str,
        size: tuple[float, float, float],
        pos: tuple[float, float, float],
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Part:
        p = Part(
            prim,
            (float(size[0]), float(size[1]), float(size[2])),
            (float(pos[0]), float(pos[1]), float(pos[2])),
            (float(rot[0]), float(rot[1]), float(rot[2])),
            role,
        )
        self.parts.append(p)
        return p

    def box(
        self,
        w: float,
        h: float,
        d: float,
        x: float,
        y: float,
        z: float,
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Part:
        return self.add("box", (w, h, d), (x, y, z), role, rot)

    def cyl(
        self,
        dia: float,
        h: float,
        x: float,
        y: float,
        z: float,
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
        dz: float | None = None,
    ) -> Part:
        return self.add("cylinder", (dia, h, dia if dz is None else dz), (x, y, z), role, rot)

    def sph(
        self,
        w: float,
        h: float,
        d: float,
        x: float,
        y: float,
        z: float,
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Part:
        return self.add("sphere", (w, h, d), (x, y, z), role, rot)

    def cone(
        self,
        dia: float,
        h: float,
        x: float,
        y: float,
        z: float,
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Part:
        return self.add("cone", (dia, h, dia), (x, y, z), role, rot)

    def torus(
        self,
        dia: float,
        tube: float,
        x: float,
        y: float,
        z: float,
        role: str = "main",
        rot: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Part:
        return self.add("torus", (dia, tube, dia), (x, y, z), role, rot)

    def mirror_x(self, part: Part) -> Part:
        """The mirror image across x = 0 (left/right symmetry of legs, arms, wheels...)."""
        rx, ry, rz = part.rot
        return self.add(part.prim, part.size, (-part.pos[0], part.pos[1], part.pos[2]), part.role, (rx, -ry, -rz))

    def legs(
        self,
        n: int,
        w: float,
        h: float,
        spread_x: float,
        spread_z: float,
        y0: float = 0.0,
        role: str = "legs",
        round_: bool = False,
    ) -> None:
        """``n`` (3 or 4) vertical legs from y0 up to y0 + h, symmetric about both axes."""
        pts = (
            [(spread_x, spread_z), (-spread_x, spread_z), (spread_x, -spread_z), (-spread_x, -spread_z)]
            if n == 4
            else [(0.0, spread_z)] + [(spread_x * np.sin(a), spread_z * np.cos(a)) for a in (2.094, -2.094)]
        )
        for x, z in pts:
            if round_:
                self.cyl(w, h, x, y0 + h / 2, z, role)
            else:
                self.box(w, h, w, x, y0 + h / 2, z, role)


# ----- meshes ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _unit(prim: str, detail: int) -> trimesh.Trimesh:
    """Unit primitive (extents 1 along each axis, axis y), cached: parts only transform copies."""
    if prim == "box":
        m = trimesh.creation.box((1.0, 1.0, 1.0))
    elif prim == "cylinder":
        m = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=8 + 4 * detail)
        m.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0)))
    elif prim == "cone":
        m = trimesh.creation.cone(radius=0.5, height=1.0, sections=8 + 4 * detail)
        m.apply_translation((0, 0, -0.5))
        m.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0)))
    elif prim == "sphere":
        m = trimesh.creation.uv_sphere(radius=0.5, count=(6 + 2 * detail, 8 + 4 * detail))
    elif prim == "torus":
        m = trimesh.creation.torus(
            major_radius=0.375, minor_radius=0.125, major_sections=10 + 4 * detail, minor_sections=6 + 2 * detail
        )
        m.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0)))
    else:
        raise ValueError(f"unknown primitive {prim!r} (expected one of {', '.join(PRIMS)})")
    return m


def part_transform(p: Part) -> np.ndarray:
    sx, sy, sz = p.size
    if p.prim == "torus":  # unit torus: outer diameter 1, tube 0.25 -> the tube diameter is size[1]
        sx, sy, sz = p.size[0], p.size[1] / 0.25, p.size[2]
    s = np.diag([sx, sy, sz, 1.0])
    ax, ay, az = (float(v) for v in np.radians(p.rot))
    r = trimesh.transformations.euler_matrix(ax, ay, az, "sxyz")
    t = trimesh.transformations.translation_matrix(p.pos)
    return t @ r @ s


def part_mesh(p: Part, detail: int = 1) -> trimesh.Trimesh:
    m = _unit(p.prim, detail).copy()
    m.apply_transform(part_transform(p))
    if p.prim in ("box", "cone"):
        m.unmerge_vertices()  # flat faces, sharp edges
    return m


def part_bounds(p: Part) -> np.ndarray:
    """(2, 3) axis-aligned bounds of a part (corners of its transformed unit box)."""
    c = np.array([[x, y, z, 1.0] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    w = (
        part_transform(Part("box", p.size if p.prim != "torus" else (p.size[0], p.size[1], p.size[2]), p.pos, p.rot))
        @ c.T
    ).T[:, :3]
    return np.stack([w.min(0), w.max(0)])


# ----- appearance -----------------------------------------------------------------------------
@dataclass
class Look:
    kind: str
    rgb: tuple[float, float, float]


def _shade(rgb: tuple[float, float, float], f: float) -> tuple[float, float, float]:
    r, g, b = (float(min(max(c * f, 0.0), 1.0)) for c in rgb)
    return (r, g, b)


def _colour_at(ws: list[str], i: int) -> tuple[float, float, float] | None:
    """Colour word at position i, with a shade word before it ("dark green")."""
    if ws[i] not in COLOURS:
        return None
    rgb = COLOURS[ws[i]]
    if i > 0 and ws[i - 1] in SHADES:
        rgb = _shade(rgb, SHADES[ws[i - 1]])
    return rgb


@dataclass
class PromptLook:
    """What a prompt says about appearance: for the main role and for an accent ("with white spots")."""

    main_rgb: tuple[float, float, float] | None = None
    main_kind: str | None = None
    accent_rgb: tuple[float, float, float] | None = None
    accent_role: str | None = None  # the accent word, when it names a role ("legs", "roof", ...)
    said: list[str] = field(default_factory=list)


def read_look(prompt: str) -> PromptLook:
    ws = re.findall(r"[a-z]+", prompt.lower())
    cut = next((i for i, w in enumerate(ws) if w in ("with", "and")), len(ws))
    out = PromptLook()
    # a colour word wins over a material's usual colour wherever it stands ("glowing blue crystals")
    for i in range(cut):
        rgb = _colour_at(ws, i)
        if rgb is not None:
            out.main_rgb = rgb
            out.said.append(ws[i])
            break
    for i in range(cut):
        if ws[i] in MATERIAL_WORDS:
            kind, usual = MATERIAL_WORDS[ws[i]]
            out.main_kind = kind
            out.main_rgb = out.main_rgb or usual
            out.said.append(ws[i])
            break
    for i in range(cut, len(ws)):
        rgb = _colour_at(ws, i)
        if rgb is not None and out.accent_rgb is None:
            out.accent_rgb = rgb
            nxt = next((w for w in ws[i + 1 : i + 3] if w in ACCENT_WORDS), None)
            out.accent_role = nxt
            out.said.append(ws[i])
    return out


def resolve_looks(defaults: dict[str, Look], prompt: PromptLook) -> dict[str, Look]:
    """Per-role looks: the category's usual look, re-tinted by what the prompt says."""
    looks = dict(defaults)
    main_roles = [r for r in looks if r == "main"] or list(looks)[:1]
    for r in main_roles:
        base = looks[r]
        looks[r] = Look(prompt.main_kind or base.kind, prompt.main_rgb or base.rgb)
    if prompt.accent_rgb is not None:
        role = {
            "spots": "accent",
            "spot": "accent",
            "dots": "accent",
            "stripes": "accent",
            "stripe": "accent",
            "trim": "accent",
            "details": "accent",
            "accents": "accent",
            "cushions": "cushion",
            "shade": "shade",
            "leaves": "leaves",
            "legs": "legs",
            "roof": "roof",
            "frame": "frame",
            "top": "top",
            "handle": "handle",
            "wheels": "wheels",
            "door": "door",
            "doors": "door",
        }.get(prompt.accent_role or "", "accent")
        if role not in looks:
            role = "accent" if "accent" in looks else next((r for r in looks if r != "main"), "main")
        looks[role] = Look(looks[role].kind, prompt.accent_rgb)
    return looks


# ----- assembly -------------------------------------------------------------------------------
@dataclass
class Assembled:
    glb: bytes
    meshes: dict[str, trimesh.Trimesh]  # role -> mesh, in the asset frame (base at y = 0)
    parts: list[Part]
    looks: dict[str, Look]
    triangles: int
    extents: tuple[float, float, float]


def normalise_parts(parts: list[Part], scale: float) -> list[Part]:
    """Centre on x/z, base at y = 0, uniform scale about that base point."""
    b = np.array([part_bounds(p) for p in parts])
    lo, hi = b[:, 0].min(0), b[:, 1].max(0)
    off = np.array([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
    out = []
    for p in parts:
        pos = (np.array(p.pos) + off) * scale
        out.append(
            Part(
                p.prim,
                (p.size[0] * scale, p.size[1] * scale, p.size[2] * scale),
                (float(pos[0]), float(pos[1]), float(pos[2])),
                p.rot,
                p.role,
            )
        )
    return out


def parts_extents(parts: list[Part]) -> tuple[float, float, float]:
    b = np.array([part_bounds(p) for p in parts])
    e = b[:, 1].max(0) - b[:, 0].min(0)
    return (float(e[0]), float(e[1]), float(e[2]))


def assemble(parts: list[Part], looks: dict[str, Look], detail: int = 1) -> Assembled:
    """Parts (already normalised) -> GLB with one mesh + PBR material per role."""
    by_role: dict[str, list[trimesh.Trimesh]] = {}
    for p in parts:
        by_role.setdefault(p.role, []).append(part_mesh(p, detail))
    # parts were placed by their boxes; a rotated cylinder's or a torus's surface sits inside its box,
    # so stand the real surface on y = 0 and centre it (the box floor can leave it hovering by mm-cm)
    allv = np.concatenate([m.vertices for ms in by_role.values() for m in ms])
    lo, hi = allv.min(0), allv.max(0)
    shift = np.array([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
    for ms in by_role.values():
        for m in ms:
            m.apply_translation(shift)
    scene = trimesh.Scene()
    meshes: dict[str, trimesh.Trimesh] = {}
    tris = 0
    for role, ms in by_role.items():
        m = cast(trimesh.Trimesh, trimesh.util.concatenate(ms)) if len(ms) > 1 else ms[0]
        look = looks.get(role) or looks.get("main") or Look("plastic", (0.7, 0.7, 0.7))
        metallic, rough, glow, alpha = MATERIAL_KINDS[look.kind]
        mat = trimesh.visual.material.PBRMaterial(
            name=f"{role}-{look.kind}",
            baseColorFactor=[*look.rgb, alpha],
            metallicFactor=metallic,
            roughnessFactor=rough,
            emissiveFactor=[c * glow for c in look.rgb],
            alphaMode="BLEND" if alpha < 1 else "OPAQUE",
            doubleSided=False,
        )
        m.visual = trimesh.visual.TextureVisuals(material=mat)
        meshes[role] = m
        tris += len(m.faces)
        scene.add_geometry(m, geom_name=role, node_name=role)
    glb = trimesh.exchange.gltf.export_glb(scene, include_normals=True)
    ext = hi - lo
    return Assembled(glb, meshes, parts, looks, tris, (float(ext[0]), float(ext[1]), float(ext[2])))


# ----- structural checks (used by tests and the bench) -------------------------------------------
def connected_components(parts: list[Part], tol: float = 0.01) -> int:
    """How many groups of parts touch (bounding boxes overlapping within ``tol`` metres)."""
    b = np.array([part_bounds(p) for p in parts])
    n = len(parts)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if np.all(b[i, 0] <= b[j, 1] + tol) and np.all(b[j, 0] <= b[i, 1] + tol):
                parent[find(i)] = find(j)
    return len({find(i) for i in range(n)})
