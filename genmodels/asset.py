"""Asset pipeline: TSDF grid -> mesh -> repaired, simplified, coloured GLB bytes.

Steps and why:
  1. pad the grid with "outside" so every surface closes (watertight even at the border),
     blur a little and upsample x2 with cubic splines so marching cubes is not blocky at 32^3
     (both are separable linear maps: applied as three small matrix products, see ``resample``);
  2. marching cubes (scikit-image) at level 0;
  3. drop floating specks (generative noise), keep the main components and long thin parts;
  4. repair with trimesh (merge vertices, drop degenerate faces, fix winding/normals, fill holes);
  5. light Taubin smoothing (no shrinkage), then quadric simplification to a triangle budget
     (fast-simplification when installed, trimesh's vertex clustering otherwise), retried at
     85% / 70% of the budget when it leaves a closed mesh open;
  6. vertex colours + a PBR material from the prompt's colour/material words;
  7. GLB via trimesh (positions, normals, COLOR_0, one material), typically < 200 KB.

``cache_key`` hashes (normalised prompt, seed, model version, pipeline version): the same
request always maps to the same file, which is what makes immutable HTTP caching safe.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import trimesh
from scipy import ndimage
from skimage import measure

from genmodels import shapes
from genmodels.heights import parse_size, size_scale

# bump when mesh/colour processing changes so old cache entries stop matching
PIPELINE_VERSION = "4"  # 2: separable resample, closed-mesh retry; 3: long thin components kept (and
# the sampler now batches its conditioning, which changes floats in the last bits); 4: base at y = 0,
# stated sizes honoured by scaling
DEFAULT_TRIANGLES = 4000

NOUN_TO_CATEGORY: dict[str, str] = {
    **{w: "tree" for w in ("tree", "trees", "pine", "conifer", "fir", "oak", "leafy")},
    **{w: "rock" for w in ("rock", "rocks", "boulder", "stone")},
    **{w: "mushroom" for w in ("mushroom", "mushrooms", "toadstool")},
    **{w: "crystal" for w in ("crystal", "crystals", "gem", "shard")},
    **{w: "chair" for w in ("chair", "chairs", "seat", "stool")},
    **{w: "table" for w in ("table", "tables", "desk")},
    **{w: "lamp" for w in ("lamp", "lamps", "lantern", "light")},
    **{w: "column" for w in ("column", "columns", "pillar")},
    **{w: "arch" for w in ("arch", "archway", "gate")},
    **{w: "house" for w in ("house", "houses", "cottage", "hut", "home")},
}


def normalise_prompt(prompt: str) -> str:
    return re.sub(r"\s+", " ", prompt.strip().lower())


def cache_key(prompt: str, seed: int, model_version: str) -> str:
    blob = json.dumps(
        {"p": normalise_prompt(prompt), "s": int(seed), "m": model_version, "v": PIPELINE_VERSION}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def words(prompt: str) -> list[str]:
    return re.findall(r"[a-z]+(?:-[a-z]+)?", prompt.lower())


def detect_category(prompt: str) -> str | None:
    """Last category noun wins ("a stone table" is a table, not a rock)."""
    found = [NOUN_TO_CATEGORY[w] for w in words(prompt) if w in NOUN_TO_CATEGORY]
    return found[-1] if found else None


@dataclass
class Appearance:
    rgb: tuple[float, float, float]
    metallic: float = 0.0
    roughness: float = 0.7
    emissive: float = 0.0
    notes: list[str] = field(default_factory=list)


def appearance_from_prompt(prompt: str, category: str | None) -> Appearance:
    ws = words(prompt)
    colour = next((w for w in ws if w in shapes.COLOURS), None)
    material = next((w for w in ws if w in shapes.MATERIALS), None)
    notes: list[str] = []
    if colour is None:
        colour = shapes.DEFAULT_COLOUR.get(category or "", "grey")
        notes.append(f"no colour word; using {colour}")
    app = Appearance(shapes.COLOURS[colour], notes=notes)
    if material is not None:
        app.metallic, app.roughness, app.emissive = shapes.MATERIALS[material]
    return app


@functools.lru_cache(maxsize=8)
def resample_matrix(n: int, upsample: int, smooth_sigma: float) -> np.ndarray:
    """(n*upsample, n) matrix of ``zoom(gaussian_filter1d(x, sigma), upsample, order=3)``.

    Both filters act on each axis independently, so the 3D operator is this matrix applied
    along x, y and z: equal to ndimage's 3D calls to float precision, ~200x faster (0.5 ms
    instead of ~110 ms for 34^3 -> 68^3), which was most of an asset's CPU time.
    """
    eye = np.eye(n)
    cols = []
    for j in range(n):
        c = ndimage.gaussian_filter1d(eye[j], smooth_sigma) if smooth_sigma > 0 else eye[j]
        cols.append(ndimage.zoom(c, upsample, order=3) if upsample > 1 else c)
    return np.stack(cols, axis=1).astype(np.float32)


def resample(g: np.ndarray, upsample: int, smooth_sigma: float) -> np.ndarray:
    n = g.shape[0]
    m = resample_matrix(n, upsample, smooth_sigma)
    out = (m @ g.reshape(n, -1)).reshape(-1, n, n)  # x
    return np.matmul(m, out) @ m.T  # y, then z


def grid_to_mesh(grid: np.ndarray, upsample: int = 2, smooth_sigma: float = 0.6) -> trimesh.Trimesh:
    """Marching cubes of a TSDF (negative inside) spanning [-1, 1]^3, in world units."""
    res = grid.shape[0]
    g = np.pad(grid.astype(np.float32), 1, constant_values=1.0)
    if upsample > 1 or smooth_sigma > 0:
        # generated grids carry voxel-scale noise; a small blur removes specks, keeps the shape
        g = resample(g, upsample, smooth_sigma)
    step = 2.0 / (res - 1)
    spacing = step * (res + 1) / (g.shape[0] - 1)
    if g.min() >= 0 or g.max() <= 0:
        raise ValueError("empty shape: the grid has no surface")
    verts, faces, _, _ = measure.marching_cubes(g, level=0.0, spacing=(spacing,) * 3)
    verts = verts - (1.0 + step)  # undo the padding offset
    # skimage orients faces so normals point towards increasing values = outside; glTF wants CCW
    return trimesh.Trimesh(verts, faces[:, ::-1], process=True)


def keep_main_components(
    mesh: trimesh.Trimesh, min_fraction: float = 0.1, min_extent: float = 0.15
) -> tuple[trimesh.Trimesh, int, int]:
    """Drop floating specks: (mesh of the kept components, kept, total).

    A component stays when it has >= ``min_fraction`` of the largest one's faces, or when it
    spans >= ``min_extent`` world units in some direction: generative noise makes specks a
    voxel or two across, while a table leg or lamp pole that came out detached is long and
    thin (few faces) and is still part of the object.
    """
    parts = mesh.split(only_watertight=False)
    if len(parts) <= 1:
        return mesh, len(parts), len(parts)
    big = max(len(p.faces) for p in parts)
    keep = [p for p in parts if len(p.faces) >= min_fraction * big or float(p.extents.max()) >= min_extent]
    return cast(trimesh.Trimesh, trimesh.util.concatenate(keep)), len(keep), len(parts)  # meshes in, a mesh out


def repair(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    trimesh.repair.fix_winding(mesh)
    trimesh.repair.fix_inversion(mesh)
    if not mesh.is_watertight:
        trimesh.repair.fill_holes(mesh)
    return mesh


def simplify(mesh: trimesh.Trimesh, max_triangles: int) -> trimesh.Trimesh:
    if len(mesh.faces) <= max_triangles:
        return mesh
    try:
        import fast_simplification
    except ImportError:
        pitch = float(mesh.extents.max()) / np.sqrt(max_triangles / 2.0)
        return repair(trimesh.Trimesh(*_cluster(mesh, pitch)))
    reduction = 1.0 - max_triangles / len(mesh.faces)
    v, f = fast_simplification.simplify(mesh.vertices.astype(np.float32), mesh.faces.astype(np.int32), reduction)
    return repair(trimesh.Trimesh(v, f, process=True))


def _cluster(mesh: trimesh.Trimesh, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertex clustering fallback: snap to a grid, average per cell, drop collapsed faces."""
    keys = np.floor(mesh.vertices / pitch).astype(np.int64)
    _, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    counts = np.bincount(inv)
    verts = np.stack([np.bincount(inv, mesh.vertices[:, i]) for i in range(3)], -1) / counts[:, None]
    faces = inv[mesh.faces]
    ok = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    return verts, faces[ok]


