"""Live reload support: diff two sets of worlds, and watch a directory for edits."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ValidationIssue
from .loader import FileResult, combine, load_file, world_files
from .models import WorldConfig

log = logging.getLogger(__name__)

OnChange = Callable[[dict[str, WorldConfig], list[ValidationIssue]], Awaitable[None] | None]
WATCHED_SUFFIXES = (".toml", ".glb", ".gltf")


@dataclass
class ObjectsDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same id, different digest
    # Anything other than objects changed (environment, portals, events, ...).
    settings_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.settings_changed)


@dataclass
class WorldsDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, ObjectsDiff] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _settings(w: WorldConfig) -> dict[str, Any]:
    # Objects are compared through their digests; templates only matter through them.
    return w.model_dump(mode="json", exclude={"objects", "templates"})


def diff_objects(old: WorldConfig, new: WorldConfig) -> ObjectsDiff:
    a = {o.id: o.digest() for o in old.objects_resolved()}
    b = {o.id: o.digest() for o in new.objects_resolved()}
    return ObjectsDiff(
        added=[i for i in b if i not in a],
        removed=[i for i in a if i not in b],
        changed=[i for i in b if i in a and a[i] != b[i]],
        settings_changed=_settings(old) != _settings(new),
    )


def diff_worlds(old: dict[str, WorldConfig], new: dict[str, WorldConfig]) -> WorldsDiff:
    """What changed between two loads; ``changed`` only lists worlds that differ."""
    d = WorldsDiff(added=sorted(set(new) - set(old)), removed=sorted(set(old) - set(new)))
    for wid in sorted(set(old) & set(new)):
        if old[wid] is new[wid]:
            continue
        od = diff_objects(old[wid], new[wid])
        if od:
            d.changed[wid] = od
    return d


class WorldsDirectory:
    """Loads a directory and remembers the last good config of every file.

    Kept separate from the file watching so that the policy (keep the last good
    version of a file that became invalid) can be tested without timing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.last_good: dict[Path, WorldConfig] = {}

    def reload(self) -> tuple[dict[str, WorldConfig], list[ValidationIssue]]:
        results: list[FileResult] = [load_file(p) for p in world_files(self.directory)]
        seen = {r.path for r in results}
        for r in results:
            if r.config is not None:
                self.last_good[r.path] = r.config
        # A deleted file takes its world with it, last good version included.
        for gone in set(self.last_good) - seen:
            del self.last_good[gone]
        return combine(results, self.last_good)


async def watch_worlds(
    directory: Path,
    on_change: OnChange,
    stop_event: asyncio.Event,
    *,
    debounce_ms: int = 100,
    force_polling: bool | None = None,
) -> None:
    """Reload ``directory`` whenever a world file or asset changes; call ``on_change``.

    ``on_change(worlds, issues)`` gets every world that can be served (a file
    that became invalid contributes its last good version) and the current
    issues (including those of invalid files). It is not called for the initial
    state: load that with ``load_worlds`` first. Returns when ``stop_event`` is set.
    """
    from watchfiles import awatch

    state = WorldsDirectory(directory)
    state.reload()  # baseline, so that a file broken by the first edit keeps its good version
    async for changes in awatch(
        directory,
        stop_event=stop_event,
        debounce=debounce_ms,
        step=min(50, debounce_ms),
        force_polling=force_polling,
        recursive=True,
    ):
        if not any(Path(p).suffix.lower() in WATCHED_SUFFIXES for _, p in changes):
            continue
        worlds, issues = state.reload()
        for issue in issues:
            log.warning("world file issue: %s", issue)
        try:
            res = on_change(worlds, issues)
            if inspect.isawaitable(res):
                await res
        except Exception:  # a buggy callback must not end live reload
            log.exception("world reload callback failed")
