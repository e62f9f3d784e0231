"""The spotlit stage across workers: the worker a performer stands on publishes their pose
every tick; the other workers keep the latest copy and draw it as a read-only stand-in in their
instances of the world (``Hub._sync_stage``), as one worker does for its own overflow instances.

Pure: messages in (already JSON-decoded), copies out; the cluster link moves the bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from server.world import N_POSE

CHANNEL = "stage"
# A performer not heard of for this long has left the stage here: they stopped being spotlit,
# left, or their worker died (they publish every tick, 50 ms, while on stage).
STALE_MS = 1000
MAX_PERFORMERS = 32  # per world and message: a spotlight lists at most a few people
INFO_KEYS = ("name", "color", "avatar")  # what a stand-in shows of the person


@dataclass(slots=True)
class RemotePerformer:
    pose: np.ndarray  # (N_POSE,) head and hands, as in WorldInstance.pose
    ts: int  # the performer's own pose timestamp (clients interpolate on it)
    info: dict[str, object]
    heard_ms: int  # this worker's clock when the copy arrived


def stage_message(world: str, performers: dict[str, tuple[np.ndarray, int, dict[str, object]]]) -> dict[str, object]:
    """What the performers' worker publishes: ``{world, performers: {user key: [pose, ts, info]}}``."""
    return {
        "world": world,
        "performers": {
            key: [[float(v) for v in pose], int(ts), {k: info[k] for k in INFO_KEYS if k in info}]
            for key, (pose, ts, info) in performers.items()
        },
    }


def _pose(value: object) -> np.ndarray | None:
    if not isinstance(value, list) or len(value) != N_POSE:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return np.asarray(value, dtype=np.float64)


class RemoteStage:
    """The performers other workers publish, per world, while they keep publishing."""

    def __init__(self) -> None:
        self._worlds: dict[str, dict[str, RemotePerformer]] = {}

    def accept(self, msg: dict[str, object], now_ms: int) -> int:
        """Take a published message; rows that are not well formed are skipped. Returns how
        many performers it updated."""
        world, rows = msg.get("world"), msg.get("performers")
        if not isinstance(world, str) or not isinstance(rows, dict):
            return 0
        got = self._worlds.setdefault(world, {})
        taken = 0
        for key, row in list(rows.items())[:MAX_PERFORMERS]:
            if not isinstance(key, str) or not isinstance(row, list) or len(row) != 3:
                continue
            pose, ts, info = _pose(row[0]), row[1], row[2]
            if pose is None or not isinstance(ts, int) or isinstance(ts, bool) or not isinstance(info, dict):
                continue
            got[key] = RemotePerformer(pose, ts, {k: info[k] for k in INFO_KEYS if k in info}, now_ms)
            taken += 1
        return taken

    def performers(self, world: str, now_ms: int) -> dict[str, RemotePerformer]:
        """Those heard of within STALE_MS (older copies are dropped)."""
        got = self._worlds.get(world)
        if not got:
            return {}
        for key in [k for k, p in got.items() if now_ms - p.heard_ms > STALE_MS]:
            del got[key]
        return got
