"""Spec: the procedural corpus is varied, deterministic and split with held-out heights."""

import numpy as np

from genmodels import shapes


def test_at_least_ten_categories_each_with_a_surface() -> None:
    assert len(shapes.CATEGORIES) >= 10
    rng = np.random.default_rng(0)
    for cat in shapes.CATEGORIES:
        grid = shapes.make_shape(cat, rng).tsdf(32)
        assert grid.shape == (32, 32, 32) and grid.dtype == np.float32
        assert grid.min() < 0 < grid.max(), f"{cat} has no surface"
        assert (grid <= 1).all() and (grid >= -1).all()


def test_corpus_is_deterministic_for_a_seed() -> None:
    a = shapes.build_corpus(8, seed=3)
    b = shapes.build_corpus(8, seed=3)
    assert [s.captions for s in a["train"]] == [s.captions for s in b["train"]]
    assert np.array_equal(a["train"][0].tsdf(16), b["train"][0].tsdf(16))


def test_held_out_height_band_is_only_in_test() -> None:
    corpus = shapes.build_corpus(30, seed=0)
    assert corpus["test"], "the held-out band must produce test shapes"
    assert all(shapes.in_held_out_band(s.height_t) for s in corpus["test"])
    assert not any(shapes.in_held_out_band(s.height_t) for s in corpus["train"] + corpus["val"])


def test_captions_name_the_object_and_use_known_words() -> None:
    rng = np.random.default_rng(1)
    s = shapes.make_shape("table", rng)
    assert len(s.captions) >= 3
    assert all(any(n.split()[-1] in c for n in s.nouns) for c in s.captions)
    vocab = shapes.vocab()
    assert {"tall", "red", "wooden", "pine", "table"} <= vocab


def test_height_parameter_matches_the_geometry() -> None:
    rng = np.random.default_rng(2)
    lin = np.linspace(-1, 1, 64)
    for cat in ("column", "house", "lamp"):
        s = shapes.make_shape(cat, rng)
        inside = np.where((s.tsdf(64) < 0).any(axis=(0, 2)))[0]
        measured = lin[inside.max()] - lin[inside.min()]
        assert abs(measured - s.height) < 0.1, (cat, measured, s.height)
