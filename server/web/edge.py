"""The WebSocket edge: frames from sockets into the hub, the hub's effects out to sockets.

Nothing here decides anything about worlds or people; it moves bytes, applies the slow-client
policy (which needs the transports' buffers) and closes sockets when the hub says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from server.config import ServerConfig
from server.effects import Ask, Broadcast, Close, Generate, PersistRemoved, PersistSpawned, PersistVisit, Relay, Send
from server.errors import CloseConnection
from server.hub import Hub
from server.persist import WriteBehind
from server.protocol import HELLO_TIMEOUT_S, MAX_FRAME_BYTES, CloseCode
from server.web.security import ConnectionCap, check_origin, client_ip

log = logging.getLogger("plaza.edge")

# Waiting this long for a peer to answer our close frame, then the transport is aborted: a
# client that never reads must not keep its socket (and kernel buffers) alive.
CLOSE_WAIT_S = 1.0
CLOSE_MAX_S = 10.0  # a slow peer that keeps draining its backlog gets this long to reach the close frame


def now_ms() -> int:
    # Monotonic, and the same clock in every process on this machine (the benchmark relies
    # on that to compare sender timestamps with receive times).
    return time.monotonic_ns() // 1_000_000


def _close_kind(code: int) -> str:
    try:
        return CloseCode(code).name.lower()
    except ValueError:
        return str(code)  # WebSocket's own codes (1011, ...)


def wall_time(ms: int) -> float:
    """Server monotonic milliseconds -> Unix seconds (for stored signals)."""
    return time.time() - (now_ms() - ms) / 1000.0


@dataclass(slots=True)
class Connection:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    remote: str
    backlogged_since: float | None = None
    closing: bool = False
    close_task: asyncio.Task[None] | None = None

    def buffered(self) -> int:
        tr = self.transport
        return tr.get_write_buffer_size() if tr is not None and not tr.is_closing() else 0

    def unsent(self) -> int:
        """Bytes still queued for the peer, also once the transport is closing (when it waits
        to flush them, possibly forever)."""
        tr = self.transport
        return tr.get_write_buffer_size() if tr is not None else 0


class Edge:
    def __init__(self, hub: Hub, config: ServerConfig, write_behind: WriteBehind) -> None:
        self.hub = hub
        self.config = config
        self.write_behind = write_behind
        self.conns: dict[int, Connection] = {}
        self.generate: list[Generate] = []  # taken by the asset duty
        self.asks: list[Ask] = []  # taken by the commands duty
        self.relays: list[Relay] = []  # taken by the cluster link (server/cluster/link.py)
        self._closing: set[asyncio.Task[None]] = set()
        self.counters = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "bytes_out": 0, "slow_skips": 0}
        self.closes: dict[str, int] = {}  # close reason kind -> count (metrics)
        self.per_ip = ConnectionCap(config.max_connections_per_ip)  # open sockets per address

    # ----- effects out -------------------------------------------------------------------
    async def deliver(self) -> None:
        """Perform everything the hub asked for, in order."""
        if not self.hub.outbox:
            return
        for e in self.hub.outbox.drain():
            match e:
                case Send():
                    await self._send(e.sid, e.data)
                case Broadcast():
                    for sid in e.sids:
                        await self._send(sid, e.data)
                case Close():
                    self.close_soon(e.sid, e.code, e.reason)
                case PersistRemoved():
                    await asyncio.to_thread(self.write_behind.write_removed, e)
                case PersistSpawned() | PersistVisit():
                    self.write_behind.add(e)
                case Generate():
                    self.generate.append(e)
                case Ask():
                    self.asks.append(e)
                case Relay():
                    self.relays.append(e)

    async def _send(self, sid: int, data: bytes) -> None:
        conn = self.conns.get(sid)
        if conn is None or conn.closing or conn.ws.closed:
            return
        try:
            await conn.ws.send_bytes(data)
        except (ConnectionError, RuntimeError):
            return  # the reader side notices and cleans up
        self.counters["frames_out"] += 1
        self.counters["bytes_out"] += len(data)

    def close_soon(self, sid: int, code: int, reason: str) -> None:
        """Leave the hub now; send the close frame, and abort the transport once the peer stops
        reading (see ``_close``)."""
        conn = self.conns.get(sid)
        if conn is None or conn.closing:
            return
        conn.closing = True
        where = self.log_context(sid)  # before the hub forgets the session
        self.hub.disconnect(sid, now_ms())
        kind = _close_kind(code)
        self.closes[kind] = self.closes.get(kind, 0) + 1
        log.info("closing session %s: %s %s", sid, code, reason, extra=where)
        task = asyncio.get_running_loop().create_task(self._close(conn, code, reason))
        conn.close_task = task
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        """The close frame queues behind whatever is still buffered for the peer. A peer that
        keeps reading gets to it (up to CLOSE_MAX_S), so it learns the close code; one whose
        buffer stops draining for CLOSE_WAIT_S is aborted."""
        loop = asyncio.get_running_loop()
        closing = asyncio.ensure_future(conn.ws.close(code=code, message=reason.encode()[:120]))
        start = progress_at = loop.time()
        left = conn.unsent()
        try:
            # ws.close() may return while the frame still sits behind the backlog: wait for
            # both, as long as the peer keeps reading.
            while not closing.done() or conn.unsent() > 0:
                if closing.done():
                    await asyncio.sleep(0.2)
                else:
                    await asyncio.wait([closing], timeout=0.2)
                now, buffered = loop.time(), conn.unsent()
                if buffered < left:
                    left, progress_at = buffered, now
                if now - progress_at > CLOSE_WAIT_S or now - start > CLOSE_MAX_S:
                    break
        finally:
            if not closing.done():
                closing.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                await closing
            # A transport that is already closing still waits to flush its buffer to a peer
            # that may never read: abort unless everything was sent.
            if conn.transport is not None and (not conn.transport.is_closing() or conn.unsent() > 0):
                conn.transport.abort()

    def log_context(self, sid: int) -> dict[str, object]:
        """``extra=`` for log records about a session: its id, and its world and instance once joined."""
        s = self.hub.sessions.get(sid)
        inst = s.instance if s is not None else None
        if inst is None:
            return {"session": sid}
        return {"session": sid, "world": inst.spec.id, "instance": inst.key}

    # ----- slow clients ------------------------------------------------------------------
    def backlogged(self, world: str) -> set[int]:
        """Sessions in ``world`` whose send buffer is over the mark: skipped this tick; closed
        once they stay backlogged for ``slow_client_close_s``."""
        cfg = self.config
        now = time.monotonic()
        skip: set[int] = set()
        too_slow: list[int] = []
        # Closing leaves the instance (changes ``members``): collect first, close after.
        for inst in self.hub.instances.get(world, []):
            for sid in list(inst.members):
                conn = self.conns.get(sid)
                if conn is None:
                    continue
                if conn.buffered() > cfg.slow_client_bytes:
                    skip.add(sid)
                    if conn.backlogged_since is None:
                        conn.backlogged_since = now
                    elif now - conn.backlogged_since > cfg.slow_client_close_s:
                        too_slow.append(sid)
                else:
                    conn.backlogged_since = None
        self.counters["slow_skips"] += len(skip)
        for sid in too_slow:
            self.close_soon(sid, CloseCode.SLOW_CLIENT, "cannot keep up with updates")
        return skip

    # ----- frames in -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Refused before the upgrade (JSON, like any HTTP error): a browser page from another
        origin (403 origin_not_allowed), an address over its connection cap (429)."""
        check_origin(request, self.config)
        remote = client_ip(request, self.config.trusted_proxies)
        self.per_ip.enter(remote)
        try:
            return await self._session(request, remote)
        finally:
            self.per_ip.leave(remote)

    async def _session(self, request: web.Request, remote: str) -> web.WebSocketResponse:
        # aiohttp refuses a frame when its size reaches max_msg_size: +1 admits exactly the limit.
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES + 1, heartbeat=30.0, compress=False)
        await ws.prepare(request)
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.socket_sndbuf)
            # A high write-buffer mark means send_bytes never waits on one slow peer; the tick
            # watches the buffer itself and skips or closes slow clients.
            transport.set_write_buffer_limits(high=8 * self.config.slow_client_bytes)
        hub = self.hub
        session = hub.connect(now_ms())
        session.moved = request.query.get("moved") == "1"
        session.via = ("wss" if request.secure else "ws", request.url.host or "127.0.0.1")
        sid = session.sid
        conn = Connection(ws, transport, remote)
        self.conns[sid] = conn
        loop = asyncio.get_running_loop()
        hello_deadline = loop.time() + HELLO_TIMEOUT_S
        try:
            while not conn.closing:
                joined = bool(session.user_id)
                timeout = None if joined else hello_deadline - loop.time()
                if timeout is not None and timeout <= 0:
                    self.close_soon(sid, CloseCode.HELLO_TIMEOUT, "no HELLO in time")
                    break
                try:
                    msg = await ws.receive(timeout=timeout)
                except TimeoutError:
                    continue  # the deadline check above closes
                if conn.closing:  # closed while we waited (kicked, banned): the hub forgot the session
                    break
                if msg.type == WSMsgType.BINARY:
                    self.counters["frames_in"] += 1
                    self.counters["bytes_in"] += len(msg.data)
                    try:
                        hub.receive(sid, msg.data, now_ms())
                    except CloseConnection as c:
                        await self.deliver()  # the ERROR that explains the close goes first
                        self.close_soon(sid, c.code, c.reason)
                        break
                    if hub.outbox:  # most poses produce no output until the tick
                        await self.deliver()
                elif msg.type == WSMsgType.TEXT:
                    self.close_soon(sid, CloseCode.NOT_BINARY, "frames must be binary msgpack")
                    break
                else:  # CLOSE, CLOSING, CLOSED, ERROR (aiohttp closes oversized frames with 1009 itself)
                    break
        except Exception:
            log.exception("session %s failed", sid, extra=self.log_context(sid))
            self.close_soon(sid, WSCloseCode.INTERNAL_ERROR, "internal error")
        finally:
            if not conn.closing:
                hub.disconnect(sid, now_ms())
            await self.deliver()
            # Wait for our own close to finish so the handler returns with the socket done.
            if conn.close_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait([conn.close_task], timeout=CLOSE_WAIT_S + 0.5)
            self.conns.pop(sid, None)
        return ws

    async def close_all(self, code: int, reason: str) -> None:
        """Shutdown: every socket at once, each bounded by CLOSE_WAIT_S."""
        for sid in list(self.conns):
            self.close_soon(sid, code, reason)
        if self._closing:
            await asyncio.wait(list(self._closing), timeout=CLOSE_WAIT_S + 0.5)
