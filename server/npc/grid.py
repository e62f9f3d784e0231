"""A navigation grid from a world file's geometry, geodesic distance fields and A*.

Cells are CELL_M wide on the ground plane (x, z). A cell is blocked when it lies outside the
world's bounds (less a margin) or inside the footprint of a solid object that stands in
walking height (its collider is not "none", it is not text, not grabbable, and its vertical
extent overlaps 0.1..1.8 m above the floor); footprints are oriented boxes (rotation about y),
grown by the walker's radius. Pure numpy: built once per world version.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CELL_M = 0.5
WALKER_RADIUS_M = 0.3
BODY_LOW_M, BODY_HIGH_M = 0.1, 1.8
# The 8 moves: (di, dj) in cell units, then "stay" as action 8.
MOVES = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
MOVE_LEN = tuple(math.hypot(a, b) for a, b in MOVES)
STAY = 8
UNREACHABLE = 1e9


def _yaw_of(q: tuple[float, float, float, float]) -> float:
    """Rotation about y of a quaternion (x, y, z, w), radians."""
    x, y, z, w = q
    return math.atan2(2 * (w * y + x * z), 1 - 2 * (y * y + x * x))


@dataclass(frozen=True, slots=True)
class Footprint:
    cx: float
    cz: float
    hx: float  # half extents in the object's own frame
    hz: float
    yaw: float


def footprints(description: dict[str, Any]) -> list[Footprint]:
    """Solid things at walking height, from a world's client description (docs/worlds.md)."""
    floor = max(float(description.get("bounds", {}).get("min", [0, 0, 0])[1]), 0.0)
    out: list[Footprint] = []
    for o in description.get("objects", []):
        if o.get("collider") == "none" or o.get("kind") == "text" or o.get("grabbable"):
            continue
        size, scale, pos = o.get("size", [1, 1, 1]), o.get("scale", [1, 1, 1]), o["position"]
        hx, hy, hz = (abs(size[i] * scale[i]) / 2 for i in range(3))
        lo, hi = pos[1] - hy - floor, pos[1] + hy - floor
        if hi < BODY_LOW_M or lo > BODY_HIGH_M:
            continue  # overhead (a lamp's bulb) or sunk into the floor
        q = o.get("rotation", [0, 0, 0, 1])
        out.append(Footprint(float(pos[0]), float(pos[2]), hx, hz, _yaw_of((q[0], q[1], q[2], q[3]))))
    return out


