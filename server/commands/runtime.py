"""Applying a planned command to the running worlds (pure: the hub's outbox, ``now_ms`` in).

Answers and clarifying questions are a private NOTICE (kind INFO) to the asker with
``data.assistant`` describing what was understood. Actions are applied through
``Hub.act`` — the same dispatch as the explicit message — so a guest's "ban Bo" meets the
same permission check as a guest's MODERATE and is refused the same way (an ERROR
FORBIDDEN with ``ref`` MODERATE), plus a notice in plain words.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from server.codec import packb
from server.commands.plan import Plan
from server.protocol import MsgType, NoticeKind

if TYPE_CHECKING:
    from server.hub import Hub


def tell(hub: Hub, sid: int, text: str, data: dict[str, object]) -> None:
    hub.emit(sid, packb([MsgType.NOTICE, int(NoticeKind.INFO), text, {"assistant": data}]))


def _direction(dx: float, dz: float) -> str:
    """Compass words for a ground offset (-z is north, as the world files' yaw 0 faces)."""
    ang = math.degrees(math.atan2(dx, -dz)) % 360
    names = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")
    return names[int((ang + 22.5) // 45) % 8]


def apply_plan(hub: Hub, sid: int, instance_key: str, plan: Plan, now_ms: int) -> None:
    s = hub.sessions.get(sid)
    if s is None:
        return  # gone while the model was thinking
    data = dict(plan.data)
    if s.instance is None or s.instance.key != instance_key:
        tell(hub, sid, "You moved on before I could answer; ask again here.", {**data, "stale": True})
        return
    inst = s.instance
    if plan.kind in ("answer", "clarify"):
        tell(hub, sid, plan.text, data)
        return
    if plan.kind == "guide" and plan.place is not None:
        mgr = hub.npcs.get(inst.key)
        if mgr is not None and mgr.guide(sid, plan.place, now_ms):
            tell(hub, sid, plan.text, {**data, "place": plan.place.key})
            return
        x, _, z = inst.last_head(sid)
        px, _, pz = plan.place.position
        dist = math.hypot(px - x, pz - z)
        text = f"{plan.place.name} is {dist:.0f} m {_direction(px - x, pz - z)} of you."
        tell(hub, sid, text, {**data, "place": plan.place.key, "position": list(plan.place.position)})
        return
    if plan.message is None:
        tell(hub, sid, plan.text, data)
        return
    refused = hub.act(sid, plan.message, now_ms)
    if refused is None:
        tell(hub, sid, plan.text, {**data, "done": True})
    else:
        tell(hub, sid, f"I can't do that: {refused.text}", {**data, "done": False, "error": int(refused.code)})
