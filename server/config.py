"""The server's settings: one frozen object, built by the CLI (and tests) and read by the edge.

``ServerConfig`` is the value the running server reads; tests build it directly with keywords.
``load_config`` builds it the way ``plaza serve`` and ``plaza config`` do, from four layers,
each overriding the one before it, and remembers where every setting came from:

    defaults (the fields below)  <  the TOML file  <  PLAZA_* environment variables  <  flags

The file is ``--config FILE``, else ``$PLAZA_CONFIG``, else ``<data_dir>/plaza.toml`` when it
exists (``data_dir`` as the flags, the environment or the default give it). Its keys are the
field names (``port = 9000``; ``[interest]`` for the nested interest settings); relative paths
in it are relative to the file. An environment variable is ``PLAZA_`` + the field name in
capitals (``PLAZA_PORT``), nested with ``__`` (``PLAZA_INTEREST__NEAR_RADIUS_M``); tuples
take a comma-separated list or a JSON array. The validation is pydantic-settings'
(``settings_model``), generated from the dataclass so that every field is settable.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import ipaddress
import json
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from server.interest import InterestSettings
from server.protocol import SLOW_CLIENT_BUFFER_BYTES, SLOW_CLIENT_CLOSE_S
from server.voice.settings import VoiceSettings

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

REPO = Path(__file__).resolve().parent.parent
# A checkout (or an editable install) has worlds/ and web_client/ beside the package; a plain
# `pip install .` does not, and then they are looked for in the directory plaza runs from.
_FILES = REPO if (REPO / "worlds").is_dir() else Path.cwd()
ENV_PREFIX = "PLAZA_"
CONFIG_ENV = "PLAZA_CONFIG"  # the config file's path (else <data_dir>/plaza.toml)
CONFIG_FILE_NAME = "plaza.toml"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    worlds_dir: Path = _FILES / "worlds"
    data_dir: Path = Path.home() / ".local" / "share" / "plaza"
    web_dir: Path = _FILES / "web_client"
    sdk_dir: Path = _FILES / "sdk" / "js" / "src"
    interest: InterestSettings = field(default_factory=InterestSettings)
    flush_every_s: float = 0.5  # write-behind period: a crash loses at most about this (bench/kill9.py)
    slow_client_bytes: int = SLOW_CLIENT_BUFFER_BYTES
    slow_client_close_s: float = SLOW_CLIENT_CLOSE_S
    # A small kernel send buffer keeps a backlog visible to us (where newest-state-wins and
    # the slow-client policy apply) instead of letting seconds of stale poses queue in the kernel.
    socket_sndbuf: int = 64 * 1024
    watch: bool = True  # live reload of worlds_dir
    recommender: bool = True
    recommender_encoder: str = "minilm"  # or "hashing": no model load (tests)
    retention_days: float = 180.0  # signals older than this are neither used nor kept
    chat_words: tuple[str, ...] = ()  # words the chat filter masks
    generate_placeholders: bool = True  # generate world files' `generate = "..."` objects at start
    # ----- the open internet --------------------------------------------------------------
    # Proxies whose X-Forwarded-For / Forwarded headers are believed (addresses or CIDRs);
    # everyone else's address is the socket's peer.
    trusted_proxies: tuple[str, ...] = ()
    # Origins allowed to open /ws from a browser ("*" = any); empty = same host as the request.
    allowed_origins: tuple[str, ...] = ()
    max_connections_per_ip: int = 16  # concurrent WebSockets from one address
    header_timeout_s: float = 10.0  # a request's headers must arrive within this
    # "auto": uvloop where it is installed (a core dependency off Windows), else asyncio's own
    # loop. uvloop's socket reads and writes cost less CPU per message (bench/sync.py).
    event_loop: str = "auto"
    # ----- scaling (docs/scaling.md) ------------------------------------------------------
    # Empty: the embedded SQLite file in data_dir. A postgresql:// URL: the stores a cluster shares.
    database: str = ""
    # Empty: presence, pub/sub and rate limits in this process. A redis:// URL: across workers and nodes.
    redis: str = ""
    workers: int = 1  # worker processes behind the one public port (plaza serve --workers)
    # Each worker also listens on its own port, where MOVED sends people whose instance it owns:
    # worker k on worker_ports + k (0: ports the OS picks). Open them to clients like the public port.
    worker_ports: int = 0
    # The host name clients use to reach this node's worker ports. Empty: the host the client
    # already used (enough for the workers of one machine); a cluster of machines names each node.
    public_host: str = ""
    # ----- voice (server/voice/; the [voice] table) ----------------------------------------
    voice: VoiceSettings = field(default_factory=VoiceSettings)


# What a loaded value must also satisfy, beyond its type (pydantic Field constraints), keyed by
# dotted setting name. Settings not named here take any value of their type.
_LIMITS: dict[str, dict[str, Any]] = {
    "port": {"ge": 0, "le": 65535},
    "flush_every_s": {"gt": 0},
    "slow_client_bytes": {"gt": 0},
    "slow_client_close_s": {"gt": 0},
    "socket_sndbuf": {"ge": 0},
    "retention_days": {"gt": 0},
    "max_connections_per_ip": {"ge": 1},
    "header_timeout_s": {"gt": 0},
    "database": {"pattern": r"^(|postgres(ql)?://.*)$"},
    "redis": {"pattern": r"^(|rediss?://.*|unix://.*)$"},
    "workers": {"ge": 1, "le": 64},
    "worker_ports": {"ge": 0, "le": 65535},
    "public_host": {"pattern": r"^[A-Za-z0-9.:\[\]-]*$"},
    "interest.near_radius_m": {"gt": 0},
    "interest.far_radius_m": {"gt": 0},
    "interest.near_budget": {"ge": 0},
    "interest.far_budget": {"ge": 0},
    "interest.far_every": {"ge": 1},
    "voice.http_port": {"ge": 0, "le": 65535},
    "voice.rtp_ports": {"pattern": r"^[0-9]{1,5}-[0-9]{1,5}$"},
    "voice.k": {"ge": 0, "le": 64},
    "voice.radius_m": {"gt": 0},
    "voice.flat_cap": {"ge": 0, "le": 128},
    "voice.credential_ttl_s": {"gt": 0},
    "voice.update_hz": {"gt": 0, "le": 20},
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "recommender_encoder": ("minilm", "hashing"),
    "event_loop": ("auto", "uvloop", "asyncio"),
}


# ----- where a value came from ---------------------------------------------------------------

Kind = Literal["default", "file", "env", "flag"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one setting's value came from."""

    kind: Kind
    where: str | None = None  # the file's path, the variable's name or the flag; None for defaults
    line: int | None = None  # in the file
    col: int | None = None
    raw: object = None  # the value as given (for env and flags: what to show in an error)

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind == "file":
            return f"{self.where}:{self.line}:{self.col}" if self.line else str(self.where)
        return f"{self.kind} {self.where}"

    def label(self) -> str:
        """How an error names this source: ``FILE:LINE:COL``, ``PLAZA_PORT='x'``, ``--port x``."""
        if self.kind == "file":
            return str(self)
        if self.kind == "env":
            return f"{self.where}={self.raw!r}"
        if self.kind == "flag":
            return f"{self.where} {self.raw}" if self.raw is not None else str(self.where)
        return "default"


