"""Spec: Generator and `plaza generate` produce a validated GLB, cached by (prompt, seed, model)."""

import json
from pathlib import Path

import pytest

from genmodels.api import Generator
from genmodels.cli import main
from genmodels.jobs import JobQueue, JobState


def test_generator_output_is_cached_and_validator_clean(tiny_checkpoint: Path, tmp_path: Path, validate_glb) -> None:
    gen = Generator(tiny_checkpoint, cache_dir=tmp_path / "cache")
    first = gen.generate("a tall pine tree", seed=1)
    assert not first.cached and first.triangles > 0 and first.device == "cpu"
    assert first.path is not None and first.path.name == f"{first.key}.glb"
    again = Generator(tiny_checkpoint, cache_dir=tmp_path / "cache").generate("A tall pine tree ", seed=1)
    assert again.cached and again.glb == first.glb and again.key == first.key
    assert validate_glb(first.path)["issues"]["numErrors"] == 0


def test_baseline_backend_retrieves_a_training_shape(tiny_checkpoint: Path, tmp_path: Path) -> None:
    gen = Generator(tiny_checkpoint, cache_dir=tmp_path, backend="baseline")
    # houses are bulky, so they survive the tiny config's 16^3 grid (thin shapes may not)
    target = next(s for s in gen.baseline.shapes if s.category == "house")
    gen.baseline.k = 1  # k=1: the nearest neighbour of a training caption has that caption's category
    assert gen.baseline.nearest(target.captions[0]).category == "house"
    assert gen.generate(target.captions[0]).triangles > 0


def test_generator_runs_inside_the_job_queue(tiny_checkpoint: Path, tmp_path: Path) -> None:
    gen = Generator(tiny_checkpoint, cache_dir=tmp_path)
    q = JobQueue(gen.generate, timeout_s=60)
    job = q.wait(q.submit("a red mushroom", seed=2, user="alice"), timeout=60)
    assert job.state == JobState.DONE, job.error
    assert job.result.glb[:4] == b"glTF"
    q.shutdown()


def test_cli_writes_glb_and_prints_one_json_line(
    tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAZA_GENMODELS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out.glb"
    rc = main(["a glowing crystal", "--out", str(out), "--seed", "5", "--checkpoint", str(tiny_checkpoint)])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    info = json.loads(lines[0])
    assert {"prompt", "seed", "seconds", "triangles", "device"} <= set(info)
    assert info["prompt"] == "a glowing crystal" and info["seed"] == 5
    assert out.read_bytes()[:4] == b"glTF"


def test_cli_rejects_an_empty_prompt(tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["  ", "--out", str(tmp_path / "x.glb"), "--checkpoint", str(tiny_checkpoint)])
    assert rc == 2
    assert "prompt is empty" in capsys.readouterr().err


def test_device_is_the_gpu_when_there_is_one_and_a_missing_gpu_is_a_clear_error(
    tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    gen = Generator(tiny_checkpoint, cache_dir=tmp_path)  # device="auto"
    assert gen.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert gen.generate("a rock", seed=1).device == gen.device
    if torch.cuda.is_available():
        # the same request on another device is another cache entry: a key names its bytes
        assert Generator(tiny_checkpoint, cache_dir=tmp_path, device="cpu").version != gen.version
        return
    with pytest.raises(RuntimeError, match="no GPU"):
        Generator(tiny_checkpoint, device="cuda")
    with pytest.raises(ValueError, match="unknown device"):
        Generator(tiny_checkpoint, device="tpu")
    rc = main(["a rock", "--out", str(tmp_path / "x.glb"), "--checkpoint", str(tiny_checkpoint), "--device", "cuda"])
    assert rc == 1 and "no GPU" in capsys.readouterr().err


SHIPPED = Path(__file__).resolve().parents[2] / "genmodels" / "checkpoints" / "cpu.pt"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped checkpoint genmodels/checkpoints/cpu.pt not present")
def test_shipped_checkpoint_is_small_and_makes_a_clean_tree(tmp_path: Path, validate_glb) -> None:
    assert SHIPPED.stat().st_size <= 20 * 2**20
    gen = Generator(SHIPPED, cache_dir=tmp_path)
    asset = gen.generate("a tall pine tree", seed=1)
    assert asset.watertight and 100 < asset.triangles <= 4000 and len(asset.glb) < 300_000
    assert asset.seconds < 10
    assert validate_glb(asset.path)["issues"]["numErrors"] == 0


def test_a_draw_that_is_not_closed_is_replaced_by_a_closed_one(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from genmodels import asset

    real = asset.grid_to_glb
    calls: list[int] = []

    def first_one_open(*args, **kwargs):  # the first draw's mesh comes back open, later ones as built
        calls.append(1)
        out = real(*args, **kwargs)
        return dataclasses.replace(out, watertight=False) if len(calls) == 1 else out

    monkeypatch.setattr(asset, "grid_to_glb", first_one_open)
    result = Generator(tiny_checkpoint, cache_dir=tmp_path, use_cache=False).generate("a red rock", seed=4)
    assert len(calls) >= 2
    # a closed later draw wins (and says so); with none closed the first mesh is kept, silently
    assert result.watertight == any("earlier draws were empty or not closed" in n for n in result.notes)
