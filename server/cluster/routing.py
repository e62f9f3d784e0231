"""Which worker a person's instance lives on: the world file's instance policy applied across
the cluster, so friends who open the same world land together whichever worker took the socket.

Pure: takes this worker's instances and the other workers' (from the directory), returns where
to go. The hub calls :func:`route` at HELLO and TRAVEL; a remote answer becomes a ``MOVED``
message and close 4012, and the client opens the owner's own address (docs/scaling.md, Routing).

Why a redirect and not a proxy: ``--workers N`` shares one port with ``SO_REUSEPORT`` so no
process copies frames; a worker that forwarded another's traffic would spend a core on bytes it
does not simulate. A redirect costs one extra connection per join, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.instancing import Slot, choose

# An instance this young, opened on one worker while an earlier one with room was opening on
# another (a crowd arriving through both at once), merges into the earlier one. The race is a
# relay period (50 ms) wide; news of the other instance arrives within a few more.
MERGE_WINDOW_MS = 3000


@dataclass(frozen=True, slots=True)
class Remote:
    """Another worker's instance, as the directory last saw it."""

    key: str  # "lobby#1001"
    population: int
    capacity: int
    address: str  # "host:port" or ":port" (the host the client already uses)


def instance_number(key: str) -> int:
    """``"lobby#1001"`` -> 1001 (instance numbers are unique across the cluster)."""
    _, _, n = key.rpartition("#")
    return int(n) if n.isdigit() else 0


def route(
    local: Sequence[Slot], remote: Sequence[Remote], wanted: str | None, policy: str, max_instances: int, world: str
) -> Remote | None:
    """The remote instance to move to, or None to stay (join a local instance, or open one here).

    The policy sees every instance of the world in the cluster in number order, so fill-first
    fills the oldest instance wherever it is, and ``max_instances`` bounds the whole cluster.
    A new instance opens on the worker the person reached: new load spreads as the kernel spreads
    sockets. Raises ``WorldFull`` when every allowed instance in the cluster is full.
    """
    if not remote:
        return None
    slots: list[tuple[Slot, Remote | None]] = [(s, None) for s in local]
    slots += [(Slot(r.key, r.population, r.capacity), r) for r in remote]
    slots.sort(key=lambda sr: instance_number(sr[0].key))
    pick = choose([s for s, _ in slots], wanted, policy, max_instances, world)
    return None if pick is None else slots[pick][1]


def moved_url(address: str, scheme: str, host: str) -> str:
    """The WebSocket URL of a worker's own address; ``host``: the one the client used (for
    ``:port`` addresses). ``?moved=1``: that worker places the person itself (never a second hop)."""
    h, _, port = address.rpartition(":")
    name = h or host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return f"{scheme}://{name}:{port}/ws?moved=1"


def merge_into(local: Slot, opened_ms: int, remote: Sequence[Remote], policy: str, now_ms: int) -> Remote | None:
    """For a fill-first world: the earlier instance on another worker (a lower number, as
    :func:`route` orders them) that all the people of a young local instance fit into, or None.
    Only lower numbers, so two workers never send people to each other."""
    if policy != "fill-first" or local.population == 0 or now_ms - opened_ms > MERGE_WINDOW_MS:
        return None
    n = instance_number(local.key)
    fits = [r for r in remote if instance_number(r.key) < n and r.population + local.population <= r.capacity]
    return min(fits, key=lambda r: instance_number(r.key), default=None)
