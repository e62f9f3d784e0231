"""Write-behind between the core and storage, with an in-memory copy of what is saved.

The edge hands persistence effects to ``WriteBehind`` as it drains the outbox; about once a
second it ``take()``s a batch (on the event loop, cheap) and ``write()``s it in a thread. The
same batch updates ``SavedState``, the memory copy of stored object state that the hub's
loaders read, so opening an instance never queries SQLite on the event loop and always sees
changes not yet on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from server.effects import PersistRemoved, PersistSpawned, PersistVisit
from server.messages import Pose7, SpawnedRow
from server.recommend.signals import Visit
from server.session import VisitRecord
from server.storage import ObjectRow, Storage


@dataclass(slots=True)
class Batch:
    objects: list[ObjectRow] = field(default_factory=list)
    spawned: list[SpawnedRow] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    visits: list[VisitRecord] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.objects or self.spawned or self.removed or self.visits)


class SavedState:
    """Stored object poses, removals and spawned objects, keyed as the hub asks for them."""

    def __init__(
        self,
        objects: Iterable[ObjectRow] = (),
        removed: Iterable[tuple[str, str]] = (),
        spawned: Iterable[SpawnedRow] = (),
    ) -> None:
        self._objects: dict[tuple[str, int], dict[str, Pose7]] = {}
        self._removed: dict[str, set[str]] = {}
        self._spawned: dict[tuple[str, int], list[SpawnedRow]] = {}
        self.apply(Batch(list(objects), list(spawned), list(removed)))

    @classmethod
    def load(cls, storage: Storage) -> SavedState:
        """Read everything once (blocking: call in a thread)."""
        return cls(*storage.snapshot())

    def apply(self, batch: Batch) -> None:
        for world, index, oid, pose in batch.objects:
            self._objects.setdefault((world, index), {})[oid] = pose
        for row in batch.spawned:
            group = self._spawned.setdefault((row[0], row[1]), [])
            group[:] = [r for r in group if r[2] != row[2]]
            group.append(row)
        for world, oid in batch.removed:
            self._removed.setdefault(world, set()).add(oid)

    def reset(self, world: str, object_ids: list[str]) -> None:
        """The author changed these objects: their saved poses are stale (as ``reset_objects``)."""
        for (w, _), poses in self._objects.items():
            if w == world:
                for oid in object_ids:
                    poses.pop(oid, None)

    # The hub's loader signatures.
    def load_objects(self, world: str, index: int) -> dict[str, Pose7]:
        return dict(self._objects.get((world, index), {}))

    def removed_objects(self, world: str) -> set[str]:
        return set(self._removed.get(world, set()))

    def load_spawned(self, world: str, index: int) -> list[SpawnedRow]:
        return list(self._spawned.get((world, index), []))


class WriteBehind:
    """Collects what must be stored; ``take`` on the loop, ``write`` in a thread."""

    def __init__(self, storage: Storage, saved: SavedState, wall: Callable[[int], float]) -> None:
        self.storage = storage
        self.saved = saved
        self.wall = wall  # server milliseconds -> Unix seconds
        self._pending = Batch()

    def add(self, effect: PersistSpawned | PersistVisit) -> None:
        match effect:
            case PersistSpawned():
                self._pending.spawned.append(effect.row)
            case PersistVisit():
                self._pending.visits.append(effect.record)

    def write_removed(self, effect: PersistRemoved) -> None:
        """A moderator's removal is stored at once (blocking: call in a thread), before anything
        produced after it is sent, so an acknowledged removal survives a crash."""
        row = (effect.world, effect.object_id)
        self.storage.mark_removed([row])
        self.saved.apply(Batch(removed=[row]))

    def take(self, dirty_objects: list[ObjectRow]) -> Batch:
        batch, self._pending = self._pending, Batch()
        batch.objects = dirty_objects
        self.saved.apply(batch)
        return batch

    def write(self, batch: Batch) -> float:
        """Store one batch (blocking); returns the seconds it took."""
        t0 = time.perf_counter()
        st = self.storage
        if batch.removed:
            st.mark_removed(batch.removed)
        if batch.objects:
            st.save_objects(batch.objects)
        if batch.spawned:
            st.save_spawned(batch.spawned)
        if batch.visits:
            visits = []
            for r in batch.visits:
                # Only friends present are kept: the others are nobody this person chose.
                friends = st.follows_of(r.user_id) & set(r.others)
                v = Visit(
                    r.user_id, r.world, r.instance, self.wall(r.start_ms), self.wall(r.end_ms), tuple(sorted(friends))
                )
                visits.append((v, r.chat_count))
            st.log_visits(visits)
        return time.perf_counter() - t0
