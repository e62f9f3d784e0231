"""Waiting for something observable instead of sleeping a fixed time: a bounded poll."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    pred: Callable[[], Awaitable[T | None]], timeout: float = ..., interval: float = ..., what: str = ...
) -> T: ...
@overload
async def eventually(
    pred: Callable[[], T | None], timeout: float = ..., interval: float = ..., what: str = ...
) -> T: ...
async def eventually(pred: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> Any:
    """Call ``pred`` (plain or async) every ``interval`` s until it returns something truthy, and
    return that; fail the test once ``timeout`` s have passed without it."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or getattr(pred, '__name__', 'condition')}")
        await asyncio.sleep(interval)


def wait_until(pred: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> T:
    """``eventually`` for code without an event loop (threads, child processes)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or getattr(pred, '__name__', 'condition')}")
        time.sleep(interval)
