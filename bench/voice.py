"""Voice benchmark: join-to-first-audio, mouth-to-ear latency, media-server and Plaza CPU.

    python bench/voice.py                          # everything, prints one JSON object
    python bench/voice.py --bots 10,30 --seconds 10 --no-browser
    python bench/voice.py --browser-only --seeds 3

It starts `plaza serve` the way a user does (voice on by default: Plaza starts /usr/bin/janus
with its generated config), on the host network, in a temporary data directory.

Browser part (two headless Chromium pages, fake microphones, the real web_client/js/voice.js
in tests/voice/harness.html): *join-to-first-audio* is B pressing Join voice (mic, VOICE_JOIN,
credential, Janus join + publish, AUDIBLE, subscribe) until the first sample of A's voice
above silence; *mouth-to-ear* is a tone onset at A's microphone (an AnalyserNode on A's own
mic track) to the onset of energy in A's voice at B, both pages on one clock; resolution is
about one analyser window plus the 5 ms polling (~25 ms).

Bot part: N publishing bots (aiortc 1.16.0, Python) in one 10 m x 10 m area (all within the
15 m radius), each a person in the world (HELLO, pose, VOICE_JOIN) sending a pre-encoded Opus
tone (no encoding cost), with K = 8 (the default) against K = 64 (everyone receives everyone),
alternating at the same N. L of them (--listeners, 10; spread over the grid) also subscribe to
the voices Plaza's AUDIBLE gives them (received and SRTP-decrypted, then only counted): Python
cannot decrypt 60 x 59 x 50 packets a second, and the other N - L still publish, stand in the
world and count in Plaza's audible computation. The bots run in --procs (2) processes, each
listener's UDP socket with a 4 MiB receive buffer. Janus', Plaza's and the bots' CPU are read
from /proc over the window; `janus_cpu_pct_per_forwarded_stream` divides Janus' CPU by the
streams it forwards (it also includes receiving the N publishers), `janus_per_stream` the
difference K=all - K=8 by the difference in streams (that part cancels out). A row whose
`media_flowing` (received / what Janus forwards) is below 0.9, or where not every bot
published or listener subscribed, is `"valid": false` and its CPU figures are moved to
`raw_not_figures`: the bots could not keep up, so they are not a measurement.
`udp_rcvbuf_drops_per_s` is the machine's count of datagrams a full socket buffer dropped.
The bots need `pip install aiortc==1.16.0 pyOpenSSL==26.2.0` (not in any extra: only this
bench uses them); `--browser-only` runs the browser part without them.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import math
import os
import secrets
import socket
import statistics
import struct
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.serverproc import ANY_PORT, ServerProcess  # noqa: E402

WORLD = """
id = "voicebench"
name = "Voice bench"
capacity = 200
[bounds]
min = [-50, -1, -50]
max = [50, 10, 50]
[[spawns]]
name = "default"
position = [0, 0, 0]
"""
LOBBY = WORLD.replace('"voicebench"', '"lobby"').replace('"Voice bench"', '"Lobby"')


def cpu_seconds(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def janus_pid(srv: ServerProcess) -> int | None:
    assert srv.proc is not None
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[1] == str(srv.proc.pid) and "janus" in stat.split(")")[0]:
                    return int(d.name)
            except OSError:
                continue
    return None


def start_server(base: Path, env: dict[str, str]) -> ServerProcess:
    worlds = base / "worlds"
    worlds.mkdir(parents=True)
    (worlds / "voicebench.toml").write_text(WORLD)
    (worlds / "lobby.toml").write_text(LOBBY)
    data = base / "data"
    data.mkdir()
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return ServerProcess(ANY_PORT, data, worlds, extra_args=("--no-recommender",)).start()
    finally:
        os.environ.clear()
        os.environ.update(old)


# ----- browser: join-to-first-audio, mouth-to-ear ---------------------------------------------
ONSETS_JS = """() => {  // rising edges of a level, polled every 5 ms: [Date.now(), ...]
  const v = window.plaza.voice, buf = new Float32Array(1024);
  const rms = (an) => { an.getFloatTimeDomainData(buf); let s = 0;
    for (const x of buf) s += x * x; return Math.sqrt(s / buf.length); };
  window.onsets = { mic: [], ear: [] };
  const state = { mic: 0, ear: 0 };
  setInterval(() => {
    const now = Date.now();
    const peers = [...v.voices.values()];
    const levels = { mic: v.micAnalyser ? rms(v.micAnalyser) : 0, ear: peers.length ? rms(peers[0].analyser) : 0 };
    for (const k of ['mic', 'ear']) {
      if (levels[k] > 0.02 && now - state[k] > 300) window.onsets[k].push(now);
      if (levels[k] > 0.02) state[k] = now;
    }
  }, 5);
}"""


def write_beep(path: Path) -> None:
    """100 ms of 440 Hz, then 900 ms of silence (Chromium loops the file): one onset a second."""
    sr = 48000
    pcm = b"".join(
        struct.pack("<h", int(9830 * math.sin(2 * math.pi * 440 * i / sr)) if i < sr // 10 else 0) for i in range(sr)
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm)


def browser_part(srv: ServerProcess, seeds: int, tmp: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.voice.conftest import CHROMIUM, CHROMIUM_ARGS, HARNESS

    beep = tmp / "beep.wav"
    write_beep(beep)
    joins: list[float] = []
    lat: list[float] = []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={beep}"]
        )

        def page(name: str, x: float) -> Any:
            ctx = b.new_context(bypass_csp=True)
            ctx.route("**/voice-harness.html*", lambda r: r.fulfill(body=HARNESS, content_type="text/html"))
            pg = ctx.new_page()
            pg.goto(f"{srv.url}/voice-harness.html?name={name}&world=voicebench&x={x}&z=0")
            pg.wait_for_function("window.ready === true", timeout=20000)
            return pg

        a = page("mouth", 0)
        a.evaluate("window.plaza.voice.enable()")
        a.wait_for_function("window.plaza.voice.connected === true", timeout=20000)
        for seed in range(seeds):
            ear = page(f"ear{seed}", 2)
            ear.evaluate("window.plaza.voice.enable()")
            ear.wait_for_function("window.plaza.state().voice.firstAudioAt !== null", timeout=20000)
            st = ear.evaluate("window.plaza.state().voice")
            joins.append(st["firstAudioAt"] - st["enabledAt"])
            # Both pages in one browser: one Date.now() clock.
            a.evaluate(ONSETS_JS)
            ear.evaluate(ONSETS_JS)
            time.sleep(6.0)
            mic = a.evaluate("window.onsets.mic")
            got = ear.evaluate("window.onsets.ear")
            for t in got:
                before = [m for m in mic if 0 <= t - m < 500]
                if before:
                    lat.append(t - max(before))
            ear.context.close()
        b.close()

    def summary(xs: list[float]) -> dict[str, float]:
        xs = sorted(xs)
        if not xs:
            return {}
        return {
            "n": len(xs),
            "median": statistics.median(xs),
            "p90": xs[int(0.9 * (len(xs) - 1))],
            "min": xs[0],
            "max": xs[-1],
        }

    return {"join_to_first_audio_ms": summary(joins), "mouth_to_ear_ms": summary(lat)}


# ----- bots: CPU at N publishers ---------------------------------------------------------------
def opus_packets(seconds: float = 1.0) -> list[bytes]:
    """A 440 Hz tone, Opus-encoded once (20 ms packets); every bot loops these bytes."""
    import av
    import numpy as np

    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format = 48000, "mono", "s16"
    enc.bit_rate = 32000
    out: list[bytes] = []
    n = 960
    for k in range(int(seconds * 50)):
        t = (np.arange(n) + k * n) / 48000
        pcm = (9830 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = k * n
        out += [bytes(p) for p in enc.encode(frame)]
    return out


def packet_track(packets: list[bytes]) -> Any:
    """An aiortc audio track of pre-encoded Opus packets, 50 a second."""
    import av
    from aiortc import MediaStreamTrack

    class PacketTrack(MediaStreamTrack):
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self.i, self.t0 = 0, time.monotonic()

        async def recv(self) -> Any:
            self.i += 1
            wait = self.t0 + self.i * 0.02 - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            pkt = av.Packet(packets[self.i % len(packets)])
            pkt.pts, pkt.time_base = self.i * 960, fractions.Fraction(1, 48000)
            return pkt

    return PacketTrack()


class Janus:
    def __init__(self, http: Any, url: str) -> None:
        self.http, self.url = http, url
        self.events: dict[str, asyncio.Future[Any]] = {}
        self.on_event: Any = None

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.url + path, json=body) as r:
            out: dict[str, Any] = await r.json(content_type=None)
            return out

    async def open(self) -> None:
        self.session = (await self.post("", {"janus": "create", "transaction": "c"}))["data"]["id"]
        self.poller = asyncio.create_task(self._poll())

    async def attach(self) -> int:
        out = await self.post(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": "a"}
        )
        return int(out["data"]["id"])

    async def _keepalive(self) -> None:
        while True:  # Janus drops a session after 60 s without a keepalive
            await asyncio.sleep(20)
            try:
                await self.post(f"/{self.session}", {"janus": "keepalive", "transaction": "k"})
            except Exception:
                return  # the server is gone (end of a run)

    async def _poll(self) -> None:
        self.keeper = asyncio.create_task(self._keepalive())
        while True:
            try:
                async with self.http.get(f"{self.url}/{self.session}?maxev=10") as r:
                    evs = await r.json(content_type=None)
            except Exception:
                await asyncio.sleep(0.5)
                continue
            for ev in evs if isinstance(evs, list) else [evs]:
                if not isinstance(ev, dict):
                    continue
                fut = self.events.pop(ev.get("transaction", ""), None)
                if fut is not None and not fut.done():
                    fut.set_result(ev)

    async def send(self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        t = secrets.token_hex(6)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.events[t] = fut
        msg: dict[str, Any] = {"janus": "message", "transaction": t, "body": body}
        if jsep:
            msg["jsep"] = jsep
        out = await self.post(f"/{self.session}/{handle}", msg)
        if out.get("janus") == "ack":
            out = await asyncio.wait_for(fut, 20)
        return out


@dataclass
class Shared:
    """What the bot processes tell the parent (plain shared memory, one writer per slot)."""

    published: Any  # per bot: 1 once its publisher is up
    streams: Any  # per listening bot: how many voices it subscribed to (-1: not yet)
    received: Any  # per process: RTP payload bytes received (decrypted by SRTP, not decoded)
    ready: Any  # set by the parent: listeners may subscribe now
    stop: Any  # set by the parent: close everything and exit


async def bot(
    i: int, n: int, listens: bool, ws_url: str, url: str, http: Any, packets: list[bytes], sh: Shared, pcs: list[Any]
) -> None:
    """One person in the world: HELLO, pose, VOICE_JOIN, publish the tone; a listening bot
    also subscribes (once everyone is up) to the voices its AUDIBLE names."""
    import aiohttp
    import msgpack
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from server.protocol import MsgType

    side = math.ceil(math.sqrt(n))
    x, z = -5 + 10 * (i % side) / max(1, side - 1), -5 + 10 * (i // side) / max(1, side - 1)
    ws = await http.ws_connect(ws_url)
    await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": [1], "name": f"bot{i}", "world": "voicebench"}]))
    await ws.send_bytes(msgpack.packb([MsgType.VOICE_JOIN, {}]))
    janus = Janus(http, url + "/janus")
    await janus.open()
    sub_pc = None
    audible: list[int] = []
    private_id = None
    cred: dict[str, Any] = {}
    posed = False
    while not ws.closed:
        m: list[Any]
        try:
            msg = await ws.receive(timeout=0.3)
            m = msgpack.unpackb(msg.data, strict_map_key=False) if msg.type == aiohttp.WSMsgType.BINARY else [0]
        except TimeoutError:
            m = [0]  # nothing new: check whether it is time to subscribe
        if m[0] == MsgType.WELCOME and not posed:
            posed = True
            ident = [0.0, 0.0, 0.0, 1.0]
            await ws.send_bytes(msgpack.packb([MsgType.TELEPORT, [x, 0.0, z]]))
            await ws.send_bytes(
                msgpack.packb([MsgType.POSE, 0, [x, 1.6, z, *ident], [x, 1.2, z, *ident], [x, 1.2, z, *ident]])
            )
        elif m[0] == MsgType.VOICE_CREDENTIAL:
            cred = m[1]
            h = await janus.attach()
            out = await janus.send(
                h,
                {
                    "request": "join",
                    "ptype": "publisher",
                    "room": cred["room"],
                    "pin": cred["pin"],
                    "token": cred["token"],
                    "id": cred["id"],
                    "display": cred["display"],
                },
            )
            private_id = out["plugindata"]["data"]["private_id"]
            pub_pc = RTCPeerConnection()
            pcs.append(pub_pc)
            pub_pc.addTransceiver(packet_track(packets), direction="sendonly")
            await pub_pc.setLocalDescription(await pub_pc.createOffer())
            out = await janus.send(
                h, {"request": "publish", "audiocodec": "opus"}, {"type": "offer", "sdp": pub_pc.localDescription.sdp}
            )
            await pub_pc.setRemoteDescription(RTCSessionDescription(out["jsep"]["sdp"], "answer"))
            sh.published[i] = 1
        elif m[0] == MsgType.AUDIBLE:
            audible = [p[0] for p in m[1]["peers"] if p[2] == cred.get("room")]
            if i == 0 and os.environ.get("VB_DEBUG"):
                print("AUDIBLE", m[1], cred.get("room"), file=sys.stderr)
        if listens and sub_pc is None and audible and private_id is not None and sh.ready.is_set():
            h = await janus.attach()
            out = await janus.send(
                h,
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": cred["room"],
                    "pin": cred["pin"],
                    "private_id": private_id,
                    "streams": [{"feed": f} for f in audible],
                },
            )
            sub_pc = RTCPeerConnection()
            pcs.append(sub_pc)
            await sub_pc.setRemoteDescription(RTCSessionDescription(out["jsep"]["sdp"], "offer"))
            await sub_pc.setLocalDescription(await sub_pc.createAnswer())
            await janus.send(h, {"request": "start"}, {"type": "answer", "sdp": sub_pc.localDescription.sdp})
            sh.streams[i] = len(audible)


def bot_process(slot: int, ids: list[int], n: int, listeners: list[int], ws_url: str, url: str, sh: Shared) -> None:
    """One of the bot processes (multiprocessing, spawn): the bots ``ids`` in one event loop."""
    asyncio.run(_bot_process(slot, ids, n, set(listeners), ws_url, url, sh))


async def _bot_process(
    slot: int, ids: list[int], n: int, listeners: set[int], ws_url: str, url: str, sh: Shared
) -> None:
    import aiohttp
    from aiortc.rtcdtlstransport import RTCDtlsTransport

    received = sh.received

    async def count_only(self: Any, data: bytes, arrival_time_ms: int) -> None:
        # Called with each RTP packet SRTP has just decrypted: count its payload bytes (the
        # header, its CSRCs and extension skipped) and stop there; aiortc's parse, routing,
        # jitter buffer and decoding are left out on purpose (Python cost, not Janus').
        head = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:
            head += 4 + 4 * int.from_bytes(data[head + 2 : head + 4], "big")
        received[slot] += len(data) - head

    RTCDtlsTransport._handle_rtp_data = count_only
    # A listener's bundle is one UDP socket carrying up to N-1 voices: with the default 208 KiB
    # receive buffer a bot descheduled for ~0.1 s on a busy machine loses packets in the kernel
    # (RcvbufErrors). Browsers ask for a bigger buffer too; 4 MiB is this machine's rmem_max.
    import importlib

    # aioice comes with aiortc (treated as untyped like it, without a pyproject entry)
    StunProtocol: Any = importlib.import_module("aioice.ice").StunProtocol
    made = StunProtocol.connection_made

    def big_buffer(self: Any, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        made(self, transport)

    StunProtocol.connection_made = big_buffer
    packets = opus_packets()
    pcs: list[Any] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tasks = [asyncio.create_task(bot(i, n, i in listeners, ws_url, url, http, packets, sh, pcs)) for i in ids]
        while not sh.stop.is_set():
            await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        failed = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(r, Exception)]
        for e in failed[:3]:
            print(f"bot failed: {type(e).__name__}: {e}", file=sys.stderr)
        for pc in pcs:
            await pc.close()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def udp_rcvbuf_errors() -> int:
    """This machine's count of UDP datagrams dropped because a socket's buffer was full."""
    lines = [ln.split() for ln in Path("/proc/net/snmp").read_text().splitlines() if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def bots_part(n: int, k_all: bool, seconds: float, tmp: Path, n_listen: int, procs: int) -> dict[str, Any]:
    """N publishing bots in ``procs`` processes; ``n_listen`` of them (spread over the grid) also
    subscribe. The other N - L are people in the world all the same: avatar, pose, a published
    voice that Plaza's AUDIBLE ranks and Janus receives; they only do not listen, so the Python
    bots decrypt at most (N-1) * L streams instead of (N-1) * N."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    n_listen = min(n_listen, n)
    listeners = sorted({round(j * n / n_listen) for j in range(n_listen)})
    env = {"PLAZA_MAX_CONNECTIONS_PER_IP": "1000"}
    if k_all:
        env["PLAZA_VOICE__K"] = "64"
    load0 = loadavg()
    srv = start_server(tmp / f"srv-{n}-{int(k_all)}", env)
    assert srv.proc is not None
    jpid = janus_pid(srv)
    sh = Shared(
        published=ctx.Array("i", n, lock=False),
        streams=ctx.Array("i", [-1] * n, lock=False),
        received=ctx.Array("q", procs, lock=False),
        ready=ctx.Event(),
        stop=ctx.Event(),
    )
    packets = opus_packets()
    # Listeners first, then the others, dealt round-robin: each process gets its share of both.
    order = listeners + [i for i in range(n) if i not in set(listeners)]
    workers = [
        ctx.Process(target=bot_process, args=(w, order[w::procs], n, listeners, srv.ws_url, srv.url, sh), daemon=True)
        for w in range(procs)
    ]
    try:
        for p in workers:
            p.start()

        def rx() -> int:
            return int(sum(sh.received))

        def subscribed() -> list[int]:
            return [sh.streams[i] for i in listeners if sh.streams[i] >= 0]

        t0 = time.monotonic()
        while sum(sh.published) < n and time.monotonic() - t0 < 120:
            time.sleep(0.2)
        time.sleep(1.5)  # the last AUDIBLEs
        sh.ready.set()
        # Each listener acts on its next message: VOICE_STATE comes twice a second.
        t1 = time.monotonic()
        while len(subscribed()) < len(listeners) and time.monotonic() - t1 < 60:
            time.sleep(0.2)
        streams = subscribed()
        # ICE + DTLS on every subscriber connection: until the media flows at half the
        # expected rate (or 30 s; media_flowing then says how much did).
        expect_bps = sum(streams) * sum(map(len, packets)) / len(packets) * 50
        t2 = time.monotonic()
        while time.monotonic() - t2 < 30:
            b_0 = rx()
            time.sleep(1.0)
            if rx() - b_0 >= 0.5 * expect_bps:
                break
        pids = [p.pid for p in workers if p.pid is not None]
        c_j0 = cpu_seconds(jpid) if jpid else 0.0
        c_b0 = sum(cpu_seconds(p) for p in pids)
        c_p0, b0, w0 = cpu_seconds(srv.proc.pid), rx(), time.monotonic()
        drops0 = udp_rcvbuf_errors()
        time.sleep(seconds)
        wall = time.monotonic() - w0
        c_j1 = cpu_seconds(jpid) if jpid else 0.0
        c_b1 = sum(cpu_seconds(p) for p in pids)
        c_p1, b1 = cpu_seconds(srv.proc.pid), rx()
        drops = udp_rcvbuf_errors() - drops0
        load1 = loadavg()
        published = sum(sh.published)
    finally:
        sh.stop.set()
        for p in workers:
            p.join(20)
            if p.is_alive():
                p.kill()
                p.join(5)
        srv.stop()
        if jpid and alive(jpid):  # Plaza stops its Janus; never leave one behind
            os.kill(jpid, 9)
    flowing = round((b1 - b0) / wall / expect_bps, 2) if expect_bps else 0.0
    total = sum(streams)
    janus_pct = round(100 * (c_j1 - c_j0) / wall, 1) if jpid else None
    figures: dict[str, Any] = {
        "janus_cpu_pct": janus_pct,
        "janus_cpu_pct_per_forwarded_stream": round(janus_pct / total, 3) if janus_pct is not None and total else None,
        "plaza_cpu_pct": round(100 * (c_p1 - c_p0) / wall, 1),
        "bots_cpu_pct": round(100 * (c_b1 - c_b0) / wall, 1),
        "downstream_kbps_per_listener": round(8 * (b1 - b0) / wall / 1000 / max(1, len(streams)), 1),
    }
    problems = []
    if published < n:
        problems.append(f"{published}/{n} published")
    if len(streams) < len(listeners):
        problems.append(f"{len(streams)}/{len(listeners)} listeners subscribed")
    if flowing < 0.9:
        problems.append(f"media_flowing {flowing} < 0.9: the bots could not keep up")
    row: dict[str, Any] = {
        "bots": n,
        "listener_receives": "everyone" if k_all else "nearest 8",
        "listening_bots": len(listeners),
        "bot_processes": procs,
        "published": published,
        "subscribed_listeners": len(streams),
        "streams_per_listener_mean": round(statistics.mean(streams), 2) if streams else 0,
        "streams_forwarded_total": total,
        # received / sent-by-Janus-if-all-flowed: below ~0.9 the bots could not keep up
        "media_flowing": flowing,
        "valid": not problems,
        # whole machine, over the window (other users' sockets included)
        "udp_rcvbuf_drops_per_s": round(drops / wall),
        "window_s": round(wall, 1),
        "loadavg_before_after": [load0, load1],
    }
    if problems:  # not reported as figures
        row |= {"invalid": "; ".join(problems), "raw_not_figures": figures}
    else:
        row |= figures
    return row


