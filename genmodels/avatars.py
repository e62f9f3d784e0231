"""The web client's bundled avatar looks and accessories, as GLB files made here (no downloads).

    python -m genmodels.avatars          # writes web_client/avatars/<look>.glb and accessories.glb

One GLB per look in ``server.protocol.AVATAR_LOOKS``, each with three meshes named ``head``,
``torso`` and ``hand``, and ``accessories.glb`` with one mesh per accessory but ``none``
(``hat``, ``glasses``, ``headphones``). Coordinates are metres in the frame that drives each
part: ``head`` and the accessories around the tracked head pose (eyes at the origin, looking
down -Z, +Y up), ``torso`` in the head's position turned by its yaw only (the body hangs below:
its top is about 0.22 m under the eyes), ``hand`` around a tracked hand pose (fingers along -Z);
the client uses one ``hand`` mesh for both hands. Heads fit inside a 0.125 m ball with their top
near y = 0.11 and their face near z = -0.11, so one set of accessories fits every look.

Colour is in COLOR_0 (RGBA bytes). Its alpha is not transparency but a *tint flag*: 255 means
"multiply by the person's chosen colour" (the body), 0 means "keep this colour" (eyes, visor,
a hat's band...). The material is opaque, so a stock glTF viewer shows the looks in a light
grey with their fixed details; web_client/js/avatars.js reads the flag.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import numpy as np
import trimesh

from genmodels.asset import _with_material
from server.protocol import AVATAR_ACCESSORIES, AVATAR_LOOKS

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "web_client" / "avatars"

TINT = None  # the person's colour (alpha 0 in the file means a fixed colour)
Color = tuple[int, int, int] | None


def _paint(mesh: trimesh.Trimesh, color: Color, shade: float = 1.0) -> trimesh.Trimesh:
    """Vertex colours for one primitive: a fixed sRGB colour, or TINT (light grey, flag 255)."""
    srgb = np.array((235, 235, 235) if color is None else color, dtype=float) / 255 * shade
    linear = np.clip(srgb, 0, 1) ** 2.2 * 255  # glTF's COLOR_0 is linear; the numbers here are sRGB
    rgba = np.round(np.concatenate([linear, [255.0 if color is None else 0.0]])).astype(np.uint8)
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.tile(rgba, (len(mesh.vertices), 1)))
    return mesh


def _at(mesh: trimesh.Trimesh, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> trimesh.Trimesh:
    mesh.apply_translation((x, y, z))
    return mesh


def _box(w: float, h: float, d: float, color: Color, at: tuple[float, float, float] = (0, 0, 0)) -> trimesh.Trimesh:
    m = trimesh.creation.box(extents=(w, h, d))
    m.unmerge_vertices()  # flat-shaded faces: shared corners would average the normals into a blob
    return _paint(_at(m, *at), color)


def _ball(
    r: float, color: Color, at: tuple[float, float, float] = (0, 0, 0), scale: tuple[float, float, float] = (1, 1, 1)
) -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=2 if r > 0.05 else 1, radius=r)  # small: 80 triangles
    m.apply_scale(scale)
    return _paint(_at(m, *at), color)


def _rot(mesh: trimesh.Trimesh, angle_deg: float, axis: tuple[float, float, float]) -> trimesh.Trimesh:
    mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(angle_deg), axis))
    return mesh


def _frustum(r_top: float, r_bottom: float, h: float, color: Color, y: float, sections: int = 12) -> trimesh.Trimesh:
    """A cylinder along Y whose top and bottom radii differ, centred at height ``y``."""
    m = trimesh.creation.cylinder(radius=1.0, height=h, sections=sections)
    v = m.vertices.copy()
    k = np.where(v[:, 2] > 0, r_top, r_bottom)  # trimesh's cylinder is along Z
    v[:, 0] *= k
    v[:, 1] *= k
    m = trimesh.Trimesh(v, m.faces, process=False)
    _rot(m, -90, (1, 0, 0))  # +Z (top) -> +Y
    m.unmerge_vertices()
    return _paint(_at(m, y=y), color)


def _cyl(
    r: float, h: float, color: Color, axis: str, at: tuple[float, float, float], sections: int = 16
) -> trimesh.Trimesh:
    m = trimesh.creation.cylinder(radius=r, height=h, sections=sections)
    if axis == "x":
        _rot(m, 90, (0, 1, 0))
    elif axis == "y":
        _rot(m, -90, (1, 0, 0))
    m.unmerge_vertices()
    return _paint(_at(m, *at), color)


def _cone(r: float, h: float, color: Color, sections: int = 12) -> trimesh.Trimesh:
    """A cone along +Y with its base centre at the origin."""
    m = trimesh.creation.cone(radius=r, height=h, sections=sections)
    _rot(m, -90, (1, 0, 0))
    return _paint(m, color)


def _one(parts: Iterable[trimesh.Trimesh]) -> trimesh.Trimesh:
    return cast(trimesh.Trimesh, trimesh.util.concatenate(list(parts)))


DARK = (22, 26, 36)
WHITE = (245, 240, 232)


def classic() -> dict[str, trimesh.Trimesh]:
    """The original Plaza avatar: round head with a dark visor, a tapered body, mitten hands."""
    return {
        "head": _one([_ball(0.11, TINT, scale=(1, 1.1, 1.05)), _box(0.17, 0.055, 0.06, DARK, (0, 0.015, -0.085))]),
        "torso": _frustum(0.13, 0.17, 0.55, TINT, -0.5),
        "hand": _box(0.07, 0.035, 0.12, TINT),
    }


def robot() -> dict[str, trimesh.Trimesh]:
    """A boxy robot: square head with a glowing eye strip and an antenna, chest panel, claws."""
    glow = (60, 232, 255)
    head = [
        _box(0.2, 0.2, 0.2, TINT, (0, 0.005, 0)),
        _box(0.16, 0.045, 0.02, glow, (0, 0.02, -0.1)),
        _box(0.06, 0.012, 0.012, DARK, (0, -0.05, -0.1)),  # mouth grille
        _cyl(0.006, 0.06, (150, 150, 160), "y", (0.06, 0.13, 0.0), 6),
        _ball(0.014, (255, 80, 70), (0.06, 0.165, 0.0)),
        _cyl(0.025, 0.02, (150, 150, 160), "x", (0.105, 0.0, 0.0), 10),  # ear bolts
        _cyl(0.025, 0.02, (150, 150, 160), "x", (-0.105, 0.0, 0.0), 10),
    ]
    torso = [
        _box(0.34, 0.42, 0.2, TINT, (0, -0.5, 0)),
        _box(0.16, 0.12, 0.02, DARK, (0, -0.42, -0.1)),
        _box(0.03, 0.03, 0.01, glow, (-0.04, -0.42, -0.112)),
        _box(0.03, 0.03, 0.01, (255, 200, 60), (0.02, -0.42, -0.112)),
        _cyl(0.05, 0.08, (150, 150, 160), "y", (0, -0.25, 0), 10),  # neck
    ]
    hand = [
        _box(0.075, 0.045, 0.08, TINT, (0, 0, 0.01)),
        _box(0.018, 0.02, 0.07, (150, 150, 160), (-0.022, 0, -0.06)),
        _box(0.018, 0.02, 0.07, (150, 150, 160), (0.022, 0, -0.06)),
    ]
    return {"head": _one(head), "torso": _one(torso), "hand": _one(hand)}


def fox() -> dict[str, trimesh.Trimesh]:
    """A fox: pointed ears, a cream snout with a black nose, a white belly and a bushy tail."""
    ears = []
    for side in (-1, 1):
        ear = _cone(0.04, 0.09, TINT)
        _rot(ear, -side * 18, (0, 0, 1))
        ears.append(_at(ear, side * 0.06, 0.06, 0.01))
        inner = _cone(0.022, 0.06, (60, 40, 40))
        _rot(inner, -side * 18, (0, 0, 1))
        ears.append(_at(inner, side * 0.06, 0.065, -0.012))
    snout = _cone(0.048, 0.085, WHITE)
    _rot(snout, -90, (1, 0, 0))  # +Y -> -Z
    head = [
        _ball(0.105, TINT, scale=(1.05, 0.95, 1.0)),
        *ears,
        _at(snout, 0, -0.03, -0.075),
        _ball(0.014, DARK, (0, -0.03, -0.16)),
        _ball(0.016, DARK, (-0.042, 0.025, -0.092)),
        _ball(0.016, DARK, (0.042, 0.025, -0.092)),
    ]
    tail = [_cone(0.07, 0.3, TINT), _at(_cone(0.045, 0.15, WHITE), y=0.17)]
    for t in tail:
        _rot(t, 120, (1, 0, 0))  # up -> back and down
        _at(t, 0, -0.66, 0.1)
    torso = [
        _ball(0.16, TINT, (0, -0.52, 0), (1.0, 1.7, 0.85)),
        _ball(0.1, WHITE, (0, -0.5, -0.07), (1.0, 1.9, 0.7)),
        *tail,
    ]
    hand = [_ball(0.045, TINT, scale=(1.0, 0.75, 1.2)), _ball(0.02, WHITE, (0, -0.022, -0.02), (1.4, 0.5, 1.4))]
    return {"head": _one(head), "torso": _one(torso), "hand": _one(hand)}


def ghost() -> dict[str, trimesh.Trimesh]:
    """A friendly ghost: a round head with big dark eyes, a flowing sheet for a body."""
    head = [
        _ball(0.12, TINT),
        _ball(0.026, DARK, (-0.045, 0.02, -0.105), (0.8, 1.3, 0.5)),
        _ball(0.026, DARK, (0.045, 0.02, -0.105), (0.8, 1.3, 0.5)),
        _ball(0.018, DARK, (0, -0.045, -0.11), (1.0, 0.8, 0.5)),
        _ball(0.016, (255, 150, 170), (-0.075, -0.03, -0.085), (1.0, 0.6, 0.4)),  # cheeks
        _ball(0.016, (255, 150, 170), (0.075, -0.03, -0.085), (1.0, 0.6, 0.4)),
    ]
    sheet = _frustum(0.11, 0.22, 0.58, TINT, -0.47, sections=16)
    around = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    hem = [_ball(0.05, TINT, (0.2 * np.sin(a), -0.76, 0.2 * np.cos(a))) for a in around]
    hand = _ball(0.04, TINT, scale=(1.0, 0.8, 1.25))
    return {"head": _one(head), "torso": _one([sheet, *hem]), "hand": hand}


def accessories() -> dict[str, trimesh.Trimesh]:
    """Worn on the head (head frame): a top hat with a band in your colour, round glasses,
    headphones with cups in your colour."""
    hat = [
        _cyl(0.15, 0.012, DARK, "y", (0, 0.1, 0), 24),
        _cyl(0.085, 0.14, DARK, "y", (0, 0.175, 0), 20),
        _cyl(0.087, 0.028, TINT, "y", (0, 0.12, 0), 20),
    ]
    rim = (40, 40, 48)
    glasses = []
    for side in (-1, 1):
        ring = trimesh.creation.torus(major_radius=0.032, minor_radius=0.005, major_sections=20, minor_sections=6)
        glasses.append(_paint(_at(ring, side * 0.048, 0.02, -0.128), rim))  # torus lies in XY: faces -Z already
        lens = _cyl(0.03, 0.003, (120, 190, 230), "z", (side * 0.048, 0.02, -0.128), 16)
        glasses.append(lens)
        glasses.append(_box(0.006, 0.008, 0.11, rim, (side * 0.083, 0.025, -0.075)))  # arms
    glasses.append(_box(0.032, 0.008, 0.006, rim, (0, 0.028, -0.128)))  # bridge
    band = trimesh.creation.torus(major_radius=0.135, minor_radius=0.011, major_sections=28, minor_sections=6)
    upper = (band.vertices[band.faces][:, :, 1] > -0.012).all(axis=1)  # the upper half arches over the head
    band = trimesh.Trimesh(band.vertices, band.faces[upper], process=False)
    band.remove_unreferenced_vertices()
    headphones = [_paint(band, DARK)]
    for side in (-1, 1):
        headphones.append(_cyl(0.048, 0.035, TINT, "x", (side * 0.125, 0.0, 0.0), 20))
        headphones.append(_cyl(0.038, 0.012, DARK, "x", (side * 0.1, 0.0, 0.0), 20))
    return {"hat": _one(hat), "glasses": _one(glasses), "headphones": _one(headphones)}


LOOKS = {"classic": classic, "robot": robot, "fox": fox, "ghost": ghost}


def glb(meshes: dict[str, trimesh.Trimesh]) -> bytes:
    """One GLB: a node and mesh per entry, named by its key, COLOR_0 with the tint flag."""
    scene = trimesh.Scene()
    for name, m in meshes.items():
        out = trimesh.Trimesh(m.vertices, m.faces, process=False)
        out.visual = trimesh.visual.ColorVisuals(
            out, vertex_colors=cast(trimesh.visual.ColorVisuals, m.visual).vertex_colors
        )
        scene.add_geometry(out, geom_name=name, node_name=name)
    data = trimesh.exchange.gltf.export_glb(scene, include_normals=True)
    material = trimesh.visual.material.PBRMaterial(metallicFactor=0.0, roughnessFactor=0.8, emissiveFactor=[0, 0, 0])
    return _with_material(data, material)


def build(out: Path = OUT) -> list[Path]:
    assert set(LOOKS) == set(AVATAR_LOOKS), "every protocol look needs a maker here"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in AVATAR_LOOKS:
        written.append(out / f"{name}.glb")
        written[-1].write_bytes(glb(LOOKS[name]()))
    acc = accessories()
    assert set(acc) == set(AVATAR_ACCESSORIES) - {"none"}
    written.append(out / "accessories.glb")
    written[-1].write_bytes(glb(acc))
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m genmodels.avatars", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    for path in build(args.out):
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