@dataclass
class NavGrid:
    origin: tuple[float, float]  # world (x, z) of cell (0, 0)'s corner
    free: np.ndarray  # (nx, nz) bool
    cell: float = CELL_M
    _fields: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @staticmethod
    def build(
        bounds_min: Iterable[float],
        bounds_max: Iterable[float],
        prints: list[Footprint],
        cell: float = CELL_M,
        radius: float = WALKER_RADIUS_M,
    ) -> NavGrid:
        lo, hi = list(bounds_min), list(bounds_max)
        nx = max(1, math.floor((hi[0] - lo[0]) / cell))
        nz = max(1, math.floor((hi[2] - lo[2]) / cell))
        xs = lo[0] + (np.arange(nx) + 0.5) * cell
        zs = lo[2] + (np.arange(nz) + 0.5) * cell
        gx, gz = np.meshgrid(xs, zs, indexing="ij")
        free = np.ones((nx, nz), dtype=bool)
        margin = radius + 0.2  # keep off the world's edge
        free &= (gx > lo[0] + margin) & (gx < hi[0] - margin) & (gz > lo[2] + margin) & (gz < hi[2] - margin)
        for f in prints:
            c, s = math.cos(f.yaw), math.sin(f.yaw)
            dx, dz = gx - f.cx, gz - f.cz
            # Into the object's frame (three.js: rotation about y by yaw maps local x to (cos, -sin)).
            lx = dx * c - dz * s
            lz = dx * s + dz * c
            free &= ~((np.abs(lx) <= f.hx + radius) & (np.abs(lz) <= f.hz + radius))
        return NavGrid((lo[0], lo[2]), free, cell)

    @staticmethod
    def from_description(description: dict[str, Any]) -> NavGrid:
        b = description["bounds"]
        return NavGrid.build(b["min"], b["max"], footprints(description))

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.free.shape[0]), int(self.free.shape[1]))

    def cell_of(self, x: float, z: float) -> tuple[int, int]:
        i = math.floor((x - self.origin[0]) / self.cell)
        j = math.floor((z - self.origin[1]) / self.cell)
        return (min(max(i, 0), self.shape[0] - 1), min(max(j, 0), self.shape[1] - 1))

    def center(self, c: tuple[int, int]) -> tuple[float, float]:
        return (self.origin[0] + (c[0] + 0.5) * self.cell, self.origin[1] + (c[1] + 0.5) * self.cell)

    def ok(self, c: tuple[int, int]) -> bool:
        return 0 <= c[0] < self.shape[0] and 0 <= c[1] < self.shape[1] and bool(self.free[c])

    def nearest_free(self, c: tuple[int, int]) -> tuple[int, int]:
        """The free cell closest to ``c`` (a target inside an object: walk up to it)."""
        if self.ok(c):
            return c
        idx = np.argwhere(self.free)
        if len(idx) == 0:
            return c
        d = ((idx - np.array(c)) ** 2).sum(axis=1)
        k = int(np.argmin(d))
        return (int(idx[k, 0]), int(idx[k, 1]))

    def step_ok(self, c: tuple[int, int], k: int) -> bool:
        """Move k from c stays on free cells (diagonals may not cut a blocked corner)."""
        di, dj = MOVES[k]
        n = (c[0] + di, c[1] + dj)
        if not self.ok(n):
            return False
        return not (di and dj) or (self.ok((c[0] + di, c[1])) and self.ok((c[0], c[1] + dj)))

    def distance_field(self, target: tuple[int, int]) -> np.ndarray:
        """Geodesic distance (cells) from every cell to ``target`` over free cells, 8-connected,
        by vectorised relaxation; cached per target (places are few and fixed)."""
        target = self.nearest_free(target)
        got = self._fields.get(target)
        if got is not None:
            return got
        nx, nz = self.shape
        d = np.full((nx + 2, nz + 2), UNREACHABLE)
        free = np.zeros((nx + 2, nz + 2), dtype=bool)
        free[1:-1, 1:-1] = self.free
        d[target[0] + 1, target[1] + 1] = 0.0
        # A diagonal needs both orthogonal neighbours free (same rule as step_ok).
        diag_ok = {}
        for di, dj in MOVES:
            if di and dj:
                a = np.roll(np.roll(free, -di, 0), 0, 1)
                b = np.roll(free, -dj, 1)
                diag_ok[(di, dj)] = a & b
        while True:
            prev = d
            d = d.copy()
            for (di, dj), ln in zip(MOVES, MOVE_LEN, strict=True):
                nb = np.roll(np.roll(prev, -di, 0), -dj, 1) + ln  # via the neighbour at (i+di, j+dj)
                if di and dj:
                    nb = np.where(diag_ok[(di, dj)], nb, UNREACHABLE)
                np.minimum(d, nb, out=d)
            d[~free] = UNREACHABLE
            d[target[0] + 1, target[1] + 1] = 0.0
            if np.array_equal(d, prev):
                break
        out = d[1:-1, 1:-1].copy()
        self._fields[target] = out
        return out

    def astar(self, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]] | None:
        """Shortest 8-connected path (cells, start and goal included), or None."""
        goal = self.nearest_free(goal)
        if not self.ok(start):
            return None

        def h(c: tuple[int, int]) -> float:
            a, b = abs(c[0] - goal[0]), abs(c[1] - goal[1])
            return max(a, b) + (math.sqrt(2) - 1) * min(a, b)

        open_: list[tuple[float, float, tuple[int, int]]] = [(h(start), 0.0, start)]
        came: dict[tuple[int, int], tuple[int, int]] = {}
        g = {start: 0.0}
        while open_:
            _, gc, c = heapq.heappop(open_)
            if c == goal:
                path = [c]
                while c in came:
                    c = came[c]
                    path.append(c)
                return path[::-1]
            if gc > g.get(c, UNREACHABLE):
                continue
            for k in range(8):
                if not self.step_ok(c, k):
                    continue
                n = (c[0] + MOVES[k][0], c[1] + MOVES[k][1])
                ng = gc + MOVE_LEN[k]
                if ng < g.get(n, UNREACHABLE):
                    g[n] = ng
                    came[n] = c
                    heapq.heappush(open_, (ng + h(n), ng, n))
        return None
