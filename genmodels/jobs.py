"""Job queue with an in-process worker pool (threads, no asyncio).

    q = JobQueue(gen.generate, workers=1, rate_limit=5, rate_window_s=60, timeout_s=60)
    job_id = q.submit("a tall pine tree", seed=1, user="alice")   # raises PromptError/RateLimited/QueueFull
    q.get(job_id)    # Job snapshot: state queued|running|done|failed|timeout, progress 0..1, asset, error, notes
    q.wait(job_id, timeout=30)
    q.shutdown()

``workers`` is the concurrency limit (jobs running at once); ``max_pending`` bounds the
backlog so a flood cannot grow memory; ``rate_limit`` submissions per user per sliding
``rate_window_s``.  Timeouts are cooperative: the progress callback handed to the
generate function raises ``JobTimeout`` once the job is past its deadline (Python threads
cannot be killed), and a result that arrives late is discarded and reported as timeout.
Errors are stored as user-facing strings on the job.  ``shutdown`` fails what is still
queued and stops the running job at its next progress report.

Finished jobs (done, failed, timeout) are kept for ``keep_finished_s`` (an hour) and at most
``keep_finished`` (1,000) of them, oldest dropped first, so a long-running server's memory
stays bounded; ``get``/``wait`` of a dropped job raise ``KeyError`` as for an unknown id.
Queued and running jobs are never dropped. Per-user rate-limit stamps older than the window
are swept too.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from genmodels.prompts import PromptError, check_prompt, check_seed

GenerateFn = Callable[[str, int, Callable[[float], None]], Any]

__all__ = ["Job", "JobError", "JobQueue", "JobState", "JobTimeout", "PromptError", "QueueFull", "RateLimited"]


SHUTTING_DOWN = "generation stopped: the server is shutting down; try again when it is back"


class JobError(Exception):
    """Base for queue errors raised at submit time; messages are user-facing."""


class RateLimited(JobError):
    pass


class QueueFull(JobError):
    pass


class JobTimeout(JobError):
    pass


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"


@dataclass
class Job:
    id: str
    user: str
    prompt: str
    seed: int
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    result: Any = None  # whatever generate returned (an api.Asset in production)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def finished_ok(self) -> bool:
        return self.state == JobState.DONE


class JobQueue:
    def __init__(
        self,
        generate: GenerateFn,
        workers: int = 1,
        max_pending: int = 32,
        rate_limit: int = 5,
        rate_window_s: float = 60.0,
        timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        keep_finished: int = 1000,
        keep_finished_s: float = 3600.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if keep_finished < 1:
            raise ValueError("keep_finished must be >= 1")
        self._generate = generate
        self.max_pending = max_pending
        self.rate_limit = rate_limit
        self.rate_window_s = rate_window_s
        self.timeout_s = timeout_s
        self._clock = clock
        self.keep_finished = keep_finished
        self.keep_finished_s = keep_finished_s
        self._jobs: dict[str, Job] = {}
        self._finished: deque[str] = deque()  # ids of finished jobs, in the order they finished
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._swept = clock()  # when stale rate-limit stamps were last dropped
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._running = 0
        self._closing = False
        self._threads = [
            threading.Thread(target=self._work, name=f"genmodels-worker-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # -------------------------------------------------------------- public
    def submit(self, prompt: str, seed: int = 0, user: str = "anonymous") -> str:
        clean, notes = check_prompt(prompt)  # PromptError surfaces immediately, never queued
        seed = check_seed(seed)
        now = self._clock()
        with self._lock:
            self._prune(now)
            recent = self._recent[user]
            while recent and now - recent[0] >= self.rate_window_s:
                recent.popleft()
            if len(recent) >= self.rate_limit:
                wait = self.rate_window_s - (now - recent[0])
                raise RateLimited(
                    f"rate limit: {self.rate_limit} generations per {self.rate_window_s:g}s; retry in {wait:.0f}s"
                )
            pending = sum(1 for j in self._jobs.values() if j.state == JobState.QUEUED)
            if pending >= self.max_pending:
                raise QueueFull(f"generation queue is full ({self.max_pending} waiting); try again shortly")
            recent.append(now)
            job = Job(uuid.uuid4().hex[:16], user, clean, int(seed), created=now, notes=list(notes))
            self._jobs[job.id] = job
        self._queue.put(job.id)
        return job.id

    def get(self, job_id: str) -> Job:
        """A snapshot copy (safe to read while the worker updates the job)."""
        with self._lock:
            self._prune(self._clock())
            job = self._job(job_id)
            return replace(job, notes=list(job.notes))

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        end = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while (job := self._job(job_id)).state in (JobState.QUEUED, JobState.RUNNING):
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._done.wait(left)
            return replace(job, notes=list(job.notes))

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    def snapshot(self) -> list[Job]:
        """Copies of every job still kept (queued, running, finished within retention): metrics."""
        with self._lock:
            return [replace(j, notes=list(j.notes)) for j in self._jobs.values()]

    def shutdown(self, wait: bool = True) -> None:
        """Stop soon: queued jobs end as failed, a running one stops at its next progress report.

        A server stopping must not first work through a backlog of generations nobody will see.
        """
        with self._done:
            self._closing = True
            for job in self._jobs.values():
                if job.state == JobState.QUEUED:
                    job.state, job.error, job.finished = JobState.FAILED, SHUTTING_DOWN, self._clock()
                    self._finished.append(job.id)
            self._done.notify_all()
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join()

    # -------------------------------------------------------------- retention
    def _job(self, job_id: str) -> Job:
        """The job (lock held); ``KeyError`` for an id never seen or already dropped."""
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"unknown job id {job_id!r}")
        return job

    def _prune(self, now: float) -> None:
        """Drop finished jobs past ``keep_finished_s`` or beyond the newest ``keep_finished``
        (lock held), and users' rate-limit stamps that have left the window."""
        done = self._finished
        while done:
            first = self._jobs.get(done[0])
            too_old = first is None or first.finished is None or now - first.finished > self.keep_finished_s
            if not too_old and len(done) <= self.keep_finished:
                break
            self._jobs.pop(done.popleft(), None)
        if now - self._swept >= self.rate_window_s:
            self._swept = now
            for user in [u for u, r in self._recent.items() if not r or now - r[-1] >= self.rate_window_s]:
                del self._recent[user]

    # -------------------------------------------------------------- worker
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.state != JobState.QUEUED:  # failed by shutdown while it waited
                    continue
                job.state, job.started = JobState.RUNNING, self._clock()
                self._running += 1
            deadline = job.started + self.timeout_s

            def progress(frac: float, job: Job = job, deadline: float = deadline) -> None:
                if self._closing:
                    raise JobError(SHUTTING_DOWN)
                if self._clock() > deadline:
                    raise JobTimeout(f"generation timed out after {self.timeout_s:g}s")
                with self._lock:
                    job.progress = max(job.progress, min(float(frac), 1.0))

            state, result, error = JobState.DONE, None, None
            try:
                result = self._generate(job.prompt, job.seed, progress)
                if self._clock() > deadline:
                    state, result, error = JobState.TIMEOUT, None, f"generation timed out after {self.timeout_s:g}s"
            except JobTimeout as err:
                state, error = JobState.TIMEOUT, str(err)
            except JobError as err:
                state, error = JobState.FAILED, str(err)
            except Exception as err:
                state, error = JobState.FAILED, f"{type(err).__name__}: {err}"
            with self._done:
                job.state, job.result, job.error, job.finished = state, result, error, self._clock()
                if state == JobState.DONE:
                    job.progress = 1.0
                    job.notes += list(getattr(result, "notes", []) or [])
                self._running -= 1
                self._finished.append(job.id)
                self._prune(job.finished)
                self._done.notify_all()
