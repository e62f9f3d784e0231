"""The source locator finds keys and values in every TOML layout authors use."""

from __future__ import annotations

import tomllib

from server.worldconfig.locate import build_source_map

DOC = '''# comment [not a table]
title = "x # not a comment"
"quoted key" = 1
text = """
[[objects]]
fake = "inside a string"
"""
when = 1979-05-27 07:32:00Z
list = [
  1,  # comment
  [2, 3],
  { a = 1, b.c = "d" },
]

[templates.tree]
shape = "cone"

[[templates.tree.parts]]
id = "trunk"

[[templates.tree.parts]]
id = "crown"
material.color = "#00ff00"

[[objects]]
id = "a"

[[objects]]
id = "b"
[objects.material]
color = "#fff"

[[objects.tags]]
name = "t"
'''


def test_positions() -> None:
    tomllib.loads(DOC)  # the locator only ever sees valid TOML
    m = build_source_map(DOC)

    def at(*path):
        p = m.locate(path)
        return (p.line, p.col)

    assert at("title") == (2, 9)
    assert at("quoted key") == (3, 16)
    assert at("when") == (8, 8)
    assert at("list", 0) == (10, 3)
    assert at("list", 1, 1) == (11, 7)
    assert at("list", 2, "b", "c") == (12, 18)
    assert at("templates", "tree", "shape") == (16, 9)
    assert at("templates", "tree", "parts", 1, "id") == (22, 6)
    assert at("templates", "tree", "parts", 1, "material", "color") == (23, 18)
    assert at("objects", 0) == (25, 1)  # the [[objects]] header
    assert at("objects", 1, "material", "color") == (31, 9)
    assert at("objects", 1, "tags", 0, "name") == (34, 8)
    # Unknown paths fall back to the nearest known parent.
    assert at("objects", 1, "missing") == (28, 1)
    assert at("nothing") == (1, 1)
    # Keys can be preferred over values (unknown-key errors point at the key).
    k = m.locate(("title",), prefer_value=False)
    assert (k.line, k.col) == (2, 1)
