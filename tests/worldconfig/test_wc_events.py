"""Event times: time zones, weekly recurrence across DST, overlap detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from server.worldconfig import Event, first_overlap

BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC


def ev(**kw) -> Event:
    base = {"id": "e", "title": "E", "duration_minutes": 60, "host": "ana"}
    return Event.model_validate({**base, **kw})


def test_local_start_with_timezone_is_aware() -> None:
    e = ev(start=datetime(2026, 10, 19, 19, 0), timezone="Europe/Berlin")
    assert e.start.tzinfo is not None and e.start.utcoffset() == timedelta(hours=2)


def test_weekly_keeps_local_time_across_dst() -> None:
    # Berlin leaves summer time on 2026-10-25: 19:00 local stays 19:00 local,
    # so the UTC time moves from 17:00 to 18:00.
    e = ev(start=datetime(2026, 10, 19, 19, 0), timezone="Europe/Berlin", recurrence="weekly")
    occ = e.occurrences(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert [o.start.astimezone(UTC).hour for o in occ] == [17, 18, 18]
    assert all(o.start.astimezone(BERLIN).hour == 19 for o in occ)
    assert all(o.end - o.start == timedelta(minutes=60) for o in occ)


def test_fixed_offset_weekly_keeps_utc_time() -> None:
    e = ev(
        start=datetime(2026, 10, 19, 19, 0, tzinfo=timezone(timedelta(hours=2))),
        recurrence="weekly",
    )
    occ = e.occurrences(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert [o.start.astimezone(UTC).hour for o in occ] == [17, 17, 17]


def test_occurrence_window_and_ongoing() -> None:
    e = ev(start=datetime(2026, 1, 5, 10, 0, tzinfo=UTC), recurrence="weekly")
    # 10:30 on a Monday: that morning's session is still running, so it counts.
    after = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)
    occ = e.occurrences(after, after + timedelta(days=14))
    assert [o.start.date() for o in occ] == [date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 15)]
    assert e.occurrences(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC)) == []


def test_recurrence_until_is_inclusive() -> None:
    e = ev(
        start=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        recurrence="weekly",
        recurrence_until=date(2026, 1, 19),
    )
    occ = e.occurrences(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [o.start.day for o in occ] == [5, 12, 19]


def test_one_off() -> None:
    e = ev(start=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    assert len(e.occurrences(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))) == 1
    assert e.occurrences(datetime(2026, 3, 1, 13, 0, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == []


def test_offset_must_match_timezone() -> None:
    with pytest.raises(ValidationError) as exc:
        ev(
            start=datetime(2026, 7, 1, 19, 0, tzinfo=timezone(timedelta(hours=1))),
            timezone="Europe/Berlin",
        )
    assert "expected start's offset to match timezone Europe/Berlin (+02:00), found +01:00" in str(exc.value)


def test_unknown_timezone() -> None:
    with pytest.raises(ValidationError) as exc:
        ev(start=datetime(2026, 7, 1, 19, 0), timezone="Europe/Berlinn")
    assert 'expected an IANA time zone like "Europe/Berlin", found timezone = "Europe/Berlinn"' in str(exc.value)


def test_overlap_weekly_vs_weekly_different_zones() -> None:
    # Monday 19:00 Berlin vs Monday 18:30 London: always overlapping by 30 min.
    a = ev(id="a", start=datetime(2026, 1, 5, 19, 0), timezone="Europe/Berlin", recurrence="weekly")
    b = ev(id="b", start=datetime(2026, 2, 2, 18, 30), timezone="Europe/London", recurrence="weekly")
    hit = first_overlap(a, b)
    assert hit is not None
    assert hit[0].start == datetime(2026, 2, 2, 18, 0, tzinfo=UTC)
    assert hit[1].start == datetime(2026, 2, 2, 18, 30, tzinfo=UTC)


def test_no_overlap_back_to_back() -> None:
    a = ev(id="a", start=datetime(2026, 1, 5, 19, 0, tzinfo=UTC), recurrence="weekly")
    b = ev(id="b", start=datetime(2026, 1, 5, 20, 0, tzinfo=UTC), recurrence="weekly")
    assert first_overlap(a, b) is None


def test_overlap_only_after_dst_change() -> None:
    # 19:30-20:30 New York vs 00:45 UTC: in summer (EDT) New York ends at
    # 00:30 UTC, no overlap; in winter (EST) it runs until 01:30 UTC.
    a = ev(id="a", start=datetime(2026, 6, 1, 19, 30), timezone="America/New_York", recurrence="weekly")
    b = ev(id="b", start=datetime(2026, 6, 2, 0, 45, tzinfo=UTC), recurrence="weekly")
    hit = first_overlap(a, b)
    assert hit is not None
    assert hit[0].start.utcoffset() == timedelta(hours=-5)  # found in winter time
