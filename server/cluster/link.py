"""The cluster link: this worker's side of ``Presence`` (server/cluster/presence.py).

Runs as one aiohttp cleanup context next to the background duties:

- ``cluster:directory`` — every DIRECTORY_EVERY_S, this worker's open instances (occupancy,
  capacity) go into the directory with a time to live of DIRECTORY_TTL_S, so a worker that
  died drops out by itself; the other workers' entries are read back for ``/api/worlds``.
  Entries go in only while this worker's own socket listens (:func:`advertise`), and are
  withdrawn when shutdown starts (:func:`withdraw`); entries of workers on this machine whose
  port refuses a TCP connect are ignored (:func:`alive`), without waiting for their TTL.
- ``cluster:relay``     — ``Relay`` effects of the hub are published; those from other workers
  are applied here (``Hub.apply_remote``). Channels: ``moderation`` (kicks, bans, mutes, locks,
  removed objects, and changed roles and events: ``HostLink.apply_relay``) and ``stage`` (the
  spotlit performers' poses, every tick: server/cluster/stage.py). The same run publishes this
  worker's instance news on ``directory`` (an instance opened, or its occupancy changed), so
  the others route by it at once instead of at their next directory read (``Cluster.others``),
  and on ``sockets`` its open WebSockets per client address, so ``max_connections_per_ip``
  holds across the workers (``Cluster.sockets_elsewhere``).
- ``cluster:leader``    — one worker of the cluster leads the once-per-cluster duties
  (retention, world placeholders); ``Cluster.leads`` says whether it is this one.

With no ``--redis`` the presence is ``LocalPresence``: one worker, which always leads and
hears nobody, so a single process behaves exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.cluster.presence import InstanceInfo, Presence, RedisPresence, open_presence
from server.cluster.routing import Remote
from server.cluster.stage import CHANNEL as STAGE_CHANNEL
from server.effects import CHAT_CHANNEL
from server.hosting.errors import SignInRateLimited

log = logging.getLogger("plaza.cluster")

DIRECTORY_EVERY_S = 2.0
DIRECTORY_TTL_S = 6.0  # three missed refreshes: the worker is gone
LEADER_EVERY_S = 2.0
LEADER_TTL_S = 10.0  # a dead leader is replaced within this
RELAY_EVERY_S = 0.05
# Instance news (opened, or occupancy changed) goes out at the next relay run, not the next
# directory refresh: a crowd arriving at once through both workers would otherwise open one
# instance on each before either saw the other's. Heard news stands in for the directory this
# long (one refresh of the owner's entry, plus one of ours).
NEWS_S = 2 * DIRECTORY_EVERY_S
CHANNELS = ("moderation", STAGE_CHANNEL, CHAT_CHANNEL)  # for the hub (Hub.apply_remote)
NEWS_CHANNEL = "directory"  # for this link: instances opened or refilled (Cluster.heard)
SOCKETS_CHANNEL = "sockets"  # for this link: open WebSockets per address (the per-address cap)
LEADER_ROLE = "duties"
SIGN_IN_FAILURES, SIGN_IN_WINDOW_S = 5, 60.0  # as server.hosting.identity.SignInLimiter's defaults


def node_id() -> str:
    """``host:pid``, unique per worker process of the cluster (PLAZA_NODE overrides)."""
    return os.environ.get("PLAZA_NODE") or f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Cluster:
    presence: Presence
    leads: bool = True  # until the first election: a lone worker runs its duties from the start
    remote: list[InstanceInfo] = field(default_factory=list)  # other workers' instances
    received: int = 0  # relayed messages applied here (metrics, tests)
    elected: asyncio.Event = field(default_factory=asyncio.Event)  # set after the first election
    # Where clients reach this worker directly ("host:port", or ":port" for the host they already
    # use), set by plaza serve; empty (an app made in a test): never advertised, nobody is MOVED here.
    address: str = ""
    # The socket clients reach at ``address`` (plaza serve sets it) and the host it is bound to
    # (where same-machine peers are probed); stopping: shutdown has started.
    listener: socket.socket | None = None
    bind_host: str = ""
    stopping: bool = False
    # Instances other workers opened or filled since the directory was read (key -> (info, when
    # heard, monotonic s)), and what this worker last announced of its own (key -> occupancy).
    news: dict[str, tuple[InstanceInfo, float]] = field(default_factory=dict)
    announced: dict[str, int] = field(default_factory=dict)
    # Open WebSockets per client address on each other worker (node -> (counts, when heard)),
    # for the per-address cap; and what this worker last said of its own, and when.
    peer_sockets: dict[str, tuple[dict[str, int], float]] = field(default_factory=dict)
    told_sockets: tuple[dict[str, int], float] = ({}, float("-inf"))

    def sockets_elsewhere(self, ip: str, now: float) -> int:
        """``ip``'s open sockets on the other workers, as they last said (within NEWS_S)."""
        return sum(c.get(ip, 0) for c, t in self.peer_sockets.values() if now - t < NEWS_S)

    def heard_sockets(self, node: str, full: bool, counts: dict[str, int], now: float) -> None:
        """Another worker's counts: all of them (``full``), or those that changed (0: none left)."""
        if node != self.node:
            mine = {} if full else self.peer_sockets.get(node, ({}, now))[0]
            mine = {**mine, **counts}
            self.peer_sockets[node] = ({ip: n for ip, n in mine.items() if n > 0}, now)
        for n in [n for n, (_, t) in self.peer_sockets.items() if now - t >= NEWS_S]:
            del self.peer_sockets[n]

    def sockets_to_tell(self, mine: dict[str, int], now: float) -> tuple[bool, dict[str, int]] | None:
        """(full, counts) to publish: every count each DIRECTORY_EVERY_S (so the others can tell
        a live worker from a dead one's leftovers, and catch up after a lost message), and in
        between only the addresses whose count changed; None when there is nothing to say."""
        last, at = self.told_sockets
        if now - at >= DIRECTORY_EVERY_S:
            self.told_sockets = (dict(mine), now)
            return True, dict(mine)
        changed = {ip: mine.get(ip, 0) for ip in mine.keys() | last.keys() if mine.get(ip, 0) != last.get(ip, 0)}
        if not changed:
            return None
        self.told_sockets = (dict(mine), at)
        return False, changed

    def heard(self, infos: list[InstanceInfo], now: float) -> None:
        """Another worker's instance news (the ``directory`` channel)."""
        for i in infos:
            if i.node != self.node:
                self.news[i.key] = (i, now)

    def others(self, now: float) -> list[InstanceInfo]:
        """The other workers' instances: the directory as last read, with fresher news in place
        of (or beside) its entries. News counts for NEWS_S, until the directory has caught up."""
        for key in [k for k, (_, t) in self.news.items() if now - t >= NEWS_S]:
            del self.news[key]
        fresh = {k: i for k, (i, _) in self.news.items()}
        return [fresh.pop(i.key, i) for i in self.remote] + list(fresh.values())

    def changed(self, mine: list[InstanceInfo]) -> list[InstanceInfo]:
        """This worker's instances that opened or changed occupancy since last announced."""
        out = [i for i in mine if self.announced.get(i.key) != i.occupancy]
        self.announced = {i.key: i.occupancy for i in mine}
        return out

    async def first_election(self, timeout: float = 10.0) -> bool:
        """Whether this worker leads, once the first election is done (a lone worker: at once)."""
        if not self.elected.is_set() and isinstance(self.presence, RedisPresence):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.elected.wait(), timeout)
        return self.leads

    @property
    def node(self) -> str:
        return self.presence.node

    async def check_sign_in(self, user: str, client: str) -> None:
        """With Redis, failed sign-ins count across every worker (SignInLimiter's 5 a minute per
        user name and per address): SignInRateLimited once either is used up."""
        if not isinstance(self.presence, RedisPresence):
            return  # one process: identity.SignInLimiter alone, as before
        for scope, key in (("user", f"u:{user.lower()}"), ("client", f"c:{client}")):
            if await self.presence.count(f"signin-fail:{key}", SIGN_IN_WINDOW_S) >= SIGN_IN_FAILURES:
                # Sliding window: free again within window_s (when its oldest failure leaves it).
                raise SignInRateLimited(SIGN_IN_WINDOW_S, scope)

    async def failed_sign_in(self, user: str, client: str) -> None:
        if isinstance(self.presence, RedisPresence):
            for key in (f"u:{user.lower()}", f"c:{client}"):
                await self.presence.hit(f"signin-fail:{key}", SIGN_IN_FAILURES, SIGN_IN_WINDOW_S)

    def reachable(self, world: str) -> list[Remote]:
        """Other workers' instances of ``world`` that a client of this worker can be MOVED to: they
        advertise an address, with a host name or on this machine (``:port``, the host the client
        used)."""
        here = socket.gethostname()
        return [
            Remote(i.key, i.occupancy, i.capacity, i.address)
            for i in self.others(time.monotonic())
            if i.world == world and i.address and (not i.address.startswith(":") or _machine(i.node) == here)
        ]

    def remote_occupancy(self, world: str) -> tuple[int, list[dict[str, object]]]:
        group = [i for i in self.others(time.monotonic()) if i.world == world]
        return sum(i.occupancy for i in group), [
            {"id": i.key, "occupancy": i.occupancy, "capacity": i.capacity} for i in group
        ]

    def add_remote(self, summary: dict[str, Any]) -> dict[str, Any]:
        """A ``Catalog.summary`` with the other workers' instances added (live occupancy)."""
        occupancy, instances = self.remote_occupancy(str(summary["id"]))
        if instances:
            summary["occupancy"] = int(summary["occupancy"]) + occupancy
            summary["instances"] = [*summary["instances"], *instances]
        return summary


