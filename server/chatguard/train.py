"""Train the chat toxicity classifier: ``python -m server.chatguard.train [--out PATH]``.

Trains on the ``train`` half of server.chatguard.data and prints precision / recall at the
flag and hold thresholds on the held-out ``test`` half (templates never seen in training).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from server.chatguard.data import labelled
from server.chatguard.model import CHECKPOINT, ToxicityModel, fit
from server.chatguard.screen import FLAG_AT, HOLD_AT


def pr(model: ToxicityModel, data: list[tuple[str, int]], threshold: float) -> dict[str, float]:
    tp = fp = fn = 0
    for text, y in data:
        hit = model.score(text) >= threshold
        tp += hit and y == 1
        fp += hit and y == 0
        fn += (not hit) and y == 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"threshold": threshold, "precision": round(p, 4), "recall": round(r, 4)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=CHECKPOINT)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    train = labelled("train", seed=a.seed)
    model = fit(train, seed=a.seed)
    model.save(a.out)
    test = labelled("test", seed=a.seed)
    reloaded = ToxicityModel.load(a.out)
    print(
        json.dumps(
            {
                "train": len(train),
                "test": len(test),
                "train_s": round(time.perf_counter() - t0, 1),
                "flag": pr(reloaded, test, FLAG_AT),
                "hold": pr(reloaded, test, HOLD_AT),
            }
        )
    )


if __name__ == "__main__":
    main()