class ConfigError(Exception):
    """Invalid settings: one line per problem, each naming its source (``plaza`` exits 2)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    config: ServerConfig
    origins: dict[str, Origin]  # every dotted setting name ("port", "interest.far_every") -> origin
    file: Path | None  # the config file read, if any

    def settings(self) -> dict[str, object]:
        """Dotted setting name -> effective value (paths as strings, tuples as lists)."""
        return {name: _plain(value) for name, value in _flatten(self.config).items()}

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, value in self.settings().items():
            o = self.origins[name]
            entry: dict[str, object] = {"value": value, "source": o.kind, "from": o.where}
            if o.line is not None:
                entry["line"] = o.line
            out[name] = entry
        return {"config_file": str(self.file) if self.file else None, "settings": out}

    def as_toml(self) -> str:
        """TOML with each setting's source as a comment: valid as a config file itself."""
        rows: list[tuple[str, str]] = []
        tables: dict[str, list[tuple[str, str]]] = {}
        for name, value in self.settings().items():
            head, _, key = name.rpartition(".")
            row = (f"{key} = {_toml_value(value)}", str(self.origins[name]))
            (tables.setdefault(head, []) if head else rows).append(row)
        width = max(len(text) for text, _ in rows + [r for t in tables.values() for r in t])
        lines = [f"# config file: {self.file if self.file else '(none)'}"]
        lines += [f"{text:<{width}}  # {src}" for text, src in rows]
        for head, table in tables.items():
            lines += ["", f"[{head}]", *(f"{text:<{width}}  # {src}" for text, src in table)]
        return "\n".join(lines) + "\n"


# ----- the pydantic-settings model ------------------------------------------------------------


