"""Prometheus metrics at ``GET /metrics`` (the text exposition format; not a JSON API route).

Every app has its own ``CollectorRegistry`` (never prometheus_client's global one), so several
apps in one process — the tests — keep separate numbers. Two kinds of metric live here:

- observed as things happen: tick duration and lateness per world (``Duties.observers``), HTTP
  requests (a middleware), the SQLite flush (the ``save`` duty), recommender latency
  (``suggestions``), asset job durations (taken from the job queue at each scrape);
- read at scrape time from counters the hot paths keep anyway (``Edge.counters``,
  ``Edge.closes``, ``Hub.rate_limited``, ``Duty.failures``, ...): a frame costs an integer add,
  never a prometheus_client call.

The names are listed in docs/server.md ("Operating it").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from server.web.keys import ASSETS, DUTIES, EDGE, HUB

# A world ticks every 50 ms (20 Hz) by default: fine steps below a tick, coarse ones above.
TICK_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5)
FLUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
RECOMMEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
JOB_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

TICK_PREFIX = "tick:"


class Metrics:
    """The registry of one app and the metrics observed as things happen."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.tick_seconds = Histogram(
            "plaza_tick_duration_seconds", "Time one world tick took (all its instances, and delivery)",
            ["world"], buckets=TICK_BUCKETS, registry=r,
        )  # fmt: skip
        self.tick_lateness = Histogram(
            "plaza_tick_lateness_seconds", "How late a world tick started against its schedule",
            ["world"], buckets=TICK_BUCKETS, registry=r,
        )  # fmt: skip
        self.flush_seconds = Histogram(
            "plaza_sqlite_flush_seconds", "Time one write-behind batch took to reach SQLite",
            buckets=FLUSH_BUCKETS, registry=r,
        )  # fmt: skip
        self.recommend_seconds = Histogram(
            "plaza_recommender_latency_seconds", "Time to score one person's suggestions (HTTP or pushed)",
            buckets=RECOMMEND_BUCKETS, registry=r,
        )  # fmt: skip
        self.recommend_answers = Counter(
            "plaza_recommender_answers", "Suggestions answered, by whether a stored answer was still the model's",
            ["source"], registry=r,
        )  # fmt: skip
        self.http_requests = Counter(
            "plaza_http_requests", "HTTP requests answered, by route template and status",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "plaza_http_request_duration_seconds", "Time to answer an HTTP request (WebSocket upgrades excluded)",
            ["route"], buckets=HTTP_BUCKETS, registry=r,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "plaza_asset_job_duration_seconds", "Time an asset generation job ran, by how it ended",
            ["state"], buckets=JOB_BUCKETS, registry=r,
        )  # fmt: skip
        self._ticks: dict[str, tuple[Histogram, Histogram]] = {}  # world -> its labelled children
        self._jobs_seen: set[str] = set()

    def observe_duty(self, name: str, lateness_s: float, duration_s: float) -> None:
        """A ``Duties`` observer: world ticks into the per-world histograms."""
        if not name.startswith(TICK_PREFIX):
            return
        pair = self._ticks.get(name)
        if pair is None:
            world = name[len(TICK_PREFIX) :]
            pair = self._ticks[name] = (self.tick_seconds.labels(world), self.tick_lateness.labels(world))
        pair[0].observe(duration_s)
        pair[1].observe(lateness_s)

    def observe_jobs(self, jobs: list[Any]) -> None:
        """Finished asset jobs not seen before into ``plaza_asset_job_duration_seconds``. The
        queue keeps finished jobs for an hour, so a scrape at least that often sees every one."""
        kept: set[str] = set()
        for job in jobs:
            kept.add(job.id)
            if job.finished is None or job.id in self._jobs_seen:
                continue
            self._jobs_seen.add(job.id)
            if job.started is not None:  # failed while queued (shutdown): it never ran
                self.job_seconds.labels(str(job.state)).observe(max(0.0, job.finished - job.started))
        self._jobs_seen &= kept  # forget jobs the queue itself has dropped


METRICS = web.AppKey("metrics", Metrics)


