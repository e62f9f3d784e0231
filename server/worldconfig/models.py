"""Pydantic models for world files: the single source of truth for the format.

Everything the loader checks structurally lives here (types, ranges, unknown
keys); the JSON Schema for editors is generated from these classes. Checks that
need the whole world or the file system (references, bounds, assets, event
overlaps) live in ``checks.py`` so that they can report several problems at once
with a precise location each.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

WEEK = timedelta(days=7)
LOBBY_ID = "lobby"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

SHAPES = ("box", "sphere", "cylinder", "cone", "plane", "torus", "capsule")


def _found(v: Any) -> str:
    """How a TOML value is shown in messages ('found ...')."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        text = json.dumps(v, default=str)
        return f"an array {text if len(text) <= 40 else text[:37] + '...'}"
    if isinstance(v, datetime):
        return f"date-time {v.isoformat()}"
    if isinstance(v, date):
        return f"date {v.isoformat()}"
    return repr(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _vec(n: int, names: str) -> Any:
    def check(v: Any) -> tuple[float, ...]:
        if not isinstance(v, (list, tuple)) or len(v) != n or not all(_is_number(c) for c in v):
            raise ValueError(f"expected {n} numbers {names}, found {_found(v)}")
        if not all(math.isfinite(c) for c in v):
            raise ValueError(f"expected finite numbers, found {_found(v)}")
        return tuple(float(c) for c in v)

    return check


def _scale(v: Any) -> tuple[float, float, float]:
    # A single number is a uniform scale: the common case reads better as `scale = 2`.
    if _is_number(v):
        v = [v, v, v]
    if not isinstance(v, (list, tuple)) or len(v) != 3 or not all(_is_number(c) for c in v):
        raise ValueError(f"expected a number or 3 numbers [x, y, z], found {_found(v)}")
    if any(c <= 0 for c in v):
        raise ValueError(f"expected scale factors > 0, found {_found(list(v))}")
    return (float(v[0]), float(v[1]), float(v[2]))


def _color(v: Any) -> str:
    if not isinstance(v, str) or not COLOR_RE.match(v):
        raise ValueError(f'expected a colour like "#ff8800" or "#f80", found {_found(v)}')
    v = v.lower()
    if len(v) == 4:  # normalise #rgb so that digests do not depend on spelling
        v = "#" + "".join(c * 2 for c in v[1:])
    return v


def _ident(v: Any) -> str:
    if not isinstance(v, str) or not ID_RE.match(v):
        raise ValueError(f"expected an id of lowercase letters, digits, '-' or '_' (max 64), found {_found(v)}")
    return v


Vec3 = Annotated[
    tuple[float, float, float],
    BeforeValidator(_vec(3, "[x, y, z]"), json_schema_input_type=tuple[float, float, float]),
]
Vec2 = Annotated[
    tuple[float, float],
    BeforeValidator(_vec(2, "[a, b]"), json_schema_input_type=tuple[float, float]),
]
Scale = Annotated[
    tuple[float, float, float],
    BeforeValidator(_scale, json_schema_input_type=float | tuple[float, float, float]),
]
Color = Annotated[
    str,
    BeforeValidator(_color, json_schema_input_type=str),
    Field(json_schema_extra={"pattern": COLOR_RE.pattern}),
]
Ident = Annotated[
    str,
    BeforeValidator(_ident, json_schema_input_type=str),
    Field(json_schema_extra={"pattern": ID_RE.pattern}),
]
Number = Annotated[float, Strict()]
Unit = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


class Model(BaseModel):
    # extra="forbid": a misspelt key must be an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", validate_default=False)


# --------------------------------------------------------------------------
# world settings


class Bounds(Model):
    """Axis-aligned box the world lives in (metres, y up)."""

    min: Vec3 = (-50.0, -10.0, -50.0)
    max: Vec3 = (50.0, 50.0, 50.0)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        for axis, lo, hi in zip("xyz", self.min, self.max, strict=True):
            if lo >= hi:
                raise ValueError(f"@max expected min.{axis} < max.{axis}, found {lo} >= {hi}")
        return self

    def contains(self, p: tuple[float, float, float]) -> bool:
        return all(lo <= c <= hi for lo, c, hi in zip(self.min, p, self.max, strict=True))


class Instances(Model):
    """How people are spread over copies of the world once one is full."""

    policy: Literal["fill-first", "balanced", "single"] = "fill-first"
    max_instances: StrictInt = Field(8, ge=1, le=1000)


class Audio(Model):
    """Voice in this world: spatial (nearest voices, from where they stand) or flat (a meeting room)."""

    mode: Literal["spatial", "flat"] = Field(
        "spatial", description="spatial: HRTF panning, nearest voices within radius; flat: everyone, no panning"
    )
    radius: Number = Field(15.0, gt=0.0, le=1000.0, description="metres within which voices are heard (spatial)")


class Spawn(Model):
    name: Ident
    position: Vec3
    yaw_deg: Number = 0.0
    # People arriving together are scattered within this radius so they do not stack.
    radius: Number = Field(1.0, ge=0.0, le=50.0)


class Sky(Model):
    """Either a flat ``color`` or a gradient (``top`` + ``bottom``, optional ``horizon``)."""

    color: Color | None = None
    top: Color | None = None
    horizon: Color | None = None
    bottom: Color | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Sky:
        gradient = any(c is not None for c in (self.top, self.horizon, self.bottom))
        if self.color is not None and gradient:
            raise ValueError("@color expected either color or a gradient (top/horizon/bottom), found both")
        if gradient and (self.top is None or self.bottom is None):
            raise ValueError("expected a gradient to set both top and bottom")
        if self.color is None and not gradient:
            self.color = "#87ceeb"
        return self


class Fog(Model):
    color: Color = "#cccccc"
    near: Number = Field(10.0, ge=0.0)
    far: Number = Field(100.0, gt=0.0)

    @model_validator(mode="after")
    def _range(self) -> Fog:
        if self.near >= self.far:
            raise ValueError(f"@far expected near < far, found near = {self.near}, far = {self.far}")
        return self


class AmbientLight(Model):
    color: Color = "#ffffff"
    intensity: Number = Field(0.6, ge=0.0, le=10.0)


class DirectionalLight(Model):
    color: Color = "#ffffff"
    intensity: Number = Field(1.0, ge=0.0, le=10.0)
    # Direction the light travels (not where it comes from), like a sun ray.
    direction: Vec3 = (-0.5, -1.0, -0.3)
    cast_shadow: StrictBool = False


class Ground(Model):
    color: Color = "#6b8e4e"
    y: Number = 0.0
    # Width/depth in metres; defaults to the bounds' x/z extent.
    size: Vec2 | None = None
    roughness: Unit = 1.0
    visible: StrictBool = True
    texture: Literal["auto", "grass", "tiles", "none"] = Field(
        "auto",
        description="a subtle pattern the client draws (tinted by color): auto is grass for roughness 1, else tiles",
    )


class Environment(Model):
    sky: Sky = Field(default_factory=Sky)
    fog: Fog | None = None
    ambient: AmbientLight = Field(default_factory=AmbientLight)
    directional: list[DirectionalLight] = Field(default_factory=lambda: [DirectionalLight()])
    ground: Ground | None = Field(default_factory=Ground)


class Roles(Model):
    owner: StrictStr | None = None
    moderators: list[StrictStr] = Field(default_factory=list)


# --------------------------------------------------------------------------
# objects


class Material(Model):
    color: Color | None = None
    roughness: Unit | None = None
    metalness: Unit | None = None
    emissive: Color | None = None
    emissive_intensity: Number | None = Field(None, ge=0.0, le=100.0)
    opacity: Unit | None = None


class ArraySpec(Model):
    """N copies of an object along a line, on a grid, or around a circle.

    Copy ``i`` gets the id ``"<id>#<i>"`` (grid: ``i = row * columns + column``).
    """

    kind: Literal["line", "grid", "circle"]
    count: StrictInt | None = Field(None, ge=1, le=500)
    rows: StrictInt | None = Field(None, ge=1, le=100)
    columns: StrictInt | None = Field(None, ge=1, le=100)
    step: Vec3 | None = None
    row_step: Vec3 | None = None
    radius: Number | None = Field(None, gt=0.0)
    start_deg: Number = 0.0
    end_deg: Number = 360.0
    face_center: StrictBool = False

    @model_validator(mode="after")
    def _combo(self) -> ArraySpec:
        need = {
            "line": ("count", "step"),
            "grid": ("rows", "columns", "step", "row_step"),
            "circle": ("count", "radius"),
        }[self.kind]
        allowed = set(need) | {"kind"} | ({"start_deg", "end_deg", "face_center"} if self.kind == "circle" else set())
        for key in need:
            if getattr(self, key) is None:
                raise ValueError(f'expected "{key}" for a {self.kind} array')
        for key in sorted(self.model_fields_set - allowed):
            raise ValueError(
                f'@{key} "{key}" is not used by a {self.kind} array; expected only {", ".join(sorted(allowed))}'
            )
        return self

    @property
    def total(self) -> int:
        return (self.rows or 0) * (self.columns or 0) if self.kind == "grid" else self.count or 0


class Visual(Model):
    """Fields shared by objects, templates and template parts.

    Exactly one of shape / model / text / generate decides what is drawn (after
    a template is applied). Primitives are unit-sized; ``size`` sets metres.
    """

    name: StrictStr | None = None
    shape: Literal["box", "sphere", "cylinder", "cone", "plane", "torus", "capsule"] | None = None
    model: StrictStr | None = Field(None, description='glTF/GLB path relative to worlds/, e.g. "assets/x.glb"')
    text: StrictStr | None = None
    font_size: Number | None = Field(None, gt=0.0, le=20.0, description="text height in metres (default 0.3)")
    generate: StrictStr | None = Field(None, description="prompt for a generated asset; a stand-in is shown")
    size: Vec3 | None = None
    position: Vec3 | None = None
    rotation: Vec3 | None = Field(None, description="Euler degrees [x, y, z], order XYZ")
    scale: Scale | None = None
    material: Material | None = None
    grabbable: StrictBool | None = None
    collider: Literal["auto", "none", "box", "sphere", "mesh"] | None = None


class PartSpec(Visual):
    id: Ident


class TemplateSpec(Visual):
    parts: list[PartSpec] = Field(default_factory=list)


class ObjectSpec(Visual):
    id: Ident
    template: StrictStr | None = None
    array: ArraySpec | None = None
    # Per-part overrides for composite templates, keyed by part id.
    parts: dict[str, Visual] = Field(default_factory=dict)


@dataclass
class ResolvedObject:
    """One concrete object in the world: templates applied, arrays expanded."""

    id: str
    kind: Literal["shape", "model", "text", "generate"]
    position: tuple[float, float, float]
    rotation: tuple[float, float, float, float]
    scale: tuple[float, float, float]
    grabbable: bool
    collider: str
    name: str | None = None
    shape: str | None = None
    model: str | None = None
    text: str | None = None
    font_size: float | None = None
    generate: str | None = None
    size: tuple[float, float, float] = (1.0, 1.0, 1.0)
    material: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # id of the authored [[objects]] entry
    template: str | None = None

    def to_client(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "position": list(self.position),
            "rotation": list(self.rotation),
            "scale": list(self.scale),
            "size": list(self.size),
            "grabbable": self.grabbable,
            "collider": self.collider,
            "material": dict(self.material),
        }
        if self.name is not None:
            d["name"] = self.name
        if self.kind == "shape":
            d["shape"] = self.shape
        elif self.kind == "model":
            d["model"] = self.model
        elif self.kind == "text":
            d["text"] = self.text
            d["font_size"] = self.font_size
        else:
            # The client draws a clearly marked placeholder until an asset exists.
            d["generate"] = {"prompt": self.generate, "status": "pending"}
        return d

    def digest(self) -> str:
        """Stable hash of everything authored about this object (live-reload diffing)."""
        blob = json.dumps(self.to_client(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def half_extents(self) -> tuple[float, float, float]:
        return (
            self.size[0] * self.scale[0] / 2,
            self.size[1] * self.scale[1] / 2,
            self.size[2] * self.scale[2] / 2,
        )


# --------------------------------------------------------------------------
# portals and events


class Portal(Model):
    id: Ident
    target: Ident = Field(description="id of the world to travel to")
    arrival: Ident | None = Field(None, description="spawn name in the target world (default: its first spawn)")
    label: StrictStr | None = None
    position: Vec3
    yaw_deg: Number = 0.0
    radius: Number = Field(1.0, gt=0.0, le=10.0)
    color: Color = "#66ccff"

    def to_client(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "arrival": self.arrival,
            "label": self.label or self.target,
            "position": list(self.position),
            "yaw_deg": self.yaw_deg,
            "radius": self.radius,
            "color": self.color,
        }


class ChatAssist(Model):
    """The chat toxicity classifier's policy here (docs/commands.md): "flag" tells moderators,
    "hold" also keeps lines scoring at least ``hold_at`` from being shown."""

    mode: Literal["off", "flag", "hold"] = "flag"
    hold_at: Unit = 0.9


class NpcLines(Model):
    """What a guide says; ``{name}`` is the person spoken to, ``{place}`` where they go, ``{npc}`` itself."""

    greet: StrictStr = Field(
        "Hi {name}, I'm {npc}! Say \"@{npc} show me the ...\" and I'll walk you there, or @plaza help.",
        max_length=300,
    )
    follow: StrictStr = Field("Follow me to {place}, {name}.", max_length=300)
    wait: StrictStr = Field("This way, {name}!", max_length=300)
    arrive: StrictStr = Field("Here is {place}, {name}.", max_length=300)


class Npc(Model):
    """A server-driven avatar (docs/npc.md): greets newcomers and walks people to places."""

    name: StrictStr = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    home: Vec3 = Field(description="where it stands when idle (feet, metres)")
    yaw_deg: Number = 0.0
    behaviour: Literal["guide"] = "guide"
    color: Color = "#ffd27a"
    lines: NpcLines = Field(default_factory=NpcLines)
    idle_return_s: Number = Field(30.0, gt=0.0, le=3600.0, description="idle this long away from home: walk back")

    def to_client(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "home": list(self.home),
            "yaw_deg": self.yaw_deg,
            "behaviour": self.behaviour,
            "color": self.color,
            "lines": self.lines.model_dump(),
            "idle_return_s": self.idle_return_s,
        }


@dataclass(frozen=True)
class Occurrence:
    event_id: str
    title: str
    start: datetime
    end: datetime


class Event(Model):
    id: Ident
    title: StrictStr = Field(min_length=1)
    description: StrictStr = ""
    tags: list[StrictStr] = Field(default_factory=list)
    start: Annotated[datetime, Strict()] = Field(
        description="TOML date-time with an offset (2026-12-05T19:00:00+01:00), or local plus timezone"
    )
    timezone: StrictStr | None = Field(None, description='IANA zone, e.g. "Europe/Berlin"; keeps local time across DST')
    duration_minutes: StrictInt = Field(ge=1, le=24 * 60)
    capacity: StrictInt | None = Field(None, ge=1)
    host: StrictStr
    stage: StrictStr = Field("main", description="location in the world; events on one stage must not overlap")
    recurrence: Literal["none", "weekly"] = "none"
    recurrence_until: Annotated[date, Strict()] | None = Field(
        None, description="last day (inclusive) of a weekly series"
    )

    @model_validator(mode="after")
    def _tz(self) -> Event:
        zone: Any = None
        if self.timezone is not None:
            try:
                zone = ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f'@timezone expected an IANA time zone like "Europe/Berlin", found timezone = "{self.timezone}"'
                ) from None
        if self.start.tzinfo is None:
            if zone is None:
                raise ValueError(
                    "@start expected a time zone for start: write an offset "
                    "(2026-12-05T19:00:00+01:00)"
                    ' or set timezone = "Europe/Berlin"'
                )
            self.start = self.start.replace(tzinfo=zone)
        elif zone is not None:
            local = self.start.astimezone(zone)
            if local.utcoffset() != self.start.utcoffset():
                raise ValueError(
                    "@start expected start's offset to match timezone "
                    f"{self.timezone} ({_fmt_off(local)}), "
                    f"found {_fmt_off(self.start)}"
                )
            self.start = local
        if self.recurrence == "none" and self.recurrence_until is not None:
            raise ValueError('@recurrence_until recurrence_until needs recurrence = "weekly"')
        return self

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def occurrences(self, after: datetime, until: datetime) -> list[Occurrence]:
        """Occurrences still running at or starting after ``after`` and starting before ``until``.

        Weekly repeats keep the local wall-clock time of ``start`` in its zone,
        so an IANA ``timezone`` follows daylight-saving changes.
        """
        if after.tzinfo is None or until.tzinfo is None:
            raise ValueError("occurrences() needs tz-aware datetimes")
        dur = self.duration
        if self.recurrence == "none":
            end = self.start + dur
            return [Occurrence(self.id, self.title, self.start, end)] if end > after and self.start < until else []
        out: list[Occurrence] = []
        # Skip whole weeks before `after`; one extra week of slack covers DST shifts.
        k = max(0, int((after - dur - self.start) / WEEK) - 1)
        while True:
            s = _add_weeks(self.start, k)
            if s >= until:
                break
            if self.recurrence_until is not None and s.date() > self.recurrence_until:
                break
            if s + dur > after:
                out.append(Occurrence(self.id, self.title, s, s + dur))
            k += 1
        return out

    def to_client(self, occ: Occurrence | None = None, world: str | None = None) -> dict[str, Any]:
        start = occ.start if occ else self.start
        return {
            "id": self.id,
            "world": world,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "start": start.isoformat(),
            "end": (start + self.duration).isoformat(),
            "duration_minutes": self.duration_minutes,
            "capacity": self.capacity,
            "host": self.host,
            "stage": self.stage,
            "recurrence": self.recurrence,
        }


def _add_weeks(start: datetime, k: int) -> datetime:
    # Aware datetime + timedelta is wall-clock arithmetic in Python; rebuilding
    # through replace() then re-resolves the UTC offset for DST (fold=0).
    naive = start.replace(tzinfo=None) + k * WEEK
    return naive.replace(tzinfo=start.tzinfo)


def _fmt_off(d: datetime) -> str:
    off = d.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    return f"{sign}{mins // 60:02d}:{mins % 60:02d}"


# --------------------------------------------------------------------------
# the world


class WorldConfig(Model):
    id: Ident = Field(description="must equal the file name without .toml")
    name: StrictStr = Field(min_length=1)
    description: StrictStr = ""
    tags: list[StrictStr] = Field(default_factory=list)
    author: StrictStr | None = None
    thumbnail: StrictStr | None = Field(
        None,
        description='lobby picture: a WebP, JPEG or PNG path relative to worlds/, e.g. "assets/my-world.webp" '
        "(about 320x180); unset: the rendered assets/thumbnails/<id>.webp if there is one",
    )
    visibility: Literal["public", "unlisted", "private"] = "public"
    capacity: StrictInt = Field(24, ge=1, le=5000, description="people per instance")
    instances: Instances = Field(default_factory=Instances)
    audio: Audio = Field(default_factory=Audio)
    tick_rate: StrictInt = Field(20, ge=5, le=60, description="simulation ticks per second")
    bounds: Bounds = Field(default_factory=Bounds)
    spawns: list[Spawn] = Field(min_length=1)
    environment: Environment = Field(default_factory=Environment)
    roles: Roles = Field(default_factory=Roles)
    templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    objects: list[ObjectSpec] = Field(default_factory=list)
    portals: list[Portal] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    npcs: list[Npc] = Field(default_factory=list, max_length=8)
    chat_assist: ChatAssist = Field(default_factory=ChatAssist)

    # Where the config came from; used to point cross-file errors at the source.
    _file: str = PrivateAttr("")
    _source_map: Any = PrivateAttr(None)
    _resolved: list[ResolvedObject] | None = PrivateAttr(None)
    _thumbnail_url: str | None = PrivateAttr(None)  # set by the loader, which knows the folder

    @property
    def thumbnail_url(self) -> str | None:
        """The lobby picture's URL path (``/assets/...``), or None: draw a placeholder."""
        return self._thumbnail_url

    @property
    def file(self) -> str:
        return self._file

    def spawn(self, name: str | None = None) -> Spawn:
        """Named spawn, or the default one (named "default", else the first)."""
        if name is not None:
            for s in self.spawns:
                if s.name == name:
                    return s
            raise KeyError(name)
        for s in self.spawns:
            if s.name == "default":
                return s
        return self.spawns[0]

    def objects_resolved(self) -> list[ResolvedObject]:
        if self._resolved is None:
            from .resolve import resolve_objects

            self._resolved = [r for r, _ in resolve_objects(self)]
        return self._resolved

    def upcoming(self, now: datetime | None = None, days: float = 14.0) -> list[tuple[Event, Occurrence]]:
        now = now or datetime.now(UTC)
        out = [(e, o) for e in self.events for o in e.occurrences(now, now + timedelta(days=days))]
        out.sort(key=lambda eo: eo[1].start)
        return out

    def to_client(self, now: datetime | None = None) -> dict[str, Any]:
        env = self.environment.model_dump(mode="json")
        if env.get("ground") and env["ground"]["size"] is None:
            env["ground"]["size"] = [
                self.bounds.max[0] - self.bounds.min[0],
                self.bounds.max[2] - self.bounds.min[2],
            ]
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "author": self.author,
            "visibility": self.visibility,
            "capacity": self.capacity,
            "tick_rate": self.tick_rate,
            "bounds": {"min": list(self.bounds.min), "max": list(self.bounds.max)},
            "spawns": [
                {
                    "name": s.name,
                    "position": list(s.position),
                    "yaw_deg": s.yaw_deg,
                    "radius": s.radius,
                }
                for s in self.spawns
            ],
            "environment": env,
            "objects": [o.to_client() for o in self.objects_resolved()],
            "portals": [p.to_client() for p in self.portals],
            "events": [e.to_client(o, self.id) for e, o in self.upcoming(now)],
            "roles": {"owner": self.roles.owner, "moderators": list(self.roles.moderators)},
            "audio": {"mode": self.audio.mode, "radius": self.audio.radius},
            "npcs": [n.to_client() for n in self.npcs],
            "chat_assist": self.chat_assist.model_dump(),
        }
