"""Spec: no frame a client can send ends its session with a traceback or disturbs anyone else.

The pure core (Hub + messages + WorldInstance) is driven directly, bytes in and bytes out:
hostile numbers and nesting get a precise ERROR, glitching hand tracking is not treated as
hostile, floods are closed only when persistent, expensive requests have their own small
budget, and the documented limits are the enforced ones. Ends with a bounded fuzz run.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.codec import packb
from server.errors import CloseConnection
from server.hosting import Hosting, SQLiteHostingStore, WorldRoles
from server.hub import Hub
from server.protocol import CloseCode, ErrorCode, MsgType
from tests.mutation import mutate
from tests.server.hubwire import Client, Wire
from tests.server.worlds import plain_world

REPO = Path(__file__).resolve().parents[2]
IDENT = [0.0, 0.0, 0.0, 1.0]
NOW_S = 1_800_000_000.0  # wall clock of the hosting tests: the core never reads a clock
HEAD = [0.0, 1.6, 0.0, *IDENT]
HAND = [0.3, 1.2, -0.3, *IDENT]
MAX_ECHO = 300  # no error text may be longer than this (values in it are capped far below)


@pytest.fixture
def wire() -> Wire:
    return Wire(Hub({"test": plain_world(), "other": plain_world("other")}))


def joined(wire: Wire, name: str = "Ada", now: int = 0, **extra: object) -> Client:
    return Client(wire, now).hello(name, now, **extra)


def pose_msg(head: list, left: list | None = None, right: list | None = None, ts: int = 0) -> list:
    return [MsgType.POSE, ts, head, left or HAND, right or HAND]


# ----- 1. numbers: finite and in range, everywhere, before HELLO too ------------------------
HOSTILE_NUMBERS = [
    (1e200, ErrorCode.BAD_FIELD),
    (-1e308, ErrorCode.BAD_FIELD),
    (float("inf"), ErrorCode.NOT_FINITE),
    (float("-inf"), ErrorCode.NOT_FINITE),
    (float("nan"), ErrorCode.NOT_FINITE),
    (2**64 - 1, ErrorCode.BAD_FIELD),
]


def _frames_with(v: float) -> list[tuple[MsgType, list]]:
    quat = [0.0, 0.0, v, 1.0]
    return [
        (MsgType.POSE, pose_msg([0.0, 1.6, 0.0, *quat])),  # a quaternion component
        (MsgType.POSE, pose_msg([v, 1.6, 0.0, *IDENT])),  # a position
        (MsgType.POSE, pose_msg(HEAD, right=[0.3, 1.2, -0.3, v, 0.0, 0.0, 1.0])),
        (MsgType.OBJECT_MOVE, [MsgType.OBJECT_MOVE, 1, [1.0, 0.5, 0.0, *quat]]),
        (MsgType.RELEASE, [MsgType.RELEASE, 1, [1.0, 0.5, 0.0, *quat], [0.0, 0.0, 0.0]]),
        (MsgType.RELEASE, [MsgType.RELEASE, 1, [1.0, 0.5, 0.0, *IDENT], [v, 0.0, 0.0]]),
        (MsgType.TELEPORT, [MsgType.TELEPORT, [v, 0.0, 0.0]]),
    ]


@pytest.mark.parametrize("before_hello", [True, False], ids=["before-hello", "joined"])
@pytest.mark.parametrize(("value", "code"), HOSTILE_NUMBERS, ids=[repr(v) for v, _ in HOSTILE_NUMBERS])
def test_huge_and_non_finite_numbers_get_an_error_not_a_crash(
    wire: Wire, value: float, code: ErrorCode, before_hello: bool
) -> None:
    c = Client(wire) if before_hello else joined(wire)
    if not before_hello:
        c.send([MsgType.GRAB, c.welcome["objects"]["crate"]])
    for t, frame in _frames_with(value):
        c.send(frame, 10)
        (err,) = c.errors()
        assert err[1] == code, (frame, err)
        assert err[3] == t and len(err[2]) <= MAX_ECHO
    if not before_hello:
        assert c.slot_pose()[:3] == pytest.approx([0.0, 1.6, 0.0])  # nothing was applied


def test_a_ping_may_carry_any_finite_number(wire: Wire) -> None:
    c = joined(wire)
    c.send([MsgType.PING, 1.7e300], 5)
    assert c.take(MsgType.PONG) == [[MsgType.PONG, 1.7e300, 5]]
    c.send([MsgType.PING, float("nan")], 6)
    assert c.errors()[0][1] == ErrorCode.NOT_FINITE


def test_durations_must_be_positive_and_at_most_ten_years(wire: Wire) -> None:
    c = joined(wire)
    for dur in (1e300, -5, 0, 400_000_000):
        c.send([MsgType.MODERATE, "mute", 1, {"duration_s": dur}], 10)
        (err,) = c.errors()
        assert err[1] == ErrorCode.BAD_FIELD and "duration_s" in err[2] and err[3] == MsgType.MODERATE


def _nested(depth: int) -> bytes:
    """msgpack for [[[...[]...]]] ``depth`` arrays deep (msgpack.packb refuses to nest this far)."""
    return b"\x91" * (depth - 1) + b"\x90"


@pytest.mark.parametrize(
    "frame",
    [
        b"\x94\x0a" + _nested(1000) + b"\x00\x80",  # MODERATE, action nested 1,000 deep
        b"\x94\x0c\xa1e" + _nested(1000) + b"\x80",  # HOST, action nested 1,000 deep
        b"\x94\x0a\xa4kick\x00\x81\xa6reason" + _nested(1000),  # MODERATE, options.reason
        b"\x92\x06" + _nested(1000),  # CHAT
        b"\x92\x09" + _nested(1000),  # TRAVEL
        b"\x92" + _nested(1000) + b"\x00",  # the type itself
        packb([MsgType.MODERATE, "x" * 10_000, 0, {}]),
        packb([MsgType.HOST, "e", {"k" * 2000: ["v" * 2000] * 3}, {}]),
        packb([MsgType.TRAVEL, "y" * 64]),
        packb([MsgType.GRAB, 2**64 - 1]),
        packb([MsgType.HOST, "e", "start", {}, "z" * 5000]),
    ],
    ids=[
        "moderate-action-deep",
        "host-action-deep",
        "moderate-reason-deep",
        "chat-deep",
        "travel-deep",
        "type-deep",
        "moderate-action-long",
        "host-action-map",
        "travel-unknown-world",
        "grab-huge-int",
        "host-extra-field",
    ],
)
def test_error_texts_show_offending_values_with_a_size_cap(wire: Wire, frame: bytes) -> None:
    c = joined(wire)
    c.send_raw(frame, 10)
    (err,) = c.errors()
    assert err[1] in (ErrorCode.BAD_FIELD, ErrorCode.MALFORMED, ErrorCode.UNKNOWN_WORLD, ErrorCode.FORBIDDEN), err
    assert len(err[2]) <= MAX_ECHO, err[2]
    c.send([MsgType.PING, 1], 20)  # and the session goes on
    assert c.take(MsgType.PONG)


def test_a_hello_with_many_long_unknown_keys_is_refused_with_a_short_text(wire: Wire) -> None:
    c = Client(wire)
    body = {"v": 1, "name": "Ada", "world": "test", **{f"{i:02d}" + "k" * 200: 1 for i in range(60)}}
    with pytest.raises(CloseConnection) as exc:
        c.send([MsgType.HELLO, body])
    assert exc.value.code == CloseCode.BAD_HELLO
    (err,) = c.errors()
    assert err[1] == ErrorCode.BAD_FIELD and len(err[2]) <= MAX_ECHO


# ----- with hosting: permission first, then parse ----------------------------------------------
@pytest.fixture
def hosting(tmp_path: Path) -> Iterator[Hosting]:
    h = Hosting(SQLiteHostingStore(tmp_path / "plaza.sqlite3"))
    h.roles.set_worlds([WorldRoles("test", "public", "olivia", ("max",)), WorldRoles("other", "public", "olivia")])
    yield h
    h.close()


@pytest.fixture
def hosted(hosting: Hosting) -> Wire:
    hub = Hub(
        {"test": plain_world(), "other": plain_world("other")}, hosting=hosting, wall=lambda ms: NOW_S + ms / 1000
    )
    return Wire(hub)


def account_token(h: Hosting, user: str) -> str:
    h.identity.register(user, "correct horse", NOW_S)
    return h.identity.sign_in(user, "correct horse", "test", NOW_S)


@pytest.mark.parametrize("user", ["no-colon-here", "x:y", "a:", 42, {"a": 1}, [1], True])
def test_allow_and_unban_with_a_malformed_user_key_get_a_clean_error(
    hosted: Wire, hosting: Hosting, user: object
) -> None:
    guest = joined(hosted, "Gus")
    mod = joined(hosted, "max", token=account_token(hosting, "max"))
    for action in ("allow", "unban"):
        mod.send([MsgType.MODERATE, action, 0, {"user": user}], 10)
        (err,) = mod.errors()
        assert err[1] == ErrorCode.BAD_FIELD and err[3] == MsgType.MODERATE, err
        assert "user" in err[2] and len(err[2]) <= MAX_ECHO
        guest.send([MsgType.MODERATE, action, 0, {"user": user}], 10)
        (err,) = guest.errors()
        # a string is only looked at once the permission check passed
        assert err[1] == (ErrorCode.FORBIDDEN if isinstance(user, str) else ErrorCode.BAD_FIELD), err
    mod.send([MsgType.MODERATE, "allow", 0, {"user": "g:someone"}], 20)
    assert mod.errors() == [] and mod.take(MsgType.NOTICE)


# ----- 2. glitching hand tracking is not hostile ------------------------------------------------
@pytest.mark.parametrize("hz", [20, 72])
def test_glitching_hand_tracking_for_two_and_a_half_seconds_does_not_disconnect(wire: Wire, hz: int) -> None:
    c = joined(wire)
    rng = random.Random(hz)
    n = int(2.5 * hz)
    for i in range(n):
        now = 1000 + i * 1000 // hz
        x = i * 0.5 / hz  # walking at 0.5 m/s
        far = [x + rng.uniform(2.5, 40), rng.uniform(-1, 19), rng.uniform(-30, 30), *IDENT]  # lost tracking
        left = [x - 0.3, 1.2, -0.3, *IDENT]
        c.send(pose_msg([x, 1.6, 0.0, *IDENT], left=left, right=far, ts=i), now)
    assert c.take(MsgType.ERROR) == []  # nothing to correct: the pose was accepted
    pose = c.slot_pose()
    x = (n - 1) * 0.5 / hz
    assert pose[0] == pytest.approx(x)  # the head kept moving
    assert pose[7:10] == pytest.approx([x - 0.3, 1.2, -0.3])  # the good hand is as sent
    assert math.dist(pose[14:17], pose[0:3]) == pytest.approx(2.0)  # the lost one pulled in to reach
    c.send([MsgType.PING, 1], 5000)
    assert c.take(MsgType.PONG)


def test_a_head_outside_the_world_is_refused_but_not_counted_as_hostile(wire: Wire) -> None:
    c = joined(wire)
    for i in range(120):  # room-scale VR walking past the world's edge
        c.send(pose_msg([0.0, 1.6, 60.0, *IDENT], [0.0, 1.2, 60.0, *IDENT], [0.0, 1.2, 60.0, *IDENT]), 1000 + i * 14)
    errors = c.errors()
    assert len(errors) == 120 and {e[1] for e in errors} == {ErrorCode.OUT_OF_BOUNDS}
    assert {e[3] for e in errors} == {MsgType.POSE}
    c.send(pose_msg([0.2, 1.6, 0.0, *IDENT]), 3000)
    assert c.errors() == []


def test_broken_messages_in_a_row_still_close_with_4009(wire: Wire) -> None:
    c = joined(wire)
    with pytest.raises(CloseConnection) as exc:
        for i in range(60):
            c.send([MsgType.GRAB, "crate"], 1000 + i * 20)
    assert exc.value.code == CloseCode.PROTOCOL_ERROR
    assert len(c.errors()) == 50


# ----- 3. floods: closed when persistent, not for a burst -------------------------------------
def steady(c: Client, per_s: float, seconds: float, start_ms: int = 1000) -> int:
    """Send PINGs at ``per_s`` for ``seconds`` (synthetic clock); returns the end time."""
    n = int(per_s * seconds)
    for i in range(n):
        c.send([MsgType.PING, i], start_ms + int(i * 1000 / per_s))
    return start_ms + int(seconds * 1000)


def test_a_steady_flood_of_2000_per_second_is_closed_with_4004(wire: Wire) -> None:
    c = joined(wire)
    with pytest.raises(CloseConnection) as exc:
        steady(c, 2000, 3.0)
    assert exc.value.code == CloseCode.FLOODING
    errors = c.errors()
    assert errors and {e[1] for e in errors} == {ErrorCode.RATE_LIMITED}
    assert len(errors) <= 4  # at most one a second
    assert errors[0][3] == MsgType.PING  # ref_type: what was refused


@pytest.mark.parametrize("burst", [200, 1000])
def test_a_burst_followed_by_a_normal_rate_is_not_closed(wire: Wire, burst: int) -> None:
    c = joined(wire)
    for i in range(burst):
        c.send([MsgType.PING, i], 1000)  # all in one millisecond
    end = steady(c, 20, 5.0, start_ms=1001)
    c.send([MsgType.PING, -1], end + 1000)
    assert c.take(MsgType.PONG)[-1][1] == -1


def test_a_client_at_1_2x_the_limit_for_a_second_is_not_closed(wire: Wire) -> None:
    c = joined(wire)
    s = wire.hub.sessions[c.sid]
    s.tokens, s.refill_ms = 0.0, 1000  # even with its burst already spent
    steady(c, 1.2 * c.welcome["limits"]["rate_per_s"], 1.0)
    c.send([MsgType.PING, -1], 3000)
    assert c.take(MsgType.PONG)[-1][1] == -1


# ----- 4. expensive requests have their own small budget --------------------------------------
def test_travel_has_its_own_rate_limit(wire: Wire) -> None:
    c = joined(wire)
    limits = c.welcome["limits"]
    burst, per_s = int(limits["expensive_burst"]), limits["expensive_per_s"]
    worlds = ["other", "test"]
    for i in range(burst):
        c.send([MsgType.TRAVEL, worlds[i % 2]], 1000)
    assert len(c.take(MsgType.WELCOME)) == burst
    c.send([MsgType.TRAVEL, "test"], 1000)
    (err,) = c.errors()
    assert err[1] == ErrorCode.RATE_LIMITED and err[3] == MsgType.TRAVEL
    assert c.take(MsgType.WELCOME) == []
    c.send([MsgType.PING, 1], 1000)  # cheap messages are not affected
    assert c.take(MsgType.PONG)
    c.send([MsgType.TRAVEL, "test"], 1000 + int(1000 / per_s))  # one more after the refill time
    assert len(c.take(MsgType.WELCOME)) == 1 and c.errors() == []


@pytest.mark.parametrize(
    "msg",
    [
        [MsgType.CHAT, "/generate a mossy boulder"],
        [MsgType.REPORT, 1, "spam"],
        [MsgType.RSVP, "test/e", True],
    ],
)
def test_other_expensive_requests_share_that_budget(wire: Wire, msg: list) -> None:
    c = joined(wire)
    burst = int(c.welcome["limits"]["expensive_burst"])
    for _ in range(burst):
        c.send(msg, 1000)
    assert all(e[1] != ErrorCode.RATE_LIMITED for e in c.errors())
    c.send(msg, 1000)
    (err,) = c.errors()
    assert err[1] == ErrorCode.RATE_LIMITED and err[3] == msg[0]
    c.send([MsgType.CHAT, "plain chat is not an expensive request"], 1000)
    assert c.errors() == [] and c.take(MsgType.CHAT_MSG)


# ----- 5. what the doc says is what the server does --------------------------------------------
def test_ref_type_names_the_refused_message(wire: Wire) -> None:
    c = Client(wire)
    c.send([MsgType.CHAT, "hi"])
    (err,) = c.errors()
    assert err[1:2] == [ErrorCode.NOT_JOINED] and err[3] == MsgType.CHAT
    c = joined(wire, "Bo")
    c.send([MsgType.MODERATE, "kick", 1, {}], 5)  # hosting is off on this hub
    (err,) = c.errors()
    assert err[1] == ErrorCode.FORBIDDEN and err[3] == MsgType.MODERATE


@pytest.mark.parametrize("n", [501, 4097, 16_000])
def test_a_long_chat_is_too_long_not_malformed(wire: Wire, n: int) -> None:
    c = joined(wire)
    c.send([MsgType.CHAT, "x" * n], 10)
    (err,) = c.errors()
    assert err[1] == ErrorCode.TOO_LONG and f"{n} characters, max 500" in err[2]


@pytest.mark.parametrize("color", ["red", "<svg/onload=alert(1)>", "#12345", "#1234567", "#12345g", "123456", ""])
def test_hello_color_must_be_rrggbb(wire: Wire, color: str) -> None:
    c = Client(wire)
    with pytest.raises(CloseConnection) as exc:
        c.send([MsgType.HELLO, {"v": 1, "name": "Ada", "world": "test", "color": color}])
    assert exc.value.code == CloseCode.BAD_HELLO
    (err,) = c.errors()
    assert err[1] == ErrorCode.BAD_FIELD and "hello.color" in err[2] and err[3] == MsgType.HELLO


def test_a_valid_color_is_used_and_the_roster_includes_yourself(wire: Wire) -> None:
    c = Client(wire).hello("Ada", color="#A0b1C2")
    assert c.welcome["roster"] == [[c.id, "Ada", "#a0b1c2", {"look": "classic", "accessory": "none"}]]


def test_a_frame_of_exactly_16_kib_is_accepted_and_one_byte_more_is_refused(wire: Wire) -> None:
    c = joined(wire)
    limit = c.welcome["limits"]["max_frame_bytes"]
    assert limit == 16384
    frame = b"\x92\x06\xda" + (limit - 5).to_bytes(2, "big") + b"x" * (limit - 5)
    assert len(frame) == limit
    c.send_raw(frame, 10)
    assert c.errors()[0][1] == ErrorCode.TOO_LONG  # decoded and answered, not closed
    frame = b"\x92\x06\xda" + (limit - 4).to_bytes(2, "big") + b"x" * (limit - 4)
    with pytest.raises(CloseConnection) as exc:
        c.send_raw(frame, 20)
    assert exc.value.code == CloseCode.TOO_BIG


async def test_the_edge_max_msg_size_accepts_16_kib_and_refuses_one_byte_more() -> None:
    """aiohttp refuses a message whose size is >= max_msg_size; the edge passes EDGE_MAX_MSG_SIZE."""
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from server.protocol import EDGE_MAX_MSG_SIZE, MAX_FRAME_BYTES

    got: list[int] = []

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=EDGE_MAX_MSG_SIZE, compress=False)
        await ws.prepare(request)
        async for msg in ws:
            got.append(len(msg.data))
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    async with TestServer(app) as server, aiohttp.ClientSession() as http:
        for size, close in ((MAX_FRAME_BYTES, None), (MAX_FRAME_BYTES + 1, 1009)):
            async with http.ws_connect(server.make_url("/ws")) as ws:
                await ws.send_bytes(b"\x00" * size)
                if close is None:
                    await ws.close()
                else:
                    msg = await ws.receive(timeout=5)
                    assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == close
    assert got == [MAX_FRAME_BYTES]


def _doc_limit_keys() -> set[str]:
    text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## Limits", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|[^\n]*\| `(\w+)` \|$", section, flags=re.M))


def test_every_welcome_limit_is_documented(wire: Wire) -> None:
    c = joined(wire)
    assert set(c.welcome["limits"]) == _doc_limit_keys()
    assert {"expensive_per_s", "expensive_burst", "flood_close_s", "max_invalid_in_a_row"} <= set(c.welcome["limits"])


# ----- the fuzz run -----------------------------------------------------------------------------
def _valid_frames(crate: int, other: int, event: str) -> list[list]:
    pose = [1.0, 1.0, 0.0, *IDENT]
    frames: list[list] = [
        [MsgType.HELLO, {"v": [1], "name": "Fuzz", "world": "test", "color": "#123456", "instance": "test#1"}],
        pose_msg(HEAD),
        [MsgType.GRAB, crate],
        [MsgType.OBJECT_MOVE, crate, pose],
        [MsgType.RELEASE, crate, pose, [0.0, 2.0, -3.0]],
        [MsgType.CHAT, "hello"],
        [MsgType.CHAT, "/generate a mossy boulder"],
        [MsgType.PING, 123.5],
        [MsgType.TELEPORT, [1.0, 0.0, 1.0]],
        [MsgType.TRAVEL, "test"],
        [MsgType.TRAVEL, "other", "main"],
        [MsgType.REPORT, other, "spam"],
        [MsgType.RSVP, event, True],
        [MsgType.RSVP, event, False],
    ]
    for action in ("kick", "mute", "unmute", "ban", "remove_object"):
        frames.append([MsgType.MODERATE, action, other, {"reason": "r", "duration_s": 60}])
    for action in ("allow", "unban", "lock", "unlock"):
        frames.append([MsgType.MODERATE, action, 0, {"user": "g:someone"}])
    for action, args in (
        ("start", {}),
        ("end", {}),
        ("spotlight", {"ids": ["me", "crate"]}),
        ("gather", {}),
        ("mute_chat", {"muted": True}),
        ("pin", {"text": "hi"}),
    ):
        frames.append([MsgType.HOST, event, action, args])
    frames.append([MsgType.STATE, 1, 2, [], [], []])
    return frames


def _fuzz_frame(rng: random.Random, valid: list[list]) -> bytes:
    roll = rng.random()
    base = rng.choice(valid)
    if roll < 0.05:
        return rng.randbytes(rng.randrange(0, 64))
    if roll < 0.1:  # deep nesting somewhere in an otherwise plausible frame
        return b"\x93" + packb(int(base[0])) + _nested(rng.randrange(500, 1100)) + b"\x80"
    if roll < 0.15:
        frame = packb(base)
        return frame[: rng.randrange(len(frame))]
    if roll < 0.25:
        frame = bytearray(packb(base))
        for _ in range(rng.randrange(1, 4)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        return bytes(frame)
    if roll < 0.3:
        return packb([rng.choice([0, 14, 63, 75, 255, 2**32, -1, 1.5, "2", True]), *base[1:]])
    if roll > 0.85:  # honest frames too: they move the state (held objects, live events) on
        return packb(base)
    msg = base
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        msg = mutate(rng, msg)
    try:
        return packb(msg)
    except (ValueError, OverflowError, TypeError):
        return packb(base)


def test_fuzz_no_frame_escapes_as_an_exception_and_the_hub_keeps_serving(hosted: Wire, hosting: Hosting) -> None:
    hub = hosted.hub
    owner_token, mod_token = account_token(hosting, "olivia"), account_token(hosting, "max")
    ev = hosting.events.create(
        "test", hosting.identity.authenticate(owner_token, NOW_S), NOW_S, title="Gig", start=NOW_S + 60, duration_s=3600
    )
    bystander = joined(hosted, "Bo")
    rng = random.Random(20240611)
    now = 1000

    def fuzzer() -> Client:
        c = Client(hosted, now)
        c.hello("max", now, token=mod_token)  # a moderator reaches the deepest code paths
        return c

    fz = fuzzer()
    valid = _valid_frames(fz.welcome["objects"]["crate"], bystander.id, ev.key)
    closes: dict[int, int] = defaultdict(int)
    for i in range(5000):
        now += rng.choice([0, 1, 10, 10, 20, 50])
        frame = _fuzz_frame(rng, valid)
        try:
            fz.send_raw(frame, now)
        except CloseConnection as e:
            closes[int(e.code)] += 1
            hub.disconnect(fz.sid, now)
            fz = fuzzer()
        except Exception as e:  # pragma: no cover - the failure report
            pytest.fail(f"frame {i} {frame[:200]!r} raised {type(e).__name__}: {e}")
        if fz.sid in hosted.closed or fz.sid not in hub.sessions:
            hub.disconnect(fz.sid, now)
            fz = fuzzer()
        if i % 10 == 0:
            for world in list(hub.instances):
                hub.tick(world, now)
            if hub.link is not None:
                hub.link.duties(now)
        for sid in list(hosted.inbox):
            for m in hosted.inbox.pop(sid):
                if m[0] == MsgType.ERROR:
                    assert len(m[2]) <= MAX_ECHO and m[1] != ErrorCode.INTERNAL, m
        hosted.pump()
    assert getattr(hub, "tick_failures", {}) == {}
    assert sum(closes.values()) < 200  # most frames were answered, not closed on
    # A second, honest session is served normally (the owner: no lock or ban applies to her).
    honest = Client(hosted, now).hello("olivia", now, token=owner_token)
    honest.send(pose_msg([0.5, 1.6, 0.5, *IDENT]), now + 100)
    honest.send([MsgType.PING, 7], now + 150)
    assert honest.take(MsgType.PONG) == [[MsgType.PONG, 7, now + 150]]
    assert honest.errors() == []
    assert honest.slot_pose()[:3] == pytest.approx([0.5, 1.6, 0.5])
