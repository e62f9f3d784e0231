"""Generator interface used by the server: ``generate(prompt, seed) -> Asset``.

    from genmodels.api import Generator
    gen = Generator()                       # loads genmodels/checkpoints/cpu.pt, cache in ~/.cache/plaza/genmodels
    asset = gen.generate("a tall pine tree", seed=3)
    asset.path      # cache file <key>.glb: serve it at /assets/gen/<key>.glb, Cache-Control: immutable
    asset.glb       # the bytes; asset.triangles, asset.seconds, asset.device, asset.notes, asset.key

The same (prompt, seed, model version) always gives the same key and bytes, so the URL
can be cached forever.  ``backend="baseline"`` swaps the flow model for the retrieval
floor (nearest training shape by text embedding) through the same mesh pipeline.
Thread safety: ``generate`` may be called from several worker threads; sampling holds a
lock because torch modules are not re-entrant under concurrent ``no_grad`` use with
shared buffers, and the machine has few cores anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from genmodels import asset as asset_mod
from genmodels import shapes
from genmodels.heights import clamp_height, parse_height
from genmodels.model import LatentMLP
from genmodels.prompts import check_prompt, check_seed, derive_seed, flow_notes
from genmodels.result import Asset as BaseAsset
from genmodels.result import AssetCache, GenerationError, default_cache_dir
from genmodels.text import get_encoder
from genmodels.train import (
    CHECKPOINT_DIR,
    LoadedModel,
    TrainConfig,
    conditioner,
    grid_res,
    load_checkpoint,
    training_corpus,
)

Progress = Callable[[float], None]
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "cpu.pt"


def resolve_device(device: str) -> str:
    """ "auto" is the GPU when torch sees one, else the CPU; asking for a missing GPU is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no GPU; use 'cpu' or 'auto'")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r} (expected 'auto', 'cpu' or 'cuda')")
    return device


@dataclass
class Asset(BaseAsset):
    grid: np.ndarray | None = field(default=None, repr=False)  # the TSDF, for evaluation only


class RetrievalBaseline:
    """Floor: return the training shape whose caption embedding is nearest the prompt.

    A stated height counts too, so the floor gets the same information as the model: the
    text picks the ``shortlist`` nearest shapes (what), the height orders them (which).
    The seed picks among the top-k matches so different seeds still vary.
    """

    shortlist = 32

    def __init__(self, cfg: TrainConfig, corpus: dict[str, list[shapes.Shape]] | None = None, k: int = 5) -> None:
        corpus = corpus or training_corpus(cfg)
        self.shapes = corpus["train"]
        self.cfg = cfg
        self.k = k
        self.encoder = get_encoder(cfg.text_encoder)
        caps = [s.captions for s in self.shapes]
        n = len(caps[0])
        self.emb = self.encoder.encode([c for cs in caps for c in cs]).reshape(len(caps), n, -1)
        self.heights = np.array([s.height for s in self.shapes])
        self._grids: dict[int, np.ndarray] = {}

    def nearest(self, prompt: str, seed: int = 0) -> shapes.Shape:
        q = self.encoder.encode([prompt])[0]
        sim = (self.emb @ q).max(axis=1)
        top = np.argsort(-sim)[: max(self.shortlist, self.k)]
        asked = parse_height(prompt)
        if asked is not None:
            top = top[np.argsort(np.abs(self.heights[top] - clamp_height(asked)), kind="stable")]
        top = top[: self.k]
        return self.shapes[int(top[np.random.default_rng(seed).integers(len(top))])]

    def grid(self, prompt: str, seed: int = 0) -> np.ndarray:
        s = self.nearest(prompt, seed)
        if id(s) not in self._grids:  # uids repeat across extra corpora; the objects do not
            self._grids[id(s)] = s.tsdf(grid_res(self.cfg), self.cfg.trunc)
        return self._grids[id(s)]


