"""docs/protocol.md is the contract a third-party client is written from: every message type,
error code and close code the server uses has its row there, with the same number."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest

from server.protocol import CloseCode, ErrorCode, MsgType

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def _named_rows() -> set[tuple[int, str]]:
    """``| 14 | VOICE | ...`` rows: (number, NAME)."""
    return {(int(n), name) for n, name in re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", DOC, flags=re.M)}


@pytest.mark.parametrize("enum", [MsgType, ErrorCode], ids=lambda e: e.__name__)
def test_every_message_type_and_error_code_has_a_row_with_its_number(enum: type[IntEnum]) -> None:
    rows = _named_rows()
    missing = [f"{m.value} {m.name}" for m in enum if (m.value, m.name) not in rows]
    assert not missing, f"docs/protocol.md lacks rows for {missing}"


def test_the_doc_names_no_message_type_or_error_code_the_server_does_not_have() -> None:
    known = {(m.value, m.name) for enum in (MsgType, ErrorCode) for m in enum}
    # Bit tables (``| 1 | head position |``) are lower case and do not match the pattern.
    assert _named_rows() <= known


def test_every_close_code_is_in_the_close_code_table() -> None:
    section = DOC.split("## Close codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(n) for n in re.findall(r"^\| (\d{4}) \|", section, flags=re.M)}
    assert documented == {c.value for c in CloseCode}
