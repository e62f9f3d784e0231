"""The walking simulator the guide's policy is trained and evaluated in (pure numpy).

One walker on a world's navigation grid, a target cell, and people moving about as obstacles
(random walkers with momentum, some standing still). Each step the walker picks one of 8
moves or stays. What it sees (``observe``) is local and the same on every world: for each
move, the progress it makes along the geodesic distance field towards the target, whether
the move is blocked, and whether people are in or near that direction. Learning to follow
the field while giving people room is the policy's job; the field is what makes it work on
worlds it never saw.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from server.npc.grid import CELL_M, MOVE_LEN, MOVES, STAY, UNREACHABLE, NavGrid

N_FEATURES = 8 * 4 + 3
N_ACTIONS = 9

# Rewards (per step).
R_PROGRESS = 1.0  # per cell of geodesic distance gained
R_STEP = -0.05
R_BUMP = -0.5  # tried to walk into a wall or object
R_COLLIDE = -3.0  # moved into a person (or stayed while one walked into us is not our fault)
R_CROWD = -0.25  # ended the step next to a person (polite distance)
R_ARRIVE = 10.0
ARRIVE_CELLS = 1.5  # geodesic distance (cells) that counts as arrived


def observe(
    grid: NavGrid, dist: np.ndarray, c: tuple[int, int], people: set[tuple[int, int]], crowd: np.ndarray | None = None
) -> np.ndarray:
    """Features of walker cell ``c`` given the distance field and people's cells."""
    f = np.zeros(N_FEATURES, dtype=np.float32)
    here = float(dist[c])
    for k in range(8):
        di, dj = MOVES[k]
        n = (c[0] + di, c[1] + dj)
        if grid.step_ok(c, k):
            dn = float(dist[n])
            f[k] = max(-1.0, min(1.0, (here - dn) / MOVE_LEN[k])) if dn < UNREACHABLE else -1.0
        else:
            f[k] = -1.0
            f[8 + k] = 1.0
        f[16 + k] = 1.0 if n in people else 0.0
        n2 = (c[0] + 2 * di, c[1] + 2 * dj)
        near = sum(1 for q in ((n2[0], n2[1]), (n[0] + di, n[1]), (n[0], n[1] + dj)) if q in people)
        f[24 + k] = min(1.0, near / 2.0)
    f[32] = min(here, 40.0) / 40.0
    f[33] = 1.0 if here <= 3 else 0.0
    f[34] = 1.0 if c in people else 0.0
    return f


@dataclass
class Person:
    cell: tuple[int, int]
    heading: int
    still: bool


