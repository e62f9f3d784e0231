"""Spec: the part generator makes every catalogue category connected, grounded, sized and coloured,
answers honestly when it does not know an object, and its GLBs pass the Khronos validator."""

from pathlib import Path

import numpy as np
import pytest

from genmodels import catalog
from genmodels.partgen import GenerationError, PartGenerator
from genmodels.parts import Builder, assemble, connected_components, normalise_parts, part_bounds, read_look
from genmodels.prompts import PromptError


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> PartGenerator:
    return PartGenerator(cache_dir=tmp_path_factory.mktemp("parts-cache"))


def test_the_catalogue_covers_a_hundred_categories_in_every_group() -> None:
    groups = catalog.groups()
    assert len(catalog.CATEGORIES) >= 100
    for g in (
        "furniture",
        "lighting",
        "nature",
        "rocks",
        "buildings",
        "structures",
        "street",
        "vehicles",
        "instruments",
        "tableware",
        "food",
        "signs",
        "decor",
        "toys",
        "animals",
    ):
        assert groups.get(g), g


@pytest.mark.parametrize("name", list(catalog.CATEGORIES))
def test_every_category_is_one_connected_grounded_object_for_several_seeds(name: str) -> None:
    c = catalog.CATEGORIES[name]
    shapes = set()
    for seed in range(4):
        b = Builder(np.random.default_rng(seed), frozenset(name.split()))
        c.fn(b)
        parts = normalise_parts(b.parts, 1.0)
        assert connected_components(parts, tol=0.02) == 1, (name, seed)
        lows = np.array([part_bounds(p)[0, 1] for p in parts])
        assert abs(lows.min()) < 1e-9  # base exactly at y = 0
        shapes.add(tuple(round(v, 3) for p in parts for v in (*p.size, *p.pos)))
    assert len(shapes) > 1, "seeds should vary the design"


@pytest.mark.parametrize("name", list(catalog.CATEGORIES))
def test_every_assembled_glb_stands_exactly_on_y_zero(name: str) -> None:
    import trimesh

    c = catalog.CATEGORIES[name]
    b = Builder(np.random.default_rng(7), frozenset(name.split()))
    c.fn(b)
    a = assemble(normalise_parts(b.parts, 1.0), c.looks)
    lo, hi = trimesh.load(trimesh.util.wrap_as_stream(a.glb), file_type="glb", force="scene").bounds
    assert lo[1] == pytest.approx(0.0, abs=1e-5)  # the file's lowest point: nothing floats or sinks
    assert abs(lo[0] + hi[0]) < 1e-5 and abs(lo[2] + hi[2]) < 1e-5


def test_legs_are_mirror_images_across_the_middle() -> None:
    b = Builder(np.random.default_rng(3))
    catalog.CATEGORIES["chair"].fn(b)
    legs = sorted((round(p.pos[0], 6), round(p.pos[2], 6)) for p in normalise_parts(b.parts, 1.0) if p.role == "legs")
    assert len(legs) == 4
    xs = sorted({x for x, _ in legs})
    assert len(xs) == 2 and xs[0] == pytest.approx(-xs[1])


@pytest.mark.parametrize(
    ("prompt", "axis", "metres"),
    [
        ("a 2 m tall pine tree", 1, 2.0),
        ("a 30 cm tall vase", 1, 0.3),
        ("a 6 ft tall bookshelf", 1, 6 * 0.3048),
        ("a 12 inch teddy bear", None, 0.3048),
        ("a 4 m long car", "xz", 4.0),
        ("a 10 cm mushroom", None, 0.1),
        ("a 5 m tall lighthouse", 1, 5.0),
    ],
)
def test_stated_sizes_are_honoured_within_ten_percent(
    gen: PartGenerator, prompt: str, axis: object, metres: float
) -> None:
    e = gen.generate(prompt, seed=1).size_m
    got = e[1] if axis == 1 else max(e[0], e[2]) if axis == "xz" else max(e)
    assert abs(got - metres) <= 0.1 * metres, (prompt, e)


