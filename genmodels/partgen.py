"""The default generator: text -> category + look + size -> a part program -> a multi-material GLB.

    from genmodels.partgen import PartGenerator
    gen = PartGenerator()                    # loads genmodels/checkpoints/parts.npz (the text model)
    asset = gen.generate("a red sofa with white cushions, 2 m long", seed=3)
    asset.glb, asset.category, asset.known, asset.message, asset.notes, asset.key

Why parts and programs rather than the SDF flow: an author's vocabulary is hundreds of nouns,
each with structure (legs, poles, shelves, wheels) that a 32^3 density field blurs away, and
the flow's corpus had ten categories. Here each category is a program over primitives
(genmodels/catalog.py) sampled by the seed, so legs are legs and touch the seat, sizes are
metres, colours are per part; the learned piece is the text model that maps what an author
writes to a category (genmodels/understand.py, trained by genmodels/train_parts.py).

Same interface as ``genmodels.api.Generator`` (``generate(prompt, seed, progress)`` ->
an asset with key/glb/path/triangles/seconds/device/notes/cached), so the job queue and
server use either. ``unknown="closest"`` makes the closest thing and says so; "refuse"
makes nothing for a prompt we do not know (a GenerationError with the same honest line).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genmodels import asset as asset_mod
from genmodels.catalog import CATEGORIES
from genmodels.heights import parse_size, size_scale
from genmodels.parts import Builder, assemble, normalise_parts, parts_extents, read_look, resolve_looks
from genmodels.prompts import check_prompt, check_seed
from genmodels.result import Asset, AssetCache, GenerationError, default_cache_dir
from genmodels.understand import TextClassifier, Understood, load_classifier, tokens, understand

Progress = Callable[[float], None]
DEFAULT_TEXT_MODEL = Path(__file__).resolve().parent / "checkpoints" / "parts.npz"
PARTS_VERSION = "p2"  # bump when programs, looks or assembly change: cache keys must name their bytes
ADJECTIVE_SCALE = {
    "tiny": 0.5,
    "small": 0.75,
    "little": 0.75,
    "mini": 0.6,
    "miniature": 0.4,
    "big": 1.3,
    "large": 1.3,
    "huge": 1.8,
    "giant": 2.0,
    "enormous": 2.0,
}
UNKNOWN_MODES = ("closest", "refuse")


@dataclass
class PartAsset(Asset):
    watertight: bool = False  # parts overlap: the union is not one closed surface (it need not be)
    category: str = ""
    known: bool = True
    message: str | None = None  # the honest answer when the prompt was not simply understood
    size_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    parts: int = 0

    def summary(self, prompt: str, seed: int) -> dict:
        return {
            **super().summary(prompt, seed),
            "category": self.category,
            "known": self.known,
            "message": self.message,
            "size_m": [round(v, 3) for v in self.size_m],
            "parts": self.parts,
        }


@dataclass
class Design:
    """Everything decided before meshing (what tests and the bench inspect)."""

    understood: Understood
    parts: list  # normalised parts, metres, base at y = 0
    looks: dict
    notes: list[str]
    message: str | None


class PartGenerator:
    def __init__(
        self,
        text_model: str | Path | None = None,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        unknown: str | None = None,
        threshold: float = 0.55,
        threads: int = 1,
    ) -> None:
        path = Path(text_model) if text_model else DEFAULT_TEXT_MODEL
        if not path.is_file():
            raise FileNotFoundError(f"text model not found: {path} (train it: python -m genmodels.train_parts)")
        self.clf: TextClassifier = load_classifier(path)
        self.unknown = unknown or os.environ.get("PLAZA_GEN_UNKNOWN", "closest")
        if self.unknown not in UNKNOWN_MODES:
            raise ValueError(f"unknown= must be one of {UNKNOWN_MODES}, not {self.unknown!r}")
        self.threshold = threshold
        self.use_cache = use_cache
        self.cache = AssetCache(Path(cache_dir) if cache_dir else default_cache_dir())
        self.device = "cpu"
        self._encoder: object = None
        self._lock = threading.Lock()
        self.threads = threads

    @property
    def version(self) -> str:
        return f"{PARTS_VERSION}-{self.clf.version}-{self.unknown}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # loaded lazily: a prompt the word lists understand never needs MiniLM
            if self._encoder is None:
                from genmodels.text import get_encoder

                self._encoder = get_encoder(self.clf.encoder)
            import torch

            # one thread: on a shared 2-core box a second MiniLM thread made p95 0.08 -> 0.86 s
            # (bench/genmodels.py latency.threads_1 vs threads_2); set per call, as the flow does
            torch.set_num_threads(self.threads)
            return self._encoder.encode(texts)  # type: ignore[attr-defined]

    def warm(self) -> None:
        """Load the text encoder now (a server does this once), not inside the first job that needs it."""
        self._encode(["warm up"])

    def understand(self, clean: str) -> Understood:
        return understand(clean, self.clf, self._encode, self.threshold)

    def design(self, prompt: str, seed: int = 0, understood: Understood | None = None) -> Design:
        """``understood`` overrides the text model (the bench's retrieval baseline uses it)."""
        clean, notes = check_prompt(prompt)
        seed = check_seed(seed)
        u = understood or self.understand(clean)
        message = u.answer(clean)
        if message is not None and self.unknown == "refuse":
            raise GenerationError(
                message.replace("; closest:", "; the closest I could make is")
                + " (this server refuses unknown objects)"
            )
        cat = CATEGORIES[u.category]
        words = frozenset(tokens(clean))
        b = Builder(np.random.default_rng(np.random.SeedSequence([seed, _stable(u.category)])), words)
        cat.fn(b)
        looks = dict(cat.looks)
        look = read_look(clean)
        if u.figure and look.main_kind is None:  # "a statue of a horse": stone unless told otherwise
            look.main_kind, look.main_rgb = "stone", look.main_rgb or (0.88, 0.87, 0.84)
            looks = {r: type(v)("stone", (0.88, 0.87, 0.84)) if r not in ("eyes",) else v for r, v in looks.items()}
        looks = resolve_looks(looks, look)
        raw = b.parts
        scale = 1.0
        size = parse_size(clean)
        if size is not None:
            scale = size_scale(parts_extents(raw), size)
        else:
            for w, f in ADJECTIVE_SCALE.items():
                if w in words:
                    scale *= f
        parts = normalise_parts(raw, scale)
        if message is None and u.source == "model":
            notes.append(f"read as {cat.display} (confidence {u.confidence:.2f})")
        return Design(u, parts, looks, notes, message)

    def generate(self, prompt: str, seed: int = 0, progress: Progress | None = None) -> PartAsset:
        t0 = time.perf_counter()
        clean, _ = check_prompt(prompt)
        seed = check_seed(seed)
        key = asset_mod.cache_key(clean, seed, self.version)
        hit = self.cache.load(key) if self.use_cache else None
        if hit is not None:
            glb, path, meta = hit
            if progress is not None:
                progress(1.0)
            return PartAsset(key, glb, path, meta["triangles"], time.perf_counter() - t0, self.device, meta["notes"],
                             cached=True, category=meta["category"], known=meta["known"], message=meta["message"],
                             size_m=tuple(meta["size_m"]), parts=meta["parts"])  # fmt: skip
        d = self.design(clean, seed)
        if progress is not None:
            progress(0.3)
        out = assemble(d.parts, d.looks)
        notes = list(d.notes)
        if d.message:
            notes.insert(0, d.message)
        asset = PartAsset(key, out.glb, None, out.triangles, 0.0, self.device, notes,
                          category=d.understood.category, known=d.message is None, message=d.message,
                          size_m=out.extents, parts=len(d.parts))  # fmt: skip
        if self.use_cache:
            meta = {"triangles": out.triangles, "notes": notes, "category": asset.category, "known": asset.known,
                    "message": asset.message, "size_m": list(out.extents), "parts": len(d.parts), "prompt": clean,
                    "seed": seed, "model": self.version}  # fmt: skip
            asset.path = self.cache.store(key, out.glb, meta)
        if progress is not None:
            progress(1.0)
        asset.seconds = time.perf_counter() - t0
        return asset


def _stable(name: str) -> int:
    """A category's fixed salt for the seed (so seed 0 of a chair and of a table differ in kind)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")