@dataclass
class MeshResult:
    mesh: trimesh.Trimesh
    glb: bytes
    triangles: int
    watertight: bool
    notes: list[str]


def grid_to_glb(grid: np.ndarray, prompt: str, max_triangles: int = DEFAULT_TRIANGLES) -> MeshResult:
    notes: list[str] = []
    # split once: it is one of the costliest steps of the pipeline
    mesh, kept, n_parts = keep_main_components(grid_to_mesh(grid))
    if n_parts > 1:
        notes.append(f"kept {kept} of {n_parts} mesh components")
    mesh = repair(mesh)
    trimesh.smoothing.filter_taubin(mesh, iterations=4)
    closed = mesh.is_watertight
    for budget in (max_triangles, int(max_triangles * 0.85), int(max_triangles * 0.7)):
        # quadric decimation now and then leaves a non-manifold edge; a slightly different
        # budget almost always does not, and a closed mesh is worth more than 15% of triangles
        out = repair(simplify(mesh.copy(), budget))
        if out.is_watertight or not closed:
            break
    mesh = out
    notes += stand_and_size(mesh, prompt)
    category = detect_category(prompt)
    app = appearance_from_prompt(prompt, category)
    notes += app.notes
    colour_mesh(mesh, app)
    glb = export_glb(mesh, app)
    return MeshResult(mesh, glb, len(mesh.faces), bool(mesh.is_watertight), notes)


