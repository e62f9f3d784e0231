"""Network: a small text-conditioned 3D U-Net over a truncated SDF grid.

Pure torch, no I/O.  The 32^3 grid is first folded losslessly into 16^3 x 8 channels
(3D pixel-unshuffle) because a CPU cannot afford many full-resolution 3D convolutions;
the U-Net then runs at 16^3 / 8^3 / 4^3 and the output is unfolded back to 32^3.
Time and text embeddings are combined into one vector that modulates every residual
block (FiLM: per-channel scale and shift), which is how the prompt steers the shape.
A learned "null" text vector stands in for the prompt when it is dropped, which is
what classifier-free guidance needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class UNetConfig:
    res: int = 32  # grid resolution of the TSDF the model sees and produces
    fold: int = 2  # space-to-depth factor applied first (32^3 -> 16^3 x 8)
    base: int = 32  # channels at the first level
    mults: tuple[int, ...] = (1, 2, 4)  # channel multiplier per level; one 2x downsample between levels
    blocks: int = 1  # residual blocks per level (down path; up path gets one more for the skip)
    cond_dim: int = 384  # text embedding width (MiniLM)
    emb_dim: int = 128  # width of the joint time+text vector
    groups: int = 8  # GroupNorm groups


def unfold3d(x: torch.Tensor, f: int) -> torch.Tensor:
    """(B, C, D, H, W) -> (B, C*f^3, D/f, H/f, W/f), lossless."""
    b, c, d, h, w = x.shape
    x = x.view(b, c, d // f, f, h // f, f, w // f, f)
    return x.permute(0, 1, 3, 5, 7, 2, 4, 6).reshape(b, c * f**3, d // f, h // f, w // f)


def fold3d(x: torch.Tensor, f: int) -> torch.Tensor:
    """Inverse of unfold3d."""
    b, c, d, h, w = x.shape
    co = c // f**3
    x = x.view(b, co, f, f, f, d, h, w)
    return x.permute(0, 1, 5, 2, 6, 3, 7, 4).reshape(b, co, d * f, h * f, w * f)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1] (scaled up so low frequencies still vary)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, cin), cin)
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = nn.GroupNorm(min(groups, cout), cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1)
        self.skip = nn.Conv3d(cin, cout, 1) if cin != cout else nn.Identity()
        # zero-init the last conv so each block starts as identity: stabler early training
        nn.init.zeros_(self.conv2.weight)
        assert self.conv2.bias is not None  # Conv3d's default bias=True
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return h + self.skip(x)


class UNet3D(nn.Module):
    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        chans = [cfg.base * m for m in cfg.mults]
        in_ch = cfg.fold**3
        self.null_cond = nn.Parameter(torch.zeros(cfg.cond_dim))
        self.time_mlp = nn.Sequential(
            nn.Linear(cfg.emb_dim, cfg.emb_dim), nn.SiLU(), nn.Linear(cfg.emb_dim, cfg.emb_dim)
        )
        self.text_mlp = nn.Sequential(
            nn.Linear(cfg.cond_dim, cfg.emb_dim), nn.SiLU(), nn.Linear(cfg.emb_dim, cfg.emb_dim)
        )
        self.stem = nn.Conv3d(in_ch, chans[0], 3, padding=1)

        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skip_chans: list[int] = []
        c = chans[0]
        for i, ch in enumerate(chans):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks):
                blocks.append(ResBlock(c, ch, cfg.emb_dim, cfg.groups))
                c = ch
            self.down.append(blocks)
            skip_chans.append(c)
            self.downsample.append(nn.Conv3d(c, c, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())

        self.mid = ResBlock(c, c, cfg.emb_dim, cfg.groups)

        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, ch in reversed(list(enumerate(chans))):
            blocks = nn.ModuleList()
            blocks.append(ResBlock(c + skip_chans[i], ch, cfg.emb_dim, cfg.groups))
            for _ in range(cfg.blocks - 1):
                blocks.append(ResBlock(ch, ch, cfg.emb_dim, cfg.groups))
            c = ch
            self.up.append(blocks)
            self.upsample.append(nn.Upsample(scale_factor=2, mode="nearest") if i > 0 else nn.Identity())

        self.out_norm = nn.GroupNorm(min(cfg.groups, c), c)
        self.out = nn.Conv3d(c, in_ch, 3, padding=1)

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict the flow velocity.

        x: (B, 1, R, R, R) noisy TSDF; t: (B,) in [0, 1]; cond: (B, cond_dim) text embeddings;
        keep: optional (B,) bool, False where the prompt is dropped (null embedding used).
        """
        return self.trunk(x, self.conditioning(t, cond, keep))

    def conditioning(self, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """The part of ``forward`` that does not depend on x: the joint time+text vector (B, emb_dim)."""
        if keep is not None:
            cond = torch.where(keep[:, None], cond, self.null_cond[None].expand_as(cond))
        return F.silu(self.time_mlp(timestep_embedding(t, self.cfg.emb_dim)) + self.text_mlp(cond))

    def trunk(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.stem(unfold3d(x, self.cfg.fold))
        skips = []
        for blocks, down in zip(self.down, self.downsample, strict=True):
            for blk in cast(nn.ModuleList, blocks):
                h = blk(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid(h, emb)
        for blocks, up in zip(self.up, self.upsample, strict=True):
            h = torch.cat([h, skips.pop()], dim=1)
            for blk in cast(nn.ModuleList, blocks):
                h = blk(h, emb)
            h = up(h)
        return fold3d(self.out(F.silu(self.out_norm(h))), self.cfg.fold)


class ShapeClassifier(nn.Module):
    """Small 3D CNN judging the category of a TSDF (evaluation only, trained on real shapes)."""

    def __init__(self, n_classes: int, width: int = 16) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv3d(1, w, 3, padding=1), nn.SiLU(), nn.MaxPool3d(2),  # 16^3
            nn.Conv3d(w, 2 * w, 3, padding=1), nn.SiLU(), nn.MaxPool3d(2),  # 8^3
            nn.Conv3d(2 * w, 4 * w, 3, padding=1), nn.SiLU(), nn.MaxPool3d(2),  # 4^3
            nn.AdaptiveAvgPool3d(4), nn.Flatten(),  # any grid size -> 4^3 cells
            nn.Linear(4 * w * 64, 128), nn.SiLU(), nn.Linear(128, n_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class LatentConfig:
    res: int = 32  # grid resolution the PCA basis spans
    latent: int = 128  # PCA components kept (whitened): the space the flow runs in
    width: int = 512  # residual MLP width
    depth: int = 4  # residual blocks
    cond_dim: int = 384  # text embedding width
    emb_dim: int = 128  # time embedding width
    dropout: float = 0.0  # on each residual branch (training only); regularises the small corpus


class LatentMLP(nn.Module):
    """Velocity network in a whitened PCA space of the training TSDFs.

    The basis, mean and per-component scale are buffers fitted by the trainer and saved with
    the weights, so ``decode`` maps a latent back to the exact 32^3 TSDF convention.  Why:
    on a shared 2-core CPU a grid U-Net gets a few hundred optimiser steps in 30 min, far too
    few; an MLP over 128 coefficients gets tens of thousands.  The flow still ends in the
    TSDF grid; thin details beyond what 128 components can express are lost.
    """

    # Buffers (register_buffer), declared for the type checker.
    mean: torch.Tensor
    basis: torch.Tensor
    scale: torch.Tensor

    def __init__(self, cfg: LatentConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n = cfg.res**3
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("basis", torch.zeros(cfg.latent, n))
        self.register_buffer("scale", torch.ones(cfg.latent))
        self.null_cond = nn.Parameter(torch.zeros(cfg.cond_dim))
        self.inp = nn.Linear(cfg.latent, cfg.width)
        self.cond = nn.Sequential(
            nn.Linear(cfg.cond_dim + cfg.emb_dim, cfg.width), nn.SiLU(), nn.Linear(cfg.width, cfg.width)
        )
        self.blocks = nn.ModuleList()
        self.films = nn.ModuleList()
        for _ in range(cfg.depth):
            self.blocks.append(
                nn.Sequential(
                    nn.LayerNorm(cfg.width),
                    nn.Linear(cfg.width, 2 * cfg.width),
                    nn.SiLU(),
                    nn.Linear(2 * cfg.width, cfg.width),
                    nn.Dropout(cfg.dropout),  # last, so parameter names match checkpoints without it
                )
            )
            self.films.append(nn.Linear(cfg.width, 2 * cfg.width))
        self.out_norm = nn.LayerNorm(cfg.width)
        self.out = nn.Linear(cfg.width, cfg.latent)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @torch.no_grad()
    def set_basis(self, mean: torch.Tensor, basis: torch.Tensor, scale: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.basis.copy_(basis)
        self.scale.copy_(scale)

    def encode(self, grid: torch.Tensor) -> torch.Tensor:
        """(B, 1, R, R, R) TSDF -> (B, latent) whitened coefficients."""
        flat = grid.reshape(grid.shape[0], -1) - self.mean
        return (flat @ self.basis.T) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        r = self.cfg.res
        return ((z * self.scale) @ self.basis + self.mean).reshape(-1, 1, r, r, r)

    def forward(
        self, z: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.trunk(z, self.conditioning(t, cond, keep))

    def conditioning(self, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """The part of ``forward`` that does not depend on z, as one (B, width * (1 + 2 * depth)) tensor:
        the conditioning vector, then each block's FiLM (scale, shift)."""
        if keep is not None:
            cond = torch.where(keep[:, None], cond, self.null_cond[None].expand_as(cond))
        c = self.cond(torch.cat([cond, timestep_embedding(t, self.cfg.emb_dim)], dim=-1))
        sc = F.silu(c)
        return torch.cat([c, *(film(sc) for film in self.films)], dim=-1)

    def trunk(self, z: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        w = self.cfg.width
        h = self.inp(z) + emb[:, :w]
        for i, blk in enumerate(self.blocks):
            scale, shift = emb[:, w * (1 + 2 * i) : w * (3 + 2 * i)].chunk(2, dim=-1)
            h = h + blk(h) * (1 + scale) + shift
        return self.out(F.silu(self.out_norm(h)))
