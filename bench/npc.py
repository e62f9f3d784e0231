"""The guide's walking policy against a scripted A* walker, on worlds held out from training.

    .venv/bin/python -m bench.npc [--episodes 60] [--seeds 0 1 2] [--policy server/npc/walker.npz]

Per held-out world (server.npc.train.HELD_OUT: never seen in training) and seed, both walkers
get the same episodes (start, target, the same people moving the same way: the people's
random stream does not depend on the walker). Reported: success rate (arrived within
3 x shortest + 30 steps), path length / shortest path (A* length, successful episodes),
collisions per 100 m walked (stepping into a person's cell), steps spent next to someone.

The A* baseline follows the shortest path computed at the start and waits while its next
cell is taken; it does not replan.

``tick`` measures what the server runs: one lobby instance with 200 avatars moving and 5
guides walking people to portals, the cost of ``NpcRegistry.step`` (policy decisions,
people cells, poses) per tick, and of the whole ``WorldInstance.tick`` for scale.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import msgpack
import numpy as np

from server.npc.grid import CELL_M, MOVES, STAY, NavGrid
from server.npc.policy import CHECKPOINT, WalkPolicy
from server.npc.sim import ARRIVE_CELLS, WalkEnv
from server.npc.train import HELD_OUT, shipped_grid


def _astar_action(grid: NavGrid, env: WalkEnv, path: list[tuple[int, int]], k: int) -> tuple[int, int]:
    """Next action along ``path`` from index ``k``: (action, new index)."""
    if k + 1 >= len(path):
        return STAY, k
    nxt = path[k + 1]
    if nxt in env.people_cells():
        return STAY, k
    d = (nxt[0] - env.cell[0], nxt[1] - env.cell[1])
    return MOVES.index(d), k + 1


def run_episode(grid: NavGrid, seed: int, walker: str, policy: WalkPolicy | None) -> dict[str, float]:
    env = WalkEnv(grid, random.Random(seed), n_people=random.Random(seed + 7).randrange(6, 21))
    obs = env.reset()
    path = grid.astar(env.cell, env.target) if walker == "astar" else None
    k = 0
    crowded = 0
    info = {"arrived": 0.0}
    done = False
    while not done:
        if walker == "astar":
            assert path is not None
            a, k = _astar_action(grid, env, path, k)
        else:
            assert policy is not None
            a = policy.act(obs)
        obs, _, done, info = env.step(a)
        cells = env.people_cells()
        crowded += any((env.cell[0] + di, env.cell[1] + dj) in cells for di, dj in MOVES)
    shortest_m = max(env.shortest - ARRIVE_CELLS, 1.0) * CELL_M  # both stop on reaching the arrival radius
    return {
        "arrived": info["arrived"],
        "ratio": env.walked_m / shortest_m if shortest_m > 0 else 1.0,
        "walked_m": env.walked_m,
        "collisions": float(env.collisions),
        "crowded_steps": float(crowded),
        "steps": float(env.steps),
    }


def evaluate(policy: WalkPolicy, episodes: int, seeds: list[int]) -> dict[str, object]:
    out: dict[str, object] = {}
    for world in HELD_OUT:
        grid = shipped_grid(world)
        per: dict[str, list[dict[str, float]]] = {"policy": [], "astar": []}
        for seed in seeds:
            for e in range(episodes):
                s = seed * 100_000 + e
                for walker in per:
                    per[walker].append(run_episode(grid, s, walker, policy))
            grid._fields.clear()
        res: dict[str, object] = {}
        for walker, rows in per.items():
            ok = [r for r in rows if r["arrived"]]
            walked = sum(r["walked_m"] for r in rows)
            by_seed = []
            for i in range(len(seeds)):
                chunk = rows[i * episodes : (i + 1) * episodes]
                by_seed.append(round(sum(r["arrived"] for r in chunk) / len(chunk), 3))
            res[walker] = {
                "success_rate": round(len(ok) / len(rows), 3),
                "success_by_seed": by_seed,
                "path_ratio_mean": round(statistics.mean(r["ratio"] for r in ok), 3) if ok else None,
                "path_ratio_median": round(statistics.median(r["ratio"] for r in ok), 3) if ok else None,
                "collisions_per_100m": round(100 * sum(r["collisions"] for r in rows) / max(walked, 1e-9), 3),
                "crowded_step_share": round(sum(r["crowded_steps"] for r in rows) / sum(r["steps"] for r in rows), 3),
            }
        out[world] = {"episodes": len(per["policy"]), **res}
    return out


def tick_cost(seconds: float = 10.0, n_avatars: int = 200, n_npcs: int = 5) -> dict[str, object]:
    from server.catalog import spec_from_config
    from server.commands.context import places_of
    from server.hub import Hub
    from server.worldconfig import load_world

    cfg = load_world(Path(__file__).resolve().parents[1] / "worlds" / "lobby.toml")
    desc = cfg.to_client()
    base = desc["npcs"][0]
    desc["npcs"] = [{**base, "name": f"Guide{i}", "home": [-2.5 + i, 0, 7]} for i in range(n_npcs)]
    spec = spec_from_config(cfg)
    spec = replace(spec, description=desc, capacity=n_avatars + 10)
    hub = Hub({"lobby": spec})
    rng = np.random.default_rng(0)
    sids = []
    for i in range(n_avatars):
        s = hub.connect(0)
        hub.receive(s.sid, msgpack.packb([1, {"v": [1], "name": f"p{i}", "world": "lobby"}]), 0)
        sids.append(s.sid)
    hub.outbox.drain()
    inst = hub.instances["lobby"][0]
    mgr = hub.npcs.get(inst.key)
    assert mgr is not None and len(mgr.npcs) == n_npcs
    portals = [p for p in places_of(desc) if p.key.startswith("portal:")]
    for p in portals:
        mgr.prepare(p.position)
    pos = rng.uniform(-20, 20, size=(n_avatars, 2))
    vel = rng.normal(0, 0.5, size=(n_avatars, 2))
    npc_ms: list[float] = []
    tick_ms: list[float] = []
    now = 0
    dt_ms = 1000 // spec.tick_rate
    ticks = int(seconds * spec.tick_rate)
    for t in range(ticks):
        now += dt_ms
        if t % 200 == 0:  # new guiding requests: each guide leads someone to a portal
            for i, npc in enumerate(mgr.npcs):
                npc.state, npc.follower, npc.follower_name = "guide", sids[i], f"p{i}"
                px, _, pz = portals[(t // 200 + i) % len(portals)].position
                npc.goal = mgr.grid.nearest_free(mgr.grid.cell_of(px, pz))
        pos += vel * dt_ms / 1000
        np.clip(pos, -25, 25, out=pos)
        for i, sid in enumerate(sids):
            if i < n_npcs:  # the led people walk right behind their guide
                npc = mgr.npcs[i]
                pos[i] = (npc.x + 1.0, npc.z + 1.0)
            slot = inst.members[sid].slot
            inst.pose[slot, 0], inst.pose[slot, 2] = pos[i]
        t0 = time.perf_counter()
        hub.npcs.step(inst, now)
        t1 = time.perf_counter()
        inst.tick(now)
        t2 = time.perf_counter()
        hub.outbox.drain()
        npc_ms.append((t1 - t0) * 1000)
        tick_ms.append((t2 - t1) * 1000)
    npc_ms.sort()
    tick_ms.sort()
    n = len(npc_ms)
    return {
        "avatars": n_avatars,
        "npcs": n_npcs,
        "ticks": n,
        "npc_step_ms": {"mean": round(statistics.mean(npc_ms), 4), "p99": round(npc_ms[int(0.99 * n)], 4)},
        "world_tick_ms": {"mean": round(statistics.mean(tick_ms), 3), "p99": round(tick_ms[int(0.99 * n)], 3)},
        "npc_share_of_tick_budget_p99": round(npc_ms[int(0.99 * n)] / (1000 / spec.tick_rate), 5),
        "decisions": mgr.decisions,
        "npc_walked_m": round(sum(x.walked_m for x in mgr.npcs), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=60)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--policy", type=Path, default=CHECKPOINT)
    ap.add_argument("--tick-seconds", type=float, default=10.0)
    a = ap.parse_args()
    policy = WalkPolicy.load(a.policy)
    result = {
        "bench": "npc",
        "held_out_worlds": list(HELD_OUT),
        "walk": evaluate(policy, a.episodes, a.seeds),
        "tick": tick_cost(a.tick_seconds),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
