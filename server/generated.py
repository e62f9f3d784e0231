"""What generation jobs do to the running worlds: the requester's notices, the spawned object
(named after its job), and world-file placeholders swapped for their model."""

from __future__ import annotations

from typing import Any

from server.assets import Pending, fill_placeholder, surface_below
from server.codec import packb
from server.hub import Hub
from server.protocol import ErrorCode, MsgType, NoticeKind


def job_started(hub: Hub, sid: int, prompt: str, job: str) -> None:
    hub.emit(sid, packb([MsgType.NOTICE, int(NoticeKind.INFO), f"generating “{prompt}”…", {"job": job}]))


def job_refused(hub: Hub, sid: int, reason: str) -> None:
    hub.error(sid, ErrorCode.FORBIDDEN, reason[:300], MsgType.CHAT)


def spawn_point(hub: Hub, pending: Pending) -> tuple[float, float, float]:
    """The asset's base (local y = 0) goes on the surface below the requested anchor, not at it."""
    x, _, z = pending.position
    spec = hub.worlds.get(pending.world)
    if spec is None:
        return pending.position
    floor = max(float(spec.bounds_min[1]), 0.0)  # the ground the hub anchors /generate above
    return (x, surface_below(spec.description, pending.position, floor), z)


def toast_text(st: dict[str, Any]) -> str:
    """The requester's notice: honest when the asset is not what was asked for."""
    if not st.get("url"):
        return f"could not generate “{st['prompt']}”: {st.get('error')}"
    if st.get("message"):
        return f"{st['message']}; placed that instead"
    return f"“{st['prompt']}” is here"


def job_finished(hub: Hub, pending: Pending, st: dict[str, Any]) -> None:
    url = st.get("url")
    if pending.kind == "spawn":
        if url:
            info = {"model": url, "label": st["prompt"]}
            hub.spawn_object(pending.world, pending.instance, f"gen-{st['job']}", spawn_point(hub, pending), info)
        text = toast_text(st)
        hub.emit(pending.requester, packb([MsgType.NOTICE, int(NoticeKind.INFO), text, st]))
        return
    spec = hub.worlds.get(pending.world)
    if spec is not None:
        fill_placeholder(spec.description, pending.object_id, url, st.get("error"))
        hub.update_world(spec, set())  # same objects, new look: a WORLD_UPDATE
