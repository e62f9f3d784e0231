"""The snapshot a command is understood against, taken from the hub when someone asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.commands.core import CommandContext, EventRef, PersonRef, PlaceRef, WorldRef

if TYPE_CHECKING:
    from server.hub import Hub
    from server.session import Session
    from server.world import WorldInstance


def places_of(description: dict[str, Any]) -> tuple[PlaceRef, ...]:
    """Points of interest of a world: its portals, named objects and spawns (from the world
    file's client description, so live reload is followed)."""
    out: list[PlaceRef] = []
    for p in description.get("portals", []):
        pos = p["position"]
        out.append(
            PlaceRef(f"portal:{p['id']}", str(p.get("label") or p["target"]), (pos[0], pos[1], pos[2]), p["target"])
        )
    seen: set[str] = set()
    for o in description.get("objects", []):
        name = o.get("name")
        if name and name not in seen:
            seen.add(name)
            pos = o["position"]
            out.append(PlaceRef(f"object:{o['id']}", str(name), (pos[0], pos[1], pos[2])))
    for s in description.get("spawns", []):
        pos = s["position"]
        out.append(PlaceRef(f"spawn:{s['name']}", str(s["name"]).replace("-", " "), (pos[0], pos[1], pos[2])))
    return tuple(out)


def context_for(hub: Hub, s: Session, inst: WorldInstance, now_ms: int) -> CommandContext:
    link = hub.link
    now = link.wall(now_ms) if link is not None else now_ms / 1000.0
    worlds: list[WorldRef] = []
    for wid, spec in sorted(hub.worlds.items()):
        public = spec.description.get("visibility", "public") == "public"
        if wid == inst.spec.id or public:  # never name a private world to someone who can't see it
            worlds.append(WorldRef(wid, spec.name))
    people = tuple(PersonRef(m.eid, m.name) for sid, m in inst.members.items() if sid != s.sid)
    events: list[EventRef] = []
    if link is not None:
        ev = link.hosting.events
        for e in ev.events():
            if e.end <= now or not ev.visible(e, s.principal):
                continue
            live = ev.to_client(e.key, now)["live"]
            events.append(EventRef(e.key, e.title, e.world, e.start, e.end, bool(live), e.stage))
    mgr = hub.npcs.get(inst.key)
    guide = next(iter(mgr.names()), None) if mgr is not None else None
    return CommandContext(
        world=inst.spec.id,
        worlds=tuple(worlds),
        people=people,
        events=tuple(events),
        places=places_of(inst.spec.description),
        now=now,
        guide=guide,
    )
