"""Voice settings: the ``[voice]`` table of plaza.toml, ``PLAZA_VOICE__*``, ``--voice-*`` flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    enabled: bool = True  # false: no media server, clients are told voice is unavailable
    url: str = ""  # an external Janus HTTP API (http://host:8088/janus); empty: start our own
    public_url: str = ""  # where browsers reach it; empty: Plaza's own /janus (proxied, same origin)
    admin_key: str = ""  # the external Janus VideoRoom admin_key (ours is generated)
    janus: Path = Path("/usr/bin/janus")  # the binary `plaza serve` starts when url is empty
    http_port: int = 0  # our Janus' HTTP API port on the Plaza host; 0 = any free port
    rtp_ports: str = "20000-40000"  # UDP range our Janus uses for media
    ice_interfaces: tuple[str, ...] = ()  # interfaces Janus gathers ICE candidates on; empty = all
    public_ip: str = ""  # Janus' nat_1_1_mapping: the address browsers see (behind NAT)
    k: int = 8  # a listener receives the nearest k voices...
    radius_m: float = 15.0  # ...within this radius (a world file's [audio] radius wins)
    flat_cap: int = 24  # voices a listener receives in a [audio] mode = "flat" world
    credential_ttl_s: float = 30.0  # a voice credential unused for this long is revoked
    update_hz: float = 2.0  # AUDIBLE / VOICE_STATE at most this often per session
