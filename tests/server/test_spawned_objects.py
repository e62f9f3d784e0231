"""Spec: objects people make at run time (generated assets) stay: they survive a restart where
they were left, a live reload of the world file does not sweep them away, and a moderator's
removal is final."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from server.effects import PersistRemoved, PersistSpawned
from server.hub import Hub
from server.persist import SavedState, WriteBehind
from server.storage import SQLiteStorage
from tests.corewire import take
from tests.server.worlds import plain_world

TREE = {"model": "/assets/gen/0123abcd.glb", "label": "a tall pine tree"}


def hub_on(storage: SQLiteStorage) -> Hub:
    return Hub(
        {"test": plain_world()},
        load_objects=storage.load_objects,
        load_removed=storage.removed_objects,
        load_spawned=storage.load_spawned,
    )


def flush(hub: Hub, storage: SQLiteStorage) -> None:
    """What the server's write-behind does about once a second and at shutdown."""
    wb = WriteBehind(storage, SavedState(), lambda ms: ms / 1000.0)
    for e in take(hub, PersistSpawned):
        wb.add(e)
    for r in take(hub, PersistRemoved):
        wb.write_removed(r)
    wb.write(wb.take(hub.drain_dirty_objects()))


def spawn_tree(hub: Hub) -> str:
    inst = hub.instance_for("test", None)
    hub.spawn_object("test", inst.key, "gen-tree", (3.0, 0.5, -2.0), TREE)
    return inst.key


def test_a_generated_object_comes_back_after_a_restart_where_it_was_left(tmp_path: Path) -> None:
    db = tmp_path / "plaza.sqlite3"
    storage = SQLiteStorage(db)
    hub = hub_on(storage)
    spawn_tree(hub)
    inst = hub.instance_for("test", None)
    slot = inst.slot_of[inst.object_ids["gen-tree"]]
    inst.pose[slot, :3] = (4.0, 0.5, -1.0)  # someone carried it a metre
    inst.dirty_objects.add("gen-tree")
    flush(hub, storage)
    storage.close()

    storage2 = SQLiteStorage(db)
    inst2 = hub_on(storage2).instance_for("test", None)
    assert "gen-tree" in inst2.object_ids
    slot2 = inst2.slot_of[inst2.object_ids["gen-tree"]]
    assert tuple(inst2.pose[slot2, :3]) == (4.0, 0.5, -1.0)
    assert inst2.info_of(slot2) == {"oid": "gen-tree", **TREE}
    # only in the instance it was made in
    assert storage2.load_spawned("test", inst2.index + 1) == []


def test_a_removed_generated_object_stays_removed(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "plaza.sqlite3")
    hub = hub_on(storage)
    spawn_tree(hub)
    hub.remove_object("test", "gen-tree")
    flush(hub, storage)
    assert "gen-tree" not in hub_on(storage).instance_for("test", None).object_ids


def test_a_live_reload_keeps_generated_objects_and_still_applies_the_file() -> None:
    hub = Hub({"test": plain_world()})
    spawn_tree(hub)
    inst = hub.instance_for("test", None)
    spec = plain_world()
    # the author removed the statue and moved the crate
    objects = tuple(replace(o, position=(5.0, 0.5, 5.0)) if o.id == "crate" else o for o in spec.objects)
    inst.apply_spec(replace(spec, objects=tuple(o for o in objects if o.id != "statue")), {"crate"})
    assert "gen-tree" in inst.object_ids
    assert "statue" not in inst.object_ids
    assert tuple(inst.pose[inst.slot_of[inst.object_ids["crate"]], :3]) == (5.0, 0.5, 5.0)
