"""Templates, arrays and rotations expand to the right objects."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from server.worldconfig import load_world
from server.worldconfig.mathutil import euler_deg_to_quat, quat_rotate


def _approx(v, w, tol=1e-6) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(v, w, strict=True))


def test_line_array(write_world) -> None:
    w = load_world(
        write_world(
            "a",
            '[[objects]]\nid = "crate"\nshape = "box"\nposition = [1, 0, 2]\n'
            'array = { kind = "line", count = 4, step = [0.5, 0, -1] }\n',
        )
    )
    objs = w.objects_resolved()
    assert [o.id for o in objs] == ["crate#0", "crate#1", "crate#2", "crate#3"]
    assert [o.position for o in objs] == [(1, 0, 2), (1.5, 0, 1), (2, 0, 0), (2.5, 0, -1)]
    assert all(o.source == "crate" for o in objs)


def test_grid_array_ids_and_positions(write_world) -> None:
    w = load_world(
        write_world(
            "a",
            '[[objects]]\nid = "seat"\nshape = "box"\n'
            'array = { kind = "grid", rows = 3, columns = 4, step = [1, 0, 0], '
            "row_step = [0, 0.5, 2] }\n",
        )
    )
    objs = {o.id: o for o in w.objects_resolved()}
    assert len(objs) == 12
    assert objs["seat#0"].position == (0, 0, 0)
    assert objs["seat#3"].position == (3, 0, 0)  # last column, first row
    assert objs["seat#11"].position == (3, 1, 4)  # row 2, column 3: index 2 * 4 + 3


def test_circle_array_faces_centre(write_world) -> None:
    w = load_world(
        write_world(
            "a",
            '[[objects]]\nid = "chair"\nshape = "box"\nposition = [0, 0, -1]\n'
            'array = { kind = "circle", count = 4, radius = 2, face_center = true }\n',
        )
    )
    objs = w.objects_resolved()
    assert [o.id for o in objs] == ["chair#0", "chair#1", "chair#2", "chair#3"]
    expected = [(0, 0, 1), (2, 0, -1), (0, 0, -3), (-2, 0, -1)]
    for o, p in zip(objs, expected, strict=True):
        assert _approx(o.position, p)
        # Forward (-Z) of every copy points at the centre.
        fwd = quat_rotate(o.rotation, (0, 0, -1))
        to_centre = ((0 - o.position[0]) / 2, 0, (-1 - o.position[2]) / 2)
        assert _approx(fwd, to_centre)


def test_circle_arc_includes_both_ends(write_world) -> None:
    w = load_world(
        write_world(
            "a",
            '[[objects]]\nid = "l"\nshape = "box"\n'
            'array = { kind = "circle", count = 3, radius = 1, start_deg = 0, end_deg = 90 }\n',
        )
    )
    pos = [o.position for o in w.objects_resolved()]
    s = math.sqrt(0.5)
    assert _approx(pos[0], (0, 0, 1)) and _approx(pos[1], (s, 0, s)) and _approx(pos[2], (1, 0, 0))


TEMPLATES = """
[[templates.tree.parts]]
id = "trunk"
shape = "cylinder"
size = [0.3, 2, 0.3]
position = [0, 1, 0]
material = { color = "#553311" }

[[templates.tree.parts]]
id = "crown"
shape = "cone"
position = [0, 3, 0]
material = { color = "#00ff00", roughness = 0.9 }

[templates.ball]
shape = "sphere"
grabbable = true
material = { color = "#ff0000", roughness = 0.4 }

[[objects]]
id = "oak"
template = "tree"
position = [10, 0, 0]
rotation = [0, 90, 0]
scale = 2
parts.crown.material.color = "#ffaa00"

[[objects]]
id = "red"
template = "ball"
position = [1, 1, 1]

[[objects]]
id = "blue"
template = "ball"
position = [2, 1, 1]
material.color = "#0000ff"
"""


def test_templates_with_parts_and_overrides(write_world) -> None:
    w = load_world(write_world("a", TEMPLATES, spawns='[[spawns]]\nname = "s"\nposition = [0, 0, 0]\n'))
    objs = {o.id: o for o in w.objects_resolved()}
    assert list(objs) == ["oak/trunk", "oak/crown", "red", "blue"]
    crown = objs["oak/crown"]
    # Part offset (0, 3, 0) scaled by 2 and rotated about Y stays on the Y axis.
    assert _approx(crown.position, (10, 6, 0))
    assert crown.scale == (2, 2, 2)
    # Deep merge: the override changes the colour, the template's roughness stays.
    assert crown.material == {"color": "#ffaa00", "roughness": 0.9}
    assert objs["oak/trunk"].material == {"color": "#553311"}
    assert objs["red"].grabbable and objs["red"].shape == "sphere"
    assert objs["blue"].material == {"color": "#0000ff", "roughness": 0.4}
    assert objs["red"].template == "ball"
    # Digest follows the authored definition, not identity.
    assert objs["red"].digest() != objs["blue"].digest()


def test_part_offset_is_rotated(write_world) -> None:
    body = (
        '[templates.t]\nparts = [{ id = "p", shape = "box", position = [1, 0, 0] }]\n\n'
        '[[objects]]\nid = "o"\ntemplate = "t"\nrotation = [0, 90, 0]\n'
    )
    (o,) = load_world(write_world("a", body)).objects_resolved()
    # +X rotated 90 degrees about +Y points to -Z (right-handed, y up).
    assert _approx(o.position, (0, 0, -1))


@pytest.mark.parametrize(
    ("euler", "quat"),
    [
        ((0, 0, 0), (0, 0, 0, 1)),
        ((90, 0, 0), (math.sqrt(0.5), 0, 0, math.sqrt(0.5))),
        ((0, 90, 0), (0, math.sqrt(0.5), 0, math.sqrt(0.5))),
        ((0, 0, 180), (0, 0, 1, 0)),
        # Reference: scipy Rotation.from_euler("XYZ", [30, 45, 60], degrees=True);
        # intrinsic XYZ is three.js's 'XYZ' order.
        (
            (30, 45, 60),
            (0.3919038373291199, 0.20056212114657512, 0.5319756951821668, 0.7233174113647118),
        ),
    ],
)
def test_euler_to_quaternion(euler, quat) -> None:
    assert _approx(euler_deg_to_quat(euler), quat, 1e-8)


def test_euler_order_is_xyz() -> None:
    # Order XYZ means the matrix is Rx * Ry * Rz: z is applied to the vector first.
    q = euler_deg_to_quat((90, 0, 90))
    # Rz(90) takes +X to +Y, then Rx(90) takes +Y to +Z.
    assert _approx(quat_rotate(q, (1, 0, 0)), (0, 0, 1))


def test_resolved_to_client_is_plain(write_world) -> None:
    body = '[[objects]]\nid = "g"\ngenerate = "a mossy boulder"\nsize = [1, 0.5, 1]\n'
    (o,) = load_world(write_world("a", body)).objects_resolved()
    d = o.to_client()
    assert d["kind"] == "generate" and d["generate"] == {
        "prompt": "a mossy boulder",
        "status": "pending",
    }
    assert d["rotation"] == [0, 0, 0, 1] and d["size"] == [1, 0.5, 1] and d["collider"] == "box"


def test_model_path(tmp_path: Path, write_world) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.glb").write_bytes(b"glTF")
    (o,) = load_world(write_world("a", '[[objects]]\nid = "m"\nmodel = "assets/x.glb"\n')).objects_resolved()
    assert o.kind == "model" and o.to_client()["model"] == "assets/x.glb"
