"""HTTPS for headsets on the LAN: a self-signed certificate the server creates and keeps.

A Quest's browser only offers WebXR on secure origins (https:// or http://localhost), so a
headset joining over the LAN needs TLS. ``ensure_certificate`` makes a certificate once (kept
in the data directory and reused while it covers the requested hosts and is not about to
expire), ``lan_ip`` finds the address to print, ``ssl_context`` builds the server context and
``terminal_qr`` renders the URL as a QR code for the headset's camera/browser.

Dependencies: ``cryptography`` (certificate) and ``qrcode`` (terminal QR code), the optional
``[lan]`` extra; without them ``require_lan`` (and each function that needs one) raises
``LanExtraMissing`` saying so, and ``plaza serve --https`` prints that and exits 2.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
import re
import socket
import ssl
import subprocess
from pathlib import Path

CERT_NAME = "plaza-cert.pem"
KEY_NAME = "plaza-key.pem"
VALID_DAYS = 825  # the longest validity Apple/Google accept for a TLS leaf certificate
RENEW_BEFORE = dt.timedelta(days=30)
LAN_EXTRA_HINT = "--https needs the [lan] extra (cryptography, qrcode): pip install 'plaza[lan]'"
LAN_MODULES = ("cryptography", "qrcode")


class LanExtraMissing(RuntimeError):
    """cryptography or qrcode is not installed; the message names the extra to install."""


def require_lan(*modules: str) -> None:
    """Raise ``LanExtraMissing`` unless ``modules`` (default: both) can be imported."""
    missing = []
    for name in modules or LAN_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise LanExtraMissing(f"{LAN_EXTRA_HINT} (missing: {', '.join(missing)})")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _wanted_hosts(hosts: list[str]) -> list[str]:
    out: list[str] = []
    for h in ["localhost", "127.0.0.1", *hosts]:
        h = h.strip().lower()
        if h and h not in out and h not in ("0.0.0.0", "::"):
            out.append(h)
    return out


def _covers(cert_path: Path, hosts: list[str]) -> bool:
    """True when the kept certificate names every host and stays valid a while longer."""
    require_lan("cryptography")
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
    return fresh and all(h in names for h in hosts)


def ensure_certificate(data_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """Return (cert, key) PEM paths under ``data_dir``, creating a self-signed pair if needed.

    The certificate's subject alternative names cover localhost, 127.0.0.1 and ``hosts`` (LAN
    IPs or names). An existing pair is kept as long as it covers them, so a headset that has
    accepted it once is not asked again; a new LAN address makes a new certificate.
    """
    require_lan("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    data_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = data_dir / CERT_NAME, data_dir / KEY_NAME
    names = _wanted_hosts(hosts)
    if cert_path.is_file() and key_path.is_file() and _covers(cert_path, names):
        return cert_path, key_path

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Plaza (self-signed)"),
        x509.NameAttribute(NameOID.COMMON_NAME, names[-1] if len(names) > 2 else "localhost"),
    ])  # fmt: skip
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h) for h in names
    ]
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    # Key first, private to the user; then the certificate (its presence marks a complete pair).
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
        ))  # fmt: skip
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _usable(ip: str) -> bool:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return a.version == 4 and not (a.is_loopback or a.is_link_local or a.is_unspecified or a.is_multicast)


def _rank(ip: str) -> int:
    # Prefer the usual home/office ranges over container bridges (172.17.x.x and friends).
    a = ipaddress.ip_address(ip)
    if a in ipaddress.ip_network("192.168.0.0/16"):
        return 0
    if a in ipaddress.ip_network("10.0.0.0/8"):
        return 1
    if a.is_private:
        return 2
    return 3


def lan_ip() -> str:
    """This machine's LAN IPv4 address, without sending any traffic; 127.0.0.1 if none.

    Tries the host name's addresses, then the output of ``ip -4 addr``.
    """
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    try:
        out = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "up"], capture_output=True, text=True, timeout=2, check=False
        ).stdout
        found += re.findall(r"\binet (\d+\.\d+\.\d+\.\d+)/", out)
    except (OSError, subprocess.SubprocessError):
        pass
    usable = sorted({ip for ip in found if _usable(ip)}, key=lambda ip: (_rank(ip), ip))
    return usable[0] if usable else "127.0.0.1"


def ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Server-side TLS context for aiohttp (``web.run_app(..., ssl_context=...)``)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile=str(cert), keyfile=str(key))
    return ctx


def terminal_qr(url: str) -> str:
    """The URL as a QR code drawn with Unicode half blocks (two modules per character row)."""
    require_lan("qrcode")
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    qr.add_data(url)
    qr.make(fit=True)
    m = qr.get_matrix()  # True = dark module; border included
    if len(m) % 2:
        m.append([False] * len(m[0]))
    # Light-on-dark terminals are the norm: print dark modules as spaces and light ones as
    # blocks, so scanners see dark-on-light.
    chars = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return "\n".join(
        "".join(chars[(top, bot)] for top, bot in zip(m[y], m[y + 1], strict=True)) for y in range(0, len(m), 2)
    )