def stand_and_size(mesh: trimesh.Trimesh, prompt: str) -> list[str]:
    """Base at y = 0, centred on x/z (worlds place an asset's origin on the surface it stands on),
    and a stated size (cm, m, ft, in) made true by a uniform scale about that base point."""
    lo, hi = mesh.bounds
    mesh.apply_translation([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
    size = parse_size(prompt)
    if size is None:
        return []
    mesh.apply_scale(size_scale(tuple(mesh.extents), size))
    return []


def colour_mesh(mesh: trimesh.Trimesh, app: Appearance) -> None:
    """Vertex colours: the base colour darkened towards the ground (cheap baked occlusion)."""
    y = mesh.vertices[:, 1]
    span = max(float(y.max() - y.min()), 1e-6)
    shade = 0.65 + 0.35 * (y - y.min()) / span
    rgb = np.clip(np.asarray(app.rgb)[None] * shade[:, None], 0, 1)
    rgba = np.concatenate([rgb, np.ones((len(rgb), 1))], 1)
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=(rgba * 255).astype(np.uint8))


def export_glb(mesh: trimesh.Trimesh, app: Appearance) -> bytes:
    material = trimesh.visual.material.PBRMaterial(
        name="generated",
        baseColorFactor=[1.0, 1.0, 1.0, 1.0],  # colour lives in COLOR_0; the factor would multiply it
        metallicFactor=float(app.metallic),
        roughnessFactor=float(app.roughness),
        emissiveFactor=[c * app.emissive for c in app.rgb],
        doubleSided=False,
    )
    colors = cast(trimesh.visual.ColorVisuals, mesh.visual).vertex_colors  # colour_mesh() set it
    out = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    out.visual = trimesh.visual.TextureVisuals(material=material)
    out.visual = trimesh.visual.ColorVisuals(out, vertex_colors=colors)
    scene = trimesh.Scene()
    scene.add_geometry(out, geom_name="asset")
    data = trimesh.exchange.gltf.export_glb(scene, include_normals=True)
    return _with_material(data, material)


def _with_material(glb: bytes, material: trimesh.visual.material.PBRMaterial) -> bytes:
    """trimesh drops the material when vertex colours are used; patch it into the JSON chunk."""
    import struct

    magic, version, _ = struct.unpack_from("<III", glb, 0)
    jlen, jtype = struct.unpack_from("<II", glb, 12)
    doc = json.loads(glb[20 : 20 + jlen])
    rest = glb[20 + jlen :]
    mat: dict[str, object] = {
        "name": "generated",
        "pbrMetallicRoughness": {
            "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
            "metallicFactor": float(material.metallicFactor),
            "roughnessFactor": float(material.roughnessFactor),
        },
    }
    emissive = [float(c) for c in material.emissiveFactor]
    if any(c > 0 for c in emissive):
        mat["emissiveFactor"] = emissive
    doc["materials"] = [mat]
    for m in doc.get("meshes", []):
        for prim in m["primitives"]:
            prim["material"] = 0
    j = json.dumps(doc, separators=(",", ":")).encode()
    j += b" " * (-len(j) % 4)  # chunks are 4-byte aligned; JSON pads with spaces
    body = struct.pack("<II", len(j), jtype) + j + rest
    return struct.pack("<III", magic, version, 12 + len(body)) + body
