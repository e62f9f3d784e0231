"""Sliding-window counters for "at most N of these per person (or address) per period".

In memory (a restart resets them), bounded in size, thread-safe (identity's methods may run in
a worker thread while the event loop uses the same limiter). ``now`` is passed in.

API::

    WindowLimiter(rules=[(max, window_s), ...], max_keys=100_000)
        .check(key, now) -> None       # raises RateLimited(retry_after_s, ...) when a rule is full
        .hit(key, now) -> None         # count one
        .take(key, now) -> None        # check + hit
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence

from server.hosting.errors import HostingError, RateLimited


class WindowLimiter:
    def __init__(
        self,
        rules: Sequence[tuple[int, float]],
        error: Callable[[float], HostingError] | None = None,
        max_keys: int = 100_000,
    ) -> None:
        if not rules:
            raise ValueError("at least one (max, window_s) rule")
        self.rules = sorted(rules, key=lambda r: r[1])
        self.longest = self.rules[-1][1]
        self.max_keys = max_keys
        self._error = error or (lambda after: RateLimited(after))
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.longest:
            q.popleft()

    def check(self, key: str, now: float) -> None:
        with self._lock:
            q = self._hits.get(key)
            if not q:
                return
            self._trim(q, now)
            for most, window in self.rules:
                inside = [t for t in q if t > now - window]
                if len(inside) >= most:
                    # Free again when the oldest hit inside the window leaves it.
                    raise self._error(inside[len(inside) - most] + window - now)

    def hit(self, key: str, now: float) -> None:
        with self._lock:
            q = self._hits.setdefault(key, deque())
            q.append(now)
            self._trim(q, now)
            if len(self._hits) > self.max_keys:
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.longest]:
                    del self._hits[k]

    def take(self, key: str, now: float) -> None:
        self.check(key, now)
        self.hit(key, now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