def test_colour_and_material_words_tint_the_parts() -> None:
    look = read_look("a red mushroom with white spots")
    assert look.main_rgb is not None and look.main_rgb[0] > 0.6 > look.main_rgb[1]
    assert look.accent_rgb is not None and min(look.accent_rgb) > 0.85
    wooden = read_look("a wooden crate")
    assert wooden.main_kind == "wood" and wooden.main_rgb is not None and wooden.main_rgb[0] > wooden.main_rgb[2]


def test_the_glb_carries_a_pbr_material_per_part_role(gen: PartGenerator, tmp_path: Path, validate_glb) -> None:
    import json
    import struct

    a = gen.generate("a red mushroom with white spots", seed=0)
    jlen = struct.unpack_from("<I", a.glb, 12)[0]
    doc = json.loads(a.glb[20 : 20 + jlen])
    colours = {m["name"].split("-")[0]: m["pbrMetallicRoughness"]["baseColorFactor"] for m in doc["materials"]}
    assert colours["main"][0] > 0.6 > colours["main"][1]  # red cap
    assert min(colours["accent"][:3]) > 0.85  # white spots
    p = tmp_path / "m.glb"
    p.write_bytes(a.glb)
    assert validate_glb(p)["issues"]["numErrors"] == 0


def test_synonyms_and_head_nouns_pick_the_category(gen: PartGenerator) -> None:
    assert gen.generate("a comfy couch", 0).category == "sofa"
    assert gen.generate("a table lamp", 0).category == "desk lamp"
    assert gen.generate("a stone table", 0).category == "table"
    assert gen.generate("a vase with flowers", 0).category == "vase"
    horse = gen.generate("a statue of a horse", 0)
    assert horse.category == "horse" and horse.known


def test_an_unknown_object_gets_an_honest_answer_and_refusal_is_configurable(
    gen: PartGenerator, tmp_path: Path
) -> None:
    a = gen.generate("a dragon", 0)
    assert not a.known and a.category == "lizard"
    assert a.message == "I can't make “a dragon” yet; closest: a stylised lizard figure"
    assert a.notes[0] == a.message
    refuse = PartGenerator(cache_dir=tmp_path, unknown="refuse")
    with pytest.raises(GenerationError, match="can't make “a dragon”"):
        refuse.generate("a dragon", 0)
    assert refuse.generate("a red sofa", 0).known
    from genmodels.jobs import JobQueue, JobState

    q = JobQueue(refuse.generate)
    job = q.wait(q.submit("a dragon"), timeout=30)
    assert job.state == JobState.FAILED and job.error is not None and job.error.startswith("I can't make")
    q.shutdown()


def test_same_request_same_bytes_and_seeds_vary(gen: PartGenerator) -> None:
    a, b = gen.generate("a wooden chair", 4), gen.generate("a wooden chair", 4)
    assert a.glb == b.glb and b.cached
    assert gen.generate("a wooden chair", 5).key != a.key


@pytest.mark.parametrize("prompt", ["", "   ", "ドラゴン", "!!!"])
def test_bad_prompts_are_refused_with_a_precise_error(gen: PartGenerator, prompt: str) -> None:
    with pytest.raises(PromptError, match=r"empty|English|no words"):
        gen.generate(prompt, 0)


def test_huge_or_negative_seeds_are_a_clear_error(gen: PartGenerator) -> None:
    for seed in (2**64, -1):
        with pytest.raises(PromptError, match="seed must be a whole number from 0 to"):
            gen.generate("a chair", seed)


def test_plaza_generate_runs_the_part_generator_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from genmodels.cli import main

    monkeypatch.setenv("PLAZA_GENMODELS_CACHE", str(tmp_path / "cache"))
    assert main(["a red sofa, 2 m long", "--out", str(tmp_path / "s.glb")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["category"] == "sofa" and info["known"] and abs(max(info["size_m"][0], info["size_m"][2]) - 2) < 0.2
    assert (tmp_path / "s.glb").read_bytes()[:4] == b"glTF"
    assert main(["a dragon", "--out", str(tmp_path / "d.glb")]) == 0
    assert "I can't make “a dragon” yet" in capsys.readouterr().err
    assert main(["a dragon", "--out", str(tmp_path / "d2.glb"), "--refuse-unknown"]) == 1
    assert not (tmp_path / "d2.glb").exists()
