"""The cluster link: this worker's side of ``Presence`` (server/cluster/presence.py).

Runs as one aiohttp cleanup context next to the background duties:

- ``cluster:directory`` — every DIRECTORY_EVERY_S, this worker's open instances (occupancy,
  capacity) go into the directory with a time to live of DIRECTORY_TTL_S, so a worker that
  died drops out by itself; the other workers' entries are read back for ``/api/worlds``.
- ``cluster:relay``     — ``Relay`` effects of the hub (kicks, bans, mutes, locks, removed
  objects) are published; those from other workers are applied here (``HostLink.apply_relay``).
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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.cluster.presence import InstanceInfo, Presence, RedisPresence, open_presence
from server.hosting.errors import SignInRateLimited

log = logging.getLogger("plaza.cluster")

DIRECTORY_EVERY_S = 2.0
DIRECTORY_TTL_S = 6.0  # three missed refreshes: the worker is gone
LEADER_EVERY_S = 2.0
LEADER_TTL_S = 10.0  # a dead leader is replaced within this
RELAY_EVERY_S = 0.05
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

    def remote_occupancy(self, world: str) -> tuple[int, list[dict[str, object]]]:
        group = [i for i in self.remote if i.world == world]
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


def make(url: str) -> Cluster:
    return Cluster(open_presence(url, node_id()), leads=not url)


def local_instances(app: web.Application, node: str) -> list[InstanceInfo]:
    from server.web.keys import HUB

    return [
        InstanceInfo(inst.key, world, node, inst.population, inst.spec.capacity)
        for world, group in app[HUB].instances.items()
        for inst in group
    ]


async def run(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: start the presence and the three duties; on exit leave the directory."""
    from server.web.keys import CLUSTER, DUTIES, EDGE, HUB

    cluster, duties, edge = app[CLUSTER], app[DUTIES], app[EDGE]
    p = cluster.presence

    def on_moderation(msg: dict[str, Any]) -> None:
        link = app[HUB].link
        if link is not None:
            link.apply_relay(msg)
            cluster.received += 1

    p.subscribe("moderation", on_moderation)
    await p.start()

    async def directory() -> None:
        mine = local_instances(app, p.node)
        await p.put_instances(mine, DIRECTORY_TTL_S)
        cluster.remote = [i for i in await p.instances() if i.node != p.node]

    async def relay() -> None:
        out, edge.relays = edge.relays, []
        for r in out:
            await p.publish(r.channel, r.message)
        await edge.deliver()  # what messages from other workers made the hub do

    async def leader() -> None:
        cluster.leads = await p.lead(LEADER_ROLE, LEADER_TTL_S)
        cluster.elected.set()

    duties.start("cluster:directory", DIRECTORY_EVERY_S, directory, first_delay=0.0)
    duties.start("cluster:relay", RELAY_EVERY_S, relay, first_delay=0.0)
    duties.start("cluster:leader", LEADER_EVERY_S, leader, first_delay=0.0)
    yield
    for name in ("cluster:directory", "cluster:relay", "cluster:leader"):
        await duties.stop(name)
    for i in local_instances(app, p.node):
        await p.drop_instance(i.world, i.key)
    await p.close()
