"""The chat toxicity classifier: held-out precision/recall and per-message latency (JSON).

    .venv/bin/python -m bench.chatguard [--seeds 0 1 2]

Each seed rebuilds the labelled set, trains on the ``train`` templates and measures on the
held-out ``test`` templates (server/chatguard/data.py), at the flag and hold thresholds the
server uses; ``checkpoint`` is the committed model on seed 0's test half. Latency: one
``score`` call per message, as the hub makes on every chat line (one thread), as wall time and as thread CPU time.
"""

from __future__ import annotations

import argparse
import json
import time

from server.chatguard.data import labelled
from server.chatguard.model import ToxicityModel, fit
from server.chatguard.screen import FLAG_AT, HOLD_AT
from server.chatguard.train import pr


def latency(model: ToxicityModel, texts: list[str]) -> dict[str, float]:
    """Wall time per call, and this thread's CPU time per call: on a shared machine the wall
    p99 is mostly time spent descheduled, the CPU p99 is what the score itself costs."""
    ms, cpu = [], []
    for t in texts * 3:
        c0, t0 = time.thread_time(), time.perf_counter()
        model.score(t)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    ms.sort()
    cpu.sort()
    long = "so " * 166 + "long"  # a 500-character line, the chat maximum
    t0 = time.perf_counter()
    for _ in range(50):
        model.score(long)
    return {
        "p50_ms": round(ms[len(ms) // 2], 4),
        "p99_ms": round(ms[int(0.99 * len(ms))], 4),
        "max_ms": round(ms[-1], 4),
        "cpu_p50_ms": round(cpu[len(cpu) // 2], 4),
        "cpu_p99_ms": round(cpu[int(0.99 * len(cpu))], 4),
        "500_chars_ms": round((time.perf_counter() - t0) * 1000 / 50, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    a = ap.parse_args()
    runs = []
    for seed in a.seeds:
        train, test = labelled("train", seed=seed), labelled("test", seed=seed)
        model = fit(train, seed=seed)
        runs.append(
            {
                "seed": seed,
                "train": len(train),
                "test": len(test),
                "test_toxic": sum(y for _, y in test),
                "flag": pr(model, test, FLAG_AT),
                "hold": pr(model, test, HOLD_AT),
            }
        )
    model = ToxicityModel.load()
    test = labelled("test", seed=0)
    print(
        json.dumps(
            {
                "bench": "chatguard",
                "runs": runs,
                "checkpoint": {"flag": pr(model, test, FLAG_AT), "hold": pr(model, test, HOLD_AT)},
                "latency": latency(model, [t for t, _ in test]),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
