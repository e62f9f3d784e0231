"""Every chat line is scored; likely abuse is flagged to the world's moderators and, where the
world file asks for it (``[chat_assist] mode = "hold"``), held back for review instead of
shown. An assist, not a replacement: the hosting word filter still masks listed words first,
moderators decide what happens to the sender, and nothing is ever done to a person
automatically. Pure (the hub's outbox); the model is loaded on first use (~1 MB, numpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.chatguard.model import CHECKPOINT, ToxicityModel
from server.codec import packb
from server.hosting.permissions import allowed
from server.protocol import MsgType, NoticeKind

if TYPE_CHECKING:
    from server.hub import Hub
    from server.session import Session
    from server.world import WorldInstance

FLAG_AT = 0.6  # moderators hear about lines scoring at least this
HOLD_AT = 0.9  # default hold threshold of mode = "hold" (the world file may change it)


class ChatGuard:
    def __init__(self, path: object = CHECKPOINT) -> None:
        self._path = path
        self._model: ToxicityModel | None = None
        self.flagged = 0
        self.held = 0

    @property
    def model(self) -> ToxicityModel:
        if self._model is None:
            self._model = ToxicityModel.load(self._path)  # type: ignore[arg-type]
        return self._model

    def screen(self, hub: Hub, s: Session, inst: WorldInstance, original: str, now_ms: int) -> bool:
        """Score ``original`` (the line as typed); flag it; True when it must not be shown."""
        policy: dict[str, Any] = dict(inst.spec.description.get("chat_assist") or {})  # type: ignore[call-overload]
        mode = str(policy.get("mode", "flag"))
        if mode == "off" or hub.link is None:
            return False
        p = self.model.score(original)
        if p < FLAG_AT:
            return False
        hold = mode == "hold" and p >= float(policy.get("hold_at", HOLD_AT))
        world = inst.spec.id
        data = {
            "flag": {
                "user": s.user_id,
                "name": s.name,
                "text": original[:500],
                "score": round(p, 3),
                "held": hold,
                "world": world,
                "instance": inst.key,
                "at_ms": now_ms,
            }
        }
        note = f"{'held' if hold else 'flagged'} chat from {s.name} (score {p:.2f}): {original[:200]}"
        msg = packb([MsgType.NOTICE, int(NoticeKind.MODERATION), note, data])
        for group in hub.instances.get(world, []):
            for sid in group.members:
                mod = hub.sessions.get(sid)
                if mod is not None and sid != s.sid and allowed(hub.link.role(mod, world), "mute"):
                    hub.emit(sid, msg)
        self.flagged += 1
        if hold:
            self.held += 1
            text = "your message is held for a moderator to review"
            hub.emit(s.sid, packb([MsgType.NOTICE, int(NoticeKind.MODERATION), text, {"held": True}]))
        return hold
