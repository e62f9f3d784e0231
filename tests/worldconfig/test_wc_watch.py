"""Live-reload helpers: diffing and watching a directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.worldconfig import diff_worlds, load_world, watch_worlds
from server.worldconfig.watch import WorldsDirectory

BALL = '[[objects]]\nid = "ball"\nshape = "sphere"\nposition = [0, 1, 0]\n'
BOX = '[[objects]]\nid = "box"\nshape = "box"\nposition = [2, 0, 0]\n'


def test_diff_worlds(write_world, tmp_path: Path) -> None:
    a1 = load_world(write_world("a", BALL + BOX))
    b1 = load_world(write_world("b"))
    c = load_world(write_world("c"))
    a2 = load_world(
        write_world(
            "a",
            BALL.replace("[0, 1, 0]", "[0, 2, 0]") + '[[objects]]\nid = "cone"\nshape = "cone"\n',
        )
    )
    b2 = load_world(write_world("b"))  # same content, new object
    d = diff_worlds({"a": a1, "b": b1, "c": c}, {"a": a2, "b": b2, "d": c})
    assert d.added == ["d"] and d.removed == ["c"]
    assert list(d.changed) == ["a"]
    od = d.changed["a"]
    assert (od.added, od.removed, od.changed, od.settings_changed) == (
        ["cone"],
        ["box"],
        ["ball"],
        False,
    )


def test_diff_settings_only(write_world) -> None:
    a1 = load_world(write_world("a", BALL))
    a2 = load_world(write_world("a", '[environment.sky]\ncolor = "#000000"\n\n' + BALL))
    od = diff_worlds({"a": a1}, {"a": a2}).changed["a"]
    assert od.settings_changed and not (od.added or od.removed or od.changed)


def test_directory_keeps_last_good(write_world, tmp_path: Path) -> None:
    state = WorldsDirectory(tmp_path)
    write_world("a", BALL)
    worlds, issues = state.reload()
    assert set(worlds) == {"a"} and issues == []
    (tmp_path / "a.toml").write_text('id = "a"\nname = 5\n')
    worlds, issues = state.reload()
    assert [o.id for o in worlds["a"].objects_resolved()] == ["ball"]  # last good version
    assert [i.message for i in issues] == [
        'missing required key "spawns"',
        "expected a string, found 5",
    ]
    (tmp_path / "a.toml").unlink()
    worlds, issues = state.reload()
    assert worlds == {} and issues == []


async def _next(queue: asyncio.Queue, timeout: float = 5.0):
    return await asyncio.wait_for(queue.get(), timeout)


@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_watch_worlds(write_world, tmp_path: Path) -> None:
    write_world("a", BALL)
    queue: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()

    async def on_change(worlds, issues) -> None:
        await queue.put((worlds, issues))

    task = asyncio.create_task(watch_worlds(tmp_path, on_change, stop, debounce_ms=50))
    try:
        # The watcher has no "ready" signal: touch a world until it reports once.
        for _ in range(20):
            write_world("warm")
            try:
                await _next(queue, 0.5)
                break
            except TimeoutError:
                continue
        # Drop the warm-up reports: until none has come for 0.2 s (4 debounce periods).
        while True:
            try:
                await _next(queue, 0.2)
            except TimeoutError:
                break
        loop = asyncio.get_running_loop()

        # A valid save is picked up within a second.
        t0 = loop.time()
        write_world("a", BALL + BOX)
        worlds, issues = await _next(queue)
        assert loop.time() - t0 < 1.0
        assert issues == [] and [o.id for o in worlds["a"].objects_resolved()] == ["ball", "box"]

        # An invalid save keeps the last good config and reports the problem.
        (tmp_path / "a.toml").write_text((tmp_path / "a.toml").read_text().replace('"sphere"', '"spher"'))
        worlds, issues = await _next(queue)
        assert [o.id for o in worlds["a"].objects_resolved()] == ["ball", "box"]
        assert [(i.line, i.path) for i in issues] == [(10, "objects[0].shape")]
        assert 'did you mean "sphere"?' in issues[0].message

        # A new world appears; a deleted one disappears.
        write_world("b")
        worlds, _ = await _next(queue)
        assert set(worlds) == {"a", "b", "warm"}
        (tmp_path / "b.toml").unlink()
        worlds, _ = await _next(queue)
        assert set(worlds) == {"a", "warm"}
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
