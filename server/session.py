"""One connected person as the hub sees it, and the record of a finished stay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.protocol import AVATAR_ACCESSORIES, AVATAR_LOOKS, EXPENSIVE_BURST, RATE_LIMIT_BURST

if TYPE_CHECKING:
    from server.hosting import Principal
    from server.world import WorldInstance


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """A finished stay in an instance, in server milliseconds; storage adds wall time."""

    user_id: str
    world: str
    instance: str
    start_ms: int
    end_ms: int
    others: tuple[str, ...]  # user ids present at the end (storage keeps only friends)
    chat_count: int


@dataclass(slots=True)
class Session:
    sid: int
    token: str  # public session id
    connected_ms: int
    name: str = ""
    color: str = ""
    avatar: tuple[str, str] = (AVATAR_LOOKS[0], AVATAR_ACCESSORIES[0])  # (look, accessory) from HELLO
    instance: WorldInstance | None = None
    tokens: float = RATE_LIMIT_BURST  # the message bucket
    refill_ms: int = 0
    flood_since_ms: int = 0  # when the current stretch of dropped messages began
    last_drop_ms: int = -10_000  # when a message was last dropped for rate
    rate_error_ms: int = -10_000
    x_tokens: float = EXPENSIVE_BURST  # the bucket of expensive requests (TRAVEL, REPORT, RSVP, /generate)
    x_refill_ms: int = 0
    errors_in_a_row: int = 0
    user_id: str = ""  # who this is for signals and roles: "guest:<name>" or "user:<account>"
    visit_start_ms: int = 0
    last_left: str | None = None  # world id this session left most recently
    principal: Principal | None = None  # set at HELLO when hosting is on
    issued_token: str | None = None  # a fresh token to hand over in the next WELCOME
    chat_count: int = 0
    moved: bool = False  # opened at a MOVED url (?moved=1): this worker places them, no second hop
    via: tuple[str, str] = ("ws", "127.0.0.1")  # (scheme, host) the client used: MOVED urls keep them
