"""Plaza wire protocol, version 1: the single source of message types, codes and limits.

Every WebSocket frame is a *binary* frame holding one msgpack array whose first element is
the message type (``MsgType``). docs/protocol.md describes every field. JavaScript gets these
numbers from ``sdk/js/src/protocol.js``, generated from this file by ``python -m server.protocol_js``
(rerun it after a change here; tests/server/test_protocol_js.py fails until you do).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)

# Limits a client must respect (also sent in WELCOME so clients need not hard-code them).
MAX_FRAME_BYTES = 16 * 1024  # a frame of up to this many bytes is read; larger: close 1009 (RFC 6455 "too big")
# aiohttp refuses a message whose size is >= its max_msg_size, so the edge passes one more.
EDGE_MAX_MSG_SIZE = MAX_FRAME_BYTES + 1
MAX_NAME_CHARS = 32
MAX_CHAT_CHARS = 500
MAX_REASON_CHARS = 500
MAX_ABS_COORD = 1e6  # every number of a pose, velocity or teleport target is within +-this
MAX_DURATION_S = 10 * 365 * 86400  # a moderation duration_s is in (0, this]
RATE_LIMIT_PER_S = 120.0  # sustained messages/s per client (token bucket)
RATE_LIMIT_BURST = 240.0  # bucket size
FLOOD_CLOSE_S = 2.0  # messages dropped for rate without a pause for this long: close 4004
FLOOD_PAUSE_S = 1.0  # this long without a dropped message ends a flood
EXPENSIVE_PER_S = 0.5  # TRAVEL, REPORT, RSVP and /generate together, per client (token bucket)
EXPENSIVE_BURST = 3.0  # bucket size of those
MAX_INVALID_IN_A_ROW = 50  # invalid messages in a row: close 4009 (OUT_OF_BOUNDS, TOO_FAST, RATE_LIMITED don't count)
MAX_SPEED_M_S = 10.0  # head speed the server accepts without an approved teleport
MAX_HAND_REACH_M = 2.0  # a hand farther than this from the head is pulled in to this distance
GRAB_REACH_M = 6.0  # GRAB of an object farther than this from the head: FORBIDDEN (desktop users click far)
HOLD_REACH_M = 4.0  # a held object may be this far from the holder's head
SLOW_CLIENT_BUFFER_BYTES = 256 * 1024  # unsent bytes above which a tick is skipped for a client
SLOW_CLIENT_CLOSE_S = 5.0  # a client that cannot take updates for this long is closed
HELLO_TIMEOUT_S = 10.0
# HELLO avatar: {look, accessory}, each one of these names (the first is the default; anything else: BAD_FIELD)
AVATAR_LOOKS = ("classic", "robot", "fox", "ghost")
AVATAR_ACCESSORIES = ("none", "hat", "glasses", "headphones")


# Quantization of state updates (server -> client).
POS_UNIT_M = 0.001  # positions are integers in millimetres, world coordinates
ROT_SCALE = 4095  # quaternion components are round(c * 4095); worst-case angle error < 0.03 deg
# Tick numbers and times.
TIME_UNIT_MS = 1


class MsgType(IntEnum):
    # client -> server
    HELLO = 1
    POSE = 2
    GRAB = 3
    OBJECT_MOVE = 4
    RELEASE = 5
    CHAT = 6
    PING = 7
    TELEPORT = 8
    TRAVEL = 9
    MODERATE = 10
    REPORT = 11
    HOST = 12
    RSVP = 13
    VOICE = 14  # my voice state: muted, speaking (docs/protocol.md, Voice)
    VOICE_JOIN = 15  # ask for a voice credential for this instance's room
    REACT = 18  # an emoji reaction over my avatar: [18, Reaction]
    # server -> client
    WELCOME = 64
    STATE = 65
    GRAB_RESULT = 66
    CHAT_MSG = 67
    PRESENCE = 68
    PONG = 69
    ERROR = 70
    TELEPORTED = 71
    WORLD_UPDATE = 72
    NOTICE = 73
    SUGGESTIONS = 74
    VOICE_CREDENTIAL = 75  # a voice credential: media server URL, room, pin, token, feed id
    AUDIBLE = 76  # the voices this listener should receive (nearest K + stage)
    VOICE_STATE = 77  # who in this instance is connected, muted, speaking, moderator-muted
    REACTION = 80  # someone in this instance reacted: [80, entity, Reaction]
    MOVED = 81  # your instance lives on another worker: [81, {url, world, instance, spawn?}]; close 4012 follows


class ErrorCode(IntEnum):
    """Codes in ERROR messages. The connection stays open."""

    MALFORMED = 1  # not msgpack, not an array, or no integer type first
    UNKNOWN_TYPE = 2
    BAD_FIELD = 3  # wrong field count or type
    NOT_FINITE = 4  # NaN or infinity
    OUT_OF_BOUNDS = 5
    TOO_FAST = 6  # moved faster than MAX_SPEED_M_S without an approved teleport
    RATE_LIMITED = 7
    NOT_JOINED = 8  # action before HELLO
    ALREADY_JOINED = 9
    UNKNOWN_WORLD = 10
    UNKNOWN_OBJECT = 11
    NOT_GRABBABLE = 12
    HELD_BY_OTHER = 13
    NOT_HOLDER = 14
    TOO_LONG = 15  # chat or name too long
    FORBIDDEN = 16
    VOICE_UNAVAILABLE = 17  # no media server on this server (or not reachable)
    VOICE_REFUSED = 18  # not allowed in that voice room (publishing with a listen-only credential, ...)
    VOICE_EXPIRED = 19  # the voice credential expired or was revoked: send VOICE_JOIN again
    INTERNAL = 99  # details withheld on purpose


class CloseCode(IntEnum):
    """WebSocket close codes (RFC 6455 reserves 4000-4999 for applications)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    TOO_BIG = 1009  # frame over MAX_FRAME_BYTES
    UNSUPPORTED_VERSION = 4000
    HELLO_TIMEOUT = 4001
    BAD_HELLO = 4002
    UNKNOWN_WORLD = 4003
    FLOODING = 4004
    SLOW_CLIENT = 4005
    WORLD_CLOSED = 4006
    KICKED = 4007
    NOT_BINARY = 4008
    PROTOCOL_ERROR = 4009  # too many malformed messages
    UNAUTHORIZED = 4010  # bad or expired token, or a display name that belongs to an account
    REFUSED = 4011  # banned, kicked (not yet allowed back), world locked or private
    MOVED = 4012  # after MOVED: open MOVED.url and send HELLO there (docs/scaling.md, Routing)