def _as_list(value: object) -> object:
    """A tuple setting from text: a JSON array, or comma-separated (blanks dropped)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"not a JSON array ({e.msg})") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _check_proxies(values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise ValueError(f"{v!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8)") from None
    return values


def _check_origins(values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        if v == "*":
            continue
        try:
            u = urlsplit(v.strip())
            ok = bool(u.scheme and u.hostname) and (u.port or 0) >= 0
        except ValueError:  # a bad port or bracket
            ok = False
        if not ok:
            raise ValueError(f'{v!r} is not an origin (scheme://host[:port], e.g. "https://plaza.example.org") or "*"')
    return values


_ITEM_CHECKS = {"trusted_proxies": _check_proxies, "allowed_origins": _check_origins}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_str_tuple(tp: object) -> bool:
    return typing.get_origin(tp) is tuple and typing.get_args(tp) == (str, ...)


def _field_specs(cls: type, prefix: str = "") -> dict[str, Any]:
    """pydantic field definitions (type, FieldInfo) for a dataclass's fields."""
    from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, create_model
    from pydantic_settings import NoDecode

    specs: dict[str, Any] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        tp: Any = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
        if dataclasses.is_dataclass(tp):
            dc = typing.cast(type, tp)  # a field's type hint: the dataclass itself, not an instance
            nested = create_model(
                f"{dc.__name__}Settings",
                __config__=ConfigDict(extra="forbid", frozen=True),
                **_field_specs(dc, name + "."),
            )
            specs[f.name] = (nested, Field(default_factory=nested))
            continue
        if _is_str_tuple(tp):
            # NoDecode: the env value reaches _as_list as text (comma-separated or JSON).
            meta: list[Any] = [NoDecode, BeforeValidator(_as_list)]
            if f.name in _ITEM_CHECKS:
                meta.append(AfterValidator(_ITEM_CHECKS[f.name]))
            tp = typing.Annotated[tp, *meta]
        if name in _CHOICES:
            tp = Literal[_CHOICES[name]]
        specs[f.name] = (tp, Field(default=default, **_LIMITS.get(name, {})))
    return specs


