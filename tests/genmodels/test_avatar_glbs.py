"""The web client's bundled avatar GLBs (web_client/avatars/) are what genmodels/avatars.py
writes, one per protocol look plus the accessories, with the meshes avatars.js looks up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trimesh

from genmodels import avatars
from server.protocol import AVATAR_ACCESSORIES, AVATAR_LOOKS


def test_checked_in_glbs_are_what_the_script_writes(tmp_path: Path) -> None:
    written = avatars.build(tmp_path)
    assert sorted(p.name for p in written) == sorted([*(f"{n}.glb" for n in AVATAR_LOOKS), "accessories.glb"])
    for p in written:
        assert (avatars.OUT / p.name).read_bytes() == p.read_bytes(), (
            f"web_client/avatars/{p.name} is stale: run `python -m genmodels.avatars`"
        )


def test_each_look_has_head_torso_hand_and_accessories_fit_every_head() -> None:
    for look in AVATAR_LOOKS:
        scene = trimesh.load(avatars.OUT / f"{look}.glb")
        assert isinstance(scene, trimesh.Scene)
        assert set(scene.geometry) == {"head", "torso", "hand"}, look
        head = scene.geometry["head"]
        assert max(abs(head.bounds).max(axis=0)[[0, 2]]) < 0.18, f"{look}: a head wider than the accessories allow"
        # The tint flag (COLOR_0 alpha) is 255 or 0, and some of every part takes the person's colour.
        for part, g in scene.geometry.items():
            alpha = g.visual.vertex_attributes["color"][:, 3]  # COLOR_0 (the file has a material too)
            assert set(alpha.tolist()) <= {0, 255} and (alpha == 255).any(), (look, part)
    acc = trimesh.load(avatars.OUT / "accessories.glb")
    assert set(acc.geometry) == set(AVATAR_ACCESSORIES) - {"none"}


def test_the_glbs_pass_the_khronos_validator(validate_glb: Callable[[Path], dict]) -> None:
    for name in [*AVATAR_LOOKS, "accessories"]:
        report = validate_glb(avatars.OUT / f"{name}.glb")
        assert report["issues"]["numErrors"] == 0, (name, report["issues"]["messages"])