def listening(sock: socket.socket | None) -> bool:
    """Whether ``sock`` accepts connections now (SO_ACCEPTCONN): false while it is only bound
    (start-up, before aiohttp's site starts) and once it is closed (the site stopped)."""
    if sock is None:
        return False
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:  # closed
        return False


def advertise(address: str, is_listening: bool, stopping: bool) -> bool:
    """Whether this worker's instances go into the directory now. With an address, only while
    its socket listens: another worker MOVEs people to that address, and a socket that does not
    listen yet (or any more) refuses them. Never once shutdown has started. No address (an app
    made in a test): nobody is MOVED here, the entries only count occupancy."""
    return not stopping and (is_listening or not address)


def _probe_host(bind_host: str) -> str:
    """Where this machine's workers answer: loopback for a wildcard bind."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(bind_host, bind_host)


async def _accepts(host: str, port: int, timeout_s: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _local_port(info: InstanceInfo, here: str) -> int | None:
    """The port of an entry's address when its worker is on this machine (``here``), else None."""
    port = info.address.rpartition(":")[2]
    return int(port) if info.address and port.isdigit() and _machine(info.node) == here else None


async def alive(infos: list[InstanceInfo], bind_host: str, timeout_s: float = 0.5) -> list[InstanceInfo]:
    """``infos`` less the entries of workers on this machine whose port refuses a TCP connect:
    a dead local worker's entries would otherwise be trusted until their TTL runs out. (A
    supervised worker being restarted still accepts: the supervisor keeps its socket listening,
    and connections wait in the backlog.) Other machines' entries are kept; they expire by TTL."""
    here = socket.gethostname()
    ports = sorted({p for i in infos if (p := _local_port(i, here)) is not None})
    if not ports:
        return infos
    host = _probe_host(bind_host)
    answers = await asyncio.gather(*(_accepts(host, port, timeout_s) for port in ports))
    dead = {port for port, ok in zip(ports, answers, strict=True) if not ok}
    return [i for i in infos if _local_port(i, here) not in dead]


