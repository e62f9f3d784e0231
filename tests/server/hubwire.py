"""A harness that drives a Hub directly: each session's decoded output, and the closes."""

from __future__ import annotations

from collections import defaultdict

import msgpack

from server.codec import packb
from server.hub import Hub
from server.protocol import MsgType


class Wire:
    """Routes the hub's output to per-session inboxes (decoded) and records closes."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.inbox: dict[int, list[list]] = defaultdict(list)
        self.closed: dict[int, int] = {}
        self.relays: list[tuple[str, dict]] = []  # (channel, message) for the other workers

    def _put(self, sid: int, data: bytes) -> None:
        self.inbox[sid].append(msgpack.unpackb(data, raw=False, strict_map_key=False))

    def pump(self) -> None:
        hub = self.hub
        outbox = getattr(hub, "outbox", None)
        if outbox is not None:  # the effect outbox (server/effects.py)
            for eff in outbox.drain():
                kind = type(eff).__name__
                if kind == "Send":
                    self._put(eff.sid, eff.data)
                elif kind == "Broadcast":
                    for sid in eff.sids:
                        self._put(sid, eff.data)
                elif kind == "Close":
                    self.closed[eff.sid] = int(eff.code)
                elif kind == "Relay":
                    self.relays.append((eff.channel, eff.message))
            return
        for sid in list(hub.sessions):  # per-session outboxes
            for data in hub.drain(sid):
                self._put(sid, data)
        for sid, (code, _) in list(getattr(hub, "to_close", {}).items()):
            self.closed[sid] = int(code)
        getattr(hub, "to_close", {}).clear()

    def take(self, sid: int, t: MsgType | None = None) -> list[list]:
        self.pump()
        got = [m for m in self.inbox[sid] if t is None or m[0] == t]
        self.inbox[sid] = [m for m in self.inbox[sid] if not (t is None or m[0] == t)]
        return got


class Client:
    """One session of the hub; ``send`` lets CloseConnection through (that is the test)."""

    def __init__(self, wire: Wire, now: int = 0) -> None:
        self.wire = wire
        self.hub = wire.hub
        self.sid = self.hub.connect(now).sid
        self.welcome: dict = {}
        self.id = 0

    def hello(self, name: str, now: int = 0, **extra: object) -> Client:
        self.send_raw(packb([MsgType.HELLO, {"v": 1, "name": name, "world": "test", **extra}]), now)
        (w,) = self.take(MsgType.WELCOME)
        self.welcome, self.id = w[1], w[1]["id"]
        return self

    def send(self, msg: list, now: int = 0) -> None:
        self.send_raw(packb(msg), now)

    def send_raw(self, data: bytes, now: int = 0) -> None:
        self.hub.receive(self.sid, data, now)

    def take(self, t: MsgType | None = None) -> list[list]:
        return self.wire.take(self.sid, t)

    def errors(self) -> list[list]:
        return self.take(MsgType.ERROR)

    def slot_pose(self) -> list[float]:
        inst = self.hub.sessions[self.sid].instance
        assert inst is not None
        return [float(x) for x in inst.pose[inst.members[self.sid].slot]]
