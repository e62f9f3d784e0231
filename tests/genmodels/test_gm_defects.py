"""Spec: the defects issue 16 found stay fixed — sinking assets, colliding retry seeds, overflowing
seeds, slow refusal of empty prompts, ignored sizes, and silence about unknown objects."""

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from genmodels import asset, shapes
from genmodels.cli import main
from genmodels.heights import parse_size
from genmodels.jobs import JobQueue
from genmodels.prompts import MAX_SEED, PromptError, check_prompt, derive_seed
from server.assets import AssetService, surface_below
from server.generated import toast_text
from server.worldconfig import load_world, validate_paths

WORLDS = Path(__file__).resolve().parents[2] / "worlds"


def test_flow_assets_stand_on_their_base_at_y_zero() -> None:
    s = shapes.make_shape("rock", np.random.default_rng(0))
    result = asset.grid_to_glb(s.tsdf(32), "a rock")
    lo, hi = result.mesh.bounds
    assert lo[1] == pytest.approx(0.0, abs=1e-6)  # was -0.9: the grid floor
    assert abs(lo[0] + hi[0]) < 1e-6 and abs(lo[2] + hi[2]) < 1e-6  # centred on its anchor


@pytest.mark.parametrize(
    ("prompt", "metres"), [("a 3 m tall rock", 3.0), ("a 15 cm tall rock", 0.15), ("a 4 ft tall rock", 4 * 0.3048)]
)
def test_flow_assets_get_the_stated_size_even_beyond_the_grid(prompt: str, metres: float) -> None:
    s = shapes.make_shape("rock", np.random.default_rng(1))
    result = asset.grid_to_glb(s.tsdf(32), prompt)
    assert result.mesh.extents[1] == pytest.approx(metres, rel=0.01)


def test_sizes_read_cm_m_ft_and_inches_and_out_of_range_ones_get_a_note() -> None:
    assert parse_size("a 12 in tall lamp").metres == pytest.approx(0.3048)  # type: ignore[union-attr]
    assert parse_size("a 30cm vase").metres == pytest.approx(0.3)  # type: ignore[union-attr]
    assert parse_size("5 in a row") is None
    assert any("drawing 5 m" in n for n in check_prompt("a 9 m tall tree")[1])
    assert check_prompt("a 3 m tall pine tree")[1] == []  # 0.1-5 m is honoured, no note


def test_retry_seeds_never_collide_with_other_requests() -> None:
    drawn = {derive_seed(seed, attempt) for seed in range(300) for attempt in range(3)}
    assert len(drawn) == 900  # seed * 7919 + attempt made seed 0's redraw equal seed 1's first draw
    assert derive_seed(0, 1) != 1 and derive_seed(7, 0) == 7
    assert all(0 <= derive_seed(MAX_SEED, a) <= MAX_SEED for a in range(3))


def test_a_huge_seed_is_a_clear_error_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = JobQueue(lambda p, s, progress: None)
    with pytest.raises(PromptError, match=f"seed must be a whole number from 0 to {MAX_SEED}"):
        q.submit("a chair", seed=2**70)
    q.shutdown()
    assert main(["a chair", "--seed", str(2**70), "--out", str(tmp_path / "x.glb")]) == 2
    assert "seed must be a whole number" in capsys.readouterr().err


def test_cli_rejects_bad_prompts_before_loading_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.perf_counter()
    # a checkpoint that does not exist: were the model loaded first, this would fail with exit 1
    for prompt in ("", "ドラゴン"):
        rc = main([prompt, "--out", str(tmp_path / "x.glb"), "--checkpoint", str(tmp_path / "missing.pt")])
        assert rc == 2
    err = capsys.readouterr().err
    assert "prompt is empty" in err and "English" in err
    assert time.perf_counter() - t0 < 2.0


def test_the_forest_park_boulders_stand_on_the_ground() -> None:
    world = load_world(WORLDS / "forest-park.toml")
    boulders = [o for o in world.objects_resolved() if o.generate == "a mossy boulder"]
    assert boulders
    for o in boulders:
        # the client stands a generated asset (base at local y = 0) on the bottom of its box
        assert o.position[1] - o.size[1] * o.scale[1] / 2 == pytest.approx(0.0, abs=1e-6)


def test_a_spawned_asset_goes_on_the_surface_below_its_anchor() -> None:
    info = {
        "objects": [
            {"kind": "shape", "position": [2, 0.4, 0], "size": [1, 0.8, 1], "scale": [1, 1, 1], "collider": "box"},
            {"kind": "shape", "position": [5, 2.0, 0], "size": [1, 0.2, 1], "scale": [1, 1, 1], "collider": "box"},
            {"kind": "shape", "position": [8, 0.4, 0], "size": [1, 0.8, 1], "scale": [1, 1, 1], "collider": "none"},
        ]
    }
    assert surface_below(info, (0.0, 0.5, 0.0), 0.0) == 0.0  # open ground
    assert surface_below(info, (2.2, 1.0, 0.0), 0.0) == pytest.approx(0.8)  # on the low box
    assert surface_below(info, (5.0, 0.5, 0.0), 0.0) == 0.0  # a shelf above the anchor is not below it
    assert surface_below(info, (8.0, 0.9, 0.0), 0.0) == 0.0  # a walk-through object holds nothing


def test_the_toast_says_what_was_made_instead() -> None:
    base = {"prompt": "a dragon", "url": "/assets/gen/x.glb"}
    msg = "I can't make “a dragon” yet; closest: a stylised lizard figure"
    assert toast_text({**base, "message": msg}) == f"{msg}; placed that instead"
    assert toast_text({**base, "message": None, "prompt": "a sofa"}) == "“a sofa” is here"
    assert "could not generate" in toast_text({"prompt": "a dragon", "error": "no"})


def test_job_status_carries_the_honest_answer(tmp_path: Path) -> None:
    svc = AssetService(tmp_path)
    try:
        job = svc.submit("a dragon", 0, "alice")
        svc._queue.wait(job, timeout=60)
        st = svc.status(job)
        assert st["state"] == "done", st
        assert st["known"] is False and st["category"] == "lizard"
        assert st["message"] == "I can't make “a dragon” yet; closest: a stylised lizard figure"
        assert st["message"] in st["notes"]  # type: ignore[operator]
    finally:
        svc.close()


def test_validate_warns_about_prompts_it_cannot_make_with_a_preview_command(tmp_path: Path) -> None:
    shutil.copytree(WORLDS, tmp_path / "worlds")  # portals need their target worlds beside them
    code, lines = validate_paths([str(tmp_path / "worlds")])
    assert code == 0 and lines == []  # the shipped prompts are all known
    f = tmp_path / "worlds" / "forest-park.toml"
    f.write_text(f.read_text().replace('generate = "a mossy boulder"', 'generate = "a dragon"'))
    code, lines = validate_paths([str(f)])
    assert code == 0  # a warning: the file is still valid
    assert len(lines) == 1 and "warning: I can't make “a dragon” yet; closest: a stylised lizard figure" in lines[0]
    assert "plaza generate 'a dragon' --out" in lines[0] and "forest-park.toml:" in lines[0]
