"""Decoding and validation of client -> server messages (pure: bytes in, typed values out).

Every inbound frame is hostile until proven otherwise: it must be msgpack, an array, start
with a known type, have exactly the documented fields with the documented types, and carry
only finite numbers within their documented range. Anything else raises ``ProtocolError``
(never another exception) with a precise text; client values in it are shown size-capped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import msgpack

from server.codec import unpackb
from server.errors import ProtocolError, show
from server.protocol import (
    AVATAR_ACCESSORIES,
    AVATAR_LOOKS,
    MAX_ABS_COORD,
    MAX_CHAT_CHARS,
    MAX_DURATION_S,
    MAX_NAME_CHARS,
    MAX_REASON_CHARS,
    ErrorCode,
    MsgType,
    Reaction,
)

Vec3 = tuple[float, float, float]
Pose7 = tuple[float, float, float, float, float, float, float]
# a run-time object (generated asset): world id, instance index, object id, where it appeared,
# what every ENTER carries (model URL, label)
SpawnedRow = tuple[str, int, str, Vec3, dict[str, object]]


@dataclass(frozen=True, slots=True)
class Hello:
    versions: tuple[int, ...]
    name: str
    world: str
    token: str | None
    instance: str | None
    color: str | None
    invite: str | None = None
    avatar: tuple[str, str] | None = None  # (look, accessory), each one of AVATAR_LOOKS / AVATAR_ACCESSORIES
    spawn: str | None = None  # arrive at this spawn (a MOVED portal trip); unknown names: the default


@dataclass(frozen=True, slots=True)
class PoseInput:
    ts: int
    head: Pose7
    left: Pose7
    right: Pose7


@dataclass(frozen=True, slots=True)
class Grab:
    entity: int


@dataclass(frozen=True, slots=True)
class ObjectMove:
    entity: int
    pose: Pose7


@dataclass(frozen=True, slots=True)
class Release:
    entity: int
    pose: Pose7
    velocity: Vec3


@dataclass(frozen=True, slots=True)
class Chat:
    text: str


@dataclass(frozen=True, slots=True)
class React:
    reaction: int


@dataclass(frozen=True, slots=True)
class Ping:
    client_time: float


@dataclass(frozen=True, slots=True)
class Teleport:
    target: Vec3


@dataclass(frozen=True, slots=True)
class Travel:
    world: str
    spawn: str | None


@dataclass(frozen=True, slots=True)
class Moderate:
    action: str
    target: int  # entity id of the avatar or object acted on; 0 for world-wide actions
    reason: str
    duration_s: float | None
    user: str | None = None  # a user key ("a:name" / "g:id") for someone not here (allow, unban)


@dataclass(frozen=True, slots=True)
class Report:
    target: int
    reason: str


@dataclass(frozen=True, slots=True)
class Host:
    event: str
    action: str
    args: dict[str, object]


@dataclass(frozen=True, slots=True)
class Rsvp:
    event: str
    going: bool


MODERATE_ACTIONS = ("kick", "allow", "mute", "unmute", "ban", "unban", "remove_object", "lock", "unlock")
HOST_ACTIONS = ("start", "end", "spotlight", "gather", "mute_chat", "pin")

ClientMessage = (
    Hello
    | PoseInput
    | Grab
    | ObjectMove
    | Release
    | Chat
    | Ping
    | Teleport
    | Travel
    | Moderate
    | Report
    | Host
    | Rsvp
    | React
)

_TYPE_OF: dict[type, MsgType] = {
    Hello: MsgType.HELLO,
    PoseInput: MsgType.POSE,
    Grab: MsgType.GRAB,
    ObjectMove: MsgType.OBJECT_MOVE,
    Release: MsgType.RELEASE,
    Chat: MsgType.CHAT,
    Ping: MsgType.PING,
    Teleport: MsgType.TELEPORT,
    Travel: MsgType.TRAVEL,
    Moderate: MsgType.MODERATE,
    Report: MsgType.REPORT,
    Host: MsgType.HOST,
    Rsvp: MsgType.RSVP,
    React: MsgType.REACT,
}
_KNOWN_TYPES = frozenset(int(m) for m in MsgType)
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def type_of(msg: ClientMessage) -> MsgType:
    """The wire type of a decoded message (the ``ref_type`` of errors about it)."""
    return _TYPE_OF[type(msg)]


def peek_type(data: bytes) -> int:
    """The type of a frame without decoding it, for errors about frames that are not decoded
    (rate limited); 0 when the frame does not start like a message of a known type."""
    if len(data) < 2:
        return 0
    head = data[0]
    if 0x91 <= head <= 0x9F:  # fixarray of 1..15
        i = 1
    elif head == 0xDC and len(data) >= 3 and data[1:3] != b"\0\0":  # array 16
        i = 3
    elif head == 0xDD and len(data) >= 5 and data[1:5] != b"\0\0\0\0":  # array 32
        i = 5
    else:
        return 0
    if len(data) <= i:
        return 0
    t = data[i]
    if t == 0xCC and len(data) > i + 1:  # uint 8
        t = data[i + 1]
    return t if t in _KNOWN_TYPES else 0


def _bad(msg_type: int, text: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_FIELD, text, msg_type)


def _number(v: object, t: int, where: str, bound: float = MAX_ABS_COORD) -> float:
    """A finite number with ``|v| <= bound`` (NOT_FINITE / BAD_FIELD otherwise)."""
    # bool is an int subclass in Python; a client sending true for a coordinate is a bug.
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _bad(t, f"{where}: expected a number, got {type(v).__name__}")
    if isinstance(v, int) and abs(v) > bound:  # before float(): a huge int must not overflow it
        raise _bad(t, f"{where}: {show(v)} is outside -{bound:g}..{bound:g}")
    f = float(v)
    if not math.isfinite(f):
        raise ProtocolError(ErrorCode.NOT_FINITE, f"{where}: {f!r} is not a finite number", t)
    if abs(f) > bound:
        raise _bad(t, f"{where}: {f:g} is outside -{bound:g}..{bound:g}")
    return f


def _numbers(v: object, n: int, t: int, where: str) -> tuple[float, ...]:
    if not isinstance(v, list) or len(v) != n:
        got = f"{len(v)} items" if isinstance(v, list) else type(v).__name__
        raise _bad(t, f"{where}: expected an array of {n} numbers, got {got}")
    return tuple(_number(x, t, f"{where}[{i}]") for i, x in enumerate(v))


def _pose(v: object, t: int, where: str) -> Pose7:
    # Fast path for the hot message (every client, 20-72 times a second): exact types, a
    # finite sum (which proves every element finite) and positions within range (the
    # quaternion's length check below bounds its components); anything else takes the
    # precise slow path.
    p: tuple[float, ...] | None = None
    if type(v) is list and len(v) == 7:
        try:
            ok = math.isfinite(sum(v))
        except (TypeError, OverflowError):  # strings, lists, maps, nil
            ok = False
        # bools are numbers to sum() but not to us.
        if ok and bool not in map(type, v):
            p = tuple(v)
            b = MAX_ABS_COORD
            if not (-b <= p[0] <= b and -b <= p[1] <= b and -b <= p[2] <= b):
                p = None
    if p is None:
        p = _numbers(v, 7, t, where)
    qn = math.hypot(p[3], p[4], p[5], p[6])
    # Clients send float32-ish unit quaternions; far from unit means garbage, not rounding.
    if not 0.5 < qn < 1.5:
        shown = f"{qn:.3f}" if qn < 1e3 else f"{qn:.3g}"
        raise _bad(t, f"{where}: quaternion length {shown} is not ~1")
    return (p[0], p[1], p[2], p[3] / qn, p[4] / qn, p[5] / qn, p[6] / qn)


def _int(v: object, t: int, where: str, lo: int = 0, hi: int = 2**53) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _bad(t, f"{where}: expected an integer, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise _bad(t, f"{where}: {show(v)} is outside {lo}..{hi}")
    return v


def _str(v: object, t: int, where: str, max_chars: int, allow_empty: bool = False) -> str:
    if not isinstance(v, str):
        raise _bad(t, f"{where}: expected a string, got {type(v).__name__}")
    if len(v) > max_chars:
        raise ProtocolError(ErrorCode.TOO_LONG, f"{where}: {len(v)} characters, max {max_chars}", t)
    if not allow_empty and not v.strip():
        raise _bad(t, f"{where}: must not be empty")
    return v


def _opt_str(d: dict[str, object], key: str, t: int, max_chars: int) -> str | None:
    v = d.get(key)
    return None if v is None else _str(v, t, f"hello.{key}", max_chars)


def _color(d: dict[str, object], t: int) -> str | None:
    c = _opt_str(d, "color", t, 64)  # anything but #rrggbb is BAD_FIELD, however long
    if c is not None and not _COLOR.fullmatch(c):
        raise _bad(t, f"hello.color: expected #rrggbb (6 hex digits), got {show(c)}")
    return None if c is None else c.lower()


_AVATAR_KEYS = {"look": AVATAR_LOOKS, "accessory": AVATAR_ACCESSORIES}


def _avatar(d: dict[str, object], t: int) -> tuple[str, str] | None:
    """``hello.avatar``: a map with ``look`` and/or ``accessory``, each a name from its list
    (a missing key is that list's default). Any other name, however long, is BAD_FIELD."""
    a = d.get("avatar")
    if a is None:
        return None
    if not isinstance(a, dict):
        raise _bad(t, f"hello.avatar: expected a map {{look, accessory}}, got {type(a).__name__}")
    unknown = set(a) - set(_AVATAR_KEYS)
    if unknown:
        raise _bad(t, f"hello.avatar: unknown keys {show(sorted(map(str, unknown)))}; known: look, accessory")
    picked: list[str] = []
    for key, names in _AVATAR_KEYS.items():
        v = a.get(key, names[0])
        if not isinstance(v, str) or v not in names:
            got = show(v) if isinstance(v, str) else type(v).__name__
            raise _bad(t, f"hello.avatar.{key}: expected one of {', '.join(names)}, got {got}")
        picked.append(v)
    return picked[0], picked[1]


def _duration(v: object, t: int) -> float:
    d = _number(v, t, "moderate.duration_s", math.inf)
    if not 0 < d <= MAX_DURATION_S:
        raise _bad(t, f"moderate.duration_s: {d:g} s is not in (0, {MAX_DURATION_S}] (10 years); omit it for no end")
    return d


def _fields(msg: list[object], n: int, t: MsgType) -> list[object]:
    if len(msg) != n + 1:
        raise _bad(int(t), f"{t.name} takes {n} fields, got {len(msg) - 1}")
    return msg[1:]


_HELLO_KEYS = {"v", "name", "world", "token", "instance", "spawn", "color", "invite", "avatar"}


def _hello(msg: list[object]) -> Hello:
    t = MsgType.HELLO
    (body,) = _fields(msg, 1, t)
    if not isinstance(body, dict):
        raise _bad(int(t), f"HELLO body: expected a map, got {type(body).__name__}")
    unknown = set(body) - _HELLO_KEYS
    if unknown:
        raise _bad(int(t), f"HELLO: unknown keys {show(sorted(unknown))}")
    v = body.get("v")
    versions = (v,) if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(versions, list | tuple) or not versions:
        raise _bad(int(t), "hello.v: expected an integer or a non-empty array of integers")
    vs = tuple(_int(x, int(t), "hello.v", 0, 65535) for x in versions)
    name = _str(body.get("name"), int(t), "hello.name", MAX_NAME_CHARS).strip()
    world = _str(body.get("world"), int(t), "hello.world", 64)
    return Hello(
        versions=vs,
        name=name,
        world=world,
        token=_opt_str(body, "token", int(t), 4096),
        instance=_opt_str(body, "instance", int(t), 64),
        spawn=_opt_str(body, "spawn", int(t), 64),
        color=_color(body, int(t)),
        invite=_opt_str(body, "invite", int(t), 4096),
        avatar=_avatar(body, int(t)),
    )


def _pose_input(msg: list[object]) -> PoseInput:
    t = MsgType.POSE
    ts, head, left, right = _fields(msg, 4, t)
    return PoseInput(
        ts=_int(ts, int(t), "pose.ts", 0, 2**32 - 1),
        head=_pose(head, int(t), "pose.head"),
        left=_pose(left, int(t), "pose.left"),
        right=_pose(right, int(t), "pose.right"),
    )


def decode(data: bytes) -> ClientMessage:
    """Parse one client frame. Raises ProtocolError (never anything else) on bad input."""
    try:
        msg = unpackb(data)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"not a msgpack value: {exc}") from None
    except Exception:  # msgpack raises a few odd types on hostile input
        raise ProtocolError(ErrorCode.MALFORMED, "not a msgpack value") from None
    if not isinstance(msg, list) or not msg:
        raise ProtocolError(ErrorCode.MALFORMED, "a message must be a non-empty msgpack array")
    raw_type = msg[0]
    if isinstance(raw_type, bool) or not isinstance(raw_type, int):
        raise ProtocolError(ErrorCode.MALFORMED, "the first element must be the integer type")
    try:
        t = MsgType(raw_type)
    except ValueError:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {raw_type}", raw_type) from None
    ti = int(t)
    match t:
        case MsgType.HELLO:
            return _hello(msg)
        case MsgType.POSE:
            return _pose_input(msg)
        case MsgType.GRAB:
            (e,) = _fields(msg, 1, t)
            return Grab(_int(e, ti, "grab.entity", 1, 2**31))
        case MsgType.OBJECT_MOVE:
            e, pose = _fields(msg, 2, t)
            return ObjectMove(_int(e, ti, "move.entity", 1, 2**31), _pose(pose, ti, "move.pose"))
        case MsgType.RELEASE:
            e, pose, vel = _fields(msg, 3, t)
            v = _numbers(vel, 3, ti, "release.velocity")
            return Release(
                _int(e, ti, "release.entity", 1, 2**31),
                _pose(pose, ti, "release.pose"),
                (v[0], v[1], v[2]),
            )
        case MsgType.CHAT:
            (text,) = _fields(msg, 1, t)
            return Chat(_str(text, ti, "chat.text", MAX_CHAT_CHARS).strip())
        case MsgType.REACT:
            (reaction,) = _fields(msg, 1, t)
            known = sorted(int(r) for r in Reaction)
            if isinstance(reaction, bool) or not isinstance(reaction, int) or reaction not in known:
                raise _bad(ti, f"react.reaction: expected one of {known}, got {show(reaction)}")
            return React(int(reaction))
        case MsgType.PING:
            (ct,) = _fields(msg, 1, t)
            return Ping(_number(ct, ti, "ping.client_time", math.inf))  # any finite number
        case MsgType.TELEPORT:
            (target,) = _fields(msg, 1, t)
            p = _numbers(target, 3, ti, "teleport.target")
            return Teleport((p[0], p[1], p[2]))
        case MsgType.TRAVEL:
            if len(msg) == 2:
                msg = [*msg, None]
            world, spawn = _fields(msg, 2, t)
            return Travel(
                _str(world, ti, "travel.world", 64),
                None if spawn is None else _str(spawn, ti, "travel.spawn", 64),
            )
        case MsgType.MODERATE:
            action, target, opts = _fields(msg, 3, t)
            if action not in MODERATE_ACTIONS:
                raise _bad(ti, f"moderate.action: expected one of {', '.join(MODERATE_ACTIONS)}, got {show(action)}")
            if not isinstance(opts, dict):
                raise _bad(ti, "moderate.options: expected a map")
            reason = opts.get("reason", "")
            dur = opts.get("duration_s")
            user = opts.get("user")
            return Moderate(
                str(action),
                _int(target, ti, "moderate.target", 0, 2**31),
                "" if reason is None else _str(reason, ti, "moderate.reason", MAX_REASON_CHARS, allow_empty=True),
                None if dur is None else _duration(dur, ti),
                None if user is None else _str(user, ti, "moderate.user", 64),
            )
        case MsgType.REPORT:
            target, reason = _fields(msg, 2, t)
            return Report(
                _int(target, ti, "report.target", 1, 2**31), _str(reason, ti, "report.reason", MAX_REASON_CHARS)
            )
        case MsgType.HOST:
            ev, action, args = _fields(msg, 3, t)
            if action not in HOST_ACTIONS:
                raise _bad(ti, f"host.action: expected one of {', '.join(HOST_ACTIONS)}, got {show(action)}")
            if not isinstance(args, dict):
                raise _bad(ti, "host.args: expected a map")
            return Host(_str(ev, ti, "host.event", 200), str(action), args)
        case MsgType.RSVP:
            ev, going = _fields(msg, 2, t)
            if not isinstance(going, bool):
                raise _bad(ti, "rsvp.going: expected true or false")
            return Rsvp(_str(ev, ti, "rsvp.event", 200), going)
        case _:
            # Server -> client types sent by a client.
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"{t.name} is a server-to-client message", ti)
