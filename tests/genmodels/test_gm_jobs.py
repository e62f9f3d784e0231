"""Spec: the job queue runs generation in worker threads with limits and clear errors."""

import threading
import time

import pytest

from genmodels.jobs import JobQueue, JobState, PromptError, QueueFull, RateLimited
from tests.waiting import wait_until


class FakeAsset:
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.notes = ["fake"]


def stepping(n: int = 4, delay: float = 0.01):
    def generate(prompt, seed, progress):
        for i in range(n):
            time.sleep(delay)  # the "work" of a step
            progress((i + 1) / n)
        return FakeAsset(prompt)

    return generate


def test_submit_returns_id_then_progress_then_done() -> None:
    q = JobQueue(stepping(5, 0.02))
    seen: list[float] = []
    job_id = q.submit("a tall pine tree", seed=2, user="alice")
    assert isinstance(job_id, str) and job_id
    while (job := q.get(job_id)).state in (JobState.QUEUED, JobState.RUNNING):
        seen.append(job.progress)
        time.sleep(0.005)  # sampling the progress while it runs (the loop ends with the job)
    assert job.state == JobState.DONE and job.progress == 1.0
    assert job.result.prompt == "a tall pine tree" and "fake" in job.notes
    assert any(0 < p < 1 for p in seen), "progress should be visible while running"
    q.shutdown()


def test_concurrency_limit_is_never_exceeded() -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def generate(prompt, seed, progress):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)  # the "work": long enough for the jobs to overlap
        with lock:
            active[0] -= 1
        return FakeAsset(prompt)

    q = JobQueue(generate, workers=2, rate_limit=100)
    ids = [q.submit(f"a rock {i}", user=f"u{i}") for i in range(6)]
    jobs = [q.wait(i, timeout=5) for i in ids]
    assert all(j.state == JobState.DONE for j in jobs)
    assert peak[0] == 2
    q.shutdown()


def test_per_user_rate_limit_with_sliding_window() -> None:
    now = [100.0]
    q = JobQueue(stepping(1, 0), rate_limit=2, rate_window_s=60, clock=lambda: now[0])
    q.submit("a tree", user="bob")
    q.submit("a tree", user="bob")
    with pytest.raises(RateLimited, match="2 generations per 60s"):
        q.submit("a tree", user="bob")
    q.submit("a tree", user="carol")  # other users are unaffected
    now[0] += 61
    q.submit("a tree", user="bob")  # window slid
    q.shutdown()


def test_queue_full_is_refused() -> None:
    gate = threading.Event()

    def blocked(prompt, seed, progress):
        gate.wait(5)
        return FakeAsset(prompt)

    q = JobQueue(blocked, workers=1, max_pending=1, rate_limit=100)
    first = q.submit("a tree")
    wait_until(lambda: q.get(first).state == JobState.RUNNING, timeout=2, interval=0.005)
    q.submit("a tree")  # waits in the queue
    with pytest.raises(QueueFull):
        q.submit("a tree")
    gate.set()
    q.shutdown()


def test_timeout_stops_the_job_at_its_next_progress_report() -> None:
    q = JobQueue(stepping(50, 0.02), timeout_s=0.1)
    job = q.wait(q.submit("a lamp"), timeout=5)
    assert job.state == JobState.TIMEOUT
    assert "timed out after 0.1s" in job.error
    q.shutdown()


def test_failures_are_reported_on_the_job_and_worker_survives() -> None:
    def broken(prompt, seed, progress):
        if "boom" in prompt:
            raise RuntimeError("model exploded")
        return FakeAsset(prompt)

    q = JobQueue(broken, rate_limit=100)
    bad = q.wait(q.submit("a boom tree"), timeout=5)
    assert bad.state == JobState.FAILED and "model exploded" in bad.error
    assert q.wait(q.submit("a tree"), timeout=5).state == JobState.DONE
    q.shutdown()


@pytest.mark.parametrize(("prompt", "message"), [("", "empty"), ("   ", "empty"), ("tree " * 60, "too long")])
def test_bad_prompts_are_rejected_at_submit_with_a_clear_message(prompt: str, message: str) -> None:
    q = JobQueue(stepping())
    with pytest.raises(PromptError, match=message):
        q.submit(prompt)
    q.shutdown()


