"""Collaborative models on tiny synthetic data."""

from __future__ import annotations

import numpy as np
import torch

from server.recommend.collab import EASE, Blend, FactorModel, InteractionData, Popularity, SASRec


def two_tribes() -> InteractionData:
    # Items 0-2 are liked together, 3-5 together; item 6 is a loner.
    seqs = [[0, 1, 2]] * 6 + [[3, 4, 5]] * 6 + [[0, 1], [3, 4], [6]]
    return InteractionData.from_sequences(seqs, 7)


def test_popularity_counts_users_not_weight() -> None:
    data = InteractionData.from_sequences([[0, 0, 0, 1], [1]], 3, [[5.0, 5.0, 5.0, 1.0], [1.0]])
    pop = Popularity()
    pop.fit(data)
    assert list(pop.score([])) == [1.0, 2.0, 0.0]


def test_ease_completes_a_tribe_from_a_new_users_history() -> None:
    ease = EASE(l2=1.0)
    ease.fit(two_tribes())
    s = ease.score([0, 1])  # a user never seen at fit time
    assert int(np.argmax(s)) == 2
    assert s[2] > s[4]
    assert np.all(ease.score([]) == 0)


def test_factor_model_folds_in_unknown_users() -> None:
    items = np.eye(4, dtype=np.float32)
    m = FactorModel(np.zeros((1, 4)), items)
    s = m.score([2], None, user=None)
    assert int(np.argmax(s)) == 2


def test_blend_standardises_before_mixing() -> None:
    ease = EASE(l2=1.0)
    pop = Popularity()
    data = two_tribes()
    blend = Blend([(ease, 1.0), (pop, 0.0)])
    blend.fit(data)
    assert np.argmax(blend.score([3, 4])) == 5


def test_sasrec_learns_what_comes_next() -> None:
    torch.set_num_threads(1)
    # Everyone walks the same loop 0 -> 1 -> 2 -> 3 -> 4 -> 0; order, not co-occurrence, decides.
    seqs = [[(s + k) % 5 for k in range(12)] for s in range(5)] * 8
    m = SASRec(dim=16, blocks=1, maxlen=12, dropout=0.0, lr=1e-2, epochs=30, seed=0)
    m.fit(InteractionData.from_sequences(seqs, 5))
    for last in range(5):
        assert int(np.argmax(m.score([(last + 4) % 5, last]))) == (last + 1) % 5
