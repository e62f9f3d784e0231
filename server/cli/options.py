"""The settings flags shared by ``plaza serve``, ``plaza config``, ``backup`` and ``restore``.

Every flag here defaults to ``argparse.SUPPRESS``: only the flags the user typed reach
``load_config``, so an unset flag never hides a value from ``PLAZA_*`` or the config file.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from server.config import CONFIG_ENV, ConfigError, LoadedConfig, env_var, load_config


@dataclass(frozen=True)
class SettingFlag:
    flag: str
    setting: str  # dotted ServerConfig name
    help: str | None  # None: hidden (argparse.SUPPRESS)
    kwargs: dict[str, Any]


SETTING_FLAGS = (
    SettingFlag("--host", "host", "0.0.0.0 to accept headsets on the LAN", {}),
    SettingFlag("--port", "port", "TCP port", {"type": int}),
    SettingFlag("--worlds", "worlds_dir", "directory of world TOML files", {"metavar": "DIR"}),
    SettingFlag("--data", "data_dir", "directory for the SQLite store and the default plaza.toml", {"metavar": "DIR"}),
    SettingFlag(
        "--database", "database", "postgresql://... shared by a cluster (default: SQLite in --data)", {"metavar": "URL"}
    ),
    SettingFlag(
        "--redis", "redis", "redis://... for presence and pub/sub across workers and nodes", {"metavar": "URL"}
    ),
    SettingFlag("--workers", "workers", "worker processes behind the one port (docs/scaling.md)", {"type": int}),
    SettingFlag("--worker-ports", "worker_ports", "first of the workers' own ports (0: the OS picks)", {"type": int}),
    SettingFlag("--public-host", "public_host", "host name clients reach this node's worker ports at", {}),
    SettingFlag("--slow-client-bytes", "slow_client_bytes", None, {"type": int}),
    SettingFlag("--slow-client-seconds", "slow_client_close_s", None, {"type": float}),
    SettingFlag("--socket-sndbuf", "socket_sndbuf", None, {"type": int}),
    SettingFlag(
        "--no-recommender",
        "recommender",
        "do not load or serve recommendations",
        {"action": "store_const", "const": False},
    ),
    SettingFlag("--chat-words", "chat_words", "comma-separated words the chat filter masks", {"metavar": "WORDS"}),
    SettingFlag(
        "--no-generate",
        "generate_placeholders",
        "leave world files' generated objects as stand-ins",
        {"action": "store_const", "const": False},
    ),
    SettingFlag(
        "--voice-url",
        "voice.url",
        "use this Janus HTTP API (http://host:8088/janus) instead of starting /usr/bin/janus",
        {"metavar": "URL"},
    ),
    SettingFlag("--voice-admin-key", "voice.admin_key", "the VideoRoom admin_key of --voice-url", {"metavar": "KEY"}),
    SettingFlag("--voice-port", "voice.http_port", "HTTP API port of the Janus plaza starts (0: any)", {"type": int}),
    SettingFlag("--voice-rtp-ports", "voice.rtp_ports", "UDP port range for voice media", {"metavar": "LO-HI"}),
    SettingFlag(
        "--no-voice", "voice.enabled", "start no media server; voice is off", {"action": "store_const", "const": False}
    ),
    SettingFlag(
        "--event-loop",
        "event_loop",
        "asyncio event loop (auto: uvloop when installed)",
        {"choices": ["auto", "uvloop", "asyncio"]},
    ),
    SettingFlag(
        "--recommender-encoder",
        "recommender_encoder",
        "text encoder for content signals",
        {"choices": ["minilm", "hashing"]},
    ),
)


def add_config_file_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML config file (default: ${CONFIG_ENV}, else <data dir>/plaza.toml if it exists)",
    )


def add_setting_flags(p: argparse.ArgumentParser, only: tuple[str, ...] | None = None) -> None:
    """``--config`` and the flags of ``SETTING_FLAGS`` (or those of the ``only`` settings)."""
    add_config_file_flag(p)
    for f in SETTING_FLAGS:
        if only is not None and f.setting not in only:
            continue
        env = env_var(f.setting) + ("=false" if f.kwargs.get("const") is False else "")
        shown = argparse.SUPPRESS if f.help is None else f"{f.help} (or {env})"
        p.add_argument(f.flag, dest=f.setting, default=argparse.SUPPRESS, help=shown, **f.kwargs)


def passed_settings(args: argparse.Namespace) -> dict[str, tuple[object, str]]:
    """The settings flags the user passed: setting -> (value, flag)."""
    given = vars(args)
    return {f.setting: (given[f.setting], f.flag) for f in SETTING_FLAGS if f.setting in given}


def load_from_args(args: argparse.Namespace) -> LoadedConfig:
    """The effective configuration for these arguments; invalid settings print and exit 2."""
    try:
        return load_config(passed_settings(args), getattr(args, "config", None))
    except ConfigError as e:
        print("error: invalid configuration:", file=sys.stderr)
        for line in e.problems:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(2) from None
