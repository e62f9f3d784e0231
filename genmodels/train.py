"""Trainer: corpus -> TSDF tensors + caption embeddings -> rectified-flow training -> checkpoint.

    python -m genmodels.train --config tiny          # seconds, used by tests
    python -m genmodels.train --config cpu           # the shipped checkpoint (~30 min, 2 threads)
    python -m genmodels.train --config my.json       # a JSON file with TrainConfig fields

A checkpoint is one ``.pt`` file holding the full ``TrainConfig`` (so sampling rebuilds
exactly the trained network and data convention), the EMA weights in float16 (halves the
size; sampling runs in float32), and the run's metrics.  A ``.json`` twin with config and
metrics is written beside it for humans and for the docs.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from genmodels import shapes
from genmodels.flow import RectifiedFlow
from genmodels.model import LatentConfig, LatentMLP, UNet3D, UNetConfig
from genmodels.text import Conditioner, condition_width

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"


@dataclass
class TrainConfig:
    name: str = "cpu"
    arch: str = "unet"  # "unet": U-Net on the TSDF grid; "pca": MLP in a PCA latent of the grid
    model: UNetConfig = field(default_factory=UNetConfig)  # used when arch == "unet"
    latent: LatentConfig = field(default_factory=LatentConfig)  # used when arch == "pca"
    # data
    per_category: int = 160  # shapes generated per category before the split (~76% end in train)
    corpus_seed: int = 0  # fixes shapes, captions and splits
    extra_corpora: int = 0  # more training shapes: train+val of seeds corpus_seed+1000.. (held-out band excluded)
    trunc: float = 0.15  # TSDF truncation distance in world units (grid spans 2.0); ~2.3 voxels at 32^3
    text_encoder: str = "minilm"  # "minilm" or "hash" (dependency-free fallback)
    height_cond: bool = False  # stated heights ("1.2 m") also enter as numeric features (genmodels.heights)
    # optimisation
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01  # AdamW
    warmup: int = 100  # linear warm-up steps, then cosine decay to lr/10
    steps: int = 2200  # ~0.8 s/step for the cpu config on 2 threads
    max_minutes: float = 28.0  # wall-clock cap: stops early, still saves a valid checkpoint
    ema_decay: float = 0.999
    ema_start: int = 200  # EMA copies raw weights until here: early weights are noise
    p_uncond: float = 0.1  # prompt dropout for classifier-free guidance
    seed: int = 0
    threads: int = 2  # the dev box is shared; never grab every core
    # sampling defaults stored with the checkpoint
    sample_steps: int = 24
    guidance: float = 3.0
    log_every: int = 50
    save_every: int = 500  # intermediate checkpoints, so a killed run still leaves weights


CONFIGS: dict[str, TrainConfig] = {
    # tiny: 16^3 grid, hashed text, a few steps: proves the loop end-to-end in seconds
    "tiny": TrainConfig(
        name="tiny",
        model=UNetConfig(res=16, fold=2, base=16, mults=(1, 2), blocks=1, emb_dim=64),
        per_category=4,
        text_encoder="hash",
        batch=8,
        steps=12,
        warmup=2,
        ema_start=0,
        ema_decay=0.9,
        sample_steps=4,
        max_minutes=2.0,
        log_every=4,
    ),
    # tiny-pca: the shipped architecture at toy size, for tests
    "tiny-pca": TrainConfig(
        name="tiny-pca",
        arch="pca",
        model=UNetConfig(res=16),
        latent=LatentConfig(res=16, latent=8, width=64, depth=2, emb_dim=32, cond_dim=condition_width(True)),
        per_category=4,
        text_encoder="hash",
        height_cond=True,
        batch=16,
        steps=20,
        warmup=2,
        ema_start=0,
        ema_decay=0.9,
        sample_steps=4,
        max_minutes=2.0,
        log_every=10,
    ),
    # cpu-unet: grid U-Net (32^3 folded to 8^3 x 64). Needs ~2k+ steps; on the shared 2-core box it
    # reached only 338 steps in 28 min and sampled noise, so it is not the shipped model.
    "cpu-unet": TrainConfig(name="cpu-unet", model=UNetConfig(res=32, fold=4, base=64, mults=(1, 2), blocks=2)),
    # cpu: the shipped model: rectified flow in a 160-d whitened PCA latent of the 32^3 TSDF,
    # conditioned on MiniLM + stated-height features; trained on 5 corpus seeds (~6,600 shapes)
    # and regularised (dropout, weight decay): with one seed (~1,200) val loss was twice train loss
    "cpu": TrainConfig(
        name="cpu",
        arch="pca",
        model=UNetConfig(res=32),
        latent=LatentConfig(res=32, latent=160, width=384, depth=4, dropout=0.1, cond_dim=condition_width(True)),
        height_cond=True,
        extra_corpora=4,
        batch=256,
        lr=1e-3,
        weight_decay=0.05,
        warmup=200,
        # ~0.062 s/step on a quiet 2-core box (16.5 min); 6000 steps left it underfitting
        # (val loss 0.41 = train loss; 16000: 0.34, and band-val 1-NNA 0.675 -> 0.574)
        steps=16000,
        max_minutes=30.0,  # capped for a busy box; a capped run still saves a valid checkpoint
        ema_decay=0.999,
        ema_start=500,
        sample_steps=8,
        guidance=2.0,
        log_every=500,
        save_every=3000,
    ),
}


def training_corpus(cfg: TrainConfig) -> dict[str, list[shapes.Shape]]:
    """The corpus of ``corpus_seed`` (its val and test splits unchanged) with extra training shapes.

    The generator is procedural, so more data is a seed away; extra corpora use seeds far from
    corpus_seed + 1 (the bench's band-val split) and drop their held-out-band shapes.
    """
    corpus = shapes.build_corpus(cfg.per_category, cfg.corpus_seed)
    for i in range(cfg.extra_corpora):
        extra = shapes.build_corpus(cfg.per_category, cfg.corpus_seed + 1000 + i)
        corpus["train"] = corpus["train"] + extra["train"] + extra["val"]
    return corpus


def conditioner(cfg: TrainConfig) -> Conditioner:
    return Conditioner(cfg.text_encoder, cfg.height_cond)


def build_net(cfg: TrainConfig) -> UNet3D | LatentMLP:
    net_cond = cfg.latent.cond_dim if cfg.arch == "pca" else cfg.model.cond_dim
    width = condition_width(cfg.height_cond)
    if net_cond != width:
        raise ValueError(f"config {cfg.name!r}: network cond_dim {net_cond} != condition width {width}")
    if cfg.arch == "unet":
        return UNet3D(cfg.model)
    if cfg.arch == "pca":
        return LatentMLP(cfg.latent)
    raise ValueError(f"unknown arch {cfg.arch!r} (expected 'unet' or 'pca')")


def grid_res(cfg: TrainConfig) -> int:
    return cfg.latent.res if cfg.arch == "pca" else cfg.model.res


def config_from_dict(d: dict) -> TrainConfig:
    d = dict(d)
    m = dict(d.pop("model", {}))
    lat = dict(d.pop("latent", {}))
    if "mults" in m:
        m["mults"] = tuple(m["mults"])

    def known(cls: type, kv: dict) -> dict:  # keys of other versions' experiments are ignored
        names = {f.name for f in dataclasses.fields(cls)}
        return {k: v for k, v in kv.items() if k in names}

    return TrainConfig(
        model=UNetConfig(**known(UNetConfig, m)),
        latent=LatentConfig(**known(LatentConfig, lat)),
        **known(TrainConfig, d),
    )


def resolve_config(name_or_file: str) -> TrainConfig:
    if name_or_file in CONFIGS:
        return dataclasses.replace(CONFIGS[name_or_file])
    path = Path(name_or_file)
    if path.is_file():
        return config_from_dict(json.loads(path.read_text()))
    raise SystemExit(f"unknown config {name_or_file!r}: use one of {sorted(CONFIGS)} or a JSON file")


class ShapeData:
    """Split of the corpus as tensors: TSDF grids + an embedding per caption."""

    def __init__(self, cfg: TrainConfig, split: str, corpus: dict[str, list[shapes.Shape]] | None = None) -> None:
        corpus = corpus or training_corpus(cfg)
        self.shapes = corpus[split]
        res = grid_res(cfg)
        self.grids = torch.from_numpy(np.stack([s.tsdf(res, cfg.trunc) for s in self.shapes]))[:, None]
        enc = conditioner(cfg)
        self.captions = [s.captions for s in self.shapes]
        flat = [c for cs in self.captions for c in cs]
        self.n_caps = len(self.captions[0])
        emb = enc.encode(flat)
        self.emb = torch.from_numpy(emb).view(len(self.shapes), self.n_caps, -1)
        self.latents: torch.Tensor | None = None  # (N, 2, K): [as is, mirrored], set for arch "pca"

    def __len__(self) -> int:
        return len(self.shapes)

    def batch(self, size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(self), (size,), generator=gen)
        cap = torch.randint(0, self.n_caps, (size,), generator=gen)
        # mirror in x: every category is left/right symmetric in meaning, so it's free data
        flip = torch.rand(size, generator=gen) < 0.5
        if self.latents is not None:
            return self.latents[idx, flip.long()], self.emb[idx, cap]
        x = self.grids[idx]
        x = torch.where(flip[:, None, None, None, None], x.flip(2), x)
        return x, self.emb[idx, cap]


class EMA:
    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, copy: bool = False) -> None:
        for k, v in model.state_dict().items():
            if copy or not v.dtype.is_floating_point:
                self.shadow[k].copy_(v)
            else:
                self.shadow[k].lerp_(v, 1 - self.decay)


class Trainer:
    def __init__(self, cfg: TrainConfig, corpus: dict[str, list[shapes.Shape]] | None = None) -> None:
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        corpus = corpus or training_corpus(cfg)
        self.train_data = ShapeData(cfg, "train", corpus)
        self.val_data = ShapeData(cfg, "val", corpus) if corpus["val"] else None
        self.net = build_net(cfg)
        if isinstance(self.net, LatentMLP):
            self._fit_latent(self.net)
        self.flow = RectifiedFlow(self.net, cfg.p_uncond)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.ema = EMA(self.net, cfg.ema_decay)
        self.step = 0
        self.metrics: dict[str, float | int | str] = {}

    @torch.no_grad()
    def _fit_latent(self, net: LatentMLP) -> None:
        """PCA of the training grids (and their mirrors); stores whitened latents on the data."""
        g = self.train_data.grids
        x = torch.cat([g, g.flip(2)]).reshape(2 * len(g), -1)
        mean = x.mean(0)
        k = self.cfg.latent.latent
        # randomised SVD: the full one on ~2400 x 32768 is needlessly slow on 2 cores
        _, sv, v = torch.svd_lowrank(x - mean, q=min(k + 16, x.shape[0]), niter=4)
        basis = v[:, :k].T.contiguous()
        scale = (sv[:k] / math.sqrt(max(x.shape[0] - 1, 1))).clamp_min(1e-4)
        net.set_basis(mean, basis, scale)
        self.encode_latents()
        recon = net.decode(net.encode(g))
        self.pca_recon_mae = float((recon - g).abs().mean())

    @torch.no_grad()
    def encode_latents(self) -> None:
        """Latents of the data under the net's current basis (again after --init loads another one)."""
        assert isinstance(self.net, LatentMLP)
        for data in (self.train_data, self.val_data):
            if data is not None:
                data.latents = torch.stack([self.net.encode(data.grids), self.net.encode(data.grids.flip(2))], 1)

    def lr_at(self, step: int) -> float:
        c = self.cfg
        if step < c.warmup:
            return c.lr * (step + 1) / c.warmup
        frac = (step - c.warmup) / max(1, c.steps - c.warmup)
        return c.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))

    @torch.no_grad()
    def val_loss(self, n_batches: int = 4) -> float:
        """Flow loss of the EMA weights on val shapes, fixed noise so runs compare."""
        if self.val_data is None:
            return float("nan")
        live = {k: v.clone() for k, v in self.net.state_dict().items()}
        was_training = self.net.training
        self.net.eval()  # no dropout in the val loss
        self.net.load_state_dict(self.ema.shadow)
        gen = torch.Generator().manual_seed(1234)
        losses = []
        for _ in range(n_batches):
            x, c = self.val_data.batch(min(self.cfg.batch, len(self.val_data)), gen)
            losses.append(float(self.flow.loss(x, c, gen)))
        self.net.load_state_dict(live)
        self.net.train(was_training)
        return float(np.mean(losses))

    def fit(self, log: bool = True, out: Path | None = None) -> dict[str, float | int | str]:
        cfg = self.cfg
        torch.set_num_threads(cfg.threads)
        gen = torch.Generator().manual_seed(cfg.seed)
        t0 = time.time()
        running = 0.0
        self.net.train()
        while self.step < cfg.steps:
            if (time.time() - t0) / 60 > cfg.max_minutes:
                if log:
                    print(f"time cap {cfg.max_minutes} min reached at step {self.step}", file=sys.stderr)
                break
            for g in self.opt.param_groups:
                g["lr"] = self.lr_at(self.step)
            x, c = self.train_data.batch(cfg.batch, gen)
            loss = self.flow.loss(x, c, gen)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.opt.step()
            self.ema.update(self.net, copy=self.step < cfg.ema_start)
            self.step += 1
            running = 0.98 * running + 0.02 * loss.item() if self.step > 1 else loss.item()
            if log and self.step % cfg.log_every == 0:
                el = time.time() - t0
                print(f"step {self.step} loss {running:.4f} lr {self.lr_at(self.step):.2e} {el:.0f}s", file=sys.stderr)
            if out is not None and self.step % cfg.save_every == 0:
                keep = {k: v for k, v in self.metrics.items() if k == "init_steps"}
                self.metrics = {**keep, "steps": self.step, "partial": 1}
                self.save(out)
        self.metrics = {
            **{k: v for k, v in self.metrics.items() if k == "init_steps"},
            "steps": self.step,
            "train_seconds": round(time.time() - t0, 1),
            "train_loss_ema": round(running, 5),
            "val_loss": round(self.val_loss(), 5),
            "train_shapes": len(self.train_data),
            "params": sum(p.numel() for p in self.net.parameters()),
            "threads": cfg.threads,
        }
        if hasattr(self, "pca_recon_mae"):
            self.metrics["pca_recon_mae"] = round(self.pca_recon_mae, 5)
        return self.metrics

    def save(self, path: Path) -> str:
        """Write ``path`` (.pt) and its .json twin; returns the model version (content hash)."""
        payload = {
            "config": asdict(self.cfg),
            "ema": {k: (v.half() if v.dtype == torch.float32 else v) for k, v in self.ema.shadow.items()},
            "metrics": self.metrics,
        }
        buf = io.BytesIO()
        torch.save(payload, buf)
        data = buf.getvalue()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        version = hashlib.sha256(data).hexdigest()[:12]
        meta = {"version": version, "bytes": len(data), "config": asdict(self.cfg), "metrics": self.metrics}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
        return version


