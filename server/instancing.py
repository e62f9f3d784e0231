"""Which instance of a world a newcomer goes to: the world file's ``[instances]`` policy.

Pure: takes the open instances' keys, populations and capacity, returns a choice. The hub's
``instance_for`` applies it (``Hosting.instancing(world)`` has each loaded world's policy).

Policies (``[instances] policy``, ``max_instances``):

* ``fill-first`` (default): the wanted instance if it has room, else the first open instance
  with room (by index), else a new one while fewer than ``max_instances`` are open;
* ``balanced``: the wanted instance if it has room, else the open instance with the fewest
  people (ties: lowest index), else a new one while fewer than ``max_instances`` are open;
* ``single``: one instance only (``max_instances`` is taken as 1).

When every allowed instance is full the join is refused (:class:`WorldFull`): ``max_instances``
is a real bound on what one world can cost the server.

API::

    choose(slots, wanted, policy, max_instances) -> int | None     # index into slots, None = open a new one
    WorldFull(world, max_instances)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slot:
    key: str
    population: int
    capacity: int

    @property
    def has_room(self) -> bool:
        return self.population < self.capacity


class WorldFull(Exception):
    def __init__(self, world: str, max_instances: int) -> None:
        self.world = world
        self.max_instances = max_instances
        n = "its one instance is" if max_instances == 1 else f"all {max_instances} instances are"
        super().__init__(f"{world!r} is full ({n} full); try again later")


def choose(slots: Sequence[Slot], wanted: str | None, policy: str, max_instances: int, world: str = "") -> int | None:
    """Index of the instance in ``slots`` to join, or None to open a new one; WorldFull when
    none has room and no more may be opened."""
    limit = 1 if policy == "single" else max(1, max_instances)
    if wanted is not None:
        for i, s in enumerate(slots):
            if s.key == wanted and s.has_room:
                return i
    open_ = [i for i, s in enumerate(slots) if s.has_room]
    if open_:
        if policy == "balanced":
            return min(open_, key=lambda i: (slots[i].population, i))
        return open_[0]
    if len(slots) < limit:
        return None
    raise WorldFull(world, limit)
