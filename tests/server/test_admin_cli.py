"""Spec: the operator claims a role-bearing name with `plaza admin create-account`; nobody else
can register it over the API, and the account signs in on the running server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.serverproc import ANY_PORT, REPO, ServerProcess


def admin(data: Path, name: str, password: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "server.cli", "admin", "create-account", name, "--password-env", "PW"]
    cmd += ["--data", str(data), "--worlds", str(REPO / "worlds")]
    return subprocess.run(cmd, cwd=REPO, env={**os.environ, "PW": password}, capture_output=True, text=True)


async def test_the_operator_creates_a_role_name_account(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    data = tmp_path / "data"
    data.mkdir()
    made = admin(data, "kofi", "correct horse")
    assert made.returncode == 0, made.stderr
    again = admin(data, "kofi", "another one")
    assert again.returncode == 1 and "kofi" in again.stderr
    srv = ServerProcess(ANY_PORT, data, REPO / "worlds").start()
    try:
        async with http.post(srv.url + "/api/signin", json={"user": "kofi", "password": "correct horse"}) as r:
            assert r.status == 200
        async with http.post(srv.url + "/api/accounts", json={"user": "jules", "password": "correct horse"}) as r:
            assert r.status == 403 and (await r.json())["error"] == "name_needs_setup"
    finally:
        srv.stop()
