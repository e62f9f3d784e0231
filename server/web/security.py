"""The edge's defences for the open internet (docs/server.md, "On the open internet"):

- ``client_ip``: who is asking — the socket's peer, or behind a trusted proxy the right-most
  address in ``X-Forwarded-For`` / ``Forwarded`` that is not itself a trusted proxy;
- ``check_origin``: a browser may open ``/ws`` only from an allowed origin (a page on another
  site must not drive a visitor's session);
- ``ConnectionCap``: at most ``max_connections_per_ip`` concurrent WebSockets per address;
- ``SecurityHeaders``: a Content-Security-Policy fit for the web client (its inline import map
  allowed by hash), ``nosniff``, no framing, no referrer, and no server version;
- ``run_options``: the ``web.run_app`` / ``AppRunner`` arguments that bound the wait for a
  request's headers (``header_timeout_s``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from server.config import ServerConfig
from server.web.api import ApiError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# ----- client address ------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def trusted_networks(trusted_proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """``config.trusted_proxies`` (addresses or CIDRs) as networks; ValueError names a bad entry."""
    nets: list[Network] = []
    for entry in trusted_proxies:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {entry!r} is not an address or CIDR") from None
    return tuple(nets)


def parse_address(value: str) -> Address | None:
    """An address from a header or peer: ``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``,
    ``"[::1]"``; IPv4-mapped IPv6 becomes IPv4. None for anything else (``unknown``, ``_hidden``)."""
    v = value.strip().strip('"')
    if v.startswith("["):
        v = v[1 : v.find("]")] if "]" in v else ""
    elif v.count(":") == 1:
        v = v.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(v)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_trusted(ip: Address, nets: Iterable[Network]) -> bool:
    return any(ip.version == n.version and ip in n for n in nets)


def _forwarded_chain(request: web.BaseRequest) -> list[str]:
    """The hops a proxy reported, client first. ``X-Forwarded-For`` (what nginx, Caddy,
    Traefik and HAProxy write) wins; RFC 7239 ``Forwarded`` is read only without it."""
    xff = request.headers.getall(hdrs.X_FORWARDED_FOR, ())
    if xff:
        return [part for value in xff for part in value.split(",") if part.strip()]
    return [elem["for"] for elem in request.forwarded if "for" in elem]


def client_ip(request: web.BaseRequest, trusted_proxies: tuple[str, ...]) -> str:
    """The address to rate-limit and count: the socket peer, unless the peer is a trusted proxy;
    then the right-most address of the forwarded chain that is not a trusted proxy (everything
    left of it could have been written by the client). "" when there is no peer (a unix socket)."""
    peer_text = request.remote or ""
    peer = parse_address(peer_text)
    if peer is None:
        return peer_text
    nets = trusted_networks(tuple(trusted_proxies))
    if not nets or not _is_trusted(peer, nets):
        return str(peer)
    hop = peer
    for value in reversed(_forwarded_chain(request)):
        ip = parse_address(value)
        if ip is None:  # "unknown" or an obfuscated name: the hop that wrote it is who we know
            return str(hop)
        if not _is_trusted(ip, nets):
            return str(ip)
        hop = ip
    return str(hop)  # only proxies in the chain: the left-most of them


def forwarded_hosts(request: web.BaseRequest, trusted_proxies: tuple[str, ...]) -> list[str]:
    """The Host the client asked a trusted proxy for (``X-Forwarded-Host`` or ``Forwarded:
    host=``); empty unless the peer is a trusted proxy."""
    peer = parse_address(request.remote or "")
    nets = trusted_networks(tuple(trusted_proxies))
    if peer is None or not nets or not _is_trusted(peer, nets):
        return []
    hosts = [h.strip() for v in request.headers.getall("X-Forwarded-Host", ()) for h in v.split(",")]
    hosts += [elem["host"] for elem in request.forwarded if "host" in elem]
    return [h for h in hosts if h]


# ----- origin of WebSocket upgrades --------------------------------------------------------
_DEFAULT_PORT = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit("//" + netloc)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return host.lower().rstrip("."), port if port is not None else _DEFAULT_PORT.get(scheme, 0)


def _origin(value: str) -> tuple[str, str, int] | None:
    """``scheme://host[:port]`` -> (scheme, host, port with the scheme's default filled in)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    hp = _host_port(parts.netloc, scheme) if scheme and parts.netloc else None
    return (scheme, *hp) if hp is not None else None


def origin_allowed(request: web.BaseRequest, config: ServerConfig) -> bool:
    """No Origin header (not a browser: bots, the SDK, curl): allowed. A page of this server —
    the Origin's host:port is the request's Host (or, behind a trusted proxy, the forwarded
    host) — is always allowed; so is any origin listed in ``allowed_origins`` (``"*"``: every
    origin). ``Origin: null`` (sandboxed frames, ``file:`` pages) only with ``"*"``. A socket
    opened at a MOVED url (``?moved=1``: a cluster worker's own port) also admits a page of the
    same host on another port — the public port it was sent from."""
    value = request.headers.get(hdrs.ORIGIN)
    if value is None:
        return True
    allowed = config.allowed_origins
    if "*" in allowed:
        return True
    origin = _origin(value)
    if origin is None:
        return False
    if any(_origin(a) == origin for a in allowed):
        return True
    scheme, host, port = origin
    hosts = [request.headers.get(hdrs.HOST, ""), *forwarded_hosts(request, config.trusted_proxies)]
    if request.query.get("moved") == "1":
        return any((hp := _host_port(h, scheme)) is not None and hp[0] == host for h in hosts if h)
    return any(_host_port(h, scheme) == (host, port) for h in hosts if h)


