"""One running instance of a world: the pure, deterministic simulation core.

No asyncio, sockets or clocks here: the caller passes ``now_ms`` in, calls ``tick()`` at the
world's rate and collects the bytes each client must receive. Entity state lives in numpy
arrays indexed by *slot*; clients' knowledge of entities is one matrix ``sent[viewer, slot]``
(the tick at which the viewer last received that entity, -1 = not known), which is what
makes delta encoding, reduced far rates and skipped ticks for slow clients consistent:
a viewer gets a delta only when its copy equals the previous tick's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from server.codec import array_header, packb, quantize_positions, quantize_rotations
from server.errors import ProtocolError
from server.interest import InterestSet, InterestSettings, compute_interest
from server.messages import Pose7, PoseInput, Vec3
from server.protocol import (
    ABSOLUTE,
    AVATAR_ACCESSORIES,
    AVATAR_ALL,
    AVATAR_LOOKS,
    GRAB_REACH_M,
    HOLD_REACH_M,
    MAX_CHAT_CHARS,
    MAX_HAND_REACH_M,
    MAX_SPEED_M_S,
    OBJECT_ALL,
    REACT_MIN_INTERVAL_MS,
    EntityKind,
    ErrorCode,
    MsgType,
    Presence,
)

# Column layout of the state arrays. Avatars: head p q, left p q, right p q (21 floats);
# objects use the first 7 columns. Quantized rows add a 22nd column: the avatar's pose
# timestamp, or for objects column 7 holds the holder's entity id.
N_POSE = 21
N_Q = 22
_POS_COLS = np.array([0, 1, 2, 7, 8, 9, 14, 15, 16])
_ROT_BLOCKS = ((3, 7), (10, 14), (17, 21))
# (mask bit, first column, count) in bit order; the wire order of values follows this.
AVATAR_GROUPS = ((1, 0, 3), (2, 3, 4), (4, 7, 3), (8, 10, 4), (16, 14, 3), (32, 17, 4), (64, 21, 1))
OBJECT_GROUPS = ((1, 0, 3), (2, 3, 4), (4, 7, 1))

_OBJECT = int(EntityKind.OBJECT)
_AVATAR_FULL = AVATAR_ALL
_OBJECT_FULL = OBJECT_ALL
_N_VALUES = {int(EntityKind.AVATAR): 22, _OBJECT: 8}  # values of a full update, in column order

GRAVITY = 9.81
MAX_THROW_SPEED = 20.0
MAX_FLIGHT_MS = 10_000
TELEPORT_SNAP_M = 1.5  # after an approved teleport, the next head pose must land this close
EYE_HEIGHT_M = 1.6

Emit = Callable[[int, bytes], None]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    id: str
    position: Vec3
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    scale: Vec3 = (1.0, 1.0, 1.0)
    grabbable: bool = False
    always_visible: bool = False


@dataclass(frozen=True, slots=True)
class SpawnPoint:
    name: str
    position: Vec3
    yaw_deg: float = 0.0


@dataclass(frozen=True, slots=True)
class WorldSpec:
    """What the core needs from a world file (server.worldconfig builds these)."""

    id: str
    name: str
    bounds_min: Vec3
    bounds_max: Vec3
    spawns: tuple[SpawnPoint, ...]
    objects: tuple[ObjectSpec, ...] = ()
    capacity: int = 24
    tick_rate: int = 20
    description: dict[str, object] = field(default_factory=dict)  # static content for clients

    def spawn(self, name: str | None) -> SpawnPoint:
        for s in self.spawns:
            if s.name == name:
                return s
        return self.spawns[0]


@dataclass(slots=True)
class Member:
    """A session inside this instance."""

    sid: int
    eid: int
    slot: int
    row: int  # viewer row in the ``sent`` matrix
    name: str
    color: str
    avatar: dict[str, str] = field(default_factory=dict)  # {"look", "accessory"}, as ENTER and roster carry it
    allowance_m: float = MAX_SPEED_M_S
    last_pose_ms: int = 0
    teleport_to: Vec3 | None = None
    held: set[int] = field(default_factory=set)


def _within_reach(hand: Pose7, head: Pose7) -> Pose7:
    """``hand``, moved along the line from the head to at most MAX_HAND_REACH_M from it."""
    reach = math.dist(hand[:3], head[:3])
    if reach <= MAX_HAND_REACH_M:
        return hand
    k = MAX_HAND_REACH_M / reach
    return (
        head[0] + (hand[0] - head[0]) * k,
        head[1] + (hand[1] - head[1]) * k,
        head[2] + (hand[2] - head[2]) * k,
        *hand[3:],
    )


def _yaw_quat(yaw_deg: float) -> tuple[float, float, float, float]:
    h = math.radians(yaw_deg) / 2
    return (0.0, math.sin(h), 0.0, math.cos(h))


class WorldInstance:
    def __init__(
        self,
        spec: WorldSpec,
        index: int,
        emit: Emit,
        saved_objects: dict[str, Pose7] | None = None,
        interest: InterestSettings | None = None,
        interest_every: int = 4,
    ) -> None:
        self.spec = spec
        self.index = index
        self.key = f"{spec.id}#{index}"
        self._emit = emit
        self.interest = interest or InterestSettings()
        self.interest_every = interest_every
        self.tick_no = 0
        self._next_eid = 1
        cap = 64
        self.kind = np.full(cap, -1, dtype=np.int8)
        self.eid = np.zeros(cap, dtype=np.int64)
        self.pose = np.zeros((cap, N_POSE), dtype=np.float64)
        self.ts = np.zeros(cap, dtype=np.int64)
        self.holder = np.zeros(cap, dtype=np.int64)
        self.q = np.zeros((cap, N_Q), dtype=np.int64)
        self.last_change = np.full(cap, -1, dtype=np.int64)
        self.always_visible = np.zeros(cap, dtype=bool)
        self.sent = np.full((8, cap), -1, dtype=np.int64)
        self._free_rows = list(range(7, -1, -1))
        self._info: dict[int, dict[str, object]] = {}  # slot -> static info for ENTER
        self._last_react: dict[int, int] = {}  # sid -> when its last REACT was shown (ms)
        self.slot_of: dict[int, int] = {}  # eid -> slot
        self.members: dict[int, Member] = {}  # sid -> member
        self.roster_version = 0  # bumped on every join and leave: who-is-where copies compare it
        self.opened_ms: int | None = None  # when its first person joined (server ms)
        self._pending_leaves: dict[int, list[int]] = {}  # viewer row -> eids
        self._interest: dict[int, InterestSet] = {}  # sid -> last interest sets
        self._interest_stale = True
        # Objects: spec index by eid, flight state, which ones must be persisted.
        self.object_ids: dict[str, int] = {}  # object id -> eid
        self._object_spec: dict[int, ObjectSpec] = {}  # eid -> spec
        self._flight: dict[int, np.ndarray] = {}  # eid -> velocity (3,)
        self._flight_ms: dict[int, int] = {}
        self.dirty_objects: set[str] = set()
        self._spawned: set[str] = set()  # ids of objects made at run time (not from the world file)
        self._mirrors: dict[str, int] = {}  # performer key -> stand-in avatar slot
        self.readonly: frozenset[str] = frozenset()  # spotlit objects mirrored from another instance
        self._npc_slots: set[int] = set()  # server-driven avatars (server/npc), always visible
        saved = saved_objects or {}
        for obj in spec.objects:
            self._add_object(obj, saved.get(obj.id))

    # ----- entity slots -------------------------------------------------------------
    def _grow(self) -> None:
        old = len(self.kind)
        new = old * 2

        def grow(a: np.ndarray, fill: float | int | bool) -> np.ndarray:
            b = np.full((new, *a.shape[1:]), fill, dtype=a.dtype)
            b[:old] = a
            return b

        self.kind = grow(self.kind, -1)
        self.eid = grow(self.eid, 0)
        self.pose = grow(self.pose, 0.0)
        self.ts = grow(self.ts, 0)
        self.holder = grow(self.holder, 0)
        self.q = grow(self.q, 0)
        self.last_change = grow(self.last_change, -1)
        self.always_visible = grow(self.always_visible, False)
        sent = np.full((self.sent.shape[0], new), -1, dtype=np.int64)
        sent[:, :old] = self.sent
        self.sent = sent

    def _alloc_slot(self, kind: EntityKind) -> tuple[int, int]:
        free = np.nonzero(self.kind < 0)[0]
        if len(free) == 0:
            self._grow()
            free = np.nonzero(self.kind < 0)[0]
        slot = int(free[0])
        eid = self._next_eid
        self._next_eid += 1
        self.kind[slot] = kind
        self.eid[slot] = eid
        self.slot_of[eid] = slot
        self.sent[:, slot] = -1
        self._interest_stale = True  # cached interest sets name slots, not entities
        return slot, eid

    def _free_slot(self, slot: int) -> None:
        eid = int(self.eid[slot])
        # Every viewer that knows this entity must be told it left.
        for row in np.nonzero(self.sent[:, slot] >= 0)[0]:
            self._pending_leaves.setdefault(int(row), []).append(eid)
        self.sent[:, slot] = -1
        self.kind[slot] = -1
        self.always_visible[slot] = False
        self.slot_of.pop(eid, None)
        self._info.pop(slot, None)
        self._interest_stale = True

    def _requantize(self, slot: int) -> None:
        """Quantize one slot now (new entities start in sync with their first state)."""
        self.q[slot] = self._quantize(np.array([slot]))[0]
        self.last_change[slot] = self.tick_no

    def _add_object(self, obj: ObjectSpec, saved: Pose7 | None) -> None:
        slot, eid = self._alloc_slot(EntityKind.OBJECT)
        pose = saved if saved is not None else (*obj.position, *obj.rotation)
        self.pose[slot] = 0.0
        self.pose[slot, :7] = pose
        self.holder[slot] = 0
        self.always_visible[slot] = obj.always_visible
        self.object_ids[obj.id] = eid
        self._object_spec[eid] = obj
        self._info[slot] = {"oid": obj.id}
        self._requantize(slot)

    def spawn_object(self, obj: ObjectSpec, info: dict[str, object], saved: Pose7 | None = None) -> int:
        """A new shared object at run time (a generated asset): everyone in view gets an enter
        carrying ``info`` (e.g. the model URL), since it is not in the world file.  ``saved`` is
        where it was left, when it comes back after a restart."""
        self._add_object(obj, saved)
        self._spawned.add(obj.id)
        eid = self.object_ids[obj.id]
        self._info[self.slot_of[eid]].update(info)
        return eid

    def remove_object(self, eid: int) -> None:
        slot = self.slot_of.get(eid)
        obj = self._object_spec.pop(eid, None)
        if slot is None or obj is None:
            return
        holder = int(self.holder[slot])
        for m in self.members.values():
            if m.eid == holder:
                m.held.discard(eid)
        self._flight.pop(eid, None)
        self._flight_ms.pop(eid, None)
        self.object_ids.pop(obj.id, None)
        self._spawned.discard(obj.id)
        self._free_slot(slot)

    def apply_spec(self, spec: WorldSpec, changed: set[str]) -> None:
        """Live reload: take a new version of the world file.

        Objects the author added appear, removed ones disappear, ``changed`` ones go back to
        their new authored pose; every other object keeps the state people gave it.
        """
        new = {o.id: o for o in spec.objects}
        # objects people made at run time are not the file's to remove
        authored = [o for o in self.object_ids if o not in self._spawned]
        for oid in [o for o in authored if o not in new or o in changed]:
            self.remove_object(self.object_ids[oid])
        self.spec = spec
        for oid, obj in new.items():
            eid = self.object_ids.get(oid)
            if eid is None:
                self._add_object(obj, None)
            else:
                self._object_spec[eid] = obj
                self.always_visible[self.slot_of[eid]] = obj.always_visible
        msg = packb([MsgType.WORLD_UPDATE, spec.description, self.object_ids])
        for m in self.members.values():
            self._emit(m.sid, msg)

    # ----- the spotlit stage -----------------------------------------------------------------
    def info_of(self, slot: int) -> dict[str, object]:
        return self._info.get(slot, {})

    def set_stage(
        self,
        oids: frozenset[str],
        own_slots: frozenset[int],
        mirrors: dict[str, tuple[np.ndarray, int, dict[str, object]]],
        source: WorldInstance | None = None,
    ) -> None:
        """Spotlight: these objects and avatars are visible to everyone regardless of distance.

        ``mirrors`` are performers who stand in another instance of this world: each gets a
        read-only stand-in avatar here that follows them. With a ``source`` instance, the
        spotlit objects copy their pose from it and cannot be grabbed here.
        """
        self.always_visible[:] = False
        for eid, obj in self._object_spec.items():
            slot = self.slot_of.get(eid)
            if slot is not None:
                self.always_visible[slot] = obj.always_visible or obj.id in oids
        for slot in own_slots | self._npc_slots:
            self.always_visible[slot] = True
        for key in [k for k in self._mirrors if k not in mirrors]:
            self._free_slot(self._mirrors.pop(key))
        for key, (pose, ts, info) in mirrors.items():
            slot = self._mirrors.get(key)
            if slot is None:
                slot, _ = self._alloc_slot(EntityKind.AVATAR)
                self._mirrors[key] = slot
                self._info[slot] = {**info, "mirror": True}
                self.pose[slot] = pose
                self._requantize(slot)
            self.pose[slot] = pose
            self.ts[slot] = ts
            self.always_visible[slot] = True
        self.readonly = frozenset()
        if source is not None and source is not self:
            self.readonly = oids
            for oid in oids:
                here, there = self.object_ids.get(oid), source.object_ids.get(oid)
                if here is not None and there is not None:
                    self.pose[self.slot_of[here], :7] = source.pose[source.slot_of[there], :7]
                    self.holder[self.slot_of[here]] = 0

    # ----- server-driven avatars (guide NPCs, server/npc) ----------------------------------
    def add_npc(self, info: dict[str, object], pose: np.ndarray) -> int:
        """An avatar the server moves: entered to every viewer like a person (always visible,
        ``info`` carries its name and ``"npc": true``), but no member: no session, no roster."""
        slot, eid = self._alloc_slot(EntityKind.AVATAR)
        self._info[slot] = dict(info)
        self.pose[slot] = pose
        self.ts[slot] = 0
        self.always_visible[slot] = True
        self._npc_slots.add(slot)
        self._requantize(slot)
        return eid

    def move_npc(self, eid: int, pose: np.ndarray, ts: int) -> None:
        slot = self.slot_of[eid]
        self.pose[slot] = pose
        self.ts[slot] = ts & 0xFFFFFFFF

    def remove_npc(self, eid: int) -> None:
        slot = self.slot_of.get(eid)
        if slot is not None and slot in self._npc_slots:
            self._npc_slots.discard(slot)
            self._free_slot(slot)

    def mirror_eid(self, key: str) -> int:
        """Entity id of the stand-in here of performer ``key`` (another instance); 0 if none."""
        slot = self._mirrors.get(key)
        return int(self.eid[slot]) if slot is not None else 0

    # ----- membership ---------------------------------------------------------------
    @property
    def population(self) -> int:
        return len(self.members)

    @property
    def idle(self) -> bool:
        """Nobody here and nothing in flight: ticking would change nothing."""
        return not self.members and not self._flight

    def has_room(self) -> bool:
        return len(self.members) < self.spec.capacity

    def join(
        self,
        sid: int,
        name: str,
        color: str,
        now_ms: int,
        spawn: str | None = None,
        avatar: tuple[str, str] = (AVATAR_LOOKS[0], AVATAR_ACCESSORIES[0]),
    ) -> Member:
        sp = self.spec.spawn(spawn)
        slot, eid = self._alloc_slot(EntityKind.AVATAR)
        if not self._free_rows:
            rows = self.sent.shape[0]
            extra = np.full((rows, self.sent.shape[1]), -1, dtype=np.int64)
            self.sent = np.vstack([self.sent, extra])
            self._free_rows = list(range(2 * rows - 1, rows - 1, -1))
        row = self._free_rows.pop()
        self.sent[row, :] = -1
        self._pending_leaves.pop(row, None)
        x, y, z = sp.position
        yq = _yaw_quat(sp.yaw_deg)
        yaw = math.radians(sp.yaw_deg)
        # Hands in front of the body, rotated with the spawn's yaw.
        fx, fz = -math.sin(yaw), -math.cos(yaw)
        rx, rz = math.cos(yaw), -math.sin(yaw)
        head = (x, y + EYE_HEIGHT_M, z, *yq)
        left = (x - 0.25 * rx + 0.3 * fx, y + 1.2, z - 0.25 * rz + 0.3 * fz, *yq)
        right = (x + 0.25 * rx + 0.3 * fx, y + 1.2, z + 0.25 * rz + 0.3 * fz, *yq)
        self.pose[slot] = (*head, *left, *right)
        self.ts[slot] = 0
        look = {"look": avatar[0], "accessory": avatar[1]}
        self._info[slot] = {"name": name, "color": color, "avatar": look}
        self._requantize(slot)
        m = Member(sid=sid, eid=eid, slot=slot, row=row, name=name, color=color, avatar=look, last_pose_ms=now_ms)
        for other in self.members.values():
            self._emit(other.sid, packb([MsgType.PRESENCE, Presence.JOINED, eid, name]))
        self.members[sid] = m
        self.roster_version += 1
        return m

    def roster(self) -> list[list[object]]:
        return [[m.eid, m.name, m.color, m.avatar] for m in self.members.values()]

    def leave(self, sid: int) -> None:
        m = self.members.pop(sid, None)
        self._last_react.pop(sid, None)
        if m is None:
            return
        self.roster_version += 1
        for oeid in list(m.held):
            slot = self.slot_of.get(oeid)
            if slot is not None:
                self.holder[slot] = 0
                self.dirty_objects.add(self._object_spec[oeid].id)
        self._free_slot(m.slot)
        self.sent[m.row, :] = -1
        self._pending_leaves.pop(m.row, None)
        self._interest.pop(sid, None)
        self._free_rows.append(m.row)
        for other in self.members.values():
            self._emit(other.sid, packb([MsgType.PRESENCE, Presence.LEFT, m.eid, m.name]))

    # ----- inputs (validated, then applied immediately; encoded at the next tick) ---------
    def _inside(self, p: tuple[float, ...]) -> bool:
        lo, hi = self.spec.bounds_min, self.spec.bounds_max
        return all(lo[i] <= p[i] <= hi[i] for i in range(3))

    def _bounds_text(self) -> str:
        lo, hi = self.spec.bounds_min, self.spec.bounds_max
        return f"bounds are x {lo[0]}..{hi[0]}, y {lo[1]}..{hi[1]}, z {lo[2]}..{hi[2]} m"

    def apply_pose(self, sid: int, msg: PoseInput, now_ms: int) -> None:
        m = self.members[sid]
        t = int(MsgType.POSE)
        head = msg.head
        if not self._inside(head):
            raise ProtocolError(
                ErrorCode.OUT_OF_BOUNDS,
                f"pose.head ({head[0]:.2f}, {head[1]:.2f}, {head[2]:.2f}) is outside the world: " + self._bounds_text(),
                t,
            )
        # Hand tracking glitches (a lost controller reported metres away) for seconds at a time;
        # that is not hostile: the hand is pulled in to the reach limit and the pose stands.
        left, right = _within_reach(msg.left, head), _within_reach(msg.right, head)
        cur = self.pose[m.slot]
        moved = math.dist(head[:3], (cur[0], cur[1], cur[2]))
        # Leaky bucket of distance: tolerant of network jitter, strict over a second.
        dt_s = max(0, now_ms - m.last_pose_ms) / 1000.0
        allowance = min(m.allowance_m + MAX_SPEED_M_S * dt_s, MAX_SPEED_M_S * 1.0 + 0.5)
        tp = m.teleport_to
        if tp is not None and math.hypot(head[0] - tp[0], head[2] - tp[2]) <= TELEPORT_SNAP_M:
            allowance = MAX_SPEED_M_S
            moved = 0.0
            m.teleport_to = None
        elif moved > allowance:
            m.last_pose_ms = now_ms
            m.allowance_m = allowance
            # Reconcile rather than strand the client: tell it where the server has it.
            back = (float(cur[0]), float(cur[1]) - EYE_HEIGHT_M, float(cur[2]))
            m.teleport_to = back
            self._emit(sid, packb([MsgType.TELEPORTED, list(back)]))
            raise ProtocolError(
                ErrorCode.TOO_FAST,
                f"head moved {moved:.2f} m but only {allowance:.2f} m is allowed now "
                f"(max {MAX_SPEED_M_S} m/s); teleport with TELEPORT first",
                t,
            )
        m.allowance_m = allowance - moved
        m.last_pose_ms = now_ms
        self.pose[m.slot] = (*head, *left, *right)
        self.ts[m.slot] = msg.ts

    def last_head(self, sid: int) -> Vec3:
        p = self.pose[self.members[sid].slot]
        return (float(p[0]), float(p[1]), float(p[2]))

    def teleport(self, sid: int, target: Vec3) -> None:
        m = self.members[sid]
        head_target = (target[0], target[1] + EYE_HEIGHT_M * 0.5, target[2])
        if not (self._inside(target) and self._inside(head_target)):
            raise ProtocolError(
                ErrorCode.OUT_OF_BOUNDS,
                f"teleport target ({target[0]:.2f}, {target[1]:.2f}, {target[2]:.2f}) is outside"
                " the world: " + self._bounds_text(),
                int(MsgType.TELEPORT),
            )
        m.teleport_to = target
        self._emit(sid, packb([MsgType.TELEPORTED, list(target)]))

    def _object_slot(self, eid: int, t: int) -> int:
        slot = self.slot_of.get(eid)
        if slot is None or self.kind[slot] != EntityKind.OBJECT:
            raise ProtocolError(ErrorCode.UNKNOWN_OBJECT, f"no object with entity id {eid}", t)
        return slot

    def grab(self, sid: int, eid: int) -> None:
        m = self.members[sid]
        t = int(MsgType.GRAB)
        slot = self._object_slot(eid, t)
        if not self._object_spec[eid].grabbable:
            self._emit(sid, packb([MsgType.GRAB_RESULT, eid, False, ErrorCode.NOT_GRABBABLE]))
            return
        if self._object_spec[eid].id in self.readonly:
            self._emit(sid, packb([MsgType.GRAB_RESULT, eid, False, ErrorCode.FORBIDDEN]))
            return
        holder = int(self.holder[slot])
        if holder not in (0, m.eid):
            self._emit(sid, packb([MsgType.GRAB_RESULT, eid, False, ErrorCode.HELD_BY_OTHER]))
            return
        if math.dist(self.pose[slot, :3], self.pose[m.slot, :3]) > GRAB_REACH_M:
            self._emit(sid, packb([MsgType.GRAB_RESULT, eid, False, ErrorCode.FORBIDDEN]))
            return
        self.holder[slot] = m.eid
        self._flight.pop(eid, None)
        m.held.add(eid)
        self._emit(sid, packb([MsgType.GRAB_RESULT, eid, True, 0]))

    def _held_slot(self, m: Member, eid: int, t: int) -> int:
        slot = self._object_slot(eid, t)
        if int(self.holder[slot]) != m.eid:
            raise ProtocolError(ErrorCode.NOT_HOLDER, f"you do not hold object {eid}; GRAB it first", t)
        return slot

    def _check_hold_pose(self, m: Member, pose: Pose7, t: int) -> None:
        if not self._inside(pose):
            raise ProtocolError(
                ErrorCode.OUT_OF_BOUNDS, "object position is outside the world: " + self._bounds_text(), t
            )
        d = math.dist(pose[:3], self.pose[m.slot, :3])
        if d > HOLD_REACH_M:
            raise ProtocolError(ErrorCode.OUT_OF_BOUNDS, f"object is {d:.2f} m from your head, max {HOLD_REACH_M} m", t)

    def move_object(self, sid: int, eid: int, pose: Pose7) -> None:
        m = self.members[sid]
        t = int(MsgType.OBJECT_MOVE)
        slot = self._held_slot(m, eid, t)
        self._check_hold_pose(m, pose, t)
        self.pose[slot, :7] = pose
        # Saved while held, too: a crash mid-carry keeps where it was (≤ one flush of loss).
        self.dirty_objects.add(self._object_spec[eid].id)

    def release(self, sid: int, eid: int, pose: Pose7, velocity: Vec3, now_ms: int) -> None:
        m = self.members[sid]
        t = int(MsgType.RELEASE)
        slot = self._held_slot(m, eid, t)
        self._check_hold_pose(m, pose, t)
        self.pose[slot, :7] = pose
        self.holder[slot] = 0
        m.held.discard(eid)
        v = np.array(velocity, dtype=np.float64)
        speed = float(np.linalg.norm(v))
        if speed > MAX_THROW_SPEED:
            v *= MAX_THROW_SPEED / speed
        # A gentle release leaves the object where it was put (on a table, in the air like a
        # balloon); a throw flies ballistically until it lands.
        if speed >= 0.1:
            self._flight[eid] = v
            self._flight_ms[eid] = now_ms
        else:
            self.dirty_objects.add(self._object_spec[eid].id)

    def chat(self, sid: int, text: str, now_ms: int) -> None:
        m = self.members[sid]
        if not text:
            raise ProtocolError(ErrorCode.BAD_FIELD, "chat.text: must not be empty", int(MsgType.CHAT))
        msg = packb([MsgType.CHAT_MSG, m.eid, m.name, text[:MAX_CHAT_CHARS], now_ms])
        for other in self.members.values():
            self._emit(other.sid, msg)

    def react(self, sid: int, reaction: int, now_ms: int) -> None:
        """An emoji reaction (a Reaction) shown over the sender's avatar to everyone here."""
        last = self._last_react.get(sid)
        if last is not None and now_ms - last < REACT_MIN_INTERVAL_MS:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED, f"one reaction every {REACT_MIN_INTERVAL_MS} ms", int(MsgType.REACT)
            )
        self._last_react[sid] = now_ms
        msg = packb([MsgType.REACTION, self.members[sid].eid, reaction])
        for other in self.members.values():
            self._emit(other.sid, msg)

    # ----- the tick ------------------------------------------------------------------
    def _ground_y(self, obj: ObjectSpec) -> float:
        floor = max(self.spec.bounds_min[1], 0.0) if self.spec.bounds_min[1] <= 0 else self.spec.bounds_min[1]
        return floor + 0.5 * obj.scale[1]

    def _simulate_flights(self, dt: float, now_ms: int) -> None:
        lo, hi = self.spec.bounds_min, self.spec.bounds_max
        for eid in list(self._flight):
            slot = self.slot_of.get(eid)
            if slot is None:
                self._flight.pop(eid)
                continue
            v = self._flight[eid]
            v[1] -= GRAVITY * dt
            p = self.pose[slot, :3] + v * dt
            for i in (0, 2):  # walls stop horizontal motion
                if not lo[i] <= p[i] <= hi[i]:
                    p[i] = min(max(p[i], lo[i]), hi[i])
                    v[i] = 0.0
            obj = self._object_spec[eid]
            ground = self._ground_y(obj)
            landed = p[1] <= ground
            if landed:
                p[1] = ground
            self.pose[slot, :3] = p
            if landed or now_ms - self._flight_ms[eid] > MAX_FLIGHT_MS:
                self._flight.pop(eid)
                self._flight_ms.pop(eid, None)
                self.dirty_objects.add(obj.id)

    def _quantize(self, slots: np.ndarray) -> np.ndarray:
        pose = self.pose[slots]
        q = np.zeros((len(slots), N_Q), dtype=np.int64)
        q[:, _POS_COLS] = quantize_positions(pose[:, _POS_COLS])
        for a, b in _ROT_BLOCKS:
            q[:, a:b] = quantize_rotations(pose[:, a:b])
        q[:, 21] = self.ts[slots]
        obj = self.kind[slots] == EntityKind.OBJECT
        if obj.any():
            q[obj, 7:] = 0
            q[obj, 7] = self.holder[slots[obj]]
        return q

    @staticmethod
    def _values(row: list[int], mask: int, groups: tuple[tuple[int, int, int], ...]) -> list[int]:
        out: list[int] = []
        for bit, start, n in groups:
            if mask & bit:
                out.extend(row[start : start + n])
        return out

    def _pieces(self, slots: np.ndarray, masks: np.ndarray, values: np.ndarray, absolute: bool) -> list[bytes]:
        """msgpack ``[eid, mask, *values]`` for many entities, one encode each."""
        out = []
        eids = self.eid[slots].tolist()
        kinds = self.kind[slots].tolist()
        rows = values.tolist()
        for eid, kind, mask, row in zip(eids, kinds, masks.tolist(), rows, strict=True):
            full = _OBJECT_FULL if kind == _OBJECT else _AVATAR_FULL
            if absolute:
                out.append(packb([eid, full | ABSOLUTE, *row[: _N_VALUES[kind]]]))
            elif mask == full:  # the common case: everything moved
                out.append(packb([eid, mask, *row[: _N_VALUES[kind]]]))
            else:
                groups = OBJECT_GROUPS if kind == _OBJECT else AVATAR_GROUPS
                out.append(packb([eid, mask, *self._values(row, mask, groups)]))
        return out

    def tick(self, now_ms: int, skip: set[int] | frozenset[int] = frozenset()) -> dict[int, bytes]:
        """Advance one tick; return the STATE message for each member that needs one.

        ``skip`` holds members whose connection is backed up: they get nothing this tick and
        their bookkeeping is untouched, so they resume with correct deltas later.
        """
        self.tick_no += 1
        t = self.tick_no
        dt = 1.0 / self.spec.tick_rate
        if self._flight:
            self._simulate_flights(dt, now_ms)
        alive = np.nonzero(self.kind >= 0)[0]
        q_new = self._quantize(alive)
        diff = q_new - self.q[alive]
        is_obj = self.kind[alive] == _OBJECT
        changed_groups = np.zeros(len(alive), dtype=np.int64)
        for bit, start, n in AVATAR_GROUPS:
            nz = np.any(diff[:, start : start + n] != 0, axis=1)
            changed_groups |= np.where(nz & ~is_obj, bit, 0)
        for bit, start, n in OBJECT_GROUPS:
            nz = np.any(diff[:, start : start + n] != 0, axis=1)
            changed_groups |= np.where(nz & is_obj, bit, 0)
        cap = len(self.kind)
        changed_mask = np.zeros(cap, dtype=np.int64)
        changed_mask[alive] = changed_groups
        last_change_before = self.last_change.copy()
        moved = changed_groups != 0
        self.last_change[alive[moved]] = t
        self.q[alive] = q_new

        # Delta pieces for every entity that changed, encoded once and shared by all viewers;
        # absolute and enter pieces are encoded lazily, at most once per entity per tick.
        delta_piece: list[bytes] = [b""] * cap
        if moved.any():
            ms = alive[moved]
            pieces = self._pieces(ms, changed_groups[moved], diff[moved], False)
            for slot, piece in zip(ms.tolist(), pieces, strict=True):
                delta_piece[slot] = piece
        abs_piece: dict[int, bytes] = {}
        enter_piece: dict[int, bytes] = {}

        def get_abs(slot: int) -> bytes:
            b = abs_piece.get(slot)
            if b is None:
                sl = np.array([slot])
                b = abs_piece[slot] = self._pieces(sl, sl, self.q[sl], True)[0]
            return b

        def get_enter(slot: int) -> bytes:
            b = enter_piece.get(slot)
            if b is None:
                kind = int(self.kind[slot])
                full = _OBJECT_FULL if kind == _OBJECT else _AVATAR_FULL
                vals = self.q[slot, : _N_VALUES[kind]].tolist()
                info = self._info.get(slot, {})
                b = enter_piece[slot] = packb([int(self.eid[slot]), kind, info, full | ABSOLUTE, *vals])
            return b

        refresh = self._interest_stale or t % self.interest_every == 0
        if refresh:
            self._update_interest(list(self.members.values()))
            self._interest_stale = False
        always = np.nonzero(self.always_visible)[0]
        gone = self._gone_from_view(always) if refresh else {}
        members = [m for m in self.members.values() if m.sid not in skip and m.sid in self._interest]
        if not members:
            return {}
        # Every viewer at once, as (viewers x slots) matrices: what is visible this tick, and
        # for each visible entity whether the viewer gets an enter, a delta or an absolute.
        rows = np.array([m.row for m in members])
        own = np.array([m.slot for m in members])
        far_due = (np.arange(cap) + t) % self.interest.far_every == 0
        vis = self._near[rows] | (self._far[rows] & far_due[None, :])
        if len(always):
            vis[:, always] = True
            vis[np.arange(len(rows)), own] = False
        sent = self.sent[rows]
        known = sent >= 0
        sync = last_change_before[None, :] <= sent
        enter = vis & ~known
        delta = vis & known & sync & (changed_mask != 0)[None, :]
        stale = vis & known & ~sync
        sent[vis] = t
        self.sent[rows] = sent

        def per_row(mat: np.ndarray) -> tuple[list[int], list[int]]:
            r, c = np.nonzero(mat)
            ends = np.cumsum(np.bincount(r, minlength=len(rows)))
            return c.tolist(), ends.tolist()

        enter_s, enter_end = per_row(enter)
        delta_s, delta_end = per_row(delta)
        stale_s, stale_end = per_row(stale) if stale.any() else ([], [0] * len(rows))
        out: dict[int, bytes] = {}
        head = b"\x96" + packb(int(MsgType.STATE)) + packb(t) + packb(now_ms)
        e0 = d0 = s0 = 0
        for i, m in enumerate(members):
            e1, d1, s1 = enter_end[i], delta_end[i], stale_end[i]
            enters = [get_enter(x) for x in enter_s[e0:e1]]
            ups = [delta_piece[x] for x in delta_s[d0:d1]]
            if s1 > s0:
                ups += [get_abs(x) for x in stale_s[s0:s1]]
            e0, d0, s0 = e1, d1, s1
            leaves = self._pending_leaves.pop(m.row, None) or []
            g = gone.get(m.row)
            if g:
                leaves += g
            if not (enters or ups or leaves):
                continue
            out[m.sid] = b"".join(
                (head, array_header(len(enters)), *enters, array_header(len(ups)), *ups, packb(leaves))
            )
        return out

    def _gone_from_view(self, always: np.ndarray) -> dict[int, list[int]]:
        """Per viewer row: entities it knows that are no longer in its interest set."""
        inset = self._near | self._far
        inset[:, always] = True
        rows, slots = np.nonzero((self.sent >= 0) & ~inset)
        if len(rows) == 0:
            return {}
        self.sent[rows, slots] = -1
        out: dict[int, list[int]] = {}
        for r, e in zip(rows.tolist(), self.eid[slots].tolist(), strict=True):
            out.setdefault(r, []).append(e)
        return out

    def _update_interest(self, members: list[Member]) -> None:
        if not members:
            self._interest = {}
            self._near = self._far = np.zeros(self.sent.shape, dtype=bool)
            return
        alive = np.nonzero(self.kind >= 0)[0]
        v_slots = np.array([m.slot for m in members], dtype=np.int64)
        viewer_xz = self.pose[v_slots][:, [0, 2]]
        entity_xz = self.pose[alive][:, [0, 2]]
        sets = compute_interest(viewer_xz, v_slots, entity_xz, alive.astype(np.int64), self.interest)
        self._interest = {m.sid: s for m, s in zip(members, sets, strict=True)}
        self._near = np.zeros(self.sent.shape, dtype=bool)
        self._far = np.zeros(self.sent.shape, dtype=bool)
        for m, iset in zip(members, sets, strict=True):
            self._near[m.row, iset.near] = True
            self._far[m.row, iset.far] = True

    def drain_dirty_objects(self) -> list[tuple[str, Pose7]]:
        out = []
        for oid in self.dirty_objects:
            eid = self.object_ids.get(oid)
            if eid is None or eid not in self.slot_of:
                continue
            p = self.pose[self.slot_of[eid], :7]
            out.append((oid, tuple(float(x) for x in p)))
        self.dirty_objects.clear()
        return out  # type: ignore[return-value]