def test_what_the_prompt_check_notices_is_noted_on_the_job() -> None:
    # the queue's own notes are generator-neutral (the generator adds what it understood)
    q = JobQueue(stepping(1, 0))
    job = q.wait(q.submit("a 9 m tall pine tree"), timeout=5)
    assert job.state == JobState.DONE
    assert any("drawing 5 m" in n for n in job.notes)
    job = q.wait(q.submit("a 赤い chair"), timeout=5)
    assert job.prompt == "a chair" and any("other scripts" in n for n in job.notes)
    q.shutdown()


def test_unknown_job_id_is_a_key_error() -> None:
    q = JobQueue(stepping())
    with pytest.raises(KeyError, match="unknown job id"):
        q.get("nope")
    q.shutdown()


def test_shutdown_does_not_work_through_the_backlog() -> None:
    q = JobQueue(stepping(50, 0.02), rate_limit=100)  # each job ~1 s, in 50 progress steps
    ids = [q.submit(f"a rock {i}", user="u") for i in range(4)]
    wait_until(lambda: q.get(ids[0]).state != JobState.QUEUED, timeout=5, interval=0.005)
    t0 = time.monotonic()
    q.shutdown()
    assert time.monotonic() - t0 < 0.5  # not the ~3 s the backlog would take
    jobs = [q.get(i) for i in ids]
    assert all(j.state == JobState.FAILED and "shutting down" in (j.error or "") for j in jobs)


def test_finished_jobs_are_dropped_after_keep_finished_s() -> None:
    now = [1000.0]
    q = JobQueue(stepping(1, 0), rate_limit=100, keep_finished_s=3600, clock=lambda: now[0])
    old = q.wait(q.submit("a tree"), timeout=5)
    assert old.state == JobState.DONE
    now[0] += 3599
    assert q.get(old.id).state == JobState.DONE  # still within the hour
    now[0] += 2
    with pytest.raises(KeyError, match="unknown job id"):  # the same answer as for an id never seen
        q.get(old.id)
    with pytest.raises(KeyError):
        q.wait(old.id, timeout=1)
    fresh = q.wait(q.submit("a rock"), timeout=5)
    assert q.get(fresh.id).state == JobState.DONE
    q.shutdown()


def test_at_most_keep_finished_jobs_are_kept_oldest_dropped_first() -> None:
    q = JobQueue(stepping(1, 0), rate_limit=100, keep_finished=3)
    ids = [q.wait(q.submit(f"a rock {i}", user=f"u{i}"), timeout=5).id for i in range(5)]
    for gone in ids[:2]:
        with pytest.raises(KeyError):
            q.get(gone)
    assert [q.get(i).state for i in ids[2:]] == [JobState.DONE] * 3
    assert len(q._jobs) == 3  # memory is bounded by the count, not by the server's uptime
    q.shutdown()


def test_queued_and_running_jobs_are_never_dropped() -> None:
    gate = threading.Event()

    def blocked(prompt, seed, progress):
        gate.wait(5)
        return FakeAsset(prompt)

    now = [0.0]
    q = JobQueue(blocked, rate_limit=100, keep_finished=5, keep_finished_s=1, clock=lambda: now[0])
    running, queued = q.submit("a tree"), q.submit("a rock")
    now[0] += 10_000
    last = q.submit("a lamp")  # submitting prunes; nothing here has finished, so nothing goes
    assert q.get(running).state in (JobState.QUEUED, JobState.RUNNING)
    assert q.get(queued).state == JobState.QUEUED
    gate.set()
    assert q.wait(last, timeout=5).state == JobState.DONE
    assert q.get(queued).state == JobState.DONE  # finished just now: kept for keep_finished_s
    now[0] += 2
    for gone in (running, queued, last):
        with pytest.raises(KeyError):
            q.get(gone)
    q.shutdown()


def test_rate_limit_stamps_of_users_gone_quiet_are_swept() -> None:
    now = [0.0]
    q = JobQueue(stepping(1, 0), max_pending=100, rate_limit=100, rate_window_s=60, clock=lambda: now[0])
    for i in range(50):
        q.submit("a tree", user=f"visitor{i}")
    now[0] += 61
    q.submit("a tree", user="regular")
    assert set(q._recent) == {"regular"}
    q.shutdown()
