"""The worlds shipped in worlds/ load, cross-check, and have what the rest of Plaza expects."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from server.worldconfig import LOBBY_ID, load_worlds, schema_json, validate_paths
from tests.worldconfig.helpers import WORLDS

EXPECTED_IDS = {"lobby", "gallery", "concert-hall", "forest-park", "meeting-room", "bench-field"}


@pytest.fixture(scope="module")
def worlds():
    worlds, issues = load_worlds(WORLDS)
    assert [str(i) for i in issues] == []
    return worlds


def test_all_bundled_worlds_load(worlds) -> None:
    assert set(worlds) == EXPECTED_IDS
    assert LOBBY_ID == "lobby"


def test_validate_directory_passes() -> None:
    assert validate_paths([str(WORLDS)]) == (0, [])


def test_lobby_links_everything_and_back(worlds) -> None:
    lobby = worlds["lobby"]
    assert {p.target for p in lobby.portals} == EXPECTED_IDS - {"lobby"}
    for wid, w in worlds.items():
        if wid != "lobby":
            assert any(p.target == "lobby" for p in w.portals), wid


@pytest.mark.parametrize("wid", sorted(EXPECTED_IDS))
def test_grabbables_near_default_spawn(worlds, wid) -> None:
    w = worlds[wid]
    spawn = w.spawn()
    assert spawn is w.spawns[0] and spawn.name == "default"
    near = [o for o in w.objects_resolved() if o.grabbable and math.dist(o.position, spawn.position) <= 3.0]
    assert len(near) >= 2


@pytest.mark.parametrize("wid", sorted(EXPECTED_IDS))
def test_weekly_events_are_upcoming(worlds, wid) -> None:
    w = worlds[wid]
    assert any(e.recurrence == "weekly" for e in w.events)
    now = datetime(2027, 5, 1, tzinfo=UTC)
    upcoming = w.upcoming(now, days=7)
    assert upcoming, wid
    assert all(now <= o.end and o.start < now + timedelta(days=7) for _, o in upcoming)


@pytest.mark.parametrize("wid", sorted(EXPECTED_IDS))
def test_sizes_and_client_json(worlds, wid) -> None:
    w = worlds[wid]
    objs = w.objects_resolved()
    assert 0 < len(objs) <= 300
    assert len({o.id for o in objs}) == len(objs)
    d = json.loads(json.dumps(w.to_client(datetime(2027, 1, 4, tzinfo=UTC))))
    assert d["id"] == wid and len(d["objects"]) == len(objs) and d["events"]
    assert 5 <= w.tick_rate <= 60


def test_bench_field_shape(worlds) -> None:
    w = worlds["bench-field"]
    assert w.capacity == 1000
    assert (w.bounds.min[0], w.bounds.min[2], w.bounds.max[0], w.bounds.max[2]) == (
        -50,
        -50,
        50,
        50,
    )
    assert (w.bounds.min[1], w.bounds.max[1]) == (-1, 20)


def test_concert_hall_and_forest_use_arrays_and_templates(worlds) -> None:
    seats = [o for o in worlds["concert-hall"].objects_resolved() if o.source == "seat"]
    assert len(seats) == 8 * 14 * 2  # grid of seats, two parts each
    assert sum(1 for o in worlds["forest-park"].objects_resolved() if o.template) > 100


def test_gallery_uses_a_real_model(worlds) -> None:
    models = [o for o in worlds["gallery"].objects_resolved() if o.kind == "model"]
    assert models and (WORLDS / models[0].model).read_bytes()[:4] == b"glTF"


def test_world_files_point_at_current_schema() -> None:
    # Editors validate against worlds/plaza.schema.json; it must not go stale.
    # Regenerate with: plaza schema > worlds/plaza.schema.json
    assert (WORLDS / "plaza.schema.json").read_text() == schema_json() + "\n"
    for p in WORLDS.glob("*.toml"):
        assert p.read_text().startswith("#:schema ./plaza.schema.json\n"), p.name
