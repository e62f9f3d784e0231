"""Hand-built WorldSpecs for core tests (no files involved)."""

from server.world import ObjectSpec, SpawnPoint, WorldSpec


def plain_world(wid: str = "test", capacity: int = 8, size: float = 50.0) -> WorldSpec:
    return WorldSpec(
        id=wid,
        name=wid.title(),
        bounds_min=(-size, -1.0, -size),
        bounds_max=(size, 20.0, size),
        spawns=(SpawnPoint("main", (0.0, 0.0, 0.0)), SpawnPoint("far", (40.0, 0.0, 40.0))),
        objects=(
            ObjectSpec("crate", (1.0, 0.5, 0.0), grabbable=True),
            ObjectSpec("ball", (2.0, 0.5, 0.0), scale=(0.4, 0.4, 0.4), grabbable=True),
            ObjectSpec("statue", (0.0, 1.0, 3.0)),
        ),
        capacity=capacity,
        tick_rate=20,
    )
