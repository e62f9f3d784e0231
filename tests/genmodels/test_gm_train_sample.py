"""Spec: the tiny config trains on CPU, checkpoints carry their config, sampling is real and seeded."""

import dataclasses
from pathlib import Path

import numpy as np
import torch

from genmodels.flow import RectifiedFlow
from genmodels.model import UNet3D, UNetConfig, fold3d, unfold3d
from genmodels.train import CONFIGS, Trainer, load_checkpoint


def test_fold_is_lossless() -> None:
    x = torch.randn(2, 1, 16, 16, 16)
    assert torch.equal(fold3d(unfold3d(x, 2), 2), x)


def test_network_maps_grid_to_same_shape_velocity() -> None:
    net = UNet3D(UNetConfig(res=16, fold=2, base=8, mults=(1, 2), emb_dim=32, cond_dim=10))
    v = net(torch.randn(3, 1, 16, 16, 16), torch.rand(3), torch.randn(3, 10), torch.tensor([True, False, True]))
    assert v.shape == (3, 1, 16, 16, 16)


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
    assert metrics["refine_steps"] == CONFIGS["tiny-pca"].refine_steps
    path = tmp_path / "tiny-pca.pt"
    trainer.save(path)
    loaded = load_checkpoint(path).net
    refined = {k: v for k, v in loaded.state_dict().items() if k.startswith("refiner.")}
    assert refined and all(torch.allclose(v, trainer.net.state_dict()[k], atol=1e-2) for k, v in refined.items())
    gen = Generator(path, use_cache=False)
    grids = gen.sample_grids(["a red mushroom", "a red mushroom"], [1, 1])
    assert grids.shape == (2, 16, 16, 16) and np.array_equal(grids[0], grids[1])
    assert gen.generate("a red mushroom", seed=1).glb[:4] == b"glTF"


def test_refiner_starts_as_the_identity_on_the_linear_decode() -> None:
    from genmodels.model import LatentConfig, LatentMLP

    net = LatentMLP(LatentConfig(res=16, latent=8, width=32, depth=1, refine_width=8))
    net.set_basis(torch.zeros(16**3), torch.randn(8, 16**3) * 0.1, torch.ones(8))
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(net.decode(z), net.decode_linear(z))