class Generator:
    def __init__(
        self,
        checkpoint: str | Path | None = None,
        cache_dir: str | Path | None = None,
        backend: str = "flow",
        steps: int | None = None,
        guidance: float | None = None,
        max_triangles: int = asset_mod.DEFAULT_TRIANGLES,
        threads: int = 2,
        use_cache: bool = True,
        retries: int = 2,
        device: str = "auto",
    ) -> None:
        # One BLAS thread for the process (what `plaza serve` sets too): the mesh pipeline's small
        # products gain nothing from a second one, and OpenBLAS workers spinning after each call
        # starve torch's threads. Measured per asset on 2 cores: MiniLM 27 -> 12 ms, flow 24 -> 12 ms.
        threadpool_limits(1, user_api="blas")
        path = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint not found: {path} (train one: python -m genmodels.train --config cpu)")
        self.model: LoadedModel = load_checkpoint(path)
        self.cfg = self.model.cfg
        self.backend = backend
        self.steps = steps or self.cfg.sample_steps
        self.guidance = self.cfg.guidance if guidance is None else guidance
        self.max_triangles = max_triangles
        self.threads = threads
        self.device = resolve_device(device)
        self.model.net.to(self.device)
        self.use_cache = use_cache
        self.retries = retries
        self.cache = AssetCache(Path(cache_dir) if cache_dir else default_cache_dir())
        self.conditioner = conditioner(self.cfg)
        self._baseline: RetrievalBaseline | None = None
        self._lock = threading.Lock()
        if backend not in ("flow", "baseline"):
            raise ValueError(f"unknown backend {backend!r} (expected 'flow' or 'baseline')")

    @property
    def version(self) -> str:
        """Model version in cache keys: checkpoint hash, plus backend and sampler settings."""
        v = self.model.version
        if self.backend == "baseline":
            return f"{v}-baseline"
        if (self.steps, self.guidance) != (self.cfg.sample_steps, self.cfg.guidance):
            v += f"-s{self.steps}-g{self.guidance}"
        if self.device != "cpu":  # other kernels, other float rounding: a key must name its bytes
            v += f"-{self.device}"
        return v

    @property
    def baseline(self) -> RetrievalBaseline:
        if self._baseline is None:
            self._baseline = RetrievalBaseline(self.cfg)
        return self._baseline

    def sample_grids(self, prompts: list[str], seeds: list[int], progress: Progress | None = None) -> np.ndarray:
        """TSDF grids (N, R, R, R) for prompts; one seeded noise draw per item."""
        if self.backend == "baseline":
            return np.stack([self.baseline.grid(p, s) for p, s in zip(prompts, seeds, strict=True)])
        cond = torch.from_numpy(self.conditioner.encode(prompts)).to(self.device)
        net = self.model.net
        shape = (net.cfg.latent,) if isinstance(net, LatentMLP) else (1,) + (self.cfg.model.res,) * 3
        with self._lock, torch.inference_mode():
            torch.set_num_threads(self.threads)
            # start from per-request seeded noise: same seed -> same asset, whatever the batch
            # drawn on the CPU generator whatever the device, so a seed means the same noise everywhere
            noise = torch.cat(
                [torch.randn((1, *shape), generator=torch.Generator().manual_seed(int(s))) for s in seeds]
            ).to(self.device)
            x = self.model.flow.sample(
                cond, noise, self.steps, self.guidance, None if progress is None else lambda f: progress(0.8 * f)
            )
            if isinstance(net, LatentMLP):
                x = net.decode(x)
        return x[:, 0].clamp(-1, 1).cpu().numpy()

    def generate(self, prompt: str, seed: int = 0, progress: Progress | None = None) -> Asset:
        t0 = time.perf_counter()
        clean, notes = check_prompt(prompt)
        notes = notes + flow_notes(clean)
        seed = check_seed(seed)
        key = asset_mod.cache_key(clean, seed, self.version)
        hit = self.cache.load(key) if self.use_cache else None
        if hit is not None:
            glb, path, meta = hit
            if progress is not None:
                progress(1.0)
            return Asset(key, glb, path, meta["triangles"], time.perf_counter() - t0, self.device,
                         meta["notes"], cached=True, watertight=meta["watertight"])  # fmt: skip
        result, grid, last_error, used = None, None, None, 0
        for attempt in range(self.retries + 1):
            # a draw can come out empty or not closed; retry with a derived seed (still deterministic
            # per request) and keep the first closed mesh, else the first mesh at all
            s = derive_seed(seed, attempt)
            g = self.sample_grids([clean], [s], progress)[0]
            try:
                r = asset_mod.grid_to_glb(g, clean, self.max_triangles)
            except ValueError as err:
                last_error = err
                continue
            if result is None or (r.watertight and not result.watertight):
                result, grid, used = r, g, attempt
            if result.watertight:
                break
        if result is None or grid is None:
            raise GenerationError(
                f"could not build a mesh for {clean!r} (seed {seed}): {last_error}; try another seed or prompt"
            )
        if used:
            notes = [*notes, f"draw {used + 1} of this seed was used: earlier draws were empty or not closed"]
        notes = notes + result.notes
        out_path: Path | None = None
        if self.use_cache:
            meta = {"triangles": result.triangles, "notes": notes, "watertight": result.watertight, "prompt": clean,
                    "seed": seed, "model": self.version}  # fmt: skip
            out_path = self.cache.store(key, result.glb, meta)
        if progress is not None:
            progress(1.0)
        return Asset(key, result.glb, out_path, result.triangles, time.perf_counter() - t0, self.device, notes,
                     watertight=result.watertight, grid=grid)  # fmt: skip
