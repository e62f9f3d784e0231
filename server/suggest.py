"""Glue between the running server and the recommender: catalogue, live context, JSON.

Pure functions over the catalog, the hub and stored signals; the aiohttp layer calls them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.catalog import Catalog
from server.hub import Hub
from server.recommend import Catalogue, Context, Item, Recommendation, event, space

EVENT_HORIZON_DAYS = 14


def event_item_id(world: str, event_id: str, start: datetime) -> str:
    """One item per occurrence: attendance and RSVPs refer to a concrete start time."""
    return f"{world}/{event_id}@{start.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


def catalogue_items(catalog: Catalog, now: datetime) -> list[Item]:
    items: list[Item] = []
    for wid in catalog.listed():
        cfg = catalog.configs.get(wid)
        if cfg is None:
            continue
        items.append(space(wid, cfg.name, cfg.description, cfg.tags, cfg.capacity))
        for ev in cfg.events:
            for occ in ev.occurrences(now, now + timedelta(days=EVENT_HORIZON_DAYS)):
                items.append(
                    event(
                        event_item_id(wid, ev.id, occ.start),
                        wid,
                        ev.title,
                        occ.start.timestamp(),
                        (occ.end - occ.start).total_seconds(),
                        ev.description,
                        ev.tags,
                        ev.capacity,
                    )
                )
    return items


def live_context(hub: Hub, user_id: str, friends: set[str], just_left: str | None) -> Context:
    occupancy: dict[str, int] = {}
    present: dict[str, list[str]] = {}
    for wid, group in hub.instances.items():
        occupancy[wid] = sum(i.population for i in group)
        for inst in group:
            for sid in inst.members:
                s = hub.sessions.get(sid)
                if s is not None and s.user_id in friends and s.user_id != user_id:
                    present.setdefault(wid, []).append(s.user_id)
    return Context(occupancy=occupancy, friends_present=present, just_left=just_left)


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
            out["start"] = datetime.fromtimestamp(item.start_ts, UTC).isoformat()
        if item.end_ts is not None:
            out["end"] = datetime.fromtimestamp(item.end_ts, UTC).isoformat()
    return out
