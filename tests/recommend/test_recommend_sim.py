"""The social-VR simulator is independent of the model, and the hybrid beats rules on it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from server.recommend.simulator import simulate

REPO = Path(__file__).resolve().parents[2]


def test_the_simulator_is_deterministic_by_seed() -> None:
    a = simulate(n_users=40, weeks=2, seed=3)
    b = simulate(n_users=40, weeks=2, seed=3)
    c = simulate(n_users=40, weeks=2, seed=4)
    assert [(s.user_id, s.item_id, s.ts) for s in a.sessions] == [(s.user_id, s.item_id, s.ts) for s in b.sessions]
    assert [s.item_id for s in a.sessions] != [s.item_id for s in c.sessions]
    assert a.signals.visits and a.signals.follows and a.signals.attendance and a.signals.rsvps
    # New worlds open and new people join while it runs; hops start inside a world.
    assert any(t > a.start_ts for t in a.opened.values()) and any(t > a.start_ts for t in a.joined.values())
    assert any(s.context.here is not None for s in a.sessions)
    assert all(s.item_id != s.context.here for s in a.sessions)


def test_the_simulator_shares_no_code_or_constants_with_the_model() -> None:
    tree = ast.parse((REPO / "server" / "recommend" / "simulator.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(("." * node.level) + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    # Only the data formats (items, logged signals), never hybrid/collab/content/service.
    assert imported <= {"__future__", "collections", "dataclasses", "numpy", ".items", ".signals"}, imported


def test_the_bench_quick_run_has_the_hybrid_ahead_of_every_rule_overall(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "bench/recsys.py", "--quick", "--skip-ml100k", "--hashing"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    sim = {r["model"]: r for r in rows if r.get("section") == "sim"}
    assert {"plaza (server default)", "rule: live first, friends, own, popular", "implicit ALS"} <= set(sim)
    verdict = next(r for r in rows if r.get("section") == "sim-verdict")
    assert verdict["all.hr10"]["plaza_wins"] and verdict["all.ndcg10"]["plaza_wins"], verdict
    assert any(r.get("section") == "latency" for r in rows)