@dataclass
class WalkEnv:
    """One episode at a time: ``reset()`` then ``step(action)`` until done."""

    grid: NavGrid
    rng: random.Random
    n_people: int = 12
    min_dist_cells: float = 12.0
    cell: tuple[int, int] = (0, 0)
    target: tuple[int, int] = (0, 0)
    dist: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    people: list[Person] = field(default_factory=list)
    steps: int = 0
    max_steps: int = 0
    shortest: float = 0.0
    walked_m: float = 0.0
    collisions: int = 0
    _free: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._free = [(int(a), int(b)) for a, b in np.argwhere(self.grid.free)]

    def _random_free(self) -> tuple[int, int]:
        return self._free[self.rng.randrange(len(self._free))]

    def reset(self, start: tuple[int, int] | None = None, target: tuple[int, int] | None = None) -> np.ndarray:
        for _ in range(200):
            self.target = target or self._random_free()
            self.dist = self.grid.distance_field(self.target)
            self.cell = start or self._random_free()
            d = float(self.dist[self.cell])
            if (start is not None and target is not None) or self.min_dist_cells <= d < UNREACHABLE:
                break
        self.shortest = float(self.dist[self.cell])
        self.max_steps = int(3 * self.shortest + 30)
        self.steps = 0
        self.walked_m = 0.0
        self.collisions = 0
        self.people = []
        for _ in range(self.n_people):
            c = self._random_free()
            if c != self.cell:
                self.people.append(Person(c, self.rng.randrange(8), self.rng.random() < 0.3))
        return self.obs()

    def people_cells(self) -> set[tuple[int, int]]:
        return {p.cell for p in self.people}

    def obs(self) -> np.ndarray:
        return observe(self.grid, self.dist, self.cell, self.people_cells())

    def _move_people(self) -> None:
        for p in self.people:
            if p.still or self.rng.random() < 0.4:  # people walk slower than a guide
                continue
            if self.rng.random() < 0.2:
                p.heading = (p.heading + self.rng.choice((-1, 1, 2, -2))) % 8
            if self.grid.step_ok(p.cell, p.heading):
                p.cell = (p.cell[0] + MOVES[p.heading][0], p.cell[1] + MOVES[p.heading][1])
            else:
                p.heading = self.rng.randrange(8)

    def step(self, action: int) -> tuple[np.ndarray, float, bool, dict[str, float]]:
        self.steps += 1
        before = float(self.dist[self.cell])
        r = R_STEP
        moved = False
        if action != STAY:
            if self.grid.step_ok(self.cell, action):
                self.cell = (self.cell[0] + MOVES[action][0], self.cell[1] + MOVES[action][1])
                self.walked_m += MOVE_LEN[action] * CELL_M
                moved = True
            else:
                r += R_BUMP
        cells = self.people_cells()
        if moved and self.cell in cells:
            r += R_COLLIDE
            self.collisions += 1
        self._move_people()
        cells = self.people_cells()
        adjacent = any((self.cell[0] + a, self.cell[1] + b) in cells for a, b in MOVES)
        if adjacent:
            r += R_CROWD
        after = float(self.dist[self.cell])
        r += R_PROGRESS * (before - after)
        arrived = after <= ARRIVE_CELLS
        if arrived:
            r += R_ARRIVE
        done = arrived or self.steps >= self.max_steps
        return self.obs(), r, done, {"arrived": float(arrived)}


def random_world(rng: random.Random) -> NavGrid:
    """A procedurally generated room for training: random bounds, boxes, walls with gaps."""
    from server.npc.grid import Footprint

    w, d = rng.uniform(16, 50), rng.uniform(16, 50)
    prints: list[Footprint] = []
    for _ in range(rng.randrange(4, 18)):  # furniture, pillars, kiosks
        prints.append(
            Footprint(
                rng.uniform(-w / 2, w / 2), rng.uniform(-d / 2, d / 2),
                rng.uniform(0.2, 2.5), rng.uniform(0.2, 2.5), rng.uniform(0, math.pi),
            )
        )  # fmt: skip
    for _ in range(rng.randrange(0, 3)):  # a wall across the room with a door in it
        if rng.random() < 0.5:
            x = rng.uniform(-w / 3, w / 3)
            gap = rng.uniform(-d / 3, d / 3)
            prints.append(Footprint(x, (gap - 1.2 - d / 2) / 2, 0.15, (gap - 1.2 + d / 2) / 2, 0.0))
            prints.append(Footprint(x, (gap + 1.2 + d / 2) / 2, 0.15, (d / 2 - gap - 1.2) / 2, 0.0))
        else:
            z = rng.uniform(-d / 3, d / 3)
            gap = rng.uniform(-w / 3, w / 3)
            prints.append(Footprint((gap - 1.2 - w / 2) / 2, z, (gap - 1.2 + w / 2) / 2, 0.15, 0.0))
            prints.append(Footprint((gap + 1.2 + w / 2) / 2, z, (w / 2 - gap - 1.2) / 2, 0.15, 0.0))
    prints = [p for p in prints if p.hx > 0 and p.hz > 0]
    return NavGrid.build((-w / 2, -1, -d / 2), (w / 2, 10, d / 2), prints)
