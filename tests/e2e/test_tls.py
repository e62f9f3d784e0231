"""server/tls.py: the self-signed certificate for headsets on the LAN, kept between runs."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import pytest

tls = pytest.importorskip("server.tls")
x509 = pytest.importorskip("cryptography.x509")


def sans(cert: Path) -> set[str]:
    c = x509.load_pem_x509_certificate(cert.read_bytes())
    san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {str(i) for i in san.get_values_for_type(x509.IPAddress)}


def test_certificate_is_created_kept_and_renewed_for_new_hosts(tmp_path: Path) -> None:
    ip = tls.lan_ip()
    ipaddress.IPv4Address(ip)  # an address, never a name
    cert, key = tls.ensure_certificate(tmp_path, [ip])
    assert {"localhost", "127.0.0.1", ip} <= sans(cert)
    assert key.stat().st_mode & 0o077 == 0  # the private key is private
    pem = cert.read_bytes()
    assert tls.ensure_certificate(tmp_path, [ip]) == (cert, key) and cert.read_bytes() == pem  # kept
    cert2, _ = tls.ensure_certificate(tmp_path, [ip, "192.168.77.5"])  # the LAN address changed
    assert cert2.read_bytes() != pem and "192.168.77.5" in sans(cert2)
    ctx = tls.ssl_context(cert2, key)
    assert isinstance(ctx, ssl.SSLContext) and ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_terminal_qr_is_a_square_of_blocks() -> None:
    lines = tls.terminal_qr("https://192.168.1.23:8080/").splitlines()
    assert len(lines) > 10 and len({len(line) for line in lines}) == 1
    assert set("".join(lines)) <= {" ", "█", "▀", "▄"}
