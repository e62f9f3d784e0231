"""What a generator hands back, and the on-disk cache both generators share.

Torch-free and trimesh-free: the part generator (the default) imports this without the flow
model's dependencies.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmodels.jobs import JobError


class GenerationError(JobError, RuntimeError):
    """Nothing usable was made; the message is user-facing (a job shows it as is, without the class name)."""


@dataclass
class Asset:
    key: str  # cache key: hex, stable for (prompt, seed, model version)
    glb: bytes
    path: Path | None
    triangles: int
    seconds: float
    device: str
    notes: list[str] = field(default_factory=list)
    cached: bool = False
    watertight: bool = True

    def summary(self, prompt: str, seed: int) -> dict[str, Any]:
        return {
            "prompt": prompt,
            "seed": seed,
            "seconds": round(self.seconds, 3),
            "triangles": self.triangles,
            "device": self.device,
            "key": self.key,
            "cached": self.cached,
            "notes": self.notes,
        }


def default_cache_dir() -> Path:
    return Path(os.environ.get("PLAZA_GENMODELS_CACHE", Path.home() / ".cache" / "plaza" / "genmodels"))


class AssetCache:
    """``KEY.glb`` plus ``KEY.json`` (what the generator knew about it) in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, key: str) -> tuple[bytes, Path, dict[str, Any]] | None:
        path = self.directory / f"{key}.glb"
        meta_path = path.with_suffix(".json")
        if not (path.is_file() and meta_path.is_file()):
            return None
        return path.read_bytes(), path, json.loads(meta_path.read_text())

    def store(self, key: str, glb: bytes, meta: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}.glb"
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(glb)
        os.replace(tmp, path)  # write-then-rename: a concurrent reader never sees half a file
        # The .json is written last: load() wants both, so a crash between them reads as a miss.
        path.with_suffix(".json").write_text(json.dumps(meta))
        return path
