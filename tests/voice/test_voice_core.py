"""VoiceCore against a real (pure) Hub: what Plaza asks the media server to do, and tells clients."""

from __future__ import annotations

from typing import Any

from server.codec import packb, unpackb
from server.effects import Send
from server.hub import Hub
from server.protocol import ErrorCode, MsgType
from server.voice.core import CONNECTED, MUTED, Allow, CreateRoom, Kick, ListParticipants, VoiceCore
from server.voice.settings import VoiceSettings
from server.world import SpawnPoint, WorldSpec

SPEC = WorldSpec(
    "w", "W", (-50.0, -1.0, -50.0), (50.0, 10.0, 50.0), (SpawnPoint("default", (0.0, 0.0, 0.0)),),
    capacity=2, description={"audio": {"mode": "spatial", "radius": 15.0}},
)  # fmt: skip


def setup(ttl_s: float = 30.0) -> tuple[Hub, VoiceCore]:
    hub = Hub({"w": SPEC})
    core = VoiceCore(VoiceSettings(credential_ttl_s=ttl_s), hub.emit, "/janus")
    hub.voice = core
    return hub, core


def enter(hub: Hub, name: str, now: int = 0) -> int:
    s = hub.connect(now)
    hub.receive(s.sid, packb([MsgType.HELLO, {"v": [1], "name": name, "world": "w"}]), now)
    return s.sid


def inbox(hub: Hub, sid: int) -> list[list[Any]]:
    return [unpackb(e.data) for e in hub.outbox.drain() if isinstance(e, Send) and e.sid == sid]


def perform(core: VoiceCore, ops: list[Any], participants: dict[int, dict[int, bool]] | None = None) -> None:
    """What the service does, with a media server that says yes to everything."""
    for op in ops:
        if isinstance(op, CreateRoom):
            core.room_created(op.room, True)
        elif isinstance(op, Allow) and op.add:
            core.allowed(op.feed)
        elif isinstance(op, ListParticipants) and participants is not None:
            core.observe(op.room, participants.get(op.room, {}))


def joined(hub: Hub, core: VoiceCore, sid: int, now: int) -> dict[str, Any]:
    """VOICE_JOIN through to VOICE_CREDENTIAL."""
    hub.receive(sid, packb([MsgType.VOICE_JOIN, {}]), now)
    for t in range(3):  # create the room, allow the token, announce it
        perform(core, core.sync(hub, now + t))
    cred = [m for m in inbox(hub, sid) if m[0] == MsgType.VOICE_CREDENTIAL]
    assert cred, "no credential"
    return dict(cred[-1][1])


def test_credential_only_after_the_server_took_the_token_then_audible_sets() -> None:
    hub, core = setup()
    a, b = enter(hub, "a"), enter(hub, "b")
    hub.receive(a, packb([MsgType.VOICE_JOIN, {}]), 0)
    ops = core.sync(hub, 0)
    no_room_yet = [m for m in inbox(hub, a) if m[0] == MsgType.VOICE_CREDENTIAL]
    assert any(isinstance(o, CreateRoom) for o in ops) and not no_room_yet
    perform(core, ops)
    ops = core.sync(hub, 10)
    allow = [o for o in ops if isinstance(o, Allow) and o.add]
    assert len(allow) == 1 and not [m for m in inbox(hub, a) if m[0] == MsgType.VOICE_CREDENTIAL]
    perform(core, ops)
    core.sync(hub, 20)
    ca = next(m[1] for m in inbox(hub, a) if m[0] == MsgType.VOICE_CREDENTIAL)
    assert ca["token"] == allow[0].token and ca["room"] == allow[0].room and ca["id"] == allow[0].feed
    cb = joined(hub, core, b, 30)
    room = ca["room"]
    # Both joined and publishing: the spent tokens leave the allowed list; each hears the other.
    ops = core.sync(hub, 40)
    perform(core, ops, {room: {ca["id"]: True, cb["id"]: True}})
    ops = core.sync(hub, 1000)
    spent = {o.token for o in ops if isinstance(o, Allow) and not o.add}
    assert spent == {ca["token"], cb["token"]}
    heard = next(m[1] for m in inbox(hub, a) if m[0] == MsgType.AUDIBLE)
    assert [p[0] for p in heard["peers"]] == [cb["id"]]


def test_leave_revokes_and_strangers_are_kicked_and_moderator_mute_reaches_the_server() -> None:
    hub, core = setup()
    a, b = enter(hub, "a"), enter(hub, "b")
    ca, cb = joined(hub, core, a, 0), joined(hub, core, b, 5)
    room = ca["room"]
    stranger = 424242
    perform(core, core.sync(hub, 10), {room: {ca["id"]: True, cb["id"]: True, stranger: False}})
    ops = core.sync(hub, 20)
    assert Kick(room, core.rooms["w#1"].secret, stranger) in ops
    hub.disconnect(b, 30)
    ops = core.sync(hub, 40)
    assert Kick(room, core.rooms["w#1"].secret, cb["id"]) in ops
    assert cb["id"] not in core.creds


def test_an_unused_credential_expires_with_an_error() -> None:
    hub, core = setup(ttl_s=1.0)
    a = enter(hub, "a")
    ca = joined(hub, core, a, 0)
    ops = core.sync(hub, 5000)
    assert any(isinstance(o, Allow) and not o.add and o.token == ca["token"] for o in ops)
    err = [m for m in inbox(hub, a) if m[0] == MsgType.ERROR]
    assert err and err[0][1] == ErrorCode.VOICE_EXPIRED


def test_voice_state_is_throttled() -> None:
    hub, core = setup()
    a = enter(hub, "a")
    ca = joined(hub, core, a, 0)
    perform(core, core.sync(hub, 10), {ca["room"]: {ca["id"]: True}})
    core.sync(hub, 1000)
    states = [m for m in inbox(hub, a) if m[0] == MsgType.VOICE_STATE]
    assert states[-1][1] == [[hub.sessions[a].instance.members[a].eid, 1]]  # type: ignore[union-attr]
    hub.receive(a, packb([MsgType.VOICE, {"muted": True}]), 1100)
    core.sync(hub, 1100)  # within 1/update_hz of the last one: held back
    assert not [m for m in inbox(hub, a) if m[0] == MsgType.VOICE_STATE]
    core.sync(hub, 1600)
    (st,) = [m for m in inbox(hub, a) if m[0] == MsgType.VOICE_STATE]
    assert st[1][0][1] == CONNECTED | MUTED


def test_unavailable_voice_answers_why() -> None:
    hub = Hub({"w": SPEC})
    hub.voice = VoiceCore(VoiceSettings(), hub.emit, None, "/usr/bin/janus not found")
    a = enter(hub, "a")
    hub.outbox.drain()
    hub.receive(a, packb([MsgType.VOICE_JOIN, {}]), 0)
    (err,) = inbox(hub, a)
    assert err[1] == ErrorCode.VOICE_UNAVAILABLE and "/usr/bin/janus not found" in err[2]