@functools.cache
def settings_model() -> type:
    """The pydantic-settings class of ``ServerConfig``'s fields (built once, on first use)."""
    from pydantic import create_model
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class PlazaSettingsBase(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True, case_sensitive=False
        )

        @classmethod
        def settings_customise_sources(  # type: ignore[override]  # pydantic passes the sources by keyword
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            **other_sources: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # load_config reads each layer itself (to know where each value came from) and
            # passes the merged result in: the model validates only what it is given.
            return (init_settings,)

    return create_model("PlazaSettings", __base__=PlazaSettingsBase, **_field_specs(ServerConfig))


# ----- loading ------------------------------------------------------------------------------

_PATH_FIELDS = frozenset(f.name for f in dataclasses.fields(ServerConfig) if _hints(ServerConfig)[f.name] is Path)
# interest: the nested dataclass types (Any: is_dataclass narrows to instance-or-class)
_NESTED: dict[str, Any] = {name: tp for name, tp in _hints(ServerConfig).items() if dataclasses.is_dataclass(tp)}
_DEFAULTS = {f.name: getattr(ServerConfig(), f.name) for f in dataclasses.fields(ServerConfig)}


def setting_names() -> list[str]:
    """Every dotted setting name, in field order (``interest.near_radius_m`` for nested ones)."""
    return list(_flatten(ServerConfig()))


def env_var(name: str) -> str:
    """The environment variable of a dotted setting name: ``PLAZA_INTEREST__NEAR_RADIUS_M``."""
    return ENV_PREFIX + name.replace(".", "__").upper()


def _flatten(obj: object, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out |= _flatten(value, f"{prefix}{f.name}.")
        else:
            out[prefix + f.name] = value
    return out


def _plain(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    """Paths of the values in a layer: nested settings' tables are walked, everything else is a leaf."""
    out: dict[tuple[str, ...], object] = {}
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict) and not prefix and key in _NESTED:
            out |= _leaves(value, path)
        else:
            out[path] = value
    return out


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _unflatten(flat: Mapping[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *heads, key = name.split(".")
        node = out
        for h in heads:
            node = node.setdefault(h, {})
        node[key] = value
    return out


def _with_paths_from(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Path settings given as text: ``~`` expanded, relative ones taken from ``base``."""
    out = dict(data)
    for key in _PATH_FIELDS & out.keys():
        if isinstance(out[key], str | Path):
            out[key] = base / Path(out[key]).expanduser()
    return out


@dataclass
class _Layer:
    data: dict[str, Any]
    origins: dict[tuple[str, ...], Origin]


def _read_file(path: Path) -> _Layer:
    from server.worldconfig.locate import build_source_map

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such config file"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: cannot read the config file ({e})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from None
    smap = build_source_map(text)
    origins = {}
    for loc in _leaves(data):
        pos = smap.locate(loc, prefer_value=False)
        origins[loc] = Origin("file", str(path), pos.line, pos.col)
    return _Layer(_with_paths_from(data, path.parent), origins)


def _read_env(model: type) -> _Layer:
    from pydantic_settings import EnvSettingsSource, SettingsError

    environ = {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
    try:
        data = EnvSettingsSource(model)()
    except SettingsError as e:
        # A nested setting given as JSON that is not JSON (PLAZA_INTEREST='{oops').
        names = [n for n in _NESTED if env_var(n) in environ]
        where = ", ".join(f"{env_var(n)}={environ[env_var(n)]!r}" for n in names) or "environment"
        raise ConfigError([f"{where}: not valid JSON ({e})"]) from None
    origins = {}
    for loc in _leaves(data):
        var = env_var(".".join(loc))
        if var not in environ:  # part of a JSON value: PLAZA_INTEREST='{"far_every": 2}'
            var = env_var(loc[0])
        origins[loc] = Origin("env", var, raw=environ.get(var))
    return _Layer(_with_paths_from(data, Path.cwd()), origins)


def _flag_layer(flags: Mapping[str, tuple[object, str]]) -> _Layer:
    data = _unflatten({name: value for name, (value, _) in flags.items()})
    origins = {}
    for name, (value, flag) in flags.items():
        shown = None if isinstance(value, bool) else value
        origins[tuple(name.split("."))] = Origin("flag", flag, raw=shown)
    return _Layer(_with_paths_from(data, Path.cwd()), origins)


def _problems(error: Any, layer: _Layer) -> list[str]:
    """A pydantic ValidationError's errors, each named by the source of the value it is about."""
    out = []
    for err in error.errors(include_url=False):
        loc = tuple(str(p) for p in err["loc"])
        name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        origin = None
        for n in range(len(loc), 0, -1):
            if loc[:n] in layer.origins:
                origin = layer.origins[loc[:n]]
                break
        if origin is None:  # an error about a table as a whole: name its first value
            origin = next((o for k, o in layer.origins.items() if k[: len(loc)] == loc), None)
        if err["type"] == "extra_forbidden":
            parent = loc[:-1]
            known = [n.rpartition(".")[2] for n in setting_names() if tuple(n.split(".")[:-1]) == parent]
            guess = difflib.get_close_matches(loc[-1], known, n=1)
            msg = "unknown setting" + (f' (did you mean "{".".join((*parent, guess[0]))}"?)' if guess else "")
        else:
            msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{origin.label() if origin else 'config'}: {name}: {msg}")
    return out


def _line_order(problem: str) -> tuple[int, str]:
    head = problem.split(": ", 1)[0].rsplit(":", 2)
    return (int(head[1]) if len(head) == 3 and head[1].isdigit() else 0, problem)


def default_config_file(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE_NAME


def load_config(
    flags: Mapping[str, tuple[object, str]] | None = None, config_file: str | Path | None = None
) -> LoadedConfig:
    """The effective ``ServerConfig``: flags > ``PLAZA_*`` environment > the TOML file > defaults.

    ``flags`` holds only the flags the user passed: dotted setting name -> (value, flag as typed),
    e.g. ``{"port": (9000, "--port")}``. ``config_file`` is ``--config``; without it,
    ``$PLAZA_CONFIG``, else ``<data_dir>/plaza.toml`` if it exists. Raises ``ConfigError``
    naming the file and key, the variable or the flag of every invalid value.
    """
    from pydantic import ValidationError

    model = settings_model()
    flag = _flag_layer(flags or {})
    env = _read_env(model)
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = os.environ[CONFIG_ENV]
    path: Path | None = None
    if config_file is not None:
        path = Path(config_file).expanduser().absolute()
    else:
        data_dir = flag.data.get("data_dir") or env.data.get("data_dir") or _DEFAULTS["data_dir"]
        candidate = default_config_file(Path(data_dir).expanduser().absolute())
        path = candidate if candidate.is_file() else None
    file = _read_file(path) if path is not None else _Layer({}, {})

    # Each layer alone over the defaults: every bad value is reported, even one a later layer
    # overrides, and each error names the one place its value came from.
    problems: list[str] = []
    for layer in (file, env, flag):
        try:
            model(**layer.data)
        except ValidationError as e:
            problems += sorted(_problems(e, layer), key=_line_order)
    if problems:
        raise ConfigError(problems)
    merged: dict[str, Any] = {}
    origins: dict[str, Origin] = dict.fromkeys(setting_names(), Origin("default"))
    for layer in (file, env, flag):
        merged = _merge(merged, layer.data)
        origins |= {".".join(loc): o for loc, o in layer.origins.items()}
    settings = model(**merged)
    values: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(ServerConfig)):
        value = getattr(settings, name)
        if name in _NESTED:
            value = _NESTED[name](**value.model_dump())
        elif name in _PATH_FIELDS:
            value = Path(value).expanduser().resolve()
        values[name] = value
    return LoadedConfig(ServerConfig(**values), origins, path)


__all__ = [
    "CONFIG_ENV",
    "REPO",
    "ConfigError",
    "LoadedConfig",
    "Origin",
    "ServerConfig",
    "env_var",
    "load_config",
    "setting_names",
    "settings_model",
]
