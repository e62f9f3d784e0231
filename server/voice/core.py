"""Voice as Plaza owns it: rooms, credentials, moderation and audible sets (pure, no I/O).

One media-server room per world instance. A session asks for a credential (VOICE_JOIN) and
gets a single-use token for its own room plus the publisher id it must use; everything else
in that room is a stranger and is kicked. A listener in an overflow instance gets listen-only
credentials for the room of the stage speaker's instance, and is kicked there if it publishes.

``sync(hub, now_ms)`` compares what should be (from the hub's sessions and positions, the
moderation state and what the media server last reported) with what was done, and returns
the media-server operations to perform (``Op``); the I/O layer (``server.voice.service``)
performs them and reports back with ``observe`` / ``room_created``. Messages to clients go
out through ``emit`` like every other message of the hub.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from server.codec import packb
from server.errors import ProtocolError
from server.protocol import ErrorCode, MsgType
from server.voice.audible import FLAT, SPATIAL, audible_sets
from server.voice.messages import VoiceJoin, VoiceMessage, VoiceUpdate
from server.voice.settings import VoiceSettings

if TYPE_CHECKING:
    from server.hub import Hub
    from server.session import Session
    from server.world import WorldInstance

Emit = Callable[[int, bytes], None]

# VOICE_STATE flags of one avatar
CONNECTED = 1  # publishing at the media server
MUTED = 2  # muted itself
SPEAKING = 4  # its client says it is speaking
MOD_MUTED = 8  # a moderator muted it: the media server drops its audio
# AUDIBLE peer flags
STAGE = 1

_ID_SPACE = 2**52  # ids stay exact in JavaScript numbers (Janus ids are uint64)


def _new_id() -> int:
    return secrets.randbelow(_ID_SPACE - 1) + 1


# ----- what the media server must do --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CreateRoom:
    room: int
    secret: str
    pin: str
    publishers: int


@dataclass(frozen=True, slots=True)
class DestroyRoom:
    room: int
    secret: str


@dataclass(frozen=True, slots=True)
class Allow:
    room: int
    secret: str
    token: str
    add: bool  # False: remove the token from the room's allowed list
    feed: int = 0  # the credential it is for: ``VoiceCore.allowed(feed)`` once done


@dataclass(frozen=True, slots=True)
class Kick:
    room: int
    secret: str
    feed: int


@dataclass(frozen=True, slots=True)
class Mute:
    room: int
    secret: str
    feed: int
    mute: bool


@dataclass(frozen=True, slots=True)
class ListParticipants:
    room: int


Op = CreateRoom | DestroyRoom | Allow | Kick | Mute | ListParticipants


# ----- state --------------------------------------------------------------------------------
@dataclass(slots=True)
class Room:
    instance: str  # WorldInstance.key
    room: int
    secret: str  # for Plaza's requests only
    pin: str  # given to members with their credential
    created: bool = False
    requested: bool = False  # CreateRoom is out
    participants: dict[int, bool] = field(default_factory=dict)  # feed id -> publishing (last listing)


@dataclass(slots=True)
class Credential:
    sid: int
    instance: str  # the instance whose room this is for
    token: str
    feed: int  # the publisher id the client must join with
    issued_ms: int
    listen_only: bool = False  # a stage listener in another instance's room: must never publish
    allowed: bool = False  # the media server took the token (only then is it handed out)
    announced: bool = False  # VOICE_CREDENTIAL sent (publisher credentials)
    revoked: bool = False  # replaced by a newer VOICE_JOIN
    seen: bool = False  # the media server listed this feed: the token is spent
    publishing: bool = False
    mod_muted: bool = False  # what was applied at the media server


@dataclass(slots=True)
class ClientVoice:
    muted: bool = False
    speaking: bool = False
    audible_key: tuple[object, ...] | None = None  # last AUDIBLE content sent
    audible_ms: int = -(10**9)
    wants: bool = False  # asked for a credential before the room existed


class VoiceCore:
    def __init__(self, settings: VoiceSettings, emit: Emit, url: str | None, reason: str = "") -> None:
        """``url``: where clients reach the media server (None: voice unavailable, ``reason`` why)."""
        self.settings = settings
        self.reason = reason or "no media server"
        self.emit = emit
        self.url = url
        self.rooms: dict[str, Room] = {}  # instance key -> room
        self.creds: dict[int, Credential] = {}  # feed id -> credential
        self.clients: dict[int, ClientVoice] = {}  # sid -> what its client reported
        self._state_sent: dict[str, tuple[object, ...]] = {}  # instance key -> last VOICE_STATE
        self._state_ms: dict[str, int] = {}
        self._pending: list[Op] = []  # ops found outside sync (none yet), performed with the next

    @property
    def available(self) -> bool:
        return self.url is not None

    def _room_by_id(self, rid: int) -> Room | None:
        return next((r for r in self.rooms.values() if r.room == rid), None)

    # ----- client messages (called by the hub) ------------------------------------------------
    def handle(self, s: Session, msg: VoiceMessage, now_ms: int) -> None:
        inst = s.instance
        assert inst is not None  # the hub answers NOT_JOINED first
        t = MsgType.VOICE_JOIN if isinstance(msg, VoiceJoin) else MsgType.VOICE
        if not self.available:
            raise ProtocolError(
                ErrorCode.VOICE_UNAVAILABLE,
                f"voice is unavailable on this server: {self.reason} (docs/server.md, Voice)",
                int(t),
            )
        cv = self.clients.setdefault(s.sid, ClientVoice())
        match msg:
            case VoiceUpdate():
                if msg.muted is not None:
                    cv.muted = msg.muted
                if msg.speaking is not None:
                    cv.speaking = msg.speaking
            case VoiceJoin():
                for c in self.creds.values():
                    if c.sid == s.sid and not c.listen_only:
                        c.revoked = True  # a client rejoining (reload, lost media session): old feed out
                cv.wants = True  # a credential is made by the next sync, sent once the server took it

    def _issue(self, s: Session, inst: WorldInstance, room: Room, now_ms: int) -> Op:
        cred = Credential(s.sid, inst.key, secrets.token_urlsafe(18), _new_id(), now_ms)
        self.creds[cred.feed] = cred
        return Allow(room.room, room.secret, cred.token, True, cred.feed)

    def announce(self, hub: Hub, now_ms: int) -> None:
        """VOICE_CREDENTIAL for every credential the media server has taken (the service also
        calls this right after performing the ops, so a join does not wait for the next sync)."""
        for c in list(self.creds.values()):
            if c.allowed and not c.announced and not c.listen_only:
                self._announce(hub, c, now_ms)

    def _announce(self, hub: Hub, c: Credential, now_ms: int) -> None:
        s = hub.sessions.get(c.sid)
        room = self.rooms.get(c.instance)
        if s is None or s.instance is None or s.instance.key != c.instance or room is None:
            return
        c.announced, c.issued_ms = True, now_ms  # the time to use it starts now
        body = {
            "url": self.url,
            "room": room.room,
            "pin": room.pin,
            "token": c.token,
            "id": c.feed,
            "display": str(s.instance.members[c.sid].eid),
            "expires_s": self.settings.credential_ttl_s,
            "instance": c.instance,
        }
        self.emit(c.sid, packb([MsgType.VOICE_CREDENTIAL, body]))
        # The first AUDIBLE after a (re)join goes out at once, whatever was sent before.
        cv = self.clients.setdefault(c.sid, ClientVoice())
        cv.audible_key, cv.audible_ms = None, -(10**9)

    # ----- media server reports (called by the service) ---------------------------------------
    def allowed(self, feed: int) -> None:
        c = self.creds.get(feed)
        if c is not None:
            c.allowed = True

    def room_created(self, rid: int, ok: bool) -> None:
        room = self._room_by_id(rid)
        if room is not None:
            room.created, room.requested = ok, False

    def observe(self, rid: int, participants: dict[int, bool] | None) -> None:
        """The room's participants (feed id -> publishing); None: the room no longer exists."""
        room = self._room_by_id(rid)
        if room is None:
            return
        if participants is None:
            room.created, room.participants = False, {}
            return
        room.participants = participants

    # ----- the reconciliation ---------------------------------------------------------------
    def sync(self, hub: Hub, now_ms: int, listing: bool = True) -> list[Op]:
        """``listing``: also ask every room for its participants (the service does every other sync)."""
        ops, self._pending = self._pending, []
        if not self.available:
            return ops
        live = {inst.key: inst for group in hub.instances.values() for inst in group}
        # Rooms: one per live instance; gone instances lose theirs (the server kicks everyone).
        for key in [k for k in self.rooms if k not in live]:
            gone = self.rooms.pop(key)
            ops.append(DestroyRoom(gone.room, gone.secret))
        for key, inst in live.items():
            room = self.rooms.get(key)
            if room is None:
                room = Room(key, _new_id(), secrets.token_urlsafe(18), secrets.token_urlsafe(9))
                self.rooms[key] = room
            if not room.created and not room.requested:
                room.requested = True
                ops.append(CreateRoom(room.room, room.secret, room.pin, max(8, inst.spec.capacity + 8)))
        for sid in [sid for sid in self.clients if sid not in hub.sessions]:
            del self.clients[sid]
        # Waiting VOICE_JOINs whose room now exists.
        for sid, cv in self.clients.items():
            s = hub.sessions[sid]
            if cv.wants and s.instance is not None:
                mine = self.rooms.get(s.instance.key)
                if mine is not None and mine.created:
                    cv.wants = False
                    ops.append(self._issue(s, s.instance, mine, now_ms))
        self.announce(hub, now_ms)
        ops += self._revoke(hub, now_ms)
        ops += self._strangers()
        ops += self._moderation(hub, now_ms)
        self._audible(hub, live, now_ms)
        self._voice_state(hub, live, now_ms)
        if listing:
            ops += [ListParticipants(r.room) for r in self.rooms.values() if r.created]
        return ops

    def _revoke(self, hub: Hub, now_ms: int) -> list[Op]:
        """Credentials whose holder left (disconnect, travel, kick, ban), expired unused, or
        (listen-only) are no longer needed; spent tokens leave the allowed list."""
        ops: list[Op] = []
        ttl_ms = self.settings.credential_ttl_s * 1000
        needed_listen = self._needed_listen(hub)
        for feed, c in list(self.creds.items()):
            room = self.rooms.get(c.instance)
            s = hub.sessions.get(c.sid)
            here = s is not None and s.instance is not None
            if c.listen_only:
                keep = here and (c.sid, c.instance) in needed_listen
            else:
                keep = here and s is not None and s.instance is not None and s.instance.key == c.instance
                keep = keep and not c.revoked
            if room is not None and feed in room.participants and not c.seen:
                c.seen = True
                ops.append(Allow(room.room, room.secret, c.token, False))  # single use
            if keep and room is not None and c.allowed and not c.seen and now_ms - c.issued_ms > ttl_ms:
                keep = False
                if not c.listen_only:  # (a listen-only one is simply made again when needed)
                    self.emit(
                    c.sid,
                        packb([MsgType.ERROR, int(ErrorCode.VOICE_EXPIRED), "voice credential expired unused; "
                               "send VOICE_JOIN again", int(MsgType.VOICE_JOIN)]),
                    )  # fmt: skip
            if c.listen_only and room is not None and room.participants.get(feed):
                keep = False  # a listen-only participant published: out
                self.emit(
                    c.sid,
                    packb([MsgType.ERROR, int(ErrorCode.VOICE_REFUSED), "a listen-only voice credential "
                           "cannot publish; you were removed from that room", int(MsgType.VOICE)]),
                )  # fmt: skip
            if keep:
                continue
            del self.creds[feed]
            if room is not None and room.created:
                if not c.seen:
                    ops.append(Allow(room.room, room.secret, c.token, False))
                ops.append(Kick(room.room, room.secret, feed))
                room.participants.pop(feed, None)
        return ops

    def _strangers(self) -> list[Op]:
        """Anyone in a room who is not there by a credential of ours is kicked."""
        ops: list[Op] = []
        for room in self.rooms.values():
            for feed in list(room.participants):
                c = self.creds.get(feed)
                if c is None or c.instance != room.instance:
                    ops.append(Kick(room.room, room.secret, feed))
                    del room.participants[feed]
            for feed, publishing in room.participants.items():
                c = self.creds[feed]
                if publishing and not c.publishing:
                    c.mod_muted = False  # a fresh publication starts unmuted at the server
                c.publishing = publishing
        return ops

    def _moderation(self, hub: Hub, now_ms: int) -> list[Op]:
        ops: list[Op] = []
        for feed, c in self.creds.items():
            if c.listen_only or not c.publishing:
                continue
            s = hub.sessions.get(c.sid)
            room = self.rooms.get(c.instance)
            if s is None or room is None or s.instance is None:
                continue
            want = _mod_muted(hub, s, s.instance.spec.id, now_ms)
            if want != c.mod_muted:
                c.mod_muted = want
                ops.append(Mute(room.room, room.secret, feed, want))
        return ops

    # ----- who hears whom ---------------------------------------------------------------------
    def _publisher(self, sid: int) -> Credential | None:
        for c in self.creds.values():
            if c.sid == sid and not c.listen_only:
                return c
        return None

    def _stage_feeds(self, hub: Hub, world: str) -> list[tuple[str, int, str]]:
        """(instance key, feed, user key) of everyone on the world's stage who is publishing."""
        ids = hub.stage.get(world)
        if not ids:
            return []
        out = []
        for inst in hub.instances.get(world, []):
            for sid in inst.members:
                s = hub.sessions.get(sid)
                c = self._publisher(sid)
                if s is not None and s.user_id in ids and c is not None and c.publishing and c.instance == inst.key:
                    out.append((inst.key, c.feed, s.user_id))
        return out

    def _needed_listen(self, hub: Hub) -> set[tuple[int, str]]:
        """(sid, instance key) pairs where a listener needs a listen-only credential."""
        need: set[tuple[int, str]] = set()
        for world, group in hub.instances.items():
            stage = self._stage_feeds(hub, world)
            for inst in group:
                for key, _, _ in stage:
                    if key != inst.key:
                        need |= {(sid, key) for sid in inst.members if self._publisher(sid) is not None}
        return need

    def _listen_cred(self, sid: int, key: str, now_ms: int) -> Credential | None:
        for c in self.creds.values():
            if c.sid == sid and c.listen_only and c.instance == key:
                return c
        room = self.rooms.get(key)
        if room is None or not room.created:
            return None
        c = Credential(sid, key, secrets.token_urlsafe(18), _new_id(), now_ms, listen_only=True)
        self.creds[c.feed] = c
        self._pending.append(Allow(room.room, room.secret, c.token, True, c.feed))
        return c

    def _audible(self, hub: Hub, live: dict[str, WorldInstance], now_ms: int) -> None:
        st = self.settings
        every_ms = 1000.0 / st.update_hz
        for world, group in hub.instances.items():
            stage = self._stage_feeds(hub, world)
            stage_feeds = {f for _, f, _ in stage}
            for inst in group:
                listeners = [sid for sid in inst.members if (c := self._publisher(sid)) is not None and c.announced]
                if not listeners:
                    continue
                room = self.rooms[inst.key]
                audio = inst.spec.description.get("audio")
                mode = audio.get("mode", SPATIAL) if isinstance(audio, dict) else SPATIAL
                radius = float(audio.get("radius", st.radius_m)) if isinstance(audio, dict) else st.radius_m
                speakers: list[tuple[int, int, int]] = []  # (sid, feed, slot)
                for sid, m in inst.members.items():
                    c = self._publisher(sid)
                    cv = self.clients.get(sid)
                    if c is None or not c.publishing or c.mod_muted or (cv is not None and cv.muted):
                        continue
                    speakers.append((sid, c.feed, m.slot))
                for key, feed, _ in stage:  # a muted stage speaker still counts: it is the show
                    if key == inst.key and feed not in {f for _, f, _ in speakers}:
                        c = self.creds[feed]
                        speakers.append((c.sid, feed, inst.members[c.sid].slot))
                l_pos = np.array([inst.pose[inst.members[sid].slot, :3] for sid in listeners]).reshape(-1, 3)
                l_ids = np.array([self._publisher(sid).feed for sid in listeners], dtype=np.int64)  # type: ignore[union-attr]
                s_pos = np.array([inst.pose[slot, :3] for _, _, slot in speakers]).reshape(-1, 3)
                s_ids = np.array([f for _, f, _ in speakers], dtype=np.int64)
                elsewhere = tuple(f for key, f, _ in stage if key != inst.key)
                sets = audible_sets(
                    l_pos, l_ids, s_pos, s_ids, mode=FLAT if mode == FLAT else SPATIAL, k=st.k, radius=radius,
                    flat_cap=st.flat_cap, stage_here=frozenset(f for key, f, _ in stage if key == inst.key),
                    stage_elsewhere=elsewhere,
                )  # fmt: skip
                eid_of = {f: inst.members[sid].eid for sid, f, _ in speakers}
                eid_of |= {f: inst.mirror_eid(user) for key, f, user in stage if key != inst.key}  # stand-ins
                for sid, heard in zip(listeners, sets, strict=True):
                    cv = self.clients.setdefault(sid, ClientVoice())
                    peers: list[list[int]] = []
                    listen: list[list[object]] = []
                    for h in heard:
                        c = self.creds.get(h.speaker)
                        if c is None:
                            continue
                        r = self.rooms[c.instance]
                        flags = STAGE if h.stage or h.speaker in stage_feeds else 0
                        peers.append([h.speaker, eid_of.get(h.speaker, 0), r.room, flags, round(h.distance_m * 1000)])
                        if c.instance != inst.key:
                            lc = self._listen_cred(sid, c.instance, now_ms)
                            if lc is not None and lc.allowed and [r.room] not in [x[:1] for x in listen]:
                                listen.append([r.room, r.pin, lc.token, lc.feed])
                    key_t = (tuple(tuple(p[:4]) for p in peers), tuple(tuple(x) for x in listen))
                    if key_t == cv.audible_key or now_ms - cv.audible_ms < every_ms:
                        continue
                    cv.audible_key, cv.audible_ms = key_t, now_ms
                    body = {"room": room.room, "peers": peers, "listen": listen}
                    self.emit(sid, packb([MsgType.AUDIBLE, body]))

    def _voice_state(self, hub: Hub, live: dict[str, WorldInstance], now_ms: int) -> None:
        every_ms = 1000.0 / self.settings.update_hz
        for key, inst in live.items():
            rows: list[list[int]] = []
            for sid, m in inst.members.items():
                c = self._publisher(sid)
                cv = self.clients.get(sid)
                if c is None and cv is None:
                    continue
                flags = 0
                if c is not None and c.publishing:
                    flags |= CONNECTED
                if cv is not None and cv.muted:
                    flags |= MUTED
                if cv is not None and cv.speaking and not cv.muted:
                    flags |= SPEAKING
                if c is not None and c.mod_muted:
                    flags |= MOD_MUTED
                rows.append([m.eid, flags])
            snapshot = tuple(tuple(r) for r in rows)
            if snapshot == self._state_sent.get(key, ()) or now_ms - self._state_ms.get(key, -(10**9)) < every_ms:
                continue
            self._state_sent[key], self._state_ms[key] = snapshot, now_ms
            data = packb([MsgType.VOICE_STATE, rows])
            for sid in inst.members:
                self.emit(sid, data)


def _mod_muted(hub: Hub, s: Session, world: str, now_ms: int) -> bool:
    link = hub.link
    if link is None or s.principal is None:
        return False
    return link.hosting.moderation.mute_of(world, s.principal.key, link.wall(now_ms)) is not None
