"""The pure core (Hub + WorldInstance) driven directly: bytes in, bytes out, no sockets."""

from __future__ import annotations

import math
from dataclasses import replace

import msgpack
import numpy as np
import pytest

from server.codec import dequantize_position, dequantize_rotation, packb, quantize_positions, quantize_rotations
from server.errors import CloseConnection
from server.hub import Hub
from server.interest import InterestSettings
from server.mirror import StateMirror, rot_error_deg
from server.protocol import ABSOLUTE, CloseCode, ErrorCode, MsgType, Presence
from tests.corewire import frames
from tests.server.worlds import plain_world

IDENT = (0.0, 0.0, 0.0, 1.0)


class Peer:
    """A client of the hub: sends frames, keeps a mirror of what it was told."""

    def __init__(self, hub: Hub, name: str, world: str = "test", now: int = 0) -> None:
        self.hub = hub
        self.sid = hub.connect(now).sid
        self.mirror = StateMirror()
        self.inbox: list[list] = []
        self.send([MsgType.HELLO, {"v": 1, "name": name, "world": world}], now)
        self.welcome = self.take(MsgType.WELCOME)[0][1]
        self.id: int = self.welcome["id"]

    def send(self, msg: list, now: int = 0) -> None:
        self.hub.receive(self.sid, packb(msg), now)
        self.pump()

    def pump(self) -> None:
        for data in frames(self.hub, self.sid):
            m = msgpack.unpackb(data, raw=False, strict_map_key=False)
            if m[0] == MsgType.STATE:
                self.mirror.apply(m)
            self.inbox.append(m)

    def take(self, t: MsgType) -> list[list]:
        self.pump()
        got = [m for m in self.inbox if m[0] == t]
        self.inbox = [m for m in self.inbox if m[0] != t]
        return got

    def pose(self, head, left=None, right=None, q=IDENT, ts: int = 0, now: int = 0) -> None:
        hx, hy, hz = head
        left = left or (hx - 0.3, hy - 0.4, hz - 0.3)
        right = right or (hx + 0.3, hy - 0.4, hz - 0.3)
        self.send([MsgType.POSE, ts, [*head, *q], [*left, *q], [*right, *q]], now)


def tick(hub: Hub, now: int, *peers: Peer, skip: frozenset[int] = frozenset()) -> None:
    hub.tick("test", now, skip)
    for p in peers:
        p.pump()


@pytest.fixture
def hub() -> Hub:
    return Hub({"test": plain_world()})


