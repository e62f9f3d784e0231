"""Spec: a height stated in a prompt ("1.2 m", "120 cm") reaches captions, the model and the baseline."""

import dataclasses

import numpy as np
import pytest

from genmodels import shapes
from genmodels.heights import HEIGHT_FEATURES, SIZE_MAX, format_height, height_features, parse_height
from genmodels.prompts import check_prompt
from genmodels.text import EMBED_DIM, Conditioner, minilm_available
from genmodels.train import CONFIGS, build_net


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("a 1.2 m tall pine tree", 1.2),
        ("a stone column, 125 cm high", 1.25),
        ("a lamp 1.5metres tall", 1.5),
        ("a 1.5 meters table", 1.5),
        ("a 6 feet tall arch", 6 * 0.3048),
        ("a tall pine tree", None),
        ("10 monkeys", None),  # a number followed by a word that merely starts with m
        ("a 2 mm pebble", None),  # millimetres are not a unit we read
    ],
)
def test_heights_are_read_in_metres(text: str, metres: float | None) -> None:
    assert parse_height(text) == pytest.approx(metres) if metres is not None else parse_height(text) is None


def test_every_caption_format_reads_back_as_the_height_it_states() -> None:
    rng = np.random.default_rng(0)
    for h in np.linspace(0.3, 1.75, 40):
        for _ in range(4):
            assert abs(parse_height(format_height(float(h), rng)) - h) <= 0.05 + 1e-9


def test_height_features_are_zero_without_a_height_and_change_smoothly_with_one() -> None:
    f = height_features(["a red mushroom", "a 1.00 m tall red mushroom", "a 1.02 m tall red mushroom"])
    assert f.shape == (3, HEIGHT_FEATURES)
    assert not f[0].any() and f[1, 0] == 1.0
    assert 0 < np.abs(f[2] - f[1]).max() < 0.2  # 2 cm apart -> nearby inputs: the model can interpolate


def test_every_corpus_shape_has_captions_stating_its_height() -> None:
    for s in shapes.build_corpus(6, seed=0)["train"]:
        stated = [parse_height(c) for c in s.captions if parse_height(c) is not None]
        assert len(stated) >= 2 and all(abs(h - s.height) <= 0.05 for h in stated), s.captions
        assert all(w in shapes.vocab() for c in s.captions for w in ("m", "cm", "tall") if f" {w} " in f" {c} ")


def test_sizes_beyond_what_assets_draw_get_a_note_not_an_error() -> None:
    clean, notes = check_prompt("a 7 m tall pine tree")  # 0.1-5 m is honoured by scaling the asset
    assert clean == "a 7 m tall pine tree"
    assert any(f"drawing {SIZE_MAX:g} m" in n for n in notes)
    assert check_prompt("a 120 cm tall stone column")[1] == []  # units and numbers are known words


def test_condition_width_follows_the_config() -> None:
    assert Conditioner("hash", height=True).encode(["a 1 m tree"]).shape == (1, EMBED_DIM + HEIGHT_FEATURES)
    assert Conditioner("hash", height=False).encode(["a 1 m tree"]).shape == (1, EMBED_DIM)
    wrong = dataclasses.replace(CONFIGS["tiny-pca"], height_cond=False)
    with pytest.raises(ValueError, match="cond_dim"):
        build_net(wrong)


@pytest.mark.skipif(not minilm_available(), reason="the hashed fallback is too weak a retriever for this check")
def test_baseline_retrieves_a_shape_near_the_asked_height() -> None:
    from genmodels.api import RetrievalBaseline

    base = RetrievalBaseline(dataclasses.replace(CONFIGS["cpu"], per_category=30))
    trees = sorted(s.height for s in base.shapes if s.category == "tree")
    for asked in (trees[0], trees[len(trees) // 2], trees[-1]):
        got = base.nearest(f"a green tree, {asked:.2f} m tall", seed=0)
        assert got.category == "tree" and abs(got.height - asked) < 0.15