class AppCollector:
    """Gauges and counters read from the app's own state at each scrape."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        app = self.app
        hub, edge = app[HUB], app[EDGE]
        yield GaugeMetricFamily("plaza_sessions", "Open WebSocket sessions (joined or not)", value=len(hub.sessions))
        instances = GaugeMetricFamily("plaza_instances", "Open instances of each world", labels=["world"])
        people = GaugeMetricFamily("plaza_people", "People in the instances of each world", labels=["world"])
        for world, group in list(hub.instances.items()):
            instances.add_metric([world], len(group))
            people.add_metric([world], sum(i.population for i in group))
        yield instances
        yield people
        c = edge.counters
        for key, name, doc in (
            ("frames_in", "plaza_ws_messages_in", "WebSocket frames received"),
            ("frames_out", "plaza_ws_messages_out", "WebSocket frames sent"),
            ("bytes_in", "plaza_ws_bytes_in", "WebSocket payload bytes received"),
            ("bytes_out", "plaza_ws_bytes_out", "WebSocket payload bytes sent"),
            ("slow_skips", "plaza_slow_client_skips", "Updates skipped for a backlogged (slow) client"),
        ):
            yield CounterMetricFamily(name, doc, value=c.get(key, 0))
        closes = CounterMetricFamily("plaza_ws_closes", "Sessions the server closed, by reason", labels=["reason"])
        for reason, n in sorted(edge.closes.items()):
            closes.add_metric([reason], n)
        yield closes
        yield CounterMetricFamily("plaza_rate_limited", "Messages dropped by the rate limit", value=hub.rate_limited)
        ticks = CounterMetricFamily(
            "plaza_instance_tick_failures", "Instance ticks that raised (the others went on)", labels=["instance"]
        )
        for key, n in sorted(hub.tick_failures.items()):
            ticks.add_metric([key], n)
        yield ticks
        failures = CounterMetricFamily("plaza_duty_failures", "Background duty runs that raised", labels=["duty"])
        runs = CounterMetricFamily("plaza_duty_runs", "Background duty runs", labels=["duty"])
        for d in app[DUTIES]:
            failures.add_metric([d.name], d.failures)
            runs.add_metric([d.name], d.runs)
        yield failures
        yield runs
        jobs = app[ASSETS].jobs()
        queued = sum(1 for j in jobs if str(j.state) == "queued")
        running = sum(1 for j in jobs if str(j.state) == "running")
        yield GaugeMetricFamily("plaza_asset_jobs_queued", "Asset generation jobs waiting (0 until used)", value=queued)
        yield GaugeMetricFamily("plaza_asset_jobs_running", "Asset generation jobs running", value=running)


def setup(app: web.Application) -> Metrics:
    """Create the app's metrics and hook them to its duties and HTTP requests (``create_app``
    routes ``GET /metrics`` to ``serve_metrics``)."""
    metrics = Metrics()
    metrics.registry.register(AppCollector(app))
    app[METRICS] = metrics
    app[DUTIES].observers.append(metrics.observe_duty)
    app.middlewares.insert(0, http_middleware)  # outermost: it counts what the client got
    return metrics


async def serve_metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    metrics.observe_jobs(request.app[ASSETS].jobs())
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(body=encode(metrics.registry), headers={"Content-Type": content_type})


@web.middleware
async def http_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count every answer by route template (bounded: ``/api/worlds/{world}``, never the path).
    The outermost middleware, so it sees the status the error middleware settled on."""
    t0 = time.perf_counter()
    try:
        resp = await handler(request)
    except web.HTTPException as e:  # redirects and 101s pass the error middleware as exceptions
        _count(request, e.status, t0)
        raise
    except Exception:
        _count(request, 500, t0)
        raise
    _count(request, resp.status, t0)
    return resp


def _count(request: web.Request, status: int, t0: float) -> None:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    metrics = request.app[METRICS]
    metrics.http_requests.labels(request.method, route, str(status)).inc()
    if status != 101:  # a WebSocket's "request" lasts as long as its session
        metrics.http_seconds.labels(route).observe(time.perf_counter() - t0)