@dataclass
class LoadedModel:
    cfg: TrainConfig
    net: UNet3D | LatentMLP  # per cfg.arch
    flow: RectifiedFlow
    version: str  # sha256 prefix of the checkpoint bytes: part of every cache key
    metrics: dict


def load_checkpoint(path: str | Path) -> LoadedModel:
    data = Path(path).read_bytes()
    payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    cfg = config_from_dict(payload["config"])
    net = build_net(cfg)
    net.load_state_dict({k: v.float() if v.dtype == torch.float16 else v for k, v in payload["ema"].items()})
    net.eval()
    return LoadedModel(
        cfg, net, RectifiedFlow(net, cfg.p_uncond), hashlib.sha256(data).hexdigest()[:12], payload["metrics"]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m genmodels.train", description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="cpu", help=f"one of {sorted(CONFIGS)} or a JSON file of TrainConfig fields")
    ap.add_argument("--out", type=Path, default=None, help="checkpoint path (default genmodels/checkpoints/NAME.pt)")
    ap.add_argument("--steps", type=int, default=None, help="override the number of steps")
    ap.add_argument("--max-minutes", type=float, default=None, help="override the wall-clock cap")
    ap.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights")
    args = ap.parse_args(argv)
    cfg = resolve_config(args.config)
    if args.steps is not None:
        cfg.steps = args.steps
    if args.max_minutes is not None:
        cfg.max_minutes = args.max_minutes
    trainer = Trainer(cfg)
    if args.init is not None:
        # warm start from a checkpoint's EMA weights (fresh optimiser): extends a run in bounded slices
        init = load_checkpoint(args.init)
        same = dataclasses.replace(init.cfg.latent, dropout=0.0) == dataclasses.replace(cfg.latent, dropout=0.0)
        if (init.cfg.arch, init.cfg.model) != (cfg.arch, cfg.model) or not same:
            raise SystemExit(f"--init {args.init}: model config differs from {cfg.name!r}")
        trainer.net.load_state_dict(init.net.state_dict())
        if isinstance(trainer.net, LatentMLP):
            trainer.encode_latents()  # the data's latents must use the loaded basis, not the one just fitted
        trainer.ema = EMA(trainer.net, cfg.ema_decay)
        cfg.ema_start = 0
        trainer.metrics["init_steps"] = int(init.metrics.get("steps", 0))
    out = args.out or CHECKPOINT_DIR / f"{cfg.name}.pt"
    metrics = trainer.fit(out=out)
    version = trainer.save(out)
    print(json.dumps({"checkpoint": str(out), "version": version, **metrics}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
