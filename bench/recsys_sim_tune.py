"""Choosing the hybrid's newcomer knobs on simulator *validation* seeds (never the test seeds).

    python bench/recsys_sim_tune.py '{}' '{"w_pop": 2.0}'          # seeds 10-17 by default

Each argument is a JSON object of ``HybridConfig`` overrides. For every validation seed the
simulator runs as in ``bench/recsys.py`` (400 people, 8 weeks, the last two are the test
period), but only new users' cases plus a random sample of the others (``--sample``) are
ranked, which is what makes a grid affordable. The rules are printed beside the variants.
The report seeds of ``bench/recsys.py`` are 0-2; keep the two sets apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.recsys_sim import HybridLine, Line, RuleLine, cases_after, evaluate, known_before  # noqa: E402
from server.recommend.content import default_encoder  # noqa: E402
from server.recommend.hybrid import HybridConfig  # noqa: E402
from server.recommend.metrics import summarize  # noqa: E402
from server.recommend.simulator import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="*", default=["{}"], help="JSON HybridConfig overrides")
    ap.add_argument("--seeds", default="10,11,12,13,14,15,16,17", help="validation simulator seeds")
    ap.add_argument("--sample", type=int, default=300, help="about this many known-user cases per seed")
    ap.add_argument("--hashing", action="store_true")
    args = ap.parse_args()
    encoder = default_encoder(prefer_minilm=not args.hashing)
    variants: list[dict[str, Any]] = [json.loads(v) for v in args.variants]
    seeds = [int(s) for s in args.seeds.split(",")]
    res: dict[str, list[dict[str, dict[str, float]]]] = {}
    for seed in seeds:
        sw = simulate(n_users=400, weeks=8, seed=seed)
        split = sw.start_ts + 6 * 7 * 86400
        train = known_before(sw.signals, split)
        cases = cases_after(sw, split, train)
        rng = np.random.default_rng(seed)
        keep = [c for c in cases if "new_user" in c.tags or rng.random() < args.sample / len(cases)]
        lines: list[tuple[str, Line]] = [
            ("rule: live first, friends, own, popular", RuleLine("rule", "rule")),
            ("live events first, then popular", RuleLine("live", "live")),
            ("own visit frequency", RuleLine("own", "own")),
        ]
        for kw in variants:
            cfg = dataclasses.replace(HybridConfig(seed=seed), **kw)
            lines.append((f"plaza {json.dumps(kw, sort_keys=True)}", HybridLine("plaza", cfg, encoder)))
        for name, line in lines:
            r = evaluate(line, sw, split, keep)
            res.setdefault(name, []).append({k: summarize(r[k]) for k in ("new_user", "known_user")})
    for name, rows in res.items():
        out: dict[str, object] = {"section": "sim-validation", "seeds": seeds, "model": name}
        for sub in ("new_user", "known_user"):
            for m in ("hr10", "ndcg10"):
                v = np.array([row[sub][m] for row in rows])
                out[f"{sub}.{m}"] = {"mean": round(float(v.mean()), 4), "sd": round(float(v.std(ddof=1)), 4)}
            out[f"{sub}.n"] = round(float(np.mean([row[sub]["n"] for row in rows])), 1)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
