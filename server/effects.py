"""What the pure core asks the edge to do, as one typed outbox.

The sans-I/O shape of python-websockets (``data_to_send()``): while the hub handles a frame or
a tick it appends effects here; the edge takes them all with ``drain()`` and performs them in
order — bytes to sockets, closes, rows to storage, jobs to the asset service. Nothing in the
core touches a socket, a file or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.commands.core import CommandContext
from server.messages import SpawnedRow
from server.protocol import CloseCode
from server.session import VisitRecord


@dataclass(frozen=True, slots=True)
class Send:
    """Bytes for one session."""

    sid: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Broadcast:
    """The same bytes for several sessions (encoded once)."""

    sids: tuple[int, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """End a session (kick, ban, closed world): the edge closes its socket with this code."""

    sid: int
    code: CloseCode
    reason: str


@dataclass(frozen=True, slots=True)
class PersistSpawned:
    """An object made at run time, to be stored so it comes back after a restart."""

    row: SpawnedRow


@dataclass(frozen=True, slots=True)
class PersistRemoved:
    """A moderator removed an object: final, stored before the next flush completes."""

    world: str
    object_id: str


@dataclass(frozen=True, slots=True)
class PersistVisit:
    """A finished stay, for the recommender's signals."""

    record: VisitRecord


@dataclass(frozen=True, slots=True)
class Generate:
    """Someone asked for a generated object (``/generate`` in chat): a job for the asset service."""

    sid: int
    user: str
    world: str
    instance: str
    prompt: str
    position: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Ask:
    """A natural-language command ("@plaza take me to the gallery"): understood off the event
    loop (server.commands), then answered or applied through ``Hub.act``."""

    sid: int
    user: str
    instance: str  # key of the asker's instance when asked
    text: str  # the request, wake prefix removed
    context: CommandContext


@dataclass(frozen=True, slots=True)
class Relay:
    """Something the other workers must act on too (a kick, a ban, a lock): the cluster link
    publishes it on ``channel`` (server/cluster/link.py); with one worker nobody hears it."""

    channel: str
    message: dict[str, object]


# The Relay channel of an event's chat lines crossing workers (Hub._event_chat).
CHAT_CHANNEL = "chat"

Effect = Send | Broadcast | Close | PersistSpawned | PersistRemoved | PersistVisit | Generate | Ask | Relay


class Outbox:
    """Effects in the order the core produced them."""

    __slots__ = ("_effects",)

    def __init__(self) -> None:
        self._effects: list[Effect] = []

    def push(self, effect: Effect) -> None:
        self._effects.append(effect)

    def drain(self) -> list[Effect]:
        out, self._effects = self._effects, []
        return out

    def __bool__(self) -> bool:
        return bool(self._effects)

    def __len__(self) -> int:
        return len(self._effects)
