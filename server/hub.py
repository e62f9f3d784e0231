"""The hub: sessions, the HELLO handshake, instances of every world, routing of messages.

Pure like the world core: bytes and ``now_ms`` in, bytes out through per-session outboxes.
The aiohttp layer owns the sockets and the clock and only moves bytes to and from here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from typing import Protocol

from server.chatguard.screen import ChatGuard
from server.cluster.routing import MERGE_WINDOW_MS, Remote, merge_into, moved_url, route
from server.cluster.stage import CHANNEL as STAGE_CHANNEL
from server.cluster.stage import RemoteStage, stage_message
from server.codec import packb
from server.commands.context import context_for
from server.commands.core import strip_wake
from server.effects import (
    CHAT_CHANNEL,
    Ask,
    Broadcast,
    Close,
    Generate,
    Outbox,
    PersistRemoved,
    PersistSpawned,
    PersistVisit,
    Relay,
    Send,
)
from server.errors import CloseConnection, ProtocolError, show
from server.hosting import Hosting
from server.hosting.permissions import allowed
from server.hostlink import HostLink
from server.instancing import Slot, WorldFull, choose
from server.interest import InterestSettings
from server.messages import (
    Chat,
    ClientMessage,
    Grab,
    Hello,
    Host,
    Moderate,
    ObjectMove,
    Ping,
    Pose7,
    PoseInput,
    React,
    Release,
    Report,
    Rsvp,
    SpawnedRow,
    Teleport,
    Travel,
    decode,
    peek_type,
    type_of,
)
from server.npc.runtime import NpcRegistry
from server.protocol import (
    EXPENSIVE_BURST,
    EXPENSIVE_PER_S,
    FLOOD_CLOSE_S,
    FLOOD_PAUSE_S,
    MAX_CHAT_CHARS,
    MAX_FRAME_BYTES,
    MAX_INVALID_IN_A_ROW,
    POS_UNIT_M,
    PROTOCOL_VERSION,
    RATE_LIMIT_BURST,
    RATE_LIMIT_PER_S,
    ROT_SCALE,
    SUPPORTED_VERSIONS,
    CloseCode,
    ErrorCode,
    MsgType,
    NoticeKind,
    welcome_limits,
)
from server.session import Session, VisitRecord
from server.voice.messages import VOICE_TYPES, VoiceJoin, VoiceMessage, VoiceUpdate, decode_voice
from server.world import ObjectSpec, WorldInstance, WorldSpec

log = logging.getLogger("plaza.hub")

GENERATE_COMMAND = "/generate "

LoadObjects = Callable[[str, int], dict[str, Pose7]]
LoadSpawned = Callable[[str, int], list[SpawnedRow]]
MAX_ERRORS_IN_A_ROW = MAX_INVALID_IN_A_ROW
# Answers about the physical world (tracking glitches, lag, walking past the edge in room-scale
# VR) or about pace: they never count towards MAX_ERRORS_IN_A_ROW.
_NOT_COUNTED = frozenset({ErrorCode.OUT_OF_BOUNDS, ErrorCode.TOO_FAST, ErrorCode.RATE_LIMITED})


def generated_object(oid: str, position: tuple[float, float, float]) -> ObjectSpec:
    """What an object made at run time is, when made and when restored: grabbable, default look."""
    return ObjectSpec(oid, position, grabbable=True)


class VoicePort(Protocol):
    """What the hub needs of voice (server.voice.core.VoiceCore)."""

    @property
    def available(self) -> bool: ...
    def handle(self, s: Session, msg: VoiceMessage, now_ms: int) -> None: ...


_PALETTE = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6")


class Hub:
    def __init__(
        self,
        worlds: dict[str, WorldSpec],
        load_objects: LoadObjects | None = None,
        interest: InterestSettings | None = None,
        lobby: str = "lobby",
        hosting: Hosting | None = None,
        wall: Callable[[int], float] | None = None,
        load_removed: Callable[[str], set[str]] | None = None,
        load_spawned: LoadSpawned | None = None,
    ) -> None:
        self.worlds = dict(worlds)
        self.instances: dict[str, list[WorldInstance]] = {w: [] for w in worlds}
        self.sessions: dict[int, Session] = {}
        self._next_sid = 1
        self._load_objects = load_objects or (lambda world, index: {})
        self.interest = interest
        self.lobby = lobby
        self.outbox = Outbox()  # everything the edge must do, in order (see server/effects.py)
        self._load_removed = load_removed or (lambda world: set())
        self._load_spawned = load_spawned or (lambda world, index: [])
        self.stage: dict[str, frozenset[str]] = {}  # world -> spotlit user keys and object ids
        self.tick_failures: dict[str, int] = {}  # instance key -> ticks that raised (health, metrics)
        self.rate_limited = 0  # messages dropped by the rate limit (metrics)
        # Worker k of a cluster numbers its instances from k * 1000 + 1: keys and saved object
        # state stay distinct across workers (server/cluster/link.py, docs/scaling.md).
        self.index_base = 0
        self.link = HostLink(self, hosting, wall or (lambda ms: ms / 1000.0)) if hosting is not None else None
        self.npcs = NpcRegistry(self.emit)  # guide NPCs of worlds with [[npcs]] (server/npc)
        self.chatguard = ChatGuard()  # toxicity flags to moderators, held lines (server/chatguard)
        self.voice: VoicePort | None = None  # set once the media server is known (server/web/voice.py)
        # With a cluster: the other workers' instances of a world this worker can send people to
        # (server/cluster/link.py); None: one process, every instance is here.
        self.elsewhere: Callable[[str], Sequence[Remote]] | None = None
        self.remote_stage = RemoteStage()  # performers spotlit on other workers (server/cluster/stage.py)

    # ----- output ---------------------------------------------------------------------
    def emit(self, sid: int, data: bytes) -> None:
        if sid in self.sessions:
            self.outbox.push(Send(sid, data))

    def broadcast(self, sids: list[int], data: bytes) -> None:
        live = tuple(sid for sid in sids if sid in self.sessions)
        if live:
            self.outbox.push(Broadcast(live, data))

    def error(self, sid: int, code: ErrorCode, text: str, ref: int = 0) -> None:
        self.emit(sid, packb([MsgType.ERROR, int(code), text, ref]))

    # ----- connection lifecycle ---------------------------------------------------------
    def connect(self, now_ms: int) -> Session:
        sid = self._next_sid
        self._next_sid += 1
        s = Session(sid=sid, token=secrets.token_hex(8), connected_ms=now_ms, refill_ms=now_ms)
        self.sessions[sid] = s
        return s

    def disconnect(self, sid: int, now_ms: int = 0) -> None:
        s = self.sessions.pop(sid, None)
        if s is not None and s.instance is not None:
            self._leave_instance(s, now_ms)

    def _leave_instance(self, s: Session, now_ms: int = 0) -> None:
        inst = s.instance
        if inst is None:
            return
        others = tuple(sorted({self.sessions[o].user_id for o in inst.members if o != s.sid and o in self.sessions}))
        self.outbox.push(
            PersistVisit(
                VisitRecord(
                    s.user_id,
                    inst.spec.id,
                    inst.key,
                    s.visit_start_ms,
                    max(now_ms, s.visit_start_ms),
                    others,
                    s.chat_count,
                )
            )
        )
        inst.leave(s.sid)
        s.last_left = inst.spec.id
        s.instance = None
        group = self.instances.get(inst.spec.id, [])
        # Overflow instances close when empty; the first one keeps its state warm.
        if inst.population == 0 and inst.index > 1 and inst in group:
            group.remove(inst)
            self.npcs.detach(inst.key)

    def _rate_ok(self, s: Session, now_ms: int, data: bytes) -> bool:
        """The message token bucket. Dropping is the answer to a burst; only a flood that goes
        on (drops without a FLOOD_PAUSE_S pause for FLOOD_CLOSE_S) closes the session."""
        s.tokens = min(RATE_LIMIT_BURST, s.tokens + (now_ms - s.refill_ms) * RATE_LIMIT_PER_S / 1000)
        s.refill_ms = now_ms
        if s.tokens >= 1.0:
            s.tokens -= 1.0
            return True
        if now_ms - s.last_drop_ms > FLOOD_PAUSE_S * 1000:
            s.flood_since_ms = now_ms  # a new stretch of drops
        s.last_drop_ms = now_ms
        self.rate_limited += 1
        if now_ms - s.flood_since_ms >= FLOOD_CLOSE_S * 1000:
            raise CloseConnection(
                CloseCode.FLOODING, f"over the message rate limit for {FLOOD_CLOSE_S:g} s; see the limits in WELCOME"
            )
        if now_ms - s.rate_error_ms >= 1000:  # one error a second, not one per dropped message
            s.rate_error_ms = now_ms
            self.error(
                s.sid,
                ErrorCode.RATE_LIMITED,
                f"over {RATE_LIMIT_PER_S:.0f} messages/s (burst {RATE_LIMIT_BURST:.0f}); messages dropped",
                peek_type(data),
            )
        return False

    def _expensive_ok(self, s: Session, msg: ClientMessage, now_ms: int) -> None:
        """A second, small bucket for requests that cost far more than their bytes (a TRAVEL is
        answered with a whole WELCOME): raises RATE_LIMITED for one over it."""
        s.x_tokens = min(EXPENSIVE_BURST, s.x_tokens + (now_ms - s.x_refill_ms) * EXPENSIVE_PER_S / 1000)
        s.x_refill_ms = now_ms
        if s.x_tokens >= 1.0:
            s.x_tokens -= 1.0
            return
        t = type_of(msg)
        wait = (1.0 - s.x_tokens) / EXPENSIVE_PER_S
        raise ProtocolError(
            ErrorCode.RATE_LIMITED,
            f"{t.name}: at most {EXPENSIVE_BURST:.0f} TRAVEL/REPORT/RSVP/generate requests at once, then one every "
            f"{1 / EXPENSIVE_PER_S:g} s; try again in {wait:.1f} s",
            int(t),
        )

    def receive(self, sid: int, data: bytes, now_ms: int) -> None:
        """Handle one binary frame. Raises CloseConnection when the session must end, and no
        other exception: every bad frame is answered with an ERROR."""
        s = self.sessions[sid]
        if len(data) > MAX_FRAME_BYTES:  # the edge refuses these already (EDGE_MAX_MSG_SIZE)
            raise CloseConnection(CloseCode.TOO_BIG, f"a frame of {len(data)} bytes; at most {MAX_FRAME_BYTES}")
        if not self._rate_ok(s, now_ms, data):
            return
        try:
            msg = decode_voice(data) if peek_type(data) in VOICE_TYPES else decode(data)
            self._dispatch(s, msg, now_ms)
            s.errors_in_a_row = 0
            return
        except ProtocolError as e:
            self.error(sid, e.code, e.text, e.ref)
            if s.instance is None and e.ref == MsgType.HELLO:
                raise CloseConnection(CloseCode.BAD_HELLO, e.text[:120]) from None
            if e.code in _NOT_COUNTED:
                return  # a lagging or glitching client, not a broken one
        except CloseConnection:
            raise
        except Exception:
            # A server bug must cost one message, not the session (nor show a traceback).
            log.exception("session %d: frame of type %d failed", sid, peek_type(data), extra={"session": sid})
            self.error(sid, ErrorCode.INTERNAL, "server fault; the message was not applied", peek_type(data))
        s.errors_in_a_row += 1
        if s.errors_in_a_row >= MAX_ERRORS_IN_A_ROW:
            raise CloseConnection(CloseCode.PROTOCOL_ERROR, "too many invalid messages")

    def _dispatch(self, s: Session, msg: ClientMessage | VoiceMessage, now_ms: int) -> None:
        if isinstance(msg, Hello):
            if s.instance is not None:
                raise ProtocolError(ErrorCode.ALREADY_JOINED, "already joined; use TRAVEL", MsgType.HELLO)
            self._hello(s, msg, now_ms)
            return
        if isinstance(msg, VoiceUpdate | VoiceJoin):
            t = MsgType.VOICE_JOIN if isinstance(msg, VoiceJoin) else MsgType.VOICE
            if s.instance is None:
                raise ProtocolError(ErrorCode.NOT_JOINED, "send HELLO first", int(t))
            if self.voice is None:
                raise ProtocolError(ErrorCode.VOICE_UNAVAILABLE, "voice is not enabled on this server", int(t))
            self.voice.handle(s, msg, now_ms)
            return
        inst = s.instance
        if inst is None:
            raise ProtocolError(ErrorCode.NOT_JOINED, "send HELLO first", int(type_of(msg)))
        if isinstance(msg, Travel | Report | Rsvp) or (isinstance(msg, Chat) and msg.text.startswith(GENERATE_COMMAND)):
            self._expensive_ok(s, msg, now_ms)
        match msg:
            case PoseInput():
                inst.apply_pose(s.sid, msg, now_ms)
            case Ping():
                self.emit(s.sid, packb([MsgType.PONG, msg.client_time, now_ms]))
            case Grab():
                inst.grab(s.sid, msg.entity)
            case ObjectMove():
                inst.move_object(s.sid, msg.entity, msg.pose)
            case Release():
                inst.release(s.sid, msg.entity, msg.pose, msg.velocity, now_ms)
            case Chat() if msg.text.startswith(GENERATE_COMMAND):
                self._generate_command(s, inst, msg.text[len(GENERATE_COMMAND) :].strip())
            case Chat() if (ask := strip_wake(msg.text, self._guide_names(inst))) is not None:
                self._ask(s, inst, msg, ask, now_ms)
            case Chat():
                text = self.link.chat_text(s, inst.spec.id, msg.text, now_ms) if self.link else msg.text
                if self.chatguard.screen(self, s, inst, msg.text, now_ms):
                    return  # held for review: moderators have it
                inst.chat(s.sid, text, now_ms)
                s.chat_count += 1
                if self.link is not None and self.link.event_live(inst.spec.id, now_ms):
                    self._event_chat(inst.spec.id, inst.key, s.user_id, s.name, text[:MAX_CHAT_CHARS], now_ms)
            case Moderate() | Report() | Host() | Rsvp():
                if self.link is None:
                    raise ProtocolError(ErrorCode.FORBIDDEN, "hosting is disabled on this server", int(type_of(msg)))
                self.link.handle(s, msg, now_ms)
            case Teleport():
                inst.teleport(s.sid, msg.target)
            case React():
                inst.react(s.sid, msg.reaction, now_ms)
            case Travel():
                if msg.world not in self.worlds:
                    raise ProtocolError(ErrorCode.UNKNOWN_WORLD, f"no world {show(msg.world)}", MsgType.TRAVEL)
                if self.link is not None:
                    self.link.admit(s, msg.world, None, now_ms, MsgType.TRAVEL)
                self._check_spawn(msg.world, msg.spawn, MsgType.TRAVEL)
                self._route(s, msg.world, None, msg.spawn, MsgType.TRAVEL)
                # A full world refuses here, while the traveller still stands where they were.
                self.instance_for(msg.world, None, MsgType.TRAVEL)
                self._leave_instance(s, now_ms)
                self._join(s, msg.world, None, msg.spawn, now_ms)

    def _hello(self, s: Session, msg: Hello, now_ms: int) -> None:
        common = set(msg.versions) & set(SUPPORTED_VERSIONS)
        if not common:
            self.error(
                s.sid,
                ErrorCode.BAD_FIELD,
                f"protocol versions {list(msg.versions)} not supported; server speaks {list(SUPPORTED_VERSIONS)}",
                MsgType.HELLO,
            )
            raise CloseConnection(CloseCode.UNSUPPORTED_VERSION, f"server speaks {list(SUPPORTED_VERSIONS)}")
        if msg.world not in self.worlds:
            known = ", ".join(sorted(self.worlds))
            self.error(s.sid, ErrorCode.UNKNOWN_WORLD, f"no world {show(msg.world)}; worlds: {known}", MsgType.HELLO)
            raise CloseConnection(CloseCode.UNKNOWN_WORLD, f"no world {show(msg.world)}"[:120])
        s.name = msg.name
        if self.link is not None:
            s.issued_token = self.link.identify(s, msg.name, msg.token, now_ms)
            self.link.admit(s, msg.world, msg.invite, now_ms, MsgType.HELLO)
        else:
            s.user_id = f"guest:{msg.name.casefold()}"
        s.color = msg.color or _PALETTE[s.sid % len(_PALETTE)]
        if msg.avatar is not None:
            s.avatar = msg.avatar
        self._check_spawn(msg.world, msg.spawn, MsgType.HELLO)
        self._route(s, msg.world, msg.instance, msg.spawn, MsgType.HELLO)
        self._join(s, msg.world, msg.instance, msg.spawn, now_ms)

    def _check_spawn(self, world: str, spawn: str | None, ref: int) -> None:
        names = [sp.name for sp in self.worlds[world].spawns]
        if spawn is not None and spawn not in names:
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"{world} has no spawn {show(spawn)}; spawns: {', '.join(names)}", ref
            )

    def _route(self, s: Session, world: str, wanted: str | None, spawn: str | None, ref: int) -> None:
        """In a cluster, when the instance this person should join is on another worker: tell
        them where (MOVED) and close 4012; they open that address and say HELLO there."""
        if self.elsewhere is None or s.moved:
            return
        remote = self.elsewhere(world)
        if not remote:
            return
        policy, most = self._instancing(world)
        local = [Slot(i.key, i.population, i.spec.capacity) for i in self.instances.get(world, [])]
        try:
            there = route(local, remote, wanted, policy, most, world)
        except WorldFull as e:
            raise ProtocolError(ErrorCode.FORBIDDEN, str(e), ref) from None
        if there is None:
            return
        self._send_moved(s, there, world, spawn)
        raise CloseConnection(CloseCode.MOVED, f"{world} is on another worker: {there.key}")

    def _send_moved(self, s: Session, there: Remote, world: str, spawn: str | None) -> None:
        moved: dict[str, object] = {
            "url": moved_url(there.address, s.via[0], s.via[1]),
            "world": world,
            "instance": there.key,
        }
        if spawn is not None:
            moved["spawn"] = spawn
        self.emit(s.sid, packb([MsgType.MOVED, moved]))

    def consolidate(self, now_ms: int) -> int:
        """In a cluster: the people of a young instance of a fill-first world that a crowd's
        race opened beside an earlier one on another worker are MOVED into that one, seconds
        after arriving (``merge_into``). Returns how many were moved."""
        if self.elsewhere is None:
            return 0
        moved = 0
        for world, group in self.instances.items():
            # Runs every relay period: the cheap test first, the policy only for young instances.
            young = [i for i in group if i.opened_ms is not None and now_ms - i.opened_ms <= MERGE_WINDOW_MS]
            if not young:
                continue
            policy, _ = self._instancing(world)
            if policy != "fill-first":
                continue
            remote = list(self.elsewhere(world))
            for inst in young:
                there = merge_into(Slot(inst.key, inst.population, inst.spec.capacity), inst.opened_ms or 0,
                                   remote, policy, now_ms)  # fmt: skip
                if there is None:
                    continue
                n = inst.population
                log.info("moving the %d people of %s into %s (opened together)", n, inst.key, there.key)
                for sid in list(inst.members):
                    if (s := self.sessions.get(sid)) is not None:
                        self._send_moved(s, there, world, None)
                        self.close(sid, CloseCode.MOVED, f"{world}: joining {there.key}", now_ms)
                        moved += 1
                # Counted in before the directory says so: a second young instance must fit too.
                remote = [Remote(r.key, r.population + n, r.capacity, r.address) if r is there else r for r in remote]
        return moved

    def _instancing(self, world: str) -> tuple[str, int]:
        """The world file's [instances] policy and max_instances (no hosting: fill-first, unbounded)."""
        rule = self.link.hosting.instancing(world) if self.link is not None else None
        return rule if rule is not None else ("fill-first", 1_000_000)

    def instance_for(self, world: str, wanted: str | None, ref: int = MsgType.HELLO) -> WorldInstance:
        group = self.instances.setdefault(world, [])
        policy, most = self._instancing(world)
        try:
            pick = choose([Slot(i.key, i.population, i.spec.capacity) for i in group], wanted, policy, most, world)
        except WorldFull as e:
            raise ProtocolError(ErrorCode.FORBIDDEN, str(e), ref) from None
        if pick is not None:
            return group[pick]
        # Full everywhere (and below max_instances): open a new instance.
        used = {i.index for i in group}
        index = next(i for i in range(self.index_base + 1, self.index_base + len(group) + 2) if i not in used)
        spec = self.worlds[world]
        saved = self._load_objects(world, index)
        inst = WorldInstance(spec, index, self.emit, saved, self.interest)
        removed = self._load_removed(world)  # moderators removed these; that survives restarts
        for _, _, oid, pos, info in self._load_spawned(world, index):  # what people made here before
            if oid not in removed and oid not in inst.object_ids:
                inst.spawn_object(generated_object(oid, pos), info, saved.get(oid))
        for oid in removed:
            if oid in inst.object_ids:
                inst.remove_object(inst.object_ids[oid])
        self.npcs.attach(inst)
        group.append(inst)
        group.sort(key=lambda i: i.index)
        return inst

    def _join(self, s: Session, world: str, wanted: str | None, spawn: str | None, now_ms: int) -> None:
        inst = self.instance_for(world, wanted)
        member = inst.join(s.sid, s.name, s.color, now_ms, spawn, s.avatar)
        if inst.opened_ms is None:
            inst.opened_ms = now_ms
        s.instance = inst
        s.visit_start_ms = now_ms
        s.chat_count = 0
        spec = inst.spec
        sp = spec.spawn(spawn)
        welcome = {
            "v": PROTOCOL_VERSION,
            "session": s.token,
            "id": member.eid,
            "world": spec.id,
            "instance": inst.key,
            "tick_rate": spec.tick_rate,
            "input_rate": spec.tick_rate,
            "server_time": now_ms,
            "spawn": [*sp.position, sp.yaw_deg],
            "bounds": [list(spec.bounds_min), list(spec.bounds_max)],
            "objects": inst.object_ids,
            "roster": inst.roster(),
            "world_info": spec.description,
            "limits": welcome_limits(),
            "quant": {"pos_unit_m": POS_UNIT_M, "rot_scale": ROT_SCALE},
            "voice": {"available": self.voice is not None and self.voice.available},
        }
        if self.link is not None:
            welcome.update(self.link.welcome_extras(s, world, now_ms))
            if s.issued_token:
                welcome["token"], s.issued_token = s.issued_token, None
        self.emit(s.sid, packb([MsgType.WELCOME, welcome]))
        self.npcs.joined(inst, s.sid, s.name, now_ms)

    # ----- natural-language commands (server/commands, docs/commands.md) ---------------------
    def _guide_names(self, inst: WorldInstance) -> tuple[str, ...]:
        mgr = self.npcs.get(inst.key)
        return tuple(mgr.names()) if mgr is not None else ()

    def _ask(self, s: Session, inst: WorldInstance, msg: Chat, text: str, now_ms: int) -> None:
        """A chat line addressed to Plaza: never broadcast; understood off the event loop."""
        if not text:
            raise ProtocolError(ErrorCode.BAD_FIELD, "say what you want after @plaza, e.g. @plaza help", MsgType.CHAT)
        self._expensive_ok(s, msg, now_ms)  # a sentence embedding costs far more than its bytes
        self.outbox.push(Ask(s.sid, s.user_id, inst.key, text, context_for(self, s, inst, now_ms)))

    def act(self, sid: int, msg: ClientMessage, now_ms: int) -> ProtocolError | None:
        """Apply ``msg`` for session ``sid`` exactly as if it had sent it (a command's action);
        returns the refusal, already sent to it as an ERROR, or None."""
        s = self.sessions.get(sid)
        if s is None:
            return None
        try:
            self._dispatch(s, msg, now_ms)
        except ProtocolError as e:
            self.error(sid, e.code, e.text, e.ref)
            return e
        return None

    # ----- generated objects ---------------------------------------------------------------
    def _generate_command(self, s: Session, inst: WorldInstance, prompt: str) -> None:
        if self.link is not None and not allowed(self.link.role(s, inst.spec.id), "generate_object"):
            raise ProtocolError(ErrorCode.FORBIDDEN, "your role here cannot generate objects; sign in", MsgType.CHAT)
        if not prompt:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"usage: {GENERATE_COMMAND}a mossy boulder", MsgType.CHAT)
        head = inst.pose[inst.members[s.sid].slot]
        yaw = 2 * math.atan2(head[4], head[6])  # heading of the head about y (forward is -z)
        lo, hi = inst.spec.bounds_min, inst.spec.bounds_max
        x = min(max(head[0] - 1.5 * math.sin(yaw), lo[0]), hi[0])
        z = min(max(head[2] - 1.5 * math.cos(yaw), lo[2]), hi[2])
        pos = (float(x), max(float(lo[1]), 0.0) + 0.5, float(z))
        self.outbox.push(Generate(s.sid, s.user_id, inst.spec.id, inst.key, prompt, pos))

    def spawn_object(
        self, world: str, instance: str, oid: str, position: tuple[float, float, float], info: dict[str, object]
    ) -> int | None:
        """A generated object appears in one instance for everyone there, and stays (persisted)."""
        for inst in self.instances.get(world, []):
            if inst.key == instance:
                eid = inst.spawn_object(generated_object(oid, position), info)
                self.outbox.push(PersistSpawned((world, inst.index, oid, position, dict(info))))
                return eid
        return None

    # ----- moderation and hosting effects ---------------------------------------------------
    def close(self, sid: int, code: CloseCode, reason: str, now_ms: int = 0) -> None:
        """End a session (kick, ban): gone from its world now; the edge closes the socket."""
        s = self.sessions.get(sid)
        if s is not None and s.instance is not None:
            self._leave_instance(s, now_ms)
        self.outbox.push(Close(sid, code, reason))

    def remove_object(self, world: str, oid: str) -> None:
        for inst in self.instances.get(world, []):
            eid = inst.object_ids.get(oid)
            if eid is not None:
                inst.remove_object(eid)
        self.outbox.push(PersistRemoved(world, oid))

    def gather(self, world: str, stage: str) -> None:
        """Move everyone in every instance of ``world`` to the stage, spread around it."""
        for inst in self.instances.get(world, []):
            sp = inst.spec.spawn(stage)
            for k, sid in enumerate(list(inst.members)):
                ang = k * 2.399963  # golden angle: no two people land on one spot
                r = 0.8 + 0.35 * math.sqrt(k)
                target = (sp.position[0] + r * math.cos(ang), sp.position[1], sp.position[2] + r * math.sin(ang))
                with contextlib.suppress(ProtocolError):
                    inst.teleport(sid, target)

    def set_stage(self, world: str, ids: frozenset[str]) -> None:
        """Who and what is spotlit in ``world``; applied every tick by ``_sync_stage`` while set."""
        if ids == self.stage.get(world, frozenset()):
            return
        if ids:
            self.stage[world] = ids
            return
        del self.stage[world]
        for inst in self.instances.get(world, []):
            inst.set_stage(frozenset(), frozenset(), {})

    def _sync_stage(self, world: str, now_ms: int) -> None:
        """Spotlit people and objects: always visible everywhere in the world, and replicated
        read-only into every other instance so an overflow audience sees the same show — in a
        cluster also into the instances of other workers (``remote_stage``, both ways)."""
        ids = self.stage.get(world)
        group = self.instances.get(world, [])
        if not ids or not group:
            return
        performers: dict[str, tuple[WorldInstance, int]] = {}  # user key -> (instance, slot)
        for inst in group:
            for sid, m in inst.members.items():
                sess = self.sessions.get(sid)
                if sess is not None and sess.user_id in ids:
                    performers[sess.user_id] = (inst, m.slot)
        if self.elsewhere is not None and performers:
            rows = {k: (src.pose[slot], int(src.ts[slot]), src.info_of(slot)) for k, (src, slot) in performers.items()}
            self.outbox.push(Relay(STAGE_CHANNEL, stage_message(world, rows)))
        remote = {
            k: p for k, p in self.remote_stage.performers(world, now_ms).items() if k in ids and k not in performers
        }
        source = next(iter(performers.values()))[0] if performers else group[0]
        for inst in group:
            mirrors = {k: (p.pose, p.ts, p.info) for k, p in remote.items()}
            for key, (src, slot) in performers.items():
                if src is not inst:
                    mirrors[key] = (src.pose[slot].copy(), int(src.ts[slot]), dict(src.info_of(slot)))
            own = frozenset(
                m.slot
                for sid, m in inst.members.items()
                if self.sessions.get(sid) and self.sessions[sid].user_id in ids
            )
            oids = frozenset(o for o in ids if o in inst.object_ids)
            inst.set_stage(oids, own, mirrors, None if inst is source else source)

    def _event_chat(
        self, world: str, said_in: str, user: str, name: str, text: str, now_ms: int, relay: bool = True
    ) -> None:
        """While an event is live, a chat line said in one instance of its world reaches the
        others too (and, in a cluster, the other workers'). There the speaker is the stand-in
        of a performer on stage, else entity 0: someone in another room of the event."""
        for inst in self.instances.get(world, []):
            if inst.key == said_in or not inst.members:
                continue
            data = packb([MsgType.CHAT_MSG, inst.mirror_eid(user), name, text, now_ms])
            self.outbox.push(Broadcast(tuple(inst.members), data))
        if relay and self.elsewhere is not None:
            line: dict[str, object] = {"world": world, "instance": said_in, "user": user, "name": name, "text": text}
            self.outbox.push(Relay(CHAT_CHANNEL, line))

    def apply_remote(self, channel: str, msg: dict[str, object], now_ms: int) -> None:
        """A message another worker published (server/cluster/link.py): a stage pose, an event's
        chat line, or a moderation or hosting change for the hosting link."""
        if channel == STAGE_CHANNEL:
            self.remote_stage.accept(msg, now_ms)
        elif channel == CHAT_CHANNEL:
            f = {k: v for k in ("world", "instance", "user", "name", "text") if isinstance(v := msg.get(k), str)}
            if len(f) == 5 and f["world"] in self.worlds and f["text"]:
                self._event_chat(f["world"], f["instance"], f["user"], f["name"][:64], f["text"][:MAX_CHAT_CHARS],
                                 now_ms, relay=False)  # fmt: skip
        elif self.link is not None:
            self.link.apply_relay(msg, now_ms)

    # ----- live reload ------------------------------------------------------------------
    def add_world(self, spec: WorldSpec) -> None:
        self.worlds[spec.id] = spec
        self.instances.setdefault(spec.id, [])

    def update_world(self, spec: WorldSpec, changed_objects: set[str]) -> None:
        self.worlds[spec.id] = spec
        for inst in self.instances.get(spec.id, []):
            inst.apply_spec(spec, changed_objects)
            self.npcs.detach(inst.key)  # the guides follow the new file (and its geometry)
            self.npcs.attach(inst)

    def remove_world(self, world: str, now_ms: int) -> None:
        """Close a world whose file was deleted: its people go to the lobby (or, when the lobby
        itself was removed, their sessions end with WORLD_CLOSED)."""
        self.worlds.pop(world, None)
        for inst in self.instances.pop(world, []):
            self.npcs.detach(inst.key)
            for sid in list(inst.members):
                s = self.sessions.get(sid)
                inst.leave(sid)
                if s is None:
                    continue
                s.instance = None
                if self.lobby in self.worlds:
                    self.emit(
                        sid,
                        packb([MsgType.NOTICE, NoticeKind.INFO, f"{world} was closed; welcome back to the lobby", {}]),
                    )
                    self._join(s, self.lobby, None, None, now_ms)
                else:
                    self.outbox.push(Close(sid, CloseCode.WORLD_CLOSED, f"{world} was closed"[:120]))

    def notify_names(self, world: str, names: set[str], kind: NoticeKind, text: str) -> int:
        """NOTICE to the sessions in ``world`` signed in as one of ``names`` (user names; without
        hosting, display names)."""
        wanted = {n.casefold() for n in names}
        sent = 0
        for inst in self.instances.get(world, []):
            for sid in inst.members:
                s = self.sessions.get(sid)
                if s is None:
                    continue
                who = s.principal.account if s.principal is not None else s.name
                if who is not None and who.casefold() in wanted:
                    self.emit(sid, packb([MsgType.NOTICE, int(kind), text, {}]))
                    sent += 1
        return sent

    # ----- ticking ----------------------------------------------------------------------
    def tick(self, world: str, now_ms: int, skip: set[int] | frozenset[int] = frozenset()) -> None:
        if world in self.stage:
            self._sync_stage(world, now_ms)
        for inst in list(self.instances.get(world, [])):
            if inst.idle:
                continue
            try:
                self.npcs.step(inst, now_ms)
                out = inst.tick(now_ms, skip)
            except Exception:
                # One broken instance must not stop the others (or the next tick of itself).
                self.tick_failures[inst.key] = self.tick_failures.get(inst.key, 0) + 1
                log.exception("tick of instance %s failed", inst.key, extra={"world": world, "instance": inst.key})
                continue
            for sid, data in out.items():
                self.emit(sid, data)

    def drain_dirty_objects(self) -> list[tuple[str, int, str, Pose7]]:
        out: list[tuple[str, int, str, Pose7]] = []
        for world, group in self.instances.items():
            for inst in group:
                out.extend((world, inst.index, oid, pose) for oid, pose in inst.drain_dirty_objects())
        return out

    # ----- views for HTTP ---------------------------------------------------------------
    def occupancy(self, world: str) -> tuple[int, list[dict[str, object]]]:
        group = self.instances.get(world, [])
        inst = [{"id": i.key, "occupancy": i.population, "capacity": i.spec.capacity} for i in group]
        return sum(i.population for i in group), inst
