"""Spec: the tiny config trains on CPU, checkpoints carry their config, sampling is real and seeded."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from genmodels.flow import RectifiedFlow
from genmodels.model import LatentConfig, LatentMLP, UNet3D, UNetConfig, fold3d, unfold3d
from genmodels.train import CONFIGS, Trainer, load_checkpoint


def test_fold_is_lossless() -> None:
    x = torch.randn(2, 1, 16, 16, 16)
    assert torch.equal(fold3d(unfold3d(x, 2), 2), x)


def test_network_maps_grid_to_same_shape_velocity() -> None:
    net = UNet3D(UNetConfig(res=16, fold=2, base=8, mults=(1, 2), emb_dim=32, cond_dim=10))
    v = net(torch.randn(3, 1, 16, 16, 16), torch.rand(3), torch.randn(3, 10), torch.tensor([True, False, True]))
    assert v.shape == (3, 1, 16, 16, 16)


def _euler_cfg(net: torch.nn.Module, cond: torch.Tensor, x: torch.Tensor, steps: int, w: float) -> torch.Tensor:
    """The textbook guided Euler loop, one full forward per step (what ``sample`` must equal)."""
    b = cond.shape[0]
    for i in range(steps):
        t = torch.full((b,), i / steps)
        vc = net(x, t, cond, torch.ones(b, dtype=torch.bool))
        vu = net(x, t, cond, torch.zeros(b, dtype=torch.bool))
        x = x + (vu + w * (vc - vu)) / steps
    return x


@pytest.mark.parametrize("kind", ["latent", "unet"])
def test_sampler_with_precomputed_conditioning_equals_plain_guided_euler(kind: str) -> None:
    torch.manual_seed(0)
    if kind == "latent":
        net: torch.nn.Module = LatentMLP(LatentConfig(latent=12, width=32, depth=2, cond_dim=10, emb_dim=16))
        x0 = torch.randn(3, 12)
    else:
        net = UNet3D(UNetConfig(res=8, fold=2, base=8, mults=(1, 2), emb_dim=16, cond_dim=10))
        x0 = torch.randn(3, 1, 8, 8, 8)
    for p in net.parameters():  # zero-initialised outputs would make every velocity 0
        torch.nn.init.normal_(p, std=0.2)
    net.eval()
    cond = torch.randn(3, 10)
    with torch.no_grad():
        expected = _euler_cfg(net, cond, x0, 5, 2.5)
    got = RectifiedFlow(net).sample(cond, x0, steps=5, guidance=2.5)
    assert expected.abs().max() > 0.1  # the check is not about zeros
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    # guidance 1 is the conditional velocity alone, without the unconditional half
    x = x0
    with torch.no_grad():
        for i in range(5):
            x = x + net(x, torch.full((3,), i / 5), cond, None) / 5
    torch.testing.assert_close(RectifiedFlow(net).sample(cond, x0, steps=5, guidance=1.0), x, atol=1e-5, rtol=1e-4)


def test_flow_loss_decreases_when_overfitting_one_batch() -> None:
    torch.manual_seed(0)
    net = UNet3D(UNetConfig(res=16, fold=2, base=8, mults=(1, 2), emb_dim=32, cond_dim=10))
    flow = RectifiedFlow(net)
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    x, c = torch.sign(torch.randn(4, 1, 16, 16, 16)), torch.randn(4, 10)
    g = torch.Generator().manual_seed(0)
    first = None
    for _ in range(30):
        loss = flow.loss(x, c, g)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


def test_tiny_config_trains_and_checkpoint_rebuilds_the_model(tiny_checkpoint: Path) -> None:
    loaded = load_checkpoint(tiny_checkpoint)
    assert loaded.cfg == CONFIGS["tiny"]
    assert loaded.metrics["steps"] == CONFIGS["tiny"].steps
    assert np.isfinite(loaded.metrics["val_loss"])
    assert tiny_checkpoint.stat().st_size < 20 * 2**20
    assert tiny_checkpoint.with_suffix(".json").is_file()
    assert len(loaded.version) == 12


def test_sampling_is_seeded_and_guided(tiny_checkpoint: Path) -> None:
    from genmodels.api import Generator

    gen = Generator(tiny_checkpoint, use_cache=False)
    a = gen.sample_grids(["a tall pine tree"], [7])
    b = gen.sample_grids(["a tall pine tree"], [7])
    c = gen.sample_grids(["a tall pine tree"], [8])
    assert a.shape == (1, 16, 16, 16)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_trainer_can_run_with_a_given_corpus() -> None:
    from genmodels import shapes

    cfg = dataclasses.replace(CONFIGS["tiny"], steps=2)  # never mutate the shared config
    corpus = shapes.build_corpus(2, seed=5)
    t = Trainer(cfg, corpus)
    metrics = t.fit(log=False)
    assert metrics["steps"] == 2


def test_pca_latent_config_trains_samples_and_decodes_to_a_grid(tmp_path: Path) -> None:
    from genmodels.api import Generator

    trainer = Trainer(CONFIGS["tiny-pca"])
    metrics = trainer.fit(log=False)
    assert metrics["pca_recon_mae"] < 0.2  # the basis reproduces training grids
    path = tmp_path / "tiny-pca.pt"
    trainer.save(path)
    gen = Generator(path, use_cache=False)
    grids = gen.sample_grids(["a red mushroom", "a red mushroom"], [1, 1])
    assert grids.shape == (2, 16, 16, 16) and np.array_equal(grids[0], grids[1])
    assert gen.generate("a red mushroom", seed=1).glb[:4] == b"glTF"
