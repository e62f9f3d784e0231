"""Guide NPCs in a running instance: pure, driven by the hub's tick (``now_ms`` in, chat out).

Each guide is an avatar entity of the instance (``WorldInstance.add_npc``), visible to
everyone with its name tag. It greets people who join, walks someone to a place they asked
for ("@plaza show me the gallery portal" / "@nova ..."), waits when they fall behind, says
so on arrival, and walks home after ``idle_return_s`` of idling. Where to step next is the
trained policy's decision (server/npc/policy.py) each time it reaches a cell centre, from
the geodesic distance field to its goal and the cells people stand in.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from server.codec import packb
from server.npc.grid import CELL_M, MOVES, STAY, NavGrid
from server.npc.policy import CHECKPOINT, WalkPolicy
from server.npc.sim import ARRIVE_CELLS, observe
from server.protocol import MsgType

if TYPE_CHECKING:
    from server.commands.core import PlaceRef
    from server.world import WorldInstance

log = logging.getLogger("plaza.npc")

WALK_M_S = 1.4
EYE_M = 1.6
FOLLOW_GAP_M = 6.0  # the guide waits while the person it leads is farther than this
WAIT_SAY_S = 8.0
GREET_AGAIN_S = 600.0  # someone who comes back within this is not greeted twice

Emit = Callable[[int, bytes], None]


def avatar_pose(x: float, y: float, z: float, yaw: float) -> np.ndarray:
    """Head at eye height, hands at the sides, facing ``yaw`` (radians; 0 faces -z)."""
    h = yaw / 2
    q = (0.0, math.sin(h), 0.0, math.cos(h))
    fx, fz = -math.sin(yaw), -math.cos(yaw)
    rx, rz = math.cos(yaw), -math.sin(yaw)
    head = (x, y + EYE_M, z, *q)
    left = (x - 0.3 * rx + 0.1 * fx, y + 1.0, z - 0.3 * rz + 0.1 * fz, *q)
    right = (x + 0.3 * rx + 0.1 * fx, y + 1.0, z + 0.3 * rz + 0.1 * fz, *q)
    return np.array([*head, *left, *right], dtype=np.float64)


@dataclass
class Npc:
    cfg: dict[str, Any]  # the world file's [[npcs]] entry (WorldConfig.to_client()["npcs"])
    eid: int
    x: float
    y: float
    z: float
    yaw: float
    state: str = "idle"  # idle | guide | return
    goal: tuple[int, int] | None = None
    place: str = ""
    follower: int = 0  # sid of the person led
    follower_name: str = ""
    next_cell: tuple[int, int] | None = None
    idle_since_ms: int = 0
    said_wait_ms: int = -1_000_000
    pause_ms: int = 0  # after a "stay" decision
    walked_m: float = 0.0

    @property
    def name(self) -> str:
        return str(self.cfg["name"])

    def line(self, key: str, **kw: str) -> str:
        text = str(self.cfg.get("lines", {}).get(key, ""))
        try:
            return text.format(npc=self.name, **kw)
        except (KeyError, IndexError, ValueError):
            return text  # a world file's stray brace must not break the guide


@dataclass
class NpcManager:
    inst: WorldInstance
    grid: NavGrid
    policy: WalkPolicy
    emit: Emit
    npcs: list[Npc] = field(default_factory=list)
    greeted: dict[str, int] = field(default_factory=dict)  # name -> when greeted (ms)
    decisions: int = 0

    @staticmethod
    def create(inst: WorldInstance, grid: NavGrid, policy: WalkPolicy, emit: Emit) -> NpcManager:
        mgr = NpcManager(inst, grid, policy, emit)
        configs: list[dict[str, Any]] = list(inst.spec.description.get("npcs") or [])  # type: ignore[call-overload]
        for cfg in configs:
            x, y, z = (float(v) for v in cfg["home"])
            yaw = math.radians(float(cfg.get("yaw_deg", 0.0)))
            info = {"name": cfg["name"], "color": cfg.get("color", "#ffd27a"), "npc": True}
            eid = inst.add_npc(info, avatar_pose(x, y, z, yaw))
            mgr.npcs.append(Npc(cfg, eid, x, y, z, yaw))
        return mgr

    def names(self) -> list[str]:
        return [n.name for n in self.npcs]

    def close(self) -> None:
        for n in self.npcs:
            self.inst.remove_npc(n.eid)
        self.npcs.clear()

    # ----- speech ------------------------------------------------------------------------
    def say(self, npc: Npc, text: str, now_ms: int, to: int) -> None:
        """A chat line from the guide to the one person it talks to: a busy lobby must not
        hear every greeting (others see it walk)."""
        if text and to in self.inst.members:
            self.emit(to, packb([MsgType.CHAT_MSG, npc.eid, npc.name, text[:500], now_ms]))

    def joined(self, sid: int, name: str, now_ms: int) -> None:
        if not self.npcs or now_ms - self.greeted.get(name.casefold(), -(10**12)) < GREET_AGAIN_S * 1000:
            return
        self.greeted[name.casefold()] = now_ms
        if len(self.greeted) > 10_000:  # bounded: forget the oldest greetings
            for k in sorted(self.greeted, key=self.greeted.__getitem__)[:5000]:
                del self.greeted[k]
        npc = min(self.npcs, key=lambda n: n.state != "idle")
        self.say(npc, npc.line("greet", name=name), now_ms, sid)

    # ----- requests ------------------------------------------------------------------------
    def prepare(self, position: tuple[float, float, float]) -> None:
        """Compute the distance fields a walk to ``position`` needs (there and back home);
        meant for a worker thread, so the tick never waits for one (~10-100 ms each)."""
        self.grid.distance_field(self.grid.cell_of(position[0], position[2]))
        for n in self.npcs:
            self.grid.distance_field(self.grid.cell_of(float(n.cfg["home"][0]), float(n.cfg["home"][2])))

    def guide(self, sid: int, place: PlaceRef, now_ms: int) -> bool:
        """Walk the person ``sid`` to ``place``: False when there is no guide here."""
        m = self.inst.members.get(sid)
        if not self.npcs or m is None:
            return False
        free = [n for n in self.npcs if n.state != "guide" or n.follower == sid]
        if not free:
            free = self.npcs  # everyone busy: the nearest one takes the new request
        hx, _, hz = self.inst.last_head(sid)
        npc = min(free, key=lambda n: math.hypot(n.x - hx, n.z - hz))
        npc.state, npc.place, npc.follower, npc.follower_name = "guide", place.name, sid, m.name
        npc.goal = self.grid.nearest_free(self.grid.cell_of(place.position[0], place.position[2]))
        npc.said_wait_ms = now_ms
        self.say(npc, npc.line("follow", name=m.name, place=place.name), now_ms, sid)
        return True

    # ----- the tick ------------------------------------------------------------------------
    def _people_cells(self) -> set[tuple[int, int]]:
        inst = self.inst
        if not inst.members:
            return set()
        slots = np.fromiter((m.slot for m in inst.members.values()), dtype=np.int64)
        xz = inst.pose[slots][:, [0, 2]]
        ij = np.floor((xz - np.array(self.grid.origin)) / self.grid.cell).astype(np.int64)
        return {(int(a), int(b)) for a, b in ij.tolist()}

    def _home(self, n: Npc) -> tuple[int, int]:
        h = n.cfg["home"]
        return self.grid.nearest_free(self.grid.cell_of(float(h[0]), float(h[2])))

    def step(self, now_ms: int, dt: float) -> None:
        people: set[tuple[int, int]] | None = None
        for n in self.npcs:
            if n.state == "idle":
                away = math.hypot(n.x - float(n.cfg["home"][0]), n.z - float(n.cfg["home"][2])) > 1.0
                if away and now_ms - n.idle_since_ms > float(n.cfg.get("idle_return_s", 30.0)) * 1000:
                    n.state, n.goal = "return", self._home(n)
                else:
                    continue
            if n.state == "guide":
                m = self.inst.members.get(n.follower)
                if m is None:  # they left: stop here
                    n.state, n.idle_since_ms, n.next_cell = "idle", now_ms, None
                    continue
                hx, _, hz = self.inst.last_head(n.follower)
                if math.hypot(n.x - hx, n.z - hz) > FOLLOW_GAP_M and n.next_cell is None:
                    if now_ms - n.said_wait_ms > WAIT_SAY_S * 1000:
                        n.said_wait_ms = now_ms
                        self.say(n, n.line("wait", name=n.follower_name), now_ms, n.follower)
                    continue
            if n.next_cell is None:
                if now_ms < n.pause_ms:
                    continue
                if n.goal is None:
                    n.state = "idle"
                    continue
                dist = self.grid.distance_field(n.goal)
                cell = self.grid.cell_of(n.x, n.z)
                if dist[cell] <= ARRIVE_CELLS + 1:
                    self._arrive(n, now_ms)
                    continue
                if people is None:
                    people = self._people_cells()
                a = self.policy.act(observe(self.grid, dist, cell, people))
                self.decisions += 1
                if a == STAY:
                    n.pause_ms = now_ms + 300
                    continue
                n.next_cell = (cell[0] + MOVES[a][0], cell[1] + MOVES[a][1])
            self._walk(n, dt, now_ms)

    def _walk(self, n: Npc, dt: float, now_ms: int) -> None:
        assert n.next_cell is not None
        tx, tz = self.grid.center(n.next_cell)
        dx, dz = tx - n.x, tz - n.z
        d = math.hypot(dx, dz)
        step = WALK_M_S * dt
        if d <= step:
            n.x, n.z, n.next_cell = tx, tz, None
            n.walked_m += d
        else:
            n.x += dx / d * step
            n.z += dz / d * step
            n.walked_m += step
        if d > 1e-6:
            n.yaw = math.atan2(-dx, -dz)
        self.inst.move_npc(n.eid, avatar_pose(n.x, n.y, n.z, n.yaw), now_ms)

    def _arrive(self, n: Npc, now_ms: int) -> None:
        if n.state == "guide":
            self.say(n, n.line("arrive", name=n.follower_name, place=n.place), now_ms, n.follower)
        n.state, n.goal, n.idle_since_ms, n.follower = "idle", None, now_ms, 0


class NpcRegistry:
    """The hub's guides: one manager per instance whose world file has ``[[npcs]]``."""

    def __init__(self, emit: Emit, policy_path: Any = CHECKPOINT) -> None:
        self._emit = emit
        self._policy_path = policy_path
        self._policy: WalkPolicy | None = None
        self._grids: dict[str, tuple[int, NavGrid]] = {}  # world -> (id of its description, grid)
        self.managers: dict[str, NpcManager] = {}  # instance key -> manager

    def attach(self, inst: WorldInstance) -> None:
        if not inst.spec.description.get("npcs"):
            return
        try:
            if self._policy is None:
                self._policy = WalkPolicy.load(self._policy_path)
            desc = inst.spec.description
            got = self._grids.get(inst.spec.id)
            if got is None or got[0] != id(desc):
                got = (id(desc), NavGrid.from_description(desc))
                self._grids[inst.spec.id] = got
            self.managers[inst.key] = NpcManager.create(inst, got[1], self._policy, self._emit)
        except Exception:
            # A missing checkpoint or a broken file must cost the guides, not the world.
            log.exception("guides of %s not placed", inst.key)

    def detach(self, key: str) -> None:
        mgr = self.managers.pop(key, None)
        if mgr is not None:
            mgr.close()

    def get(self, key: str) -> NpcManager | None:
        return self.managers.get(key)

    def joined(self, inst: WorldInstance, sid: int, name: str, now_ms: int) -> None:
        mgr = self.managers.get(inst.key)
        if mgr is not None:
            mgr.joined(sid, name, now_ms)

    def step(self, inst: WorldInstance, now_ms: int) -> None:
        mgr = self.managers.get(inst.key)
        if mgr is not None:
            mgr.step(now_ms, 1.0 / inst.spec.tick_rate)


__all__ = ["CELL_M", "NpcManager", "NpcRegistry", "avatar_pose"]