def _machine(node: str) -> str:
    """The host part of a node id: "host/w3" (a supervised worker) or "host:pid"."""
    return node.replace("/", ":").split(":")[0]


def make(url: str) -> Cluster:
    return Cluster(open_presence(url, node_id()), leads=not url)


def local_instances(app: web.Application, node: str, address: str = "") -> list[InstanceInfo]:
    from server.web.keys import HUB

    return [
        InstanceInfo(inst.key, world, node, inst.population, inst.spec.capacity, address)
        for world, group in app[HUB].instances.items()
        for inst in group
    ]


async def run(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: start the presence and the three duties; on exit leave the directory."""
    from server.web.edge import now_ms
    from server.web.keys import CLUSTER, DUTIES, EDGE, HUB

    cluster, duties, edge = app[CLUSTER], app[DUTIES], app[EDGE]
    p = cluster.presence

    def on_message(channel: str) -> Callable[[dict[str, Any]], None]:
        def apply(msg: dict[str, Any]) -> None:
            app[HUB].apply_remote(channel, msg, now_ms())
            cluster.received += 1

        return apply

    for channel in CHANNELS:
        p.subscribe(channel, on_message(channel))

    def on_news(msg: dict[str, Any]) -> None:
        rows = msg.get("instances")
        if isinstance(rows, list):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                cluster.heard([InstanceInfo.from_json(r) for r in rows], time.monotonic())

    p.subscribe(NEWS_CHANNEL, on_news)

    def on_sockets(msg: dict[str, Any]) -> None:
        node, counts = msg.get("node"), msg.get("open")
        if isinstance(node, str) and isinstance(counts, dict):
            clean = {str(ip): n for ip, n in counts.items() if isinstance(n, int) and not isinstance(n, bool)}
            cluster.heard_sockets(node, msg.get("full") is True, clean, time.monotonic())

    p.subscribe(SOCKETS_CHANNEL, on_sockets)
    await p.start()
    if isinstance(p, RedisPresence):  # one process alone: every instance is here
        app[HUB].elsewhere = cluster.reachable
        edge.per_ip.elsewhere = lambda ip: cluster.sockets_elsewhere(ip, time.monotonic())

    async def directory() -> None:
        if advertise(cluster.address, listening(cluster.listener), cluster.stopping):
            await p.put_instances(local_instances(app, p.node, cluster.address), DIRECTORY_TTL_S)
        others = [i for i in await p.instances() if i.node != p.node]
        cluster.remote = await alive(others, cluster.bind_host)

    async def relay() -> None:
        out, edge.relays = edge.relays, []
        for r in out:
            await p.publish(r.channel, r.message)
        if isinstance(p, RedisPresence) and advertise(cluster.address, listening(cluster.listener), cluster.stopping):
            news = cluster.changed(local_instances(app, p.node, cluster.address))
            if news:
                await p.publish(NEWS_CHANNEL, {"instances": [i.to_json() for i in news]})
        if isinstance(p, RedisPresence):
            tell = cluster.sockets_to_tell(edge.per_ip.shared(), time.monotonic())
            if tell is not None:
                await p.publish(SOCKETS_CHANNEL, {"node": p.node, "full": tell[0], "open": tell[1]})
        app[HUB].consolidate(now_ms())  # a race's second instance joins the first (routing.merge_into)
        await edge.deliver()  # what messages from other workers made the hub do

    async def leader() -> None:
        cluster.leads = await p.lead(LEADER_ROLE, LEADER_TTL_S)
        cluster.elected.set()

    duties.start("cluster:directory", DIRECTORY_EVERY_S, directory, first_delay=0.0)
    duties.start("cluster:relay", RELAY_EVERY_S, relay, first_delay=0.0)
    duties.start("cluster:leader", LEADER_EVERY_S, leader, first_delay=0.0)
    yield
    await withdraw(app)  # the app may stop without a shutdown (a test's app)
    for name in ("cluster:directory", "cluster:relay", "cluster:leader"):
        await duties.stop(name)
    for i in local_instances(app, p.node):
        await p.drop_instance(i.world, i.key)
    await p.close()


async def withdraw(app: web.Application) -> None:
    """on_shutdown: leave the directory when shutdown starts, not at cleanup (up to the
    shutdown timeout later): other workers stop MOVING people to a port that no longer listens."""
    from server.web.keys import CLUSTER, DUTIES

    cluster = app[CLUSTER]
    if cluster.stopping:
        return
    cluster.stopping = True
    await app[DUTIES].stop("cluster:directory")  # a refresh in flight must not put them back
    for i in local_instances(app, cluster.node):
        await cluster.presence.drop_instance(i.world, i.key)
