"""Ranking metric helpers on toy inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.recommend.metrics import hit_at_k, ndcg_at_k, rank_of, summarize


def test_rank_counts_items_scored_above_the_target() -> None:
    scores = np.array([0.9, 0.1, 0.5, 0.7])
    assert rank_of(2, scores) == 2  # 0.9 and 0.7 beat 0.5
    assert rank_of(0, scores) == 0


def test_seen_items_are_excluded_from_the_ranking() -> None:
    scores = np.array([0.9, 0.1, 0.5, 0.7])
    assert rank_of(2, scores, exclude=[0, 3]) == 0


def test_ties_count_against_the_target() -> None:
    assert rank_of(1, np.zeros(5)) == 4


def test_hit_rate_and_ndcg_at_k() -> None:
    assert hit_at_k(0) == 1.0 and hit_at_k(9) == 1.0 and hit_at_k(10) == 0.0
    assert ndcg_at_k(0) == 1.0
    assert ndcg_at_k(1) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(10) == 0.0


def test_summary_averages_over_cases() -> None:
    s = summarize([0, 1, 50, 3])
    assert s["hr10"] == pytest.approx(0.75)
    assert s["ndcg10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(5)) / 4)
    assert s["n"] == 4
    assert summarize([])["hr10"] == 0.0
