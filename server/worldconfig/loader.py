"""Loading world files: parse, validate, check references, report with positions."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from .errors import ValidationIssue, WorldFileError, did_you_mean, issue_at, issues_from_pydantic
from .locate import Path as Loc
from .locate import SourceMap, build_source_map
from .models import Event, Occurrence, WorldConfig
from .resolve import resolve_objects

MAX_RESOLVED_OBJECTS = 2000
MODEL_SUFFIXES = (".glb", ".gltf")
IMAGE_SUFFIXES = (".webp", ".jpg", ".jpeg", ".png")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass
class FileResult:
    """Outcome of loading one file: a config, or the issues that stopped it."""

    path: Path
    config: WorldConfig | None = None
    issues: list[ValidationIssue] = field(default_factory=list)


def _parse(path: Path, file: str) -> tuple[dict, SourceMap]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise WorldFileError([ValidationIssue(file, 1, 1, "", f"cannot read file: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise WorldFileError(
            [ValidationIssue(file, line, col, "", "expected UTF-8 text, found an invalid byte")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        mt = _TOML_POS.search(msg)
        if mt:
            line, col = int(mt.group(1)), int(mt.group(2))
            msg = msg[: mt.start()]
        else:  # "(at end of document)"
            msg = msg.replace("(at end of document)", "").strip()
            line = text.count("\n") + 1
            col = len(text.rsplit("\n", 1)[-1]) + 1
        raise WorldFileError([ValidationIssue(file, line, col, "", f"TOML syntax error: {msg}")]) from None
    return data, build_source_map(text)


THUMBNAILS = "assets/thumbnails"  # rendered lobby pictures, <id>.webp (python -m tests.e2e.thumbnails)


def thumbnail_url(cfg: WorldConfig, worlds_dir: Path) -> str | None:
    """Where the lobby picture is served: the authored ``thumbnail``, else the rendered one if
    it exists, else None (clients draw a placeholder)."""
    if cfg.thumbnail is not None:
        return "/" + Path(cfg.thumbnail).as_posix()
    rendered = f"{THUMBNAILS}/{cfg.id}.webp"
    return "/" + rendered if (worlds_dir / rendered).is_file() else None


def load_world(path: Path, file: str | None = None) -> WorldConfig:
    """Load and check one world file; raise ``WorldFileError`` listing every issue.

    Checks that need other worlds (portal targets) are done by ``load_worlds``.
    ``file`` is how the path is spelt in messages (default: ``str(path)``).
    """
    path = Path(path)
    file = file if file is not None else str(path)
    data, smap = _parse(path, file)
    try:
        cfg = WorldConfig.model_validate(data)
    except ValidationError as e:
        raise WorldFileError(issues_from_pydantic(e.errors(), WorldConfig, file, smap)) from None
    cfg._file = file
    cfg._source_map = smap
    cfg._thumbnail_url = thumbnail_url(cfg, path.parent)
    issues = _check_world(cfg, path)
    if issues:
        raise WorldFileError(issues)
    return cfg


def _dup(items: list[tuple[str, Loc]], what: str, file: str, smap: SourceMap) -> list[ValidationIssue]:
    seen: dict[str, Loc] = {}
    out = []
    for name, loc in items:
        if name in seen:
            first = smap.locate(seen[name])
            out.append(
                issue_at(
                    file,
                    smap,
                    loc,
                    f'duplicate {what} "{name}" (first defined at line {first.line})',
                )
            )
        else:
            seen[name] = loc
    return out


def _check_world(cfg: WorldConfig, path: Path) -> list[ValidationIssue]:
    file, smap = cfg.file, cfg._source_map
    issues: list[ValidationIssue] = []

    def add(loc: Loc, msg: str) -> None:
        issues.append(issue_at(file, smap, loc, msg))

    if cfg.id != path.stem:
        add(("id",), f'expected "{path.stem}" (the file name {path.name}), found "{cfg.id}"')

    issues += _dup(
        [(s.name, ("spawns", i, "name")) for i, s in enumerate(cfg.spawns)],
        "spawn name",
        file,
        smap,
    )
    issues += _dup([(o.id, ("objects", i, "id")) for i, o in enumerate(cfg.objects)], "object id", file, smap)
    issues += _dup([(p.id, ("portals", i, "id")) for i, p in enumerate(cfg.portals)], "portal id", file, smap)
    issues += _dup([(e.id, ("events", i, "id")) for i, e in enumerate(cfg.events)], "event id", file, smap)
    issues += _dup([(n.name.casefold(), ("npcs", i, "name")) for i, n in enumerate(cfg.npcs)], "npc name", file, smap)
    for name, t in cfg.templates.items():
        issues += _dup(
            [(p.id, ("templates", name, "parts", i, "id")) for i, p in enumerate(t.parts)],
            "part id",
            file,
            smap,
        )

    # glTF/GLB assets: relative to the worlds directory, inside it, and present.
    base = path.parent
    model_locs: list[tuple[str | None, Loc]] = []
    for i, o in enumerate(cfg.objects):
        model_locs.append((o.model, ("objects", i, "model")))
        model_locs += [(pv.model, ("objects", i, "parts", pid, "model")) for pid, pv in o.parts.items()]
    for name, t in cfg.templates.items():
        model_locs.append((t.model, ("templates", name, "model")))
        model_locs += [(part.model, ("templates", name, "parts", j, "model")) for j, part in enumerate(t.parts)]
    for rel, loc in model_locs:
        if rel is None:
            continue
        p = Path(rel)
        if p.is_absolute() or ".." in p.parts:
            add(
                loc,
                f'expected a path relative to the worlds directory like "assets/x.glb", found "{rel}"',
            )
        elif p.suffix.lower() not in MODEL_SUFFIXES:
            add(loc, f'expected a .glb or .gltf file, found "{rel}"')
        elif not (base / p).is_file():
            add(loc, f'asset file not found: "{rel}" (paths are relative to the worlds directory)')

    # The lobby picture: served at /assets/..., so it must be under the worlds' assets folder.
    if cfg.thumbnail is not None:
        p = Path(cfg.thumbnail)
        if p.is_absolute() or ".." in p.parts or p.parts[:1] != ("assets",):
            where = 'expected a path under the worlds\' assets folder like "assets/x.webp"'
            add(("thumbnail",), f'{where}, found "{cfg.thumbnail}"')
        elif p.suffix.lower() not in IMAGE_SUFFIXES:
            add(("thumbnail",), f'expected a .webp, .jpg or .png file, found "{cfg.thumbnail}"')
        elif not (base / p).is_file():
            missing = f'image file not found: "{cfg.thumbnail}"'
            add(("thumbnail",), f"{missing} (paths are relative to the worlds directory)")

    for i, s in enumerate(cfg.spawns):
        if not cfg.bounds.contains(s.position):
            add(
                ("spawns", i, "position"),
                f"expected a position inside bounds {_fmt_bounds(cfg)}, found {_fmt_v(s.position)}",
            )
    for i, npc in enumerate(cfg.npcs):
        if not cfg.bounds.contains(npc.home):
            add(
                ("npcs", i, "home"),
                f"expected a position inside bounds {_fmt_bounds(cfg)}, found {_fmt_v(npc.home)}",
            )
    for i, portal in enumerate(cfg.portals):
        if not cfg.bounds.contains(portal.position):
            add(
                ("portals", i, "position"),
                f"expected a position inside bounds {_fmt_bounds(cfg)}, found {_fmt_v(portal.position)}",
            )

    problems: list[tuple[Loc, str]] = []
    resolved = resolve_objects(cfg, problems)
    for loc, msg in dict.fromkeys(problems):  # array copies repeat the same problem
        add(loc, msg)
    reported: set[Loc] = set()
    for obj, loc in resolved:
        if loc not in reported and not cfg.bounds.contains(obj.position):
            reported.add(loc)
            add(
                (*loc, "position"),
                f'expected object "{obj.id}" inside bounds {_fmt_bounds(cfg)}, found {_fmt_v(obj.position)}',
            )
    if len(resolved) > MAX_RESOLVED_OBJECTS:
        add(
            ("objects",),
            f"expected at most {MAX_RESOLVED_OBJECTS} objects after expanding arrays, found {len(resolved)}",
        )

    for i, e in enumerate(cfg.events):
        if e.capacity is not None and e.capacity > cfg.capacity:
            add(
                ("events", i, "capacity"),
                f"expected at most the world capacity {cfg.capacity}, found {e.capacity}",
            )
    issues += _check_overlaps(cfg)
    if not problems:
        cfg._resolved = [obj for obj, _ in resolved]  # reuse the expansion we just did
    return sorted(set(issues))


def _fmt_v(v: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{c:g}" for c in v) + "]"


def _fmt_bounds(cfg: WorldConfig) -> str:
    return f"{_fmt_v(cfg.bounds.min)}..{_fmt_v(cfg.bounds.max)}"


def first_overlap(a: Event, b: Event) -> tuple[Occurrence, Occurrence] | None:
    """First pair of occurrences of ``a`` and ``b`` that overlap in time, if any.

    Weekly series repeat their pattern every week except for daylight-saving
    shifts, which repeat yearly, so looking one year (plus slack) past the later
    start finds any overlap there will ever be.
    """
    lo = max(a.start, b.start) - max(a.duration, b.duration) - timedelta(days=7)
    hi = lo + timedelta(days=380)
    occ_a, occ_b = a.occurrences(lo, hi), b.occurrences(lo, hi)
    i = j = 0
    while i < len(occ_a) and j < len(occ_b):
        x, y = occ_a[i], occ_b[j]
        if x.start < y.end and y.start < x.end:
            return x, y
        if x.end <= y.end:
            i += 1
        else:
            j += 1
    return None


def _check_overlaps(cfg: WorldConfig) -> list[ValidationIssue]:
    out = []
    for j, b in enumerate(cfg.events):
        for a in cfg.events[:j]:
            if a.stage != b.stage:
                continue
            hit = first_overlap(a, b)
            if hit:
                oa, ob = hit
                out.append(
                    issue_at(
                        cfg.file,
                        cfg._source_map,
                        ("events", j, "start"),
                        f'event "{b.id}" ({_fmt_dt(ob.start)}, {b.duration_minutes} min) overlaps '
                        f'event "{a.id}" ({_fmt_dt(oa.start)}, {a.duration_minutes} min) '
                        f'on stage "{a.stage}"',
                    )
                )
                break  # one report per event is enough to act on
    return out


def _fmt_dt(d: datetime) -> str:
    return d.isoformat(timespec="minutes")


# -- directories and cross-file checks ---------------------------------------


def world_files(directory: Path) -> list[Path]:
    """The world files of a directory: ``*.toml`` directly inside it, sorted."""
    return sorted(p for p in Path(directory).glob("*.toml") if p.is_file() and not p.name.startswith("."))


def load_file(path: Path, file: str | None = None) -> FileResult:
    try:
        return FileResult(Path(path), load_world(path, file))
    except WorldFileError as e:
        return FileResult(Path(path), None, e.issues)


def cross_check(
    worlds: dict[str, WorldConfig], present: set[str] | None = None
) -> tuple[dict[str, WorldConfig], list[ValidationIssue]]:
    """Portal targets and arrival spawns across worlds.

    Returns the worlds with dangling portals removed (so a running server never
    sends anyone to a world that is not there) and the issues. ``present`` lists
    world ids whose files exist but failed to load, for a clearer message.
    """
    present = present or set()
    issues: list[ValidationIssue] = []
    out: dict[str, WorldConfig] = {}
    for wid, w in worlds.items():
        keep = []
        for i, p in enumerate(w.portals):
            loc: Loc = ("portals", i)
            target = worlds.get(p.target)
            msg = None
            if target is None:
                if p.target in present:
                    msg = ("target", f'world "{p.target}" has errors and is not loaded')
                else:
                    hint = did_you_mean(p.target, sorted(set(worlds) | present))
                    msg = (
                        "target",
                        f'unknown world "{p.target}"' + (f'; did you mean "{hint}"?' if hint else ""),
                    )
            elif p.arrival is not None and p.arrival not in {s.name for s in target.spawns}:
                names = [s.name for s in target.spawns]
                hint = did_you_mean(p.arrival, names)
                msg = (
                    "arrival",
                    f'world "{p.target}" has no spawn "{p.arrival}"; '
                    + (f'did you mean "{hint}"?' if hint else f"expected one of: {', '.join(names)}"),
                )
            if msg:
                issues.append(issue_at(w.file, w._source_map, (*loc, msg[0]), msg[1]))
            else:
                keep.append(p)
        out[wid] = w if len(keep) == len(w.portals) else w.model_copy(update={"portals": keep})
    return out, issues


def combine(
    results: list[FileResult], last_good: dict[Path, WorldConfig] | None = None
) -> tuple[dict[str, WorldConfig], list[ValidationIssue]]:
    """Merge per-file results into worlds by id (+ cross-file issues).

    ``last_good`` supplies a stand-in config for files that are currently
    invalid (used by the watcher to keep serving the previous version).
    """
    worlds: dict[str, WorldConfig] = {}
    issues: list[ValidationIssue] = []
    present: set[str] = set()
    for r in results:
        issues += r.issues
        cfg = r.config or (last_good or {}).get(r.path)
        if cfg is None:
            present.add(r.path.stem)
            continue
        if cfg.id in worlds:
            first = worlds[cfg.id].file
            issues.append(
                issue_at(
                    cfg.file,
                    cfg._source_map,
                    ("id",),
                    f'duplicate world id "{cfg.id}" (also in {first})',
                )
            )
            continue
        worlds[cfg.id] = cfg
    worlds, cross = cross_check(worlds, present - set(worlds))
    return worlds, sorted(set(issues + cross))


def load_worlds(directory: Path) -> tuple[dict[str, WorldConfig], list[ValidationIssue]]:
    """All valid worlds in ``directory`` by id, plus issues for the bad files."""
    return combine([load_file(p) for p in world_files(Path(directory))])


def validate_paths(paths: list[str]) -> tuple[int, list[str]]:
    """``plaza validate``: exit code and "FILE:LINE:COL: path: message" lines.

    A directory is validated as a whole. A single file is validated together
    with the other worlds in its directory, so that portals can be checked, but
    only that file's issues are reported.
    """
    from .genprompts import generate_warnings

    lines: list[str] = []
    warnings: list[str] = []  # generate prompts the model will not make as asked: shown, not failing
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            configs, issues = load_worlds(p)
            lines += [str(i) for i in issues]
            for cfg in configs.values():
                warnings += generate_warnings(cfg)
        elif p.is_file():
            target = p.resolve()
            results = [load_file(f) for f in world_files(p.parent) if f.resolve() != target]
            mine = load_file(p, raw)
            _, issues = combine([*results, mine])
            lines += [str(i) for i in issues if i.file == raw]
            if mine.config is not None:
                warnings += generate_warnings(mine.config)
        else:
            lines.append(f"{raw}:1:1: no such file or directory")
    lines = list(dict.fromkeys(lines))
    return (1 if lines else 0), lines + list(dict.fromkeys(warnings))


def schema_json() -> str:
    """JSON Schema of a world file (for editors: Taplo / Even Better TOML)."""
    schema = WorldConfig.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Plaza world",
        "description": "One world of a Plaza server: worlds/<id>.toml. See docs/worlds.md.",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    return json.dumps(schema, indent=2, sort_keys=False)
