"""Ranking metrics for leave-one-out evaluation (one held-out item per case)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def rank_of(target: int, scores: np.ndarray, exclude: Iterable[int] = ()) -> int:
    """0-based rank of ``target`` in a full ranking of ``scores``.

    Excluded items (e.g. already seen) are dropped from the ranking. Ties count
    against the target, so a constant model cannot look good by accident.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = s[target]
    beats = s >= t
    beats[target] = False
    excl = [i for i in exclude if i != target]
    if excl:
        beats[np.asarray(excl, dtype=np.int64)] = False
    return int(beats.sum())


def hit_at_k(rank: int, k: int = 10) -> float:
    """1.0 when the held-out item is in the top ``k``."""
    return 1.0 if 0 <= rank < k else 0.0


def ndcg_at_k(rank: int, k: int = 10) -> float:
    """NDCG@k with a single relevant item: 1/log2(rank+2) inside the top k."""
    return 1.0 / math.log2(rank + 2) if 0 <= rank < k else 0.0


def summarize(ranks: Iterable[int], k: int = 10) -> dict[str, float]:
    """Mean HR@k and NDCG@k over ranks; ``rank < 0`` means the item was not ranked."""
    rs = list(ranks)
    if not rs:
        return {f"hr{k}": 0.0, f"ndcg{k}": 0.0, "n": 0}
    return {
        f"hr{k}": sum(hit_at_k(r, k) for r in rs) / len(rs),
        f"ndcg{k}": sum(ndcg_at_k(r, k) for r in rs) / len(rs),
        "n": len(rs),
    }
