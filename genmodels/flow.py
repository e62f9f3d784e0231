"""Generative process: rectified flow (flow matching) with classifier-free guidance.

Convention: x_t = (1 - t) * noise + t * data, t in [0, 1]; the network predicts the
constant velocity v = data - noise.  Training samples t from a logit-normal because the
middle of the path is where the velocity is hardest to predict (SD3's finding, and it
helps small models too).  ``sample`` integrates the ODE with Euler steps from noise
(t=0) to data (t=1); guidance mixes conditional and unconditional velocities:
v = v_uncond + w * (v_cond - v_uncond), computed in one batched forward.

No I/O.  The network (``VelocityNet``) splits its forward in two: ``conditioning(t, cond,
keep)``, which does not depend on x, and ``trunk(x, conditioning)``.  The sampler knows every
step's t in advance, so it computes all steps' conditioning in one batched call and runs only
the trunk per step: for the latent MLP that is ~40% fewer weight reads per step, and weight
reads are what a batch-2 forward on a CPU waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

Progress = Callable[[float], None]


class VelocityNet(Protocol):
    """``net(x, t, cond, keep) == net.trunk(x, net.conditioning(t, cond, keep))``; keep is None or
    (B,) bool, False where the prompt is dropped (the net's null condition is used)."""

    def __call__(
        self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None
    ) -> torch.Tensor: ...

    def conditioning(self, t: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor: ...

    def trunk(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor: ...


class RectifiedFlow:
    def __init__(self, net: VelocityNet, p_uncond: float = 0.1) -> None:
        self.net = net
        self.p_uncond = p_uncond  # prompt dropout rate: teaches the unconditional model CFG needs

    def loss(self, x1: torch.Tensor, cond: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b = x1.shape[0]
        x0 = torch.randn(x1.shape, generator=generator, device=x1.device)
        t = torch.sigmoid(torch.randn(b, generator=generator, device=x1.device))
        keep = torch.rand(b, generator=generator, device=x1.device) >= self.p_uncond
        tt = t.view(-1, *([1] * (x1.dim() - 1)))  # broadcast over grid or latent dims alike
        xt = (1 - tt) * x0 + tt * x1
        v = self.net(xt, t, cond, keep)
        return torch.mean((v - (x1 - x0)) ** 2)

    @torch.inference_mode()
    def sample(
        self,
        cond: torch.Tensor,
        x0: torch.Tensor,
        steps: int = 8,
        guidance: float = 3.0,
        progress: Progress | None = None,
    ) -> torch.Tensor:
        """Integrate from the noise ``x0`` (one row per row of ``cond``) to data.

        The caller draws ``x0``, so a request's seed fixes its sample whatever else is batched.
        """
        b = cond.shape[0]
        x = x0
        ts = torch.linspace(0.0, 1.0, steps + 1, device=cond.device)
        guided = guidance != 1.0
        if guided:  # rows: the prompts, then the same rows unconditioned
            rows_cond = torch.cat([cond, cond])
            keep = torch.cat([torch.ones(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)]).to(cond.device)
        else:
            rows_cond, keep = cond, None
        n = rows_cond.shape[0]
        emb = self.net.conditioning(
            ts[:-1].repeat_interleave(n), rows_cond.repeat(steps, 1), None if keep is None else keep.repeat(steps)
        )
        for i in range(steps):
            e = emb[i * n : (i + 1) * n]
            if guided:
                vc, vu = self.net.trunk(torch.cat([x, x]), e).chunk(2)
                v = vu + guidance * (vc - vu)
            else:
                v = self.net.trunk(x, e)
            x = x + (ts[i + 1] - ts[i]) * v
            if progress is not None:
                progress((i + 1) / steps)
        return x
