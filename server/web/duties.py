"""The one periodic helper every background duty runs on: world ticks, saving state, hosting
duties, recommendations, asset follow-ups.

Each duty runs on a drift-free schedule (``next += period``, resynchronised after a stall
instead of bursting), survives its own failures (logged, counted, retried next period), and
reports when it last finished, so ``/api/health`` can tell a dead or stuck duty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

log = logging.getLogger("plaza.duties")

Step = Callable[[], Awaitable[None]]
Observer = Callable[[str, float, float], None]  # (duty, lateness s, duration s)


@dataclass(slots=True)
class Duty:
    name: str
    period: float
    step: Step
    task: asyncio.Task[None] | None = None
    runs: int = 0
    failures: int = 0
    started: float = 0.0
    last_end: float = 0.0
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=2400))

    def stuck(self, now: float) -> bool:
        """No run finished for a long while (a step that hangs, or a loop that died)."""
        last = self.last_end or self.started
        return now - last > max(10 * self.period, 10.0)

    def state(self, now: float) -> dict[str, object]:
        alive = self.task is not None and not self.task.done()
        return {
            "name": self.name,
            "alive": alive,
            "stuck": alive and self.stuck(now),
            "runs": self.runs,
            "failures": self.failures,
        }


class Duties:
    def __init__(self) -> None:
        self._duties: dict[str, Duty] = {}
        self.observers: list[Observer] = []

    def __contains__(self, name: str) -> bool:
        return name in self._duties

    def __iter__(self) -> Iterator[Duty]:
        return iter(list(self._duties.values()))

    def start(self, name: str, period: float, step: Step, first_delay: float | None = None) -> Duty:
        """Run ``step`` every ``period`` seconds, the first time after ``first_delay`` (default: one period)."""
        if name in self._duties:
            raise ValueError(f"duty {name} is already running")
        loop = asyncio.get_running_loop()
        duty = Duty(name, period, step, started=loop.time())
        duty.task = loop.create_task(self._run(duty, period if first_delay is None else first_delay), name=name)
        self._duties[name] = duty
        return duty

    async def stop(self, name: str) -> None:
        duty = self._duties.pop(name, None)
        if duty is not None and duty.task is not None:
            duty.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await duty.task

    async def stop_all(self) -> None:
        for name in list(self._duties):
            await self.stop(name)

    def health(self, now: float) -> list[dict[str, object]]:
        return [d.state(now) for d in self._duties.values()]

    async def _run(self, duty: Duty, first_delay: float) -> None:
        loop = asyncio.get_running_loop()
        next_t = loop.time() + first_delay
        while True:
            delay = next_t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            begin = loop.time()
            late = max(0.0, begin - next_t)
            if late > 5 * duty.period:
                next_t = begin  # far behind (machine stalled): resync, don't burst
            try:
                await duty.step()
            except Exception:
                duty.failures += 1
                log.exception("%s failed; will retry", duty.name)
            end = loop.time()
            duty.runs += 1
            duty.last_end = end
            duty.lateness.append(late)
            for obs in self.observers:
                obs(duty.name, late, end - begin)
            next_t += duty.period