def compare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per N (valid rows only): Janus' extra CPU per extra forwarded stream, K=all against K=8
    (what receiving the N publishers costs cancels out)."""
    out = []
    for n in sorted({r["bots"] for r in rows}):
        k8 = [r for r in rows if r["bots"] == n and r["valid"] and r["listener_receives"] == "nearest 8"]
        ka = [r for r in rows if r["bots"] == n and r["valid"] and r["listener_receives"] == "everyone"]
        if not k8 or not ka:
            out.append({"bots": n, "janus_marginal_cpu_pct_per_stream": None, "why": "no valid pair"})
            continue
        j8, ja = statistics.mean(r["janus_cpu_pct"] for r in k8), statistics.mean(r["janus_cpu_pct"] for r in ka)
        s8 = statistics.mean(r["streams_forwarded_total"] for r in k8)
        sa = statistics.mean(r["streams_forwarded_total"] for r in ka)
        out.append(
            {
                "bots": n,
                "janus_cpu_pct_k8_vs_all": [round(j8, 1), round(ja, 1)],
                "streams_k8_vs_all": [s8, sa],
                "janus_marginal_cpu_pct_per_stream": round((ja - j8) / (sa - s8), 3) if sa > s8 else None,
            }
        )
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bots", default="10,30,60", help="comma-separated bot counts (all publish)")
    p.add_argument("--listeners", type=int, default=10, help="how many of the bots also subscribe (L)")
    p.add_argument("--procs", type=int, default=2, help="bot processes")
    p.add_argument("--rounds", type=int, default=1, help="K=8 / K=all pairs per N, alternating")
    p.add_argument("--seconds", type=float, default=10.0, help="CPU window per run")
    p.add_argument("--seeds", type=int, default=3, help="browser repetitions")
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--browser-only", action="store_true")
    a = p.parse_args()
    out: dict[str, Any] = {
        "bench": "voice",
        "janus": "1.1.2 (Debian)",
        "network": "host (loopback + LAN address)",
        "date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "loadavg_start": loadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="plaza-voice-bench-") as d:
        tmp = Path(d)
        if not a.no_browser:
            srv = start_server(tmp / "browser", {})
            try:
                out |= browser_part(srv, a.seeds, tmp)
            finally:
                srv.stop()
        if not a.browser_only:
            runs: list[dict[str, Any]] = []
            for n in [int(x) for x in a.bots.split(",")]:
                for _ in range(a.rounds):
                    for k_all in (False, True):
                        runs.append(bots_part(n, k_all, a.seconds, tmp / f"r{len(runs)}", a.listeners, a.procs))
                        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
            out["cpu"] = runs
            out["janus_per_stream"] = compare(runs)
    out["loadavg_end"] = loadavg()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