def test_a_pose_reaches_the_other_client_within_quantization_error(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    yaw = (0.0, math.sin(0.3), 0.0, math.cos(0.3))
    a.pose((1.2345678, 1.61, -2.3456789), q=yaw, ts=1234, now=50)
    tick(hub, 50, a, b)
    seen = b.mirror.entities[a.id]
    assert seen.info == {"name": "Ada", "color": seen.info["color"], "avatar": {"look": "classic", "accessory": "none"}}
    assert all(abs(x - y) <= 0.0005 for x, y in zip(seen.position, (1.2345678, 1.61, -2.3456789), strict=True))
    assert rot_error_deg(seen.rotation, yaw) < 0.05
    assert seen.ts == 1234
    assert a.id not in a.mirror.entities  # nobody is sent their own avatar


def test_second_update_is_a_small_delta_and_an_unchanged_world_sends_nothing(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    a.pose((0.0, 1.6, 0.0), ts=1, now=50)
    tick(hub, 50, a, b)
    b.inbox.clear()
    a.pose((0.05, 1.6, 0.0), ts=2, now=100)
    hub.tick("test", 100)
    got = frames(hub, b.sid)
    assert len(got) == 1
    state = msgpack.unpackb(got[0], raw=False, strict_map_key=False)
    (update,) = state[4]
    eid, mask, *vals = update
    assert eid == a.id and not mask & ABSOLUTE
    assert vals == [50, 0, 0, 50, 0, 0, 50, 0, 0, 1]  # head/left/right x moved 50 mm, ts +1
    b.mirror.apply(state)
    assert b.mirror.entities[a.id].position[0] == pytest.approx(0.05)
    hub.tick("test", 150)
    assert frames(hub, b.sid) == []


def test_interest_radius_and_budget_limit_what_a_client_hears() -> None:
    settings = InterestSettings(near_radius_m=5, far_radius_m=10, near_budget=2, far_budget=1, far_every=4)
    hub = Hub({"test": replace(plain_world(capacity=16), objects=())}, interest=settings)
    viewer = Peer(hub, "viewer")
    others = [Peer(hub, f"p{i}") for i in range(5)]
    spots = [(1, 1.6, 0), (2, 1.6, 0), (3, 1.6, 0), (7, 1.6, 0), (30, 1.6, 30)]
    now = 0
    for p, spot in zip(others, spots, strict=True):
        p.send([MsgType.TELEPORT, [spot[0], 0, spot[2]]], now)
        p.pose(spot, now=now)
    for _ in range(4):  # far entities are sent every 4th tick
        now += 50
        tick(hub, now, viewer)
    seen = set(viewer.mirror.entities)
    ids = [p.id for p in others]
    assert {ids[0], ids[1]} <= seen  # the two nearest, at full rate
    assert ids[2] in seen  # third nearest overflows into the far budget
    assert ids[3] not in seen  # far budget (1) exhausted
    assert ids[4] not in seen  # beyond the far radius


def test_far_entities_update_at_a_reduced_rate() -> None:
    settings = InterestSettings(near_radius_m=5, far_radius_m=20, far_every=4)
    hub = Hub({"test": plain_world()}, interest=settings)
    viewer, far = Peer(hub, "viewer"), Peer(hub, "far")
    far.send([MsgType.TELEPORT, [10, 0, 0]])
    now = 0
    updates = 0
    for i in range(1, 13):
        now += 50
        far.pose((10 + i * 0.05, 1.6, 0), now=now)
        hub.tick("test", now)
        for data in frames(hub, viewer.sid):
            msg = msgpack.unpackb(data, raw=False, strict_map_key=False)
            if msg[0] == MsgType.STATE:
                updates += 1
                viewer.mirror.apply(msg)
    assert 2 <= updates <= 4  # 12 ticks at 1/4 rate
    # and what did arrive is exact (absolute refresh, not a stale delta)
    assert abs(viewer.mirror.entities[far.id].position[0] - far_last_x(hub, far)) < 0.051


def far_last_x(hub: Hub, p: Peer) -> float:
    inst = hub.sessions[p.sid].instance
    assert inst is not None
    return float(inst.pose[inst.members[p.sid].slot, 0])


def test_a_skipped_slow_client_resumes_with_correct_state(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    now = 0
    for i in range(1, 6):
        now += 50
        a.pose((i * 0.1, 1.6, 0.0), ts=i, now=now)
        tick(hub, now, a, b, skip=frozenset({b.sid}) if 2 <= i <= 4 else frozenset())
    assert b.mirror.entities[a.id].position[0] == pytest.approx(0.5)
    assert b.mirror.entities[a.id].ts == 5


def test_grab_is_exclusive_and_only_the_holder_moves_it(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    crate = a.welcome["objects"]["crate"]
    a.send([MsgType.GRAB, crate])
    assert a.take(MsgType.GRAB_RESULT) == [[MsgType.GRAB_RESULT, crate, True, 0]]
    b.send([MsgType.GRAB, crate])
    assert b.take(MsgType.GRAB_RESULT) == [[MsgType.GRAB_RESULT, crate, False, ErrorCode.HELD_BY_OTHER]]
    b.send([MsgType.OBJECT_MOVE, crate, [0, 1, 0, *IDENT]])
    (err,) = b.take(MsgType.ERROR)
    assert err[1] == ErrorCode.NOT_HOLDER
    a.send([MsgType.OBJECT_MOVE, crate, [0.5, 1.2, -0.5, *IDENT]])
    tick(hub, 50, a, b)
    assert b.mirror.entities[crate].position == pytest.approx((0.5, 1.2, -0.5))
    assert b.mirror.entities[crate].holder == a.id
    a.send([MsgType.RELEASE, crate, [0.5, 1.2, -0.5, *IDENT], [0, 0, 0]])
    tick(hub, 100, a, b)
    assert b.mirror.entities[crate].holder == 0
    assert hub.drain_dirty_objects() == [("test", 1, "crate", (0.5, 1.2, -0.5, *IDENT))]
    statue = a.welcome["objects"]["statue"]
    a.send([MsgType.GRAB, statue])
    assert a.take(MsgType.GRAB_RESULT)[0][2:] == [False, ErrorCode.NOT_GRABBABLE]


def test_a_thrown_object_flies_and_lands_on_the_ground(hub: Hub) -> None:
    a = Peer(hub, "Ada")
    ball = a.welcome["objects"]["ball"]
    a.send([MsgType.GRAB, ball])
    a.send([MsgType.RELEASE, ball, [0, 1.5, -0.5, *IDENT], [0, 2.0, -5.0]])
    now = 0
    for _ in range(40):
        now += 50
        hub.tick("test", now)
    ((_, _, oid, pose),) = hub.drain_dirty_objects()
    assert oid == "ball" and pose[1] == pytest.approx(0.2)  # half its 0.4 m height
    assert pose[2] < -3.0  # carried forward by the throw


def test_leaving_releases_objects_and_tells_everyone(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    assert b.welcome["roster"][0][:2] == [a.id, "Ada"]
    assert a.take(MsgType.PRESENCE) == [[MsgType.PRESENCE, Presence.JOINED, b.id, "Bo"]]
    crate = a.welcome["objects"]["crate"]
    a.send([MsgType.GRAB, crate])
    tick(hub, 50, a, b)
    assert a.id in b.mirror.entities
    hub.disconnect(a.sid)
    assert b.take(MsgType.PRESENCE) == [[MsgType.PRESENCE, Presence.LEFT, a.id, "Ada"]]
    tick(hub, 100, b)
    assert a.id not in b.mirror.entities
    assert b.mirror.entities[crate].holder == 0


def test_chat_reaches_everyone_in_the_instance(hub: Hub) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    a.send([MsgType.CHAT, "  hello plaza  "], now=7)
    assert b.take(MsgType.CHAT_MSG) == [[MsgType.CHAT_MSG, a.id, "Ada", "hello plaza", 7]]
    assert a.take(MsgType.CHAT_MSG)[0][3] == "hello plaza"


def test_a_full_world_opens_a_new_instance() -> None:
    hub = Hub({"test": plain_world(capacity=2)})
    peers = [Peer(hub, f"p{i}") for i in range(5)]
    assert [p.welcome["instance"] for p in peers] == ["test#1", "test#1", "test#2", "test#2", "test#3"]
    occupancy, instances = hub.occupancy("test")
    assert occupancy == 5 and [i["occupancy"] for i in instances] == [2, 2, 1]
    for p in peers[4:]:
        hub.disconnect(p.sid)
    assert [i["id"] for i in hub.occupancy("test")[1]] == ["test#1", "test#2"]


def test_always_visible_entities_reach_everyone_regardless_of_distance() -> None:
    settings = InterestSettings(near_radius_m=5, far_radius_m=10)
    hub = Hub({"test": plain_world()}, interest=settings)
    viewer, star = Peer(hub, "viewer"), Peer(hub, "star")
    star.send([MsgType.TELEPORT, [40, 0, 40]])
    star.pose((40, 1.6, 40))
    inst = hub.sessions[star.sid].instance
    assert inst is not None
    tick(hub, 50, viewer)
    assert star.id not in viewer.mirror.entities
    inst.always_visible[inst.members[star.sid].slot] = True
    tick(hub, 100, viewer)
    assert viewer.mirror.entities[star.id].position == pytest.approx((40, 1.6, 40))


# ----- bad input: precise errors, nothing else disturbed -----------------------------------
@pytest.mark.parametrize(
    ("frame", "code", "text"),
    [
        (b"\xc1", ErrorCode.MALFORMED, "not a msgpack value"),
        (packb({"t": 2}), ErrorCode.MALFORMED, "non-empty msgpack array"),
        (packb([250]), ErrorCode.UNKNOWN_TYPE, "unknown message type 250"),
        (packb([MsgType.STATE, 1]), ErrorCode.UNKNOWN_TYPE, "server-to-client"),
        (packb([MsgType.POSE, 0, [0, 1.6, 0, 0, 0, 0, 1]]), ErrorCode.BAD_FIELD, "POSE takes 4 fields, got 2"),
        (packb([MsgType.POSE, 0, "head", [0] * 7, [0] * 7]), ErrorCode.BAD_FIELD, "pose.head: expected an array of 7"),
        (
            packb(
                [MsgType.POSE, 0, [float("nan"), 1.6, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1]]
            ),
            ErrorCode.NOT_FINITE,
            "pose.head[0]: nan is not a finite number",
        ),
        (
            packb(
                [MsgType.POSE, 0, [0, 1.6, float("inf"), 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1]]
            ),
            ErrorCode.NOT_FINITE,
            "pose.head[2]: inf",
        ),
        (
            packb([MsgType.POSE, 0, [0, 1.6, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 3], [0, 1.2, 0, 0, 0, 0, 1]]),
            ErrorCode.BAD_FIELD,
            "pose.left: quaternion length 3.000 is not ~1",
        ),
        (
            packb([MsgType.POSE, 0, [0, 1.6, 0, 0, 0, 1e200, 1], [0, 1.2, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1]]),
            ErrorCode.BAD_FIELD,
            "pose.head: quaternion length 1e+200 is not ~1",
        ),
        (
            packb([MsgType.POSE, 0, [0, 1.6, 99, 0, 0, 0, 1], [0, 1.2, 99, 0, 0, 0, 1], [0, 1.2, 99, 0, 0, 0, 1]]),
            ErrorCode.OUT_OF_BOUNDS,
            "is outside the world",
        ),
        (
            packb([MsgType.POSE, 0, [15, 1.6, 0, 0, 0, 0, 1], [15, 1.2, 0, 0, 0, 0, 1], [15, 1.2, 0, 0, 0, 0, 1]]),
            ErrorCode.TOO_FAST,
            "teleport with TELEPORT first",
        ),
        (
            packb([MsgType.POSE, 0, [True, 1.6, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1]]),
            ErrorCode.BAD_FIELD,
            "pose.head[0]: expected a number, got bool",
        ),
        (
            packb([MsgType.POSE, 0, [0, 1.6, 0, 0, 0, 0, 1], [0, "1.2", 0, 0, 0, 0, 1], [0, 1.2, 0, 0, 0, 0, 1]]),
            ErrorCode.BAD_FIELD,
            "pose.left[1]: expected a number, got str",
        ),
        (packb([MsgType.GRAB, 9999]), ErrorCode.UNKNOWN_OBJECT, "no object with entity id 9999"),
        (packb([MsgType.GRAB, True]), ErrorCode.BAD_FIELD, "grab.entity: expected an integer, got bool"),
        (packb([MsgType.CHAT, "x" * 501]), ErrorCode.TOO_LONG, "chat.text: 501 characters, max 500"),
        (packb([MsgType.HELLO, {"v": 1, "name": "x", "world": "test"}]), ErrorCode.ALREADY_JOINED, "already joined"),
        (packb([MsgType.TRAVEL, "atlantis"]), ErrorCode.UNKNOWN_WORLD, "no world 'atlantis'"),
    ],
)
def test_bad_input_gets_a_precise_error_and_the_world_goes_on(
    hub: Hub, frame: bytes, code: ErrorCode, text: str
) -> None:
    a, b = Peer(hub, "Ada"), Peer(hub, "Bo")
    a.pose((0.0, 1.6, 0.0), ts=1, now=1000)
    tick(hub, 1000, a, b)
    hub.receive(a.sid, frame, 1050)
    (err,) = a.take(MsgType.ERROR)
    assert err[1] == code, err
    assert text in err[2]
    # The sender's last good state stands and everyone else carries on.
    assert b.mirror.entities[a.id].position == pytest.approx((0.0, 1.6, 0.0))
    b.pose((0.3, 1.6, 0.0), now=1100)
    tick(hub, 1100, a, b)
    assert a.mirror.entities[b.id].position == pytest.approx((0.3, 1.6, 0.0))
    assert b.take(MsgType.ERROR) == []


def test_teleport_makes_a_long_jump_legal(hub: Hub) -> None:
    a = Peer(hub, "Ada")
    a.send([MsgType.TELEPORT, [20, 0, 20]])
    assert a.take(MsgType.TELEPORTED) == [[MsgType.TELEPORTED, [20, 0, 20]]]
    a.pose((20.2, 1.6, 20.1))
    assert a.take(MsgType.ERROR) == []
    a.send([MsgType.TELEPORT, [500, 0, 0]])
    assert a.take(MsgType.ERROR)[0][1] == ErrorCode.OUT_OF_BOUNDS


def test_messages_before_hello_are_refused() -> None:
    hub = Hub({"test": plain_world()})
    sid = hub.connect(0).sid
    hub.receive(sid, packb([MsgType.CHAT, "hi"]), 0)
    (err,) = [msgpack.unpackb(d) for d in frames(hub, sid)]
    assert err[:2] == [MsgType.ERROR, ErrorCode.NOT_JOINED]


@pytest.mark.parametrize(
    ("hello", "close"),
    [
        ({"v": 99, "name": "x", "world": "test"}, CloseCode.UNSUPPORTED_VERSION),
        ({"v": 1, "name": "x", "world": "nowhere"}, CloseCode.UNKNOWN_WORLD),
        ({"v": 1, "name": "", "world": "test"}, CloseCode.BAD_HELLO),
        ({"v": 1, "name": "x" * 33, "world": "test"}, CloseCode.BAD_HELLO),
        ({"v": 1, "name": "x", "world": "test", "extra": 1}, CloseCode.BAD_HELLO),
    ],
)
def test_a_bad_hello_closes_with_a_specific_code(hello: dict, close: CloseCode) -> None:
    hub = Hub({"test": plain_world()})
    sid = hub.connect(0).sid
    with pytest.raises(CloseConnection) as exc:
        hub.receive(sid, packb([MsgType.HELLO, hello]), 0)
    assert exc.value.code == close
    (err,) = [msgpack.unpackb(d) for d in frames(hub, sid)]
    assert err[0] == MsgType.ERROR


def test_a_flood_is_rate_limited_then_closed(hub: Hub) -> None:
    a = Peer(hub, "Ada")
    for _ in range(1000):
        hub.receive(a.sid, packb([MsgType.PING, 1]), 5000)  # a burst in one millisecond: dropped
    errors = a.take(MsgType.ERROR)
    assert [e[1] for e in errors] == [ErrorCode.RATE_LIMITED]  # one error, not one per message
    with pytest.raises(CloseConnection) as exc:
        for i in range(10_000):  # a flood that goes on: 1,000 a second
            hub.receive(a.sid, packb([MsgType.PING, 1]), 5001 + i)
    assert exc.value.code == CloseCode.FLOODING


def test_too_fast_sends_a_correction_and_a_lagging_client_is_not_dropped(hub: Hub) -> None:
    a = Peer(hub, "Ada")
    for i in range(60):  # more than the invalid-message limit
        a.pose((30.0, 1.6, 0.0), now=1000 + i)
    errors = a.take(MsgType.ERROR)
    assert len(errors) == 60 and {e[1] for e in errors} == {ErrorCode.TOO_FAST}
    corrections = a.take(MsgType.TELEPORTED)
    assert corrections[-1][1] == pytest.approx([0.0, 0.0, 0.0])
    a.pose((0.3, 1.6, 0.2), now=2000)  # back where the server has it: accepted
    assert a.take(MsgType.ERROR) == []


def test_quantization_error_is_within_the_documented_bounds() -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(-500, 500, size=(5000, 3))
    assert np.abs(dequantize_position(quantize_positions(p)) - p).max() <= 0.0005 + 1e-12  # 0.5 mm
    q = rng.normal(size=(5000, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    back = np.array([dequantize_rotation(r) for r in quantize_rotations(q)])
    angle = np.degrees(2 * np.arccos(np.clip(np.abs(np.sum(back * q, axis=1)), 0, 1)))
    assert angle.max() < 0.03  # documented: < 0.03 degrees
