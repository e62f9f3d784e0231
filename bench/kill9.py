"""What a crash loses: ``kill -9`` of a real ``plaza serve`` while people move things.

    python bench/kill9.py               # 10 kills (seeds 0..9)
    python bench/kill9.py --kills 3     # fewer

Starts ``plaza serve`` exactly as a user does (default settings) on a free loopback port with
one data directory kept across kills. Each round, moderator "ana" joins the lobby and
- carries a grabbable object without releasing it, moving it a little every 50 ms;
- moves a second object and releases it at a random moment;
- removes one more object with MODERATE remove_object and waits until STATE shows it gone;
then the server is killed with SIGKILL at a random moment (0.3-2.5 s after the release) and
``plaza.sqlite3`` is read as the restarted server will read it. Figures per round:
- ``held_loss_s``: kill time minus the send time of the carried pose that was stored;
- ``released_loss_s``: 0 when the released pose is stored, else how much earlier the stored
  pose was sent than the release;
- ``removal_kept``: the removed object stays removed after the restart (the restarted
  server's WELCOME does not list it).
Prints one JSON line per round and a summary line (max and p50 of the losses).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import msgpack

REPO = Path(__file__).resolve().parent.parent
IDENT = [0.0, 0.0, 0.0, 1.0]
ADMIN = [sys.executable, "-m", "server.cli", "admin"]
HELLO, POSE, GRAB, OBJECT_MOVE, RELEASE, MODERATE = 1, 2, 3, 4, 5, 10
WELCOME, STATE, GRAB_RESULT = 64, 65, 66


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, data: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--data", str(data)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = open(data / "bench-server.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("server exited") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def stored(data: Path, oid: str) -> tuple[float, float, float] | None:
    db = sqlite3.connect(f"file:{data / 'plaza.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT px, py, pz FROM object_state WHERE world = 'lobby' AND object = ?", (oid,)).fetchone()
    finally:
        db.close()
    return (float(row[0]), float(row[1]), float(row[2])) if row else None


async def receive(ws: aiohttp.ClientWebSocketResponse, pred: Any, timeout: float = 5.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise ConnectionError(f"closed: {ws.close_code}")
        m = msgpack.unpackb(msg.data, strict_map_key=False)
        if pred(m):
            return m


def entity_ids(state: list[Any]) -> tuple[set[int], set[int]]:
    """(entered, left) entity ids of a STATE message (see docs/protocol.md)."""
    entered = {int(e[0]) for e in state[3]}
    left = {int(e) for e in state[5]}
    return entered, left


async def one_round(port: int, data: Path, token: str, seed: int, removed_before: set[str]) -> dict[str, Any]:
    rng = random.Random(seed)
    url = f"ws://127.0.0.1:{port}/ws"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_bytes(msgpack.packb([HELLO, {"v": [1], "name": "ana", "world": "lobby", "token": token}]))
        welcome = (await receive(ws, lambda m: m[0] == WELCOME))[1]
        sx, sy, sz, _ = welcome["spawn"]
        head = [sx, sy + 1.6, sz]
        info = {o["id"]: o for o in welcome["world_info"]["objects"]}
        present = welcome["objects"]  # object id -> entity id
        grabbable = sorted(
            (o for o in present if info.get(o, {}).get("grabbable")),
            key=lambda o: (info[o]["position"][0] - sx) ** 2 + (info[o]["position"][2] - sz) ** 2,
        )
        held_id, released_id = grabbable[0], grabbable[1]
        others = [o for o in present if o not in grabbable and o not in removed_before]
        await ws.send_bytes(msgpack.packb([POSE, 1, [*head, *IDENT], [*head, *IDENT], [*head, *IDENT]]))
        for oid in (held_id, released_id):
            await ws.send_bytes(msgpack.packb([GRAB, present[oid]]))
            r = await receive(ws, lambda m: m[0] == GRAB_RESULT)
            assert r[2] is True, r
        # Remove the nearest other object and wait until STATE says it left.
        removal = None
        if others:
            removal = min(others, key=lambda o: (info[o]["position"][0] - sx) ** 2 + (info[o]["position"][2] - sz) ** 2)
            await ws.send_bytes(msgpack.packb([MODERATE, "remove_object", present[removal], {"reason": "bench"}]))
        sent: list[tuple[float, tuple[float, float, float]]] = []
        released: tuple[float, tuple[float, float, float]] | None = None
        removal_seen = removal is None
        release_at = time.monotonic() + rng.uniform(1.0, 2.0)
        kill_at = release_at + rng.uniform(0.3, 2.5)
        k = 0
        while time.monotonic() < kill_at:
            k += 1
            p = (round(sx + 0.5 + 0.004 * k, 3), 1.2, round(sz - 0.5, 3))  # a unique pose per send
            await ws.send_bytes(msgpack.packb([OBJECT_MOVE, present[held_id], [*p, *IDENT]]))
            sent.append((time.monotonic(), p))
            if released is None:
                q = (round(sx - 0.5 - 0.004 * k, 3), 1.0, round(sz - 0.5, 3))
                await ws.send_bytes(msgpack.packb([OBJECT_MOVE, present[released_id], [*q, *IDENT]]))
                if time.monotonic() >= release_at:
                    await ws.send_bytes(msgpack.packb([RELEASE, present[released_id], [*q, *IDENT], [0, 0, 0]]))
                    released = (time.monotonic(), q)
            while True:  # drain, watching for the removal
                try:
                    msg = await ws.receive(timeout=0.001)
                except TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.BINARY and msg.data[1] == STATE and removal is not None:
                    _, left = entity_ids(msgpack.unpackb(msg.data, strict_map_key=False))
                    removal_seen = removal_seen or present[removal] in left
            await asyncio.sleep(0.05)
    return {
        "seed": seed,
        "held": held_id,
        "released": released_id,
        "removal": removal,
        "removal_seen": removal_seen,
        "sent": sent,
        "release": released,
    }


def same(p: tuple[float, ...], q: tuple[float, ...]) -> bool:
    return all(abs(a - b) < 5e-4 for a, b in zip(p, q, strict=True))


def losses(data: Path, r: dict[str, Any], killed_at: float) -> dict[str, Any]:
    sent: list[tuple[float, tuple[float, float, float]]] = r["sent"]
    held = stored(data, r["held"])
    t_held = next((t for t, p in reversed(sent) if held and same(p, held)), None)
    out: dict[str, Any] = {"seed": r["seed"]}
    out["held_loss_s"] = None if t_held is None else round(killed_at - t_held, 3)
    _, q_rel = r["release"]
    rel = stored(data, r["released"])
    # The server may settle a released object onto the floor: compare x/z, which it keeps.
    if rel is not None and abs(rel[0] - q_rel[0]) < 5e-4 and abs(rel[2] - q_rel[2]) < 5e-4:
        out["released_loss_s"] = 0.0
    else:
        step = 0.004  # x moved by this per send before the release
        sends_behind = abs(rel[0] - q_rel[0]) / step if rel is not None else float("inf")
        out["released_loss_s"] = round(sends_behind * 0.05, 3)
    out["removal"] = r["removal"]
    out["removal_seen_before_kill"] = r["removal_seen"]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=10)
    a = p.parse_args()
    data = Path(tempfile.mkdtemp(prefix="plaza-kill9-"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_PASSWORD": "correct horse"}
    subprocess.run(
        [*ADMIN, "create-account", "ana", "--data", str(data), "--password-env", "BENCH_PASSWORD"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = start(port, data)
    with urllib.request.urlopen(
        urllib.request.Request(
            f"http://127.0.0.1:{port}/api/signin",
            data=json.dumps({"user": "ana", "password": "correct horse"}).encode(),
            headers={"Content-Type": "application/json"},
        )
    ) as resp:
        token = json.loads(resp.read())["token"]
    rows: list[dict[str, Any]] = []
    removed: set[str] = set()
    for seed in range(a.kills):
        r = asyncio.run(one_round(port, data, token, seed, removed))
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(10)
        row = losses(data, r, killed_at)
        proc = start(port, data)  # the restart reads what the kill left
        if r["removal"] is not None:
            removed.add(r["removal"])
            row["removal_kept"] = asyncio.run(still_removed(port, token, r["removal"]))
        print(json.dumps(row), flush=True)
        rows.append(row)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    held = sorted(x["held_loss_s"] for x in rows if x["held_loss_s"] is not None)
    rel = sorted(x["released_loss_s"] for x in rows)
    summary = {
        "summary": True,
        "kills": len(rows),
        "held_loss_s_max": max(held) if held else None,
        "held_loss_s_p50": held[len(held) // 2] if held else None,
        "held_pose_found": len(held),
        "released_loss_s_max": max(rel),
        "removals_kept": sum(1 for x in rows if x.get("removal_kept")),
        "removals": sum(1 for x in rows if x["removal"] is not None),
    }
    print(json.dumps(summary), flush=True)
    return 0


async def still_removed(port: int, token: str, oid: str) -> bool:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await ws.send_bytes(msgpack.packb([HELLO, {"v": [1], "name": "ana", "world": "lobby", "token": token}]))
        welcome = (await receive(ws, lambda m: m[0] == WELCOME))[1]
        return oid not in welcome["objects"]


if __name__ == "__main__":
    sys.exit(main())