def check_origin(request: web.BaseRequest, config: ServerConfig) -> None:
    if not origin_allowed(request, config):
        raise ApiError(403, "origin_not_allowed", "this page's origin may not open a Plaza connection")


# ----- concurrent connections per address ----------------------------------------------------
def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


class ConnectionCap:
    """Open WebSockets per client address (``limit`` 0: no cap). ``enter`` before the upgrade
    (ApiError 429 past the cap), ``leave`` in the handler's ``finally``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}
        self.refused = 0  # metrics
        # In a cluster: the address's sockets on the other workers (server/cluster/link.py).
        self.elsewhere: Callable[[str], int] = lambda ip: 0

    def enter(self, ip: str) -> None:
        n = self.open.get(ip, 0) + self.elsewhere(ip)
        # Loopback is this machine (load tests, a local tool); a local reverse proxy belongs in
        # trusted_proxies, and then the cap counts the forwarded address instead.
        if self.limit > 0 and n >= self.limit and not _is_loopback(ip):
            self.refused += 1
            raise ApiError(
                429,
                "too_many_connections",
                f"at most {self.limit} connections from one address",
                {"Retry-After": "10"},
            )
        self.open[ip] = n + 1

    def leave(self, ip: str) -> None:
        n = self.open.get(ip, 0) - 1
        if n > 0:
            self.open[ip] = n
        else:
            self.open.pop(ip, None)

    def shared(self) -> dict[str, int]:
        """What the other workers need to know: the open sockets per address, loopback left
        out (never capped, see ``enter``)."""
        return {ip: n for ip, n in self.open.items() if not _is_loopback(ip)}


# ----- response headers ----------------------------------------------------------------------
_INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTR = re.compile(r"\bsrc\s*=", re.IGNORECASE)


def inline_script_hashes(html: str) -> list[str]:
    """CSP hash sources (``'sha256-…'``) of every inline ``<script>`` (the import map) in a page.
    The browser hashes the element's text after newline normalisation, so we do too."""
    out: list[str] = []
    for attrs, body in _INLINE_SCRIPT.findall(html):
        if _SRC_ATTR.search(attrs):
            continue
        text = body.replace("\r\n", "\n").replace("\r", "\n")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        out.append(f"'sha256-{digest}'")
    return out


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """Scripts only from this server (and the page's own inline import map, by hash); the
    WebSocket and fetches to this server; images, GLB textures and generated models may be
    ``data:``/``blob:`` URLs (three.js' GLTFLoader decodes embedded textures into blobs)."""
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *script_hashes]),
        "worker-src 'self' blob:",
        "connect-src 'self' ws: wss: blob: data:",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "style-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


SERVER_NAME = "Plaza"


class SecurityHeaders:
    """An ``on_response_prepare`` hook: every response gets the same headers (static files,
    JSON, errors and the WebSocket upgrade alike). The CSP follows ``index.html``: its inline
    scripts' hashes are taken at start and again whenever the file changes."""

    def __init__(self, index: Path | None) -> None:
        self.index = index
        self._stamp: tuple[int, int] | None = None
        self._csp = content_security_policy(())
        self._refresh()

    def _refresh(self) -> None:
        if self.index is None:
            return
        try:
            st = self.index.stat()
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp == self._stamp:
                return
            html = self.index.read_text(encoding="utf-8")
        except OSError:
            return
        self._stamp = stamp
        self._csp = content_security_policy(inline_script_hashes(html))

    @property
    def csp(self) -> str:
        self._refresh()
        return self._csp

    async def __call__(self, request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h[hdrs.SERVER] = SERVER_NAME
        h.setdefault("Content-Security-Policy", self.csp)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")


def install(app: web.Application, config: ServerConfig) -> None:
    """Validate the settings (a bad ``trusted_proxies`` entry fails at start, not per request)
    and add the response headers."""
    trusted_networks(tuple(config.trusted_proxies))
    for origin in config.allowed_origins:
        if origin != "*" and _origin(origin) is None:
            raise ValueError(f"allowed_origins: {origin!r} is not an origin like https://plaza.example")
    index = config.web_dir / "index.html"
    app.on_response_prepare.append(SecurityHeaders(index if index.is_file() else None))


# ----- the HTTP server's own limits --------------------------------------------------------
def run_options(config: ServerConfig) -> dict[str, Any]:
    """Arguments for ``web.run_app(app, ..., **run_options(config))`` (or ``web.AppRunner``).

    aiohttp has no separate header-read timeout: its keep-alive timer is what closes a
    connection that waits for a request — armed when the connection opens and again after
    each response, and not reset by bytes that trickle in. So ``keepalive_timeout =
    header_timeout_s`` bounds both a half-sent request (slowloris) and an idle keep-alive
    connection. A request whose headers are complete is the handler's (WebSockets included),
    so it is not affected."""
    return {"keepalive_timeout": float(config.header_timeout_s)}
