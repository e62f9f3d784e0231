"""A small software rasteriser (numpy + PIL) for contact sheets and view-based checks.

No GPU, no pyrender: each triangle is scan-converted over its bounding box with a z-buffer,
Lambert-shaded with one key light plus ambient, from a 3/4 view looking slightly down.
Good enough to see what an asset is; not a reference renderer (no textures, no shadows).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Mesh = tuple[np.ndarray, np.ndarray, tuple[float, float, float]]  # vertices, faces, rgb


def _view(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return rx @ ry


def render(meshes: list[Mesh], size: int = 192, yaw: float = 0.6, pitch: float = 0.35,
           background: tuple[int, int, int] = (236, 238, 242)) -> Image.Image:  # fmt: skip
    """Orthographic render of coloured meshes, framed to fit, with a ground line at y = 0."""
    r = _view(yaw, pitch)
    allv = np.concatenate([m[0] for m in meshes]) if meshes else np.zeros((1, 3))
    lo, hi = allv.min(0), allv.max(0)
    centre = (lo + hi) / 2
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    pc = (corners - centre) @ r.T
    span = float(max(pc[:, 0].max() - pc[:, 0].min(), pc[:, 1].max() - pc[:, 1].min(), 1e-6))
    scale = size * 0.86 / span
    img = np.zeros((size, size, 3), np.float32)
    img[:] = np.array(background, np.float32) / 255
    zbuf = np.full((size, size), np.inf, np.float32)
    light = np.array([0.45, 0.8, 0.4])
    light /= np.linalg.norm(light)
    for verts, faces, rgb in meshes:
        if len(faces) == 0:
            continue
        p = (verts - centre) @ r.T
        sx = p[:, 0] * scale + size / 2
        sy = -p[:, 1] * scale + size / 2
        sz = -p[:, 2]  # smaller is nearer
        tri = verts[faces]
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        shade = 0.35 + 0.65 * np.abs(n @ light)
        col = np.clip(np.asarray(rgb, np.float32)[None] * shade[:, None], 0, 1)
        x, y, z = sx[faces], sy[faces], sz[faces]
        for k in range(len(faces)):
            _raster(img, zbuf, x[k], y[k], z[k], col[k])
    out = Image.fromarray((img * 255).astype(np.uint8))
    return out


def _raster(img: np.ndarray, zbuf: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray, col: np.ndarray) -> None:
    h, w = zbuf.shape
    x0, x1 = max(int(np.floor(x.min())), 0), min(int(np.ceil(x.max())), w - 1)
    y0, y1 = max(int(np.floor(y.min())), 0), min(int(np.ceil(y.max())), h - 1)
    if x0 > x1 or y0 > y1:
        return
    den = (y[1] - y[2]) * (x[0] - x[2]) + (x[2] - x[1]) * (y[0] - y[2])
    if abs(den) < 1e-9:
        return
    gx, gy = np.meshgrid(np.arange(x0, x1 + 1) + 0.5, np.arange(y0, y1 + 1) + 0.5)
    a = ((y[1] - y[2]) * (gx - x[2]) + (x[2] - x[1]) * (gy - y[2])) / den
    b = ((y[2] - y[0]) * (gx - x[2]) + (x[0] - x[2]) * (gy - y[2])) / den
    c = 1 - a - b
    inside = (a >= 0) & (b >= 0) & (c >= 0)
    if not inside.any():
        return
    depth = a * z[0] + b * z[1] + c * z[2]
    zb = zbuf[y0 : y1 + 1, x0 : x1 + 1]
    win = inside & (depth < zb)
    zb[win] = depth[win]
    img[y0 : y1 + 1, x0 : x1 + 1][win] = col


def contact_sheet(tiles: list[tuple[Image.Image, str]], columns: int = 8) -> Image.Image:
    """Tiles with a caption under each, in a grid."""
    if not tiles:
        return Image.new("RGB", (10, 10), "white")
    tw, th = tiles[0][0].size
    cap = 30
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tw, rows * (th + cap)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (im, text) in enumerate(tiles):
        cx, cy = (i % columns) * tw, (i // columns) * (th + cap)
        sheet.paste(im, (cx, cy))
        lines = [text[:30], text[30:60]] if len(text) > 30 else [text]
        for j, line in enumerate(lines):
            draw.text((cx + 4, cy + th + 2 + 12 * j), line, fill=(20, 20, 20))
    return sheet
