"""Decoding of the two voice messages a client sends (VOICE, VOICE_JOIN); pure, hostile input."""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

from server.codec import unpackb
from server.errors import ProtocolError, show
from server.protocol import ErrorCode, MsgType

VOICE_TYPES = frozenset({int(MsgType.VOICE), int(MsgType.VOICE_JOIN)})


@dataclass(frozen=True, slots=True)
class VoiceUpdate:
    """VOICE: what the client's own microphone is doing (None = unchanged)."""

    muted: bool | None
    speaking: bool | None


@dataclass(frozen=True, slots=True)
class VoiceJoin:
    """VOICE_JOIN: a fresh credential for the voice room of the instance the client is in."""


VoiceMessage = VoiceUpdate | VoiceJoin


def _bad(t: MsgType, text: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_FIELD, f"{t.name}: {text}", int(t))


def decode_voice(data: bytes) -> VoiceMessage:
    """Parse a VOICE or VOICE_JOIN frame (``peek_type`` said so). Raises ProtocolError only."""
    try:
        msg = unpackb(data)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"not a msgpack value: {exc}") from None
    except Exception:
        raise ProtocolError(ErrorCode.MALFORMED, "not a msgpack value") from None
    if not isinstance(msg, list) or not msg or msg[0] not in VOICE_TYPES or isinstance(msg[0], bool):
        raise ProtocolError(ErrorCode.MALFORMED, "a message must be a non-empty msgpack array")
    t = MsgType(msg[0])
    if len(msg) != 2:
        raise _bad(t, f"expected [{int(t)}, {{...}}], got {len(msg)} elements")
    body = msg[1]
    if not isinstance(body, dict):
        raise _bad(t, f"the second element must be a map, got {show(body)}")
    if t == MsgType.VOICE_JOIN:
        if body:
            raise _bad(t, f"unknown keys {show(sorted(map(str, body)))}; the map must be empty")
        return VoiceJoin()
    unknown = set(body) - {"muted", "speaking"}
    if unknown:
        raise _bad(t, f"unknown keys {show(sorted(map(str, unknown)))}; known: muted, speaking")
    out: dict[str, bool | None] = {}
    for key in ("muted", "speaking"):
        v = body.get(key)
        if v is not None and not isinstance(v, bool):
            raise _bad(t, f"{key}: expected true or false, got {show(v)}")
        out[key] = v
    return VoiceUpdate(out["muted"], out["speaking"])
