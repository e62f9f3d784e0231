"""The item catalogue: spaces (worlds) and events hosted in them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ItemKind = Literal["space", "event"]


@dataclass(frozen=True)
class Item:
    """A recommendable thing. For a space ``world_id == id``; for an event it is the host world.

    Live occupancy is not stored here: it changes every second and arrives in the
    request ``Context``.
    """

    id: str
    kind: ItemKind
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    world_id: str = ""
    start_ts: float | None = None  # events only
    end_ts: float | None = None
    capacity: int | None = None
    announced_ts: float | None = None  # when an event became visible

    @property
    def host(self) -> str:
        return self.world_id or self.id

    def text(self) -> str:
        """What the content encoder embeds."""
        tags = " ".join(f"#{t}" for t in self.tags)
        return f"{self.title}. {self.description} {tags}".strip()

    def is_over(self, now: float) -> bool:
        """Events that have ended are never shown."""
        if self.kind != "event":
            return False
        end = self.end_ts if self.end_ts is not None else self.start_ts
        return end is not None and end <= now


def space(
    id: str,
    title: str,
    description: str = "",
    tags: Iterable[str] = (),
    capacity: int | None = None,
) -> Item:
    return Item(id, "space", title, description, tuple(tags), world_id=id, capacity=capacity)


def event(
    id: str,
    world_id: str,
    title: str,
    start_ts: float,
    duration_s: float = 3600.0,
    description: str = "",
    tags: Iterable[str] = (),
    capacity: int | None = None,
    announced_ts: float | None = None,
) -> Item:
    return Item(
        id,
        "event",
        title,
        description,
        tuple(tags),
        world_id=world_id,
        start_ts=start_ts,
        end_ts=start_ts + duration_s,
        capacity=capacity,
        announced_ts=announced_ts,
    )


class Catalogue:
    """Items in a fixed order, so models can address them by integer index."""

    def __init__(self, items: Iterable[Item]) -> None:
        self.items: list[Item] = []
        self.index: dict[str, int] = {}
        for it in items:
            if it.id in self.index:  # later definitions win (world file reload)
                self.items[self.index[it.id]] = it
            else:
                self.index[it.id] = len(self.items)
                self.items.append(it)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item_id: str) -> Item:
        return self.items[self.index[item_id]]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.index

    def get(self, item_id: str) -> Item | None:
        i = self.index.get(item_id)
        return None if i is None else self.items[i]
