"""The set of worlds the server hosts: validated configs and the core's WorldSpecs built from them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from server.world import ObjectSpec, SpawnPoint, WorldSpec
from server.worldconfig import ValidationIssue, WorldConfig, load_worlds

if TYPE_CHECKING:
    from server.hub import Hub

log = logging.getLogger("plaza")


def spec_from_config(cfg: WorldConfig) -> WorldSpec:
    objects = tuple(
        ObjectSpec(
            id=o.id,
            position=tuple(o.position),  # type: ignore[arg-type]
            rotation=tuple(o.rotation),  # type: ignore[arg-type]
            # The core needs the extent (for resting on the ground): primitive size x scale.
            scale=tuple(a * b for a, b in zip(o.size, o.scale, strict=True)),  # type: ignore[arg-type]
            grabbable=o.grabbable,
        )
        for o in cfg.objects_resolved()
    )
    spawns = tuple(SpawnPoint(s.name, tuple(s.position), s.yaw_deg) for s in cfg.spawns)  # type: ignore[arg-type]
    return WorldSpec(
        id=cfg.id,
        name=cfg.name,
        bounds_min=tuple(cfg.bounds.min),  # type: ignore[arg-type]
        bounds_max=tuple(cfg.bounds.max),  # type: ignore[arg-type]
        spawns=spawns,
        objects=objects,
        capacity=cfg.capacity,
        tick_rate=cfg.tick_rate,
        description=cfg.to_client(),
    )


def staff_names(cfg: WorldConfig) -> set[str]:
    """User names the world file makes owner or moderator."""
    return {n for n in (cfg.roles.owner, *cfg.roles.moderators) if n}


@dataclass(slots=True)
class Catalog:
    configs: dict[str, WorldConfig] = field(default_factory=dict)
    specs: dict[str, WorldSpec] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)

    def put(self, cfg: WorldConfig, spec: WorldSpec) -> None:
        self.configs[cfg.id] = cfg
        self.specs[cfg.id] = spec

    def drop(self, world: str) -> None:
        self.configs.pop(world, None)
        self.specs.pop(world, None)

    def listed(self) -> list[str]:
        """Public worlds only — never, as before, every world when none is public (that listed
        private ones). Per person: ``Hosting.listed_worlds(principal)`` adds the worlds they
        have a role in."""
        return sorted(w for w, c in self.configs.items() if c.visibility == "public")

    def summary(self, world: str, hub: Hub, events: list[dict[str, object]]) -> dict[str, object]:
        spec = self.specs[world]
        cfg = self.configs.get(world)
        occupancy, instances = hub.occupancy(world)
        return {
            "id": world,
            "name": spec.name,
            "description": cfg.description if cfg else "",
            "tags": list(cfg.tags) if cfg else [],
            "visibility": cfg.visibility if cfg else "public",
            "thumbnail": cfg.thumbnail_url if cfg else None,
            "capacity": spec.capacity,
            "occupancy": occupancy,
            "instances": instances,
            "events": events,
        }

    def detail(self, world: str, hub: Hub, events: list[dict[str, object]]) -> dict[str, object]:
        return {**self.summary(world, hub, events), "world_info": self.specs[world].description}


def load_catalog(worlds_dir: Path) -> Catalog:
    configs, issues = load_worlds(worlds_dir)
    for issue in issues:
        log.error("%s", issue)
    return Catalog(configs=configs, specs={w: spec_from_config(c) for w, c in configs.items()}, issues=issues)
