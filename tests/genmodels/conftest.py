"""Shared fixtures: a tiny checkpoint trained once per session, and the glTF validator."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

TOOLS = Path(__file__).resolve().parents[2] / "genmodels" / "tools"


@pytest.fixture(scope="session", autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(2)  # the dev machine is shared


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from genmodels.train import CONFIGS, Trainer

    trainer = Trainer(CONFIGS["tiny"])
    trainer.fit(log=False)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    trainer.save(path)
    return path


def _validate_glb(path: Path) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: glTF validation needs Node 18+")
    if not (TOOLS / "node_modules" / "gltf-validator").is_dir():
        pytest.skip("gltf-validator missing: run `npm ci` in genmodels/tools")
    out = subprocess.run(["node", str(TOOLS / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=60)
    assert out.stdout, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def validate_glb() -> Callable[[Path], dict]:
    """Run Khronos glTF-Validator (npm gltf-validator) on a file; returns its report.

    Skips (with the fix in the reason) when node or the npm package is missing.
    """
    return _validate_glb
