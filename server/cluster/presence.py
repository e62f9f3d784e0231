"""Presence: what workers and nodes tell each other — the directory of instances, a message bus,
rate limits that hold across workers, and which worker leads the once-per-cluster duties.

One small async interface, two implementations chosen once at start (Colyseus' ``LocalPresence``
and ``RedisPresence``):

- ``LocalPresence``: in this process. Several of them on one ``LocalBroker`` behave as several
  nodes (the contract tests run the same suite on both implementations).
- ``RedisPresence``: redis-py asyncio. Directory entries are keys with a time to live, so the
  instances of a worker that died (kill -9) drop out by themselves; messages are Redis pub/sub;
  rate limits are fixed-window counters (INCR + PEXPIRE); the leader is ``SET NX PX`` renewed by
  its holder (a Lua check-and-renew, so only the holder extends it).

Losing Redis never raises to the caller: the first failure logs one warning ("cross-worker
features off"), calls return what a single node would (its own answers; messages are dropped;
rate limits fall back to this process's counters; leadership stays as last known), and a
background probe logs "back" and resubscribes when Redis returns.

Messages are JSON objects; a node does not receive its own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

log = logging.getLogger("plaza.cluster")

Handler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """One world instance as the directory knows it."""

    key: str  # "concert-hall#3"
    world: str
    node: str  # the worker that owns it
    occupancy: int
    capacity: int
    address: str = ""  # where clients reach the owner directly (host:port), if it has its own port

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> InstanceInfo:
        return cls(
            str(d["key"]), str(d["world"]), str(d["node"]), int(d["occupancy"]), int(d["capacity"]),
            str(d.get("address", "")),
        )  # fmt: skip


class Presence(Protocol):
    node: str

    @property
    def available(self) -> bool: ...  # False while the shared service is unreachable

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    # directory
    async def put_instances(self, infos: list[InstanceInfo], ttl_s: float) -> None: ...
    async def drop_instance(self, world: str, key: str) -> None: ...
    async def instances(self, world: str | None = None) -> list[InstanceInfo]: ...

    # bus
    def subscribe(self, channel: str, handler: Handler) -> None: ...
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    # limits and leadership
    async def hit(self, key: str, limit: int, window_s: float) -> bool: ...  # True: under the limit
    async def count(self, key: str, window_s: float) -> int: ...  # hits in the last window_s seconds
    async def lead(self, role: str, ttl_s: float) -> bool: ...  # acquire or renew; True: we lead
    async def resign(self, role: str) -> None: ...


# ----- in process ------------------------------------------------------------------------------


class _Windows:
    """Sliding-window counters: ``key`` may be hit ``limit`` times in any ``window_s`` seconds.
    (Fixed windows let a burst straddle a boundary: twice the limit, and a test that happens to
    cross one sees its count reset.)"""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def _inside(self, key: str, window_s: float, now: float) -> deque[float]:
        q = self._hits.setdefault(key, deque())
        while q and q[0] <= now - window_s:
            q.popleft()
        return q

    def hit(self, key: str, limit: int, window_s: float, now: float) -> bool:
        if len(self._hits) > 10_000:  # forget keys with no recent hits
            self._hits = {k: q for k, q in self._hits.items() if q and q[-1] > now - window_s}
        q = self._inside(key, window_s, now)
        q.append(now)
        return len(q) <= limit

    def count(self, key: str, window_s: float, now: float) -> int:
        return len(self._inside(key, window_s, now)) if key in self._hits else 0


class LocalBroker:
    """What several in-process nodes share (one per process by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # world -> (node, key) -> (info, expires): instance keys are per worker ("club#1" on two)
        self.directory: dict[str, dict[tuple[str, str], tuple[InstanceInfo, float]]] = {}
        self.subscribers: dict[str, list[tuple[str, Handler]]] = {}
        self.windows = _Windows()
        self.leaders: dict[str, tuple[str, float]] = {}  # role -> (node, expires)


class LocalPresence:
    """``Presence`` in this process; nodes on the same ``broker`` see each other."""

    def __init__(self, node: str, broker: LocalBroker | None = None) -> None:
        self.node = node
        self.broker = broker or LocalBroker()

    @property
    def available(self) -> bool:
        return True

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        b = self.broker
        for subs in b.subscribers.values():
            subs[:] = [(n, h) for n, h in subs if n != self.node]
        for role, (node, _) in list(b.leaders.items()):
            if node == self.node:
                del b.leaders[role]

    async def put_instances(self, infos: list[InstanceInfo], ttl_s: float) -> None:
        until = self.broker.clock() + ttl_s
        for i in infos:
            self.broker.directory.setdefault(i.world, {})[(i.node, i.key)] = (i, until)

    async def drop_instance(self, world: str, key: str) -> None:
        self.broker.directory.get(world, {}).pop((self.node, key), None)

    async def instances(self, world: str | None = None) -> list[InstanceInfo]:
        now = self.broker.clock()
        worlds = [world] if world is not None else sorted(self.broker.directory)
        out: list[InstanceInfo] = []
        for w in worlds:
            entries = self.broker.directory.get(w, {})
            for key in [k for k, (_, until) in entries.items() if until <= now]:
                del entries[key]
            out.extend(info for info, _ in entries.values())
        return sorted(out, key=lambda i: (i.key, i.node))

    def subscribe(self, channel: str, handler: Handler) -> None:
        self.broker.subscribers.setdefault(channel, []).append((self.node, handler))

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        data = json.loads(json.dumps(message))  # the same JSON round trip as over Redis
        for node, handler in list(self.broker.subscribers.get(channel, [])):
            if node != self.node:
                _call(handler, data, channel)

    async def hit(self, key: str, limit: int, window_s: float) -> bool:
        return self.broker.windows.hit(key, limit, window_s, time.time())

    async def count(self, key: str, window_s: float) -> int:
        return self.broker.windows.count(key, window_s, time.time())

    async def lead(self, role: str, ttl_s: float) -> bool:
        now = self.broker.clock()
        holder = self.broker.leaders.get(role)
        if holder is None or holder[1] <= now or holder[0] == self.node:
            self.broker.leaders[role] = (self.node, now + ttl_s)
            return True
        return False

    async def resign(self, role: str) -> None:
        if self.broker.leaders.get(role, ("", 0.0))[0] == self.node:
            del self.broker.leaders[role]


def _call(handler: Handler, data: dict[str, Any], channel: str) -> None:
    try:
        handler(data)
    except Exception:  # one bad handler must not stop the others or the bus
        log.exception("handler for %s failed", channel)


# ----- Redis -----------------------------------------------------------------------------------

PREFIX = "plaza:"
# Renew the lease only if we hold it (a plain SET would steal it from the current leader).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisPresence:
    """``Presence`` on Redis (redis-py asyncio). ``url``: ``redis://host:6379/0`` or ``unix:///path``."""

    def __init__(self, url: str, node: str, retry_s: float = 1.0, timeout_s: float = 2.0) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as e:  # an install without the cluster extra: plaza serve says so and exits
            from server.backends import DatabaseUnavailable

            raise DatabaseUnavailable(f"--redis needs redis-py (pip install 'plaza[cluster]'): {e}") from None

        self.url = url
        self.node = node
        self.retry_s = retry_s
        self._r = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._up = True
        self._handlers: dict[str, list[Handler]] = {}
        self._task: asyncio.Task[None] | None = None
        self._local = _Windows()  # rate limits while Redis is away
        self._leading: dict[str, bool] = {}  # last answer per role, kept while Redis is away
        self._subscribed = asyncio.Event()

    @property
    def available(self) -> bool:
        return self._up

    def _down(self, e: BaseException) -> None:
        if self._up:
            self._up = False
            log.warning(
                "redis %s unavailable (%s): cross-worker features off (directory, pub/sub, shared rate limits) "
                "until it returns",
                _safe(self.url),
                e,
            )

    def _back(self) -> None:
        if not self._up:
            self._up = True
            log.warning("redis %s is back: cross-worker features on", _safe(self.url))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="presence-listen")
        # Wait briefly for the subscription so messages published right after start arrive.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 3.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for role, leading in list(self._leading.items()):
            if leading:
                await self.resign(role)
        with contextlib.suppress(Exception):
            await self._r.aclose()

    async def _safely(self, what: Any, default: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            out = await what
        except (RedisError, OSError) as e:
            self._down(e)
            return default
        self._back()
        return out

    # ----- directory ---------------------------------------------------------------------------
    async def put_instances(self, infos: list[InstanceInfo], ttl_s: float) -> None:
        if not infos:
            return
        pipe = self._r.pipeline(transaction=False)
        ms = max(1, int(ttl_s * 1000))
        for i in infos:
            entry = f"{i.node}|{i.key}"  # instance keys are per worker: "club#1" may be on two
            pipe.set(f"{PREFIX}inst:{i.world}:{entry}", json.dumps(i.to_json()), px=ms)
            pipe.sadd(f"{PREFIX}dir:{i.world}", entry)
            pipe.sadd(f"{PREFIX}worlds", i.world)
        await self._safely(pipe.execute(), None)

    async def drop_instance(self, world: str, key: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.delete(f"{PREFIX}inst:{world}:{self.node}|{key}")
        pipe.srem(f"{PREFIX}dir:{world}", f"{self.node}|{key}")
        await self._safely(pipe.execute(), None)

    async def instances(self, world: str | None = None) -> list[InstanceInfo]:
        return list(await self._safely(self._instances(world), []))

    async def _instances(self, world: str | None) -> list[InstanceInfo]:
        # decode_responses: the client gives str (its stubs also allow bytes)
        worlds = [world] if world is not None else sorted(map(_text, await self._r.smembers(f"{PREFIX}worlds")))
        out: list[InstanceInfo] = []
        for w in worlds:
            keys = sorted(map(_text, await self._r.smembers(f"{PREFIX}dir:{w}")))
            if not keys:
                continue
            values = await self._r.mget([f"{PREFIX}inst:{w}:{k}" for k in keys])
            gone = [k for k, v in zip(keys, values, strict=True) if v is None]
            if gone:  # expired entries (their owner stopped refreshing them): prune the index
                await self._r.srem(f"{PREFIX}dir:{w}", *gone)
            out.extend(InstanceInfo.from_json(json.loads(v)) for v in values if v is not None)
        return sorted(out, key=lambda i: (i.key, i.node))

    # ----- bus ---------------------------------------------------------------------------------
    def subscribe(self, channel: str, handler: Handler) -> None:
        # Channels are fixed at start (before start()); the listener subscribes to all of them.
        self._handlers.setdefault(channel, []).append(handler)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        body = json.dumps({"from": self.node, "data": message})
        await self._safely(self._r.publish(f"{PREFIX}bus:{channel}", body), 0)

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        while True:
            pubsub = self._r.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(f"{PREFIX}bus:*")
                self._back()
                self._subscribed.set()
                loop = asyncio.get_running_loop()
                pinged = loop.time()
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is not None and msg.get("type") == "pmessage":
                        self._dispatch(_text(msg["channel"]), _text(msg["data"]))
                    elif loop.time() - pinged >= 1.0:  # a dead connection shows within a second or two
                        pinged = loop.time()
                        await pubsub.ping()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as e:
                self._down(e)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(self.retry_s)

    def _dispatch(self, channel: str, body: str) -> None:
        try:
            envelope = json.loads(body)
            sender, data = envelope["from"], envelope["data"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message on %s", channel)
            return
        if sender == self.node or not isinstance(data, dict):
            return
        name = channel.removeprefix(f"{PREFIX}bus:")
        for handler in self._handlers.get(name, []):
            _call(handler, data, name)

    # ----- limits and leadership ---------------------------------------------------------------
    async def hit(self, key: str, limit: int, window_s: float) -> bool:
        # A sliding-window log: one sorted-set member per hit, scored by its time.
        now = time.time()
        k = f"{PREFIX}rl:{key}"
        pipe = self._r.pipeline(transaction=True)
        pipe.zremrangebyscore(k, "-inf", now - window_s)
        pipe.zadd(k, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zcard(k)
        pipe.pexpire(k, int(window_s * 1000) + 1000)
        res = await self._safely(pipe.execute(), None)
        if res is None:  # Redis away: this process's own counter still holds the line locally
            return self._local.hit(key, limit, window_s, now)
        return int(res[2]) <= limit

    async def count(self, key: str, window_s: float) -> int:
        now = time.time()
        got = await self._safely(self._r.zcount(f"{PREFIX}rl:{key}", f"({now - window_s}", "+inf"), None)
        return self._local.count(key, window_s, now) if got is None and not self._up else int(got or 0)

    async def lead(self, role: str, ttl_s: float) -> bool:
        from redis.exceptions import RedisError

        k, ms = f"{PREFIX}leader:{role}", max(1, int(ttl_s * 1000))
        try:
            got = await self._r.set(k, self.node, nx=True, px=ms)
            if not got:
                got = bool(await self._r.eval(_RENEW, 1, k, self.node, ms))
        except (RedisError, OSError) as e:
            self._down(e)
            return self._leading.get(role, False)  # keep the last answer: no second leader appears
        self._back()
        if got != self._leading.get(role, False):
            log.info("%s: %s the %s duties", self.node, "leads" if got else "no longer leads", role)
        self._leading[role] = bool(got)
        return bool(got)

    async def resign(self, role: str) -> None:
        self._leading[role] = False
        await self._safely(self._r.eval(_RESIGN, 1, f"{PREFIX}leader:{role}", self.node), 0)


def _text(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _safe(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(url)
    if u.password is None:
        return url
    host = f"{u.hostname}:{u.port}" if u.port else str(u.hostname)
    return urlunsplit((u.scheme, f"{u.username or ''}:***@{host}", u.path, u.query, u.fragment))


def open_presence(url: str, node: str) -> Presence:
    """``RedisPresence`` for a URL, else ``LocalPresence`` (the single-process default)."""
    return RedisPresence(url, node) if url else LocalPresence(node)
