"""Glue between the running server and the recommender: catalogue, live context, JSON.

Pure functions over the catalog, the hub and stored signals; the aiohttp layer calls them.
"""

from __future__ import annotations

from datetime import datetime

from server.catalog import Catalog
from server.hosting import Hosting
from server.hosting.events import iso_utc
from server.hub import Hub
from server.recommend import Catalogue, Context, Item, Recommendation, event, space


def catalogue_items(catalog: Catalog, hosting: Hosting, now: datetime) -> list[Item]:
    """Listed worlds as spaces, and every upcoming event occurrence (world files and owners')."""
    listed = set(catalog.listed())
    items: list[Item] = []
    for wid in sorted(listed):
        cfg = catalog.configs.get(wid)
        if cfg is not None:
            items.append(space(wid, cfg.name, cfg.description, cfg.tags, cfg.capacity))
    ts = now.timestamp()
    for e in hosting.events.events():
        if e.world in listed and e.end > ts:
            items.append(event(e.key, e.world, e.title, e.start, e.end - e.start, e.description, e.tags, e.capacity))
    return items


def live_context(
    hub: Hub, hosting: Hosting, user_id: str, friends: set[str], just_left: str | None, now: float
) -> Context:
    occupancy: dict[str, int] = {}
    present: dict[str, list[str]] = {}
    for wid, group in hub.instances.items():
        occupancy[wid] = sum(i.population for i in group)
        for inst in group:
            for sid in inst.members:
                s = hub.sessions.get(sid)
                if s is not None and s.user_id in friends and s.user_id != user_id:
                    present.setdefault(wid, []).append(s.user_id)
    attending: dict[str, list[str]] = {}
    if friends:
        for e in hosting.events.events():
            if e.end > now:
                going = [u for u in hosting.events.rsvps(e.key) if u in friends]
                if going:
                    attending[e.key] = going
    return Context(occupancy=occupancy, friends_present=present, friends_attending=attending, just_left=just_left)


def to_json(rec: Recommendation, items: Catalogue, catalog: Catalog) -> dict[str, object]:
    item = items.get(rec.item_id)
    out: dict[str, object] = {
        "id": rec.item_id,
        "kind": rec.kind,
        "score": round(rec.score, 4),
        "components": {k: round(v, 4) for k, v in rec.components.items()},
        "reason": rec.reason,
    }
    if item is not None:
        out["title"] = item.title
        out["world"] = item.world_id
        out["tags"] = list(item.tags)
        if item.start_ts is not None:
            out["start"] = iso_utc(item.start_ts)
        if item.end_ts is not None:
            out["end"] = iso_utc(item.end_ts)
    return out
