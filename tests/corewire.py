"""The edge's side of the hub's outbox, for tests that drive the pure core directly: frames
per session, and the other effects (closes, rows to store, generation requests) by type."""

from __future__ import annotations

import weakref
from collections import defaultdict
from typing import TypeVar

from server.effects import Broadcast, Effect, Send
from server.hub import Hub

E = TypeVar("E")


class Wire:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.frames: defaultdict[int, list[bytes]] = defaultdict(list)
        self.effects: list[Effect] = []

    def pump(self) -> None:
        for e in self.hub.outbox.drain():
            if isinstance(e, Send):
                self.frames[e.sid].append(e.data)
            elif isinstance(e, Broadcast):
                for sid in e.sids:
                    self.frames[sid].append(e.data)
            else:
                self.effects.append(e)


_wires: weakref.WeakKeyDictionary[Hub, Wire] = weakref.WeakKeyDictionary()


def wire(hub: Hub) -> Wire:
    w = _wires.get(hub)
    if w is None:
        w = _wires[hub] = Wire(hub)
    return w


def frames(hub: Hub, sid: int) -> list[bytes]:
    """Everything sent to ``sid`` since the last call (as the edge would write it)."""
    w = wire(hub)
    w.pump()
    return w.frames.pop(sid, [])


def take(hub: Hub, kind: type[E]) -> list[E]:
    """The non-frame effects of one type produced so far (removed from the wire)."""
    w = wire(hub)
    w.pump()
    got = [e for e in w.effects if isinstance(e, kind)]
    w.effects = [e for e in w.effects if not isinstance(e, kind)]
    return got
