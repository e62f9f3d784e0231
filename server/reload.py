"""Live reload as a pure step: bring the catalogue and the running worlds in line with the
files, and say what the edge must do about clocks and storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from server.catalog import Catalog, spec_from_config, staff_names
from server.hub import Hub
from server.protocol import NoticeKind
from server.worldconfig import ValidationIssue, WorldConfig, diff_worlds


@dataclass(slots=True)
class Reloaded:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retimed: list[str] = field(default_factory=list)  # tick rate changed: restart their clocks
    reset: dict[str, list[str]] = field(default_factory=dict)  # world -> objects whose saved poses are stale
    log: list[str] = field(default_factory=list)


def apply_reload(
    catalog: Catalog, hub: Hub, configs: dict[str, WorldConfig], issues: list[ValidationIssue], now_ms: int
) -> Reloaded:
    """Without disconnecting anyone: new worlds open, changed ones update in place (their staff
    are told), removed ones send their people to the lobby, and a broken file keeps its last good
    version running while its staff hear why."""
    out = Reloaded()
    diff = diff_worlds(catalog.configs, configs)
    for wid in diff.added:
        spec = spec_from_config(configs[wid])
        catalog.put(configs[wid], spec)
        hub.add_world(spec)
        out.added.append(wid)
        out.log.append(f"world {wid} added")
    for wid, od in diff.changed.items():
        spec = spec_from_config(configs[wid])
        old_rate = catalog.specs[wid].tick_rate
        catalog.put(configs[wid], spec)
        out.reset[wid] = [*od.changed, *od.removed]
        hub.update_world(spec, set(od.changed))
        if spec.tick_rate != old_rate:
            out.retimed.append(wid)
        hub.notify_names(wid, staff_names(configs[wid]), NoticeKind.WORLD_RELOADED, f"{wid} reloaded")
        out.log.append(f"world {wid} reloaded: {od}")
    for wid in diff.removed:
        catalog.drop(wid)
        hub.remove_world(wid, now_ms)
        out.removed.append(wid)
        out.log.append(f"world {wid} removed")
    by_world: dict[str, list[str]] = {}
    for issue in issues:
        by_world.setdefault(Path(issue.file).stem, []).append(str(issue))
    for wid, lines in by_world.items():
        cfg = configs.get(wid)
        if cfg is not None:
            text = "world file error (last good version still running):\n" + "\n".join(lines[:10])
            hub.notify_names(wid, staff_names(cfg), NoticeKind.WORLD_FILE_ERROR, text)
    catalog.issues = issues
    return out