class EntityKind(IntEnum):
    AVATAR = 0
    OBJECT = 1


class AvatarField(IntFlag):
    """Bits of the mask in an avatar update; the values follow in bit order."""

    HEAD_P = 1  # 3 ints, mm
    HEAD_Q = 2  # 4 ints, x/y/z/w * ROT_SCALE
    LEFT_P = 4
    LEFT_Q = 8
    RIGHT_P = 16
    RIGHT_Q = 32
    TS = 64  # 1 int: sender's pose timestamp, ms (client clock, mod 2**32)


class ObjectField(IntFlag):
    P = 1  # 3 ints, mm
    Q = 2  # 4 ints
    HOLDER = 4  # 1 int: entity id of the holding avatar, 0 = free


ABSOLUTE = 128  # mask bit: values are absolute, not deltas against the client's last copy

AVATAR_ALL = int(
    AvatarField.HEAD_P
    | AvatarField.HEAD_Q
    | AvatarField.LEFT_P
    | AvatarField.LEFT_Q
    | AvatarField.RIGHT_P
    | AvatarField.RIGHT_Q
    | AvatarField.TS
)
OBJECT_ALL = int(ObjectField.P | ObjectField.Q | ObjectField.HOLDER)


class Presence(IntEnum):
    JOINED = 1
    LEFT = 2


class Reaction(IntEnum):
    """What REACT can show: a fixed set, so nothing but these floats over anyone's head."""

    WAVE = 1
    HEART = 2
    CLAP = 3
    LAUGH = 4
    THUMBS_UP = 5
    WOW = 6


REACT_MIN_INTERVAL_MS = 250  # REACTs closer together than this from one person: RATE_LIMITED


class NoticeKind(IntEnum):
    INFO = 1
    WORLD_RELOADED = 2
    WORLD_FILE_ERROR = 3  # sent to owners and moderators only
    MODERATION = 4  # something a moderator did that concerns you (muted, report received...)
    EVENT = 5  # an event you RSVP'd to starts (data: event, world, title) / went live / ended
    PINNED = 6  # the host pinned a message (empty text: unpinned)


def welcome_limits() -> dict[str, float]:
    """``WELCOME.limits``: every limit above a client can run into (docs/protocol.md, Limits)."""
    return {
        "max_frame_bytes": MAX_FRAME_BYTES,
        "rate_per_s": RATE_LIMIT_PER_S,
        "rate_burst": RATE_LIMIT_BURST,
        "flood_close_s": FLOOD_CLOSE_S,
        "expensive_per_s": EXPENSIVE_PER_S,
        "expensive_burst": EXPENSIVE_BURST,
        "max_invalid_in_a_row": MAX_INVALID_IN_A_ROW,
        "max_name_chars": MAX_NAME_CHARS,
        "max_chat_chars": MAX_CHAT_CHARS,
        "max_reason_chars": MAX_REASON_CHARS,
        "max_abs_coord": MAX_ABS_COORD,
        "max_duration_s": MAX_DURATION_S,
        "max_speed_m_s": MAX_SPEED_M_S,
        "max_hand_reach_m": MAX_HAND_REACH_M,
        "grab_reach_m": GRAB_REACH_M,
        "hold_reach_m": HOLD_REACH_M,
        "slow_client_buffer_bytes": SLOW_CLIENT_BUFFER_BYTES,
        "slow_client_close_s": SLOW_CLIENT_CLOSE_S,
        "hello_timeout_s": HELLO_TIMEOUT_S,
    }
