"""A scheduled show in the "plaza" world for the event tests (an hour after ``NOW``)."""

from __future__ import annotations

from server.hosting import EventInfo
from tests.hosting.conftest import NOW

START = NOW + 3600


def show(capacity: int | None = 2, key: str = "plaza/show") -> EventInfo:
    return EventInfo(
        key=key, world="plaza", id=key.split("/")[1], title="Show", start=START, end=START + 1800,
        host="DJ", capacity=capacity, stage="stage",
    )  # fmt: skip
