"""A client's copy of the world, rebuilt from STATE messages: the reference decoder.

Used by the load generator's observers and by tests; it is also the executable form of the
STATE section of docs/protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.protocol import ABSOLUTE, POS_UNIT_M, ROT_SCALE, EntityKind, MsgType
from server.world import AVATAR_GROUPS, N_Q, OBJECT_GROUPS


@dataclass(slots=True)
class MirrorEntity:
    id: int
    kind: int
    info: dict[str, object]
    values: list[int] = field(default_factory=lambda: [0] * N_Q)

    def _p(self, start: int) -> tuple[float, float, float]:
        v = self.values
        return (v[start] * POS_UNIT_M, v[start + 1] * POS_UNIT_M, v[start + 2] * POS_UNIT_M)

    def _q(self, start: int) -> tuple[float, float, float, float]:
        v = self.values[start : start + 4]
        n = sum(x * x for x in v) ** 0.5 or 1.0
        return (v[0] / n, v[1] / n, v[2] / n, v[3] / n)

    @property
    def position(self) -> tuple[float, float, float]:
        return self._p(0)

    @property
    def rotation(self) -> tuple[float, float, float, float]:
        return self._q(3)

    @property
    def left(self) -> tuple[float, float, float]:
        return self._p(7)

    @property
    def right(self) -> tuple[float, float, float]:
        return self._p(14)

    @property
    def ts(self) -> int:
        return self.values[21]

    @property
    def holder(self) -> int:
        return self.values[7] if self.kind == EntityKind.OBJECT else 0


class StateMirror:
    def __init__(self) -> None:
        self.entities: dict[int, MirrorEntity] = {}
        self.tick = 0

    @staticmethod
    def _apply(ent: MirrorEntity, mask: int, vals: list[int]) -> int:
        """Apply one update's values (absolute or deltas); returns the group bits touched."""
        groups = OBJECT_GROUPS if ent.kind == EntityKind.OBJECT else AVATAR_GROUPS
        absolute = bool(mask & ABSOLUTE)
        pos = 0
        for bit, start, n in groups:
            if mask & bit:
                for k in range(n):
                    x = vals[pos + k]
                    ent.values[start + k] = x if absolute else ent.values[start + k] + x
                pos += n
        if pos != len(vals):
            raise ValueError(f"entity {ent.id}: {len(vals) - pos} values left over for mask {mask}")
        return mask & ~ABSOLUTE

    def apply_enter(self, e: list[Any]) -> MirrorEntity:
        eid, kind, info, mask, *vals = e
        ent = MirrorEntity(int(eid), int(kind), dict(info))
        self._apply(ent, int(mask), vals)
        self.entities[ent.id] = ent
        return ent

    def apply_update(self, u: list[Any]) -> int:
        eid, mask, *vals = u
        ent = self.entities.get(int(eid))
        if ent is None:
            raise ValueError(f"update for unknown entity {eid}")
        return self._apply(ent, int(mask), vals)

    def apply(self, msg: list[Any]) -> list[MirrorEntity]:
        """Apply a decoded STATE message; returns the entities entered or updated."""
        if msg[0] != MsgType.STATE:
            raise ValueError("not a STATE message")
        _, tick, _server_ms, enters, updates, leaves = msg
        self.tick = int(tick)
        seen: list[MirrorEntity] = []
        for eid in leaves:
            self.entities.pop(int(eid), None)
        for e in enters:
            seen.append(self.apply_enter(e))
        for u in updates:
            self.apply_update(u)
            seen.append(self.entities[int(u[0])])
        return seen


def rot_error_deg(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    import math

    dot = abs(sum(x * y for x, y in zip(a, b, strict=True)))
    return math.degrees(2 * math.acos(min(1.0, dot)))


__all__ = ["ROT_SCALE", "MirrorEntity", "StateMirror", "rot_error_deg"]
