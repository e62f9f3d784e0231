"""The test suite's own layout: shared helpers live in helpers modules (tests/wsclient.py,
tests/serverproc.py, tests/waiting.py, ...), never in a test module another file imports."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (function-level imports too); relative ones
    keep their leading dots."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out += [base, *(f"{base.rstrip('.')}.{a.name}" for a in node.names)]  # from pkg import test_x
    return out


def test_no_file_imports_from_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in imported_modules(path)
        if module.startswith(("tests.", ".")) and module.rpartition(".")[2].startswith("test_")
    ]
    assert not offenders, "move the helper into a helpers module:\n" + "\n".join(offenders)
