"""Spec: operating a server — Prometheus metrics at /metrics, /api/health that notices a dead
tick or a stuck flusher, and JSON log lines when stderr is not a terminal (docs/server.md,
"Operating it")."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from genmodels.jobs import JobQueue
from server.config import ServerConfig
from server.logs import JsonFormatter, TextFormatter, wants_json
from server.persist import WriteBehind
from server.protocol import MsgType
from server.web import create_app
from server.web.keys import DUTIES
from server.web.metrics import Metrics
from tests.serverproc import REPO, ServerProcess
from tests.waiting import eventually
from tests.wsclient import join

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> tuple[dict[str, str], Samples]:
    """(family name -> type, (sample name, sorted labels) -> value) of an exposition."""
    types: dict[str, str] = {}
    samples: Samples = {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(http: aiohttp.ClientSession, base: str) -> tuple[dict[str, str], Samples]:
    async with http.get(base + "/metrics") as r:
        assert r.status == 200
        assert r.content_type == "text/plain"
        return parse(await r.text())


async def until(pred: Any, http: aiohttp.ClientSession, base: str, timeout: float = 10.0) -> Samples:
    async def scraped() -> Samples | None:
        _, samples = await scrape(http, base)
        return samples if pred(samples) else None

    return await eventually(scraped, timeout, interval=0.2, what="metrics never got there")


# ----- /metrics on a real server -------------------------------------------------------------
async def test_metrics_count_sessions_ticks_bytes_closes_and_drops(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    a = await join(http, server, "Ada")
    await a.pose(a.spawn_head())
    # A few lobby ticks with someone in it, and the HELLO and POSE counted.
    await until(
        lambda s: (
            value(s, "plaza_tick_lateness_seconds_count", world="lobby") > 0
            and value(s, "plaza_ws_messages_in_total") >= 2
        ),
        http,
        server.url,
    )
    types, s = await scrape(http, server.url)
    assert value(s, "plaza_sessions") == 1
    assert value(s, "plaza_instances", world="lobby") == 1
    assert value(s, "plaza_people", world="lobby") == 1
    assert types["plaza_tick_duration_seconds"] == "histogram"
    assert value(s, "plaza_tick_duration_seconds_count", world="lobby") > 0
    assert value(s, "plaza_tick_lateness_seconds_count", world="lobby") > 0
    assert value(s, "plaza_tick_duration_seconds_bucket", world="lobby", le="0.5") > 0
    assert value(s, "plaza_ws_bytes_out_total") > 0 and value(s, "plaza_ws_messages_out_total") > 0
    assert value(s, "plaza_ws_bytes_in_total") > 0 and value(s, "plaza_ws_messages_in_total") >= 2
    assert types["plaza_ws_bytes_out"] == "counter"
    # The start-up polls of /api/health, by route template and status.
    assert value(s, "plaza_http_requests_total", method="GET", route="/api/health", status="200") >= 1
    assert value(s, "plaza_asset_jobs_queued") == 0  # generation never loaded (--no-generate)
    assert ("plaza_duty_failures_total", (("duty", "save"),)) in s

    # A flood: the rate limit drops what is over the burst.
    for n in range(300):
        await a.send([MsgType.PING, n])
    await a.until(lambda m: m[0] == MsgType.ERROR)
    # A text frame from a second client: closed, counted by reason.
    b = await join(http, server, "Bo")
    await b.ws.send_str("not msgpack")
    await b.ws.receive(timeout=5)
    await b.ws.close()
    s = await until(lambda s: value(s, "plaza_ws_closes_total", reason="not_binary") == 1, http, server.url)
    assert value(s, "plaza_rate_limited_total") > 0
    assert value(s, "plaza_sessions") == 1
    # Bo's visit reaches SQLite with the next flush.
    await until(lambda s: value(s, "plaza_sqlite_flush_seconds_count") >= 1, http, server.url)

    # Suggestions (HTTP) once the recommender has built its model.
    async def recommended() -> bool:
        async with http.get(server.url + "/api/recommendations") as r:
            assert r.status == 200
            return bool((await r.json())["items"])

    await eventually(recommended, timeout=30, interval=0.3, what="the recommender never answered")
    _, s = await scrape(http, server.url)
    assert value(s, "plaza_recommender_latency_seconds_count") >= 1
    assert value(s, "plaza_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    await a.ws.close()


# ----- in process: separate registries, health -------------------------------------------------
@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[tuple[web.Application, TestServer, aiohttp.ClientSession]]:
    config = ServerConfig(
        data_dir=tmp_path, recommender=False, watch=False, generate_placeholders=False, flush_every_s=0.1
    )
    app = create_app(config)
    async with TestServer(app) as srv, aiohttp.ClientSession() as http:
        yield app, srv, http


async def health(http: aiohttp.ClientSession, srv: TestServer) -> tuple[int, dict[str, Any]]:
    async with http.get(srv.make_url("/api/health")) as r:
        return r.status, await r.json()


async def visit(http: aiohttp.ClientSession, srv: TestServer) -> None:
    """Join the lobby and leave: a visit for the write-behind to store."""
    async with http.ws_connect(srv.make_url("/ws")) as ws:
        await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": [1], "name": "Ada", "world": "lobby"}]))
        m = msgpack.unpackb((await ws.receive(timeout=5)).data, strict_map_key=False)
        assert m[0] == MsgType.WELCOME


async def test_two_apps_in_one_process_keep_their_own_metrics(tmp_path: Path) -> None:
    apps = [
        create_app(ServerConfig(data_dir=tmp_path / n, recommender=False, watch=False, generate_placeholders=False))
        for n in ("one", "two")
    ]
    async with TestServer(apps[0]) as one, TestServer(apps[1]) as two, aiohttp.ClientSession() as http:
        await visit(http, one)
        _, s1 = await scrape(http, str(one.make_url("")).rstrip("/"))
        _, s2 = await scrape(http, str(two.make_url("")).rstrip("/"))
    assert value(s1, "plaza_ws_bytes_out_total") > 0
    assert value(s2, "plaza_ws_bytes_out_total") == 0
    assert value(s2, "plaza_ws_messages_in_total") == 0


async def test_health_names_a_dead_tick(local: tuple[web.Application, TestServer, aiohttp.ClientSession]) -> None:
    app, srv, http = local
    assert (await health(http, srv))[0] == 200
    tick = next(d for d in app[DUTIES] if d.name == "tick:lobby")
    assert tick.task is not None
    tick.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await tick.task
    status, body = await health(http, srv)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["problems"] == ["tick:lobby is dead"]
    assert next(d for d in body["duties"] if d["name"] == "tick:lobby")["alive"] is False


async def test_health_names_a_stuck_flusher_and_recovers(
    local: tuple[web.Application, TestServer, aiohttp.ClientSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, srv, http = local
    entered, release = threading.Event(), threading.Event()
    real_write = WriteBehind.write

    def hanging_write(self: WriteBehind, batch: Any) -> float:  # a disk that stopped answering
        entered.set()
        release.wait(30)
        return real_write(self, batch)

    monkeypatch.setattr(WriteBehind, "write", hanging_write)
    save = next(d for d in app[DUTIES] if d.name == "save")
    try:
        await visit(http, srv)
        assert await asyncio.to_thread(entered.wait, 5), "the save step never wrote"
        status, body = await health(http, srv)
        assert status == 200  # blocked for a moment only: not stuck yet
        # As if a minute went by with the write still hanging (stuck means no run finished for
        # max(10 periods, 10 s)): the duty's last finished run moves a minute back.
        runs = save.runs
        save.last_end = save.started = asyncio.get_running_loop().time() - 60.0
        status, body = await health(http, srv)
        assert status == 503
        assert body["problems"] == ["save is stuck"]
        state = next(d for d in body["duties"] if d["name"] == "save")
        assert state["alive"] is True and state["stuck"] is True
    finally:
        release.set()
    await eventually(lambda: save.runs != runs, timeout=5, what="a save run after the disk answered")
    assert (await health(http, srv))[0] == 200
    _, s = await scrape(http, str(srv.make_url("")).rstrip("/"))
    assert value(s, "plaza_sqlite_flush_seconds_count") >= 1
    assert value(s, "plaza_duty_runs_total", duty="save") >= 1


# ----- logs -------------------------------------------------------------------------------------
async def test_a_server_without_a_terminal_logs_one_json_event_a_line(tmp_path: Path) -> None:
    srv = ServerProcess.in_dir(tmp_path, REPO / "worlds")
    try:
        async with aiohttp.ClientSession() as http:
            a = await join(http, srv, "Ada")
            await a.ws.send_str("frames must be binary")  # a bad frame: the server closes the session
            await a.ws.receive(timeout=5)
            await a.ws.close()
            async with http.get(srv.url + "/api/health") as r:
                assert r.status == 200
    finally:
        srv.stop()
    lines = (srv.data_dir / "server.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]  # every line, the start-up message included
    for e in events:
        assert {"ts", "level", "logger", "msg"} <= set(e), e
        assert e["ts"].endswith("Z") and e["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    assert any(e["msg"].startswith("Plaza on http://127.0.0.1:") for e in events)
    closing = [e for e in events if e["msg"].startswith("closing session")]
    assert len(closing) == 1, closing
    assert closing[0]["logger"] == "plaza.edge"
    assert isinstance(closing[0]["session"], int)  # the session id (not the WELCOME entity id)
    assert closing[0]["world"] == "lobby" and closing[0]["instance"].startswith("lobby")
    assert any(e["logger"] == "aiohttp.access" and "/api/health" in e["msg"] for e in events)


def _record(msg: str, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    r = logging.LogRecord("plaza.hub", logging.ERROR, __file__, 1, msg, ("lobby#1",), exc_info)
    r.__dict__.update(extra)
    return r


def test_json_and_text_formats_carry_the_context() -> None:
    rec = _record("tick of instance %s failed", exc=True, world="lobby", instance="lobby#1")
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    e = json.loads(line)
    assert e["msg"] == "tick of instance lobby#1 failed" and e["level"] == "ERROR" and e["logger"] == "plaza.hub"
    assert (e["world"], e["instance"]) == ("lobby", "lobby#1") and "session" not in e
    assert "ValueError: boom" in e["exc"]
    text = TextFormatter().format(_record("tick of instance %s failed", session=3))
    assert text.endswith("ERROR plaza.hub: tick of instance lobby#1 failed [session=3]")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_json_unless_stderr_is_a_terminal() -> None:
    assert wants_json("auto", io.StringIO()) is True
    assert wants_json("auto", _Tty()) is False
    assert wants_json("json", _Tty()) is True
    assert wants_json("text", io.StringIO()) is False


def test_finished_jobs_are_observed_once_and_the_queue_is_read_not_changed() -> None:
    q = JobQueue(lambda prompt, seed, progress: None, workers=1)
    try:
        job = q.submit("a tall pine tree", user="ada")
        assert q.wait(job, timeout=5).state == "done"
        m = Metrics()
        for _ in range(3):  # every scrape sees the job; it is counted once
            m.observe_jobs(q.snapshot())
        _, s = parse(generate_latest(m.registry).decode())
        assert value(s, "plaza_asset_job_duration_seconds_count", state="done") == 1
        assert q.get(job).state == "done" and len(q.snapshot()) == 1
    finally:
        q.shutdown()
