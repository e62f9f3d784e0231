"""The authors' benchmark of the part generator (run it as ``python bench/genmodels.py``).

Prompts: genmodels/evalset.py — INSIDE (catalogue objects in authors' words), PARAPHRASES
(catalogue objects in words no synonym list has) and OUTSIDE (objects we do not make).
Systems: ``parts`` (the default generator: word lists + trained text model) and ``retrieval``
(the nearest-training-caption baseline: the category of the training caption whose MiniLM
embedding is closest, drawn by the same programs; "unknown" below a similarity floor).

The judge does not share the generator's text encoder: it sees geometry only. It is a k-NN over
shape descriptors (a 4x4x4 occupancy histogram of surface samples in the asset's box, plus log
extents in metres) of corpus designs drawn with seeds the generator's checks never use; an asset
is "recognised" when the judge puts it in the prompt's intended category. It knows the programs'
shapes, so it measures whether the prompt reached the right program and the program drew a
distinguishable object, not beauty: the contact sheets are for that.

Per group: recognised, understood (generator's own category == intended), honest (OUTSIDE:
share answered with "I can't make ... yet"), size error (prompts stating a size), colour honoured
(prompts with a colour word before any "with": some part's base colour within 0.25 RGB of it),
connected and grounded, glTF-validator clean, latency p50/p95 with 1 and 2 torch threads.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import numpy as np
import torch
import trimesh

from genmodels import catalog
from genmodels.evalset import INSIDE, OUTSIDE, PARAPHRASES
from genmodels.heights import parse_size
from genmodels.partgen import Design, PartGenerator
from genmodels.parts import COLOURS, Builder, assemble, connected_components, normalise_parts
from genmodels.render import contact_sheet, render
from genmodels.understand import UNKNOWN, Understood

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO / "genmodels" / "tools" / "validate.mjs"


# ----- the judge ---------------------------------------------------------------------------------
def descriptor(meshes: list[trimesh.Trimesh], seed: int = 0) -> np.ndarray:
    m = trimesh.util.concatenate(meshes) if len(meshes) > 1 else meshes[0]
    pts, _ = trimesh.sample.sample_surface(m, 600, seed=seed)
    lo, hi = m.bounds
    ext = np.maximum(hi - lo, 1e-6)
    u = np.clip((pts - lo) / ext, 0, 0.999)
    idx = (u * 4).astype(int)
    hist = np.zeros((4, 4, 4))
    np.add.at(hist, (idx[:, 0], idx[:, 1], idx[:, 2]), 1)
    hist = hist / hist.sum()
    # left/right and front/back are the same object: symmetrise so orientation does not decide
    hist = (hist + hist[::-1] + hist[:, :, ::-1] + hist[::-1, :, ::-1]) / 4
    return np.concatenate([hist.ravel() * 8, np.log(ext) * 0.5, [np.log(ext[1] / max(ext[0], ext[2]))]])


class Judge:
    def __init__(self, seeds: range = range(5000, 5008), k: int = 3) -> None:
        xs, ys = [], []
        for name, c in catalog.CATEGORIES.items():
            for syn in c.synonyms[:2]:
                for s in seeds:
                    b = Builder(np.random.default_rng(s), frozenset(syn.split()))
                    c.fn(b)
                    a = assemble(normalise_parts(b.parts, 1.0), c.looks, detail=0)
                    xs.append(descriptor(list(a.meshes.values()), s))
                    ys.append(name)
        self.x, self.y, self.k = np.stack(xs), np.array(ys), k

    def predict(self, meshes: list[trimesh.Trimesh]) -> str:
        d = np.linalg.norm(self.x - descriptor(meshes)[None], axis=1)
        near = self.y[np.argsort(d)[: self.k]]
        names, counts = np.unique(near, return_counts=True)
        return str(names[np.argmax(counts)]) if counts.max() > 1 else str(near[0])

    def reference_accuracy(self, seeds: range = range(6000, 6002)) -> float:
        ok = n = 0
        for name, c in catalog.CATEGORIES.items():
            for s in seeds:
                b = Builder(np.random.default_rng(s), frozenset(name.split()))
                c.fn(b)
                a = assemble(normalise_parts(b.parts, 1.0), c.looks, detail=0)
                ok += self.predict(list(a.meshes.values())) == name
                n += 1
        return ok / n


# ----- the retrieval baseline --------------------------------------------------------------------
class Retrieval:
    """Nearest training caption (MiniLM) -> its category; unknown when the best cosine < ``floor``."""

    def __init__(self, gen: PartGenerator, floor: float = 0.6) -> None:
        from genmodels.train_parts import captions

        tx, ty, _, _ = captions(0, per_synonym=2)
        self.gen, self.floor = gen, floor
        self.labels = ty
        self.emb = gen._encode(tx)

    def understand(self, prompt: str) -> Understood:
        sim = self.emb @ self.gen._encode([prompt])[0]
        i = int(np.argmax(sim))
        label = self.labels[i]
        if label == UNKNOWN or sim[i] < self.floor:
            order = np.argsort(-sim)
            best = next(self.labels[int(j)] for j in order if self.labels[int(j)] != UNKNOWN)
            return Understood(best, False, False, "retrieval", float(sim[i]))
        return Understood(label, True, False, "retrieval", float(sim[i]))


# ----- measuring one asset -----------------------------------------------------------------------
def colour_word(prompt: str) -> str | None:
    ws = re.findall(r"[a-z]+", prompt.lower())
    cut = next((i for i, w in enumerate(ws) if w in ("with", "and")), len(ws))
    for i in range(cut):
        if ws[i] in COLOURS and not (i > 0 and ws[i - 1] in ("dark", "light", "pale", "bright", "deep")):
            return ws[i]
    return None


def glb_materials(glb: bytes) -> list[list[float]]:
    import struct

    jlen = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20 : 20 + jlen])
    return [m["pbrMetallicRoughness"]["baseColorFactor"][:3] for m in doc.get("materials", [])]


def measure(design: Design, glb: bytes, prompt: str, intended: str | None, judge: Judge) -> dict:
    scene = trimesh.load(trimesh.util.wrap_as_stream(glb), file_type="glb", force="scene")
    meshes = [cast(trimesh.Trimesh, g) for g in cast(trimesh.Scene, scene).dump()]
    lo, hi = scene.bounds
    ext = hi - lo
    row: dict = {
        "prompt": prompt,
        "intended": intended,
        "category": design.understood.category,
        "known": design.message is None,
        "message": design.message,
        "judged": judge.predict(meshes),
        "extent_m": [round(float(v), 3) for v in ext],
        "connected": connected_components(design.parts, 0.02) == 1,
        "grounded": abs(float(lo[1])) < 1e-4,
    }
    size = parse_size(prompt)
    if size is not None:
        got = ext[1] if size.axis == "height" else max(ext[0], ext[2]) if size.axis == "length" else ext.max()
        row["size_error"] = round(abs(float(got) - size.clamped) / size.clamped, 4)
    word = colour_word(prompt)
    if word is not None:
        target = np.array(COLOURS[word])
        row["colour_honoured"] = any(np.linalg.norm(np.array(c) - target) <= 0.25 for c in glb_materials(glb))
    return row


def validate(paths: list[Path]) -> list[int] | None:
    if shutil.which("node") is None or not (VALIDATOR.parent / "node_modules" / "gltf-validator").is_dir():
        return None
    out = subprocess.run(["node", str(VALIDATOR), *map(str, paths)], capture_output=True, text=True, timeout=600)
    return [json.loads(line)["numErrors"] for line in out.stdout.splitlines() if line.strip()]


def summarise(rows: list[dict], outside: bool) -> dict:
    def rate(key: str) -> float | None:
        vals = [r[key] for r in rows if key in r and r[key] is not None]
        return round(float(np.mean(vals)), 4) if vals else None

    out: dict = {"prompts": len(rows)}
    if outside:
        out["honest"] = round(float(np.mean([not r["known"] for r in rows])), 4)
    else:
        out["recognised"] = round(float(np.mean([r["judged"] == r["intended"] for r in rows])), 4)
        out["understood"] = round(float(np.mean([r["category"] == r["intended"] for r in rows])), 4)
        out["claimed_unknown"] = round(float(np.mean([not r["known"] for r in rows])), 4)
    errs = [r["size_error"] for r in rows if "size_error" in r]
    if errs:
        out["size_error_mean"] = round(float(np.mean(errs)), 4)
        out["size_error_max"] = round(float(np.max(errs)), 4)
        out["sized_prompts"] = len(errs)
    out["colour_honoured"] = rate("colour_honoured")
    out["coloured_prompts"] = sum(1 for r in rows if "colour_honoured" in r)
    out["connected"] = rate("connected")
    out["grounded"] = rate("grounded")
    return out


def latency(gen: PartGenerator, prompts: list[str], threads: int, seeds: int) -> dict:
    torch.set_num_threads(threads)
    gen.threads = threads  # the generator sets torch's threads per MiniLM call
    times = []
    for s in range(seeds):
        for p in prompts:
            t0 = time.perf_counter()
            gen.generate(p, 1000 + s)
            times.append(time.perf_counter() - t0)
    if gen._encoder is not None:
        gen._encoder.clear_cache()  # type: ignore[attr-defined]
    return {
        "p50_s": round(float(np.percentile(times, 50)), 4),
        "p95_s": round(float(np.percentile(times, 95)), 4),
        "max_s": round(float(np.max(times)), 4),
        "n": len(times),
    }


def sheet(gen: PartGenerator, prompts: list[str], path: Path, seed: int = 0, columns: int = 8) -> None:
    tiles = []
    for p in prompts:
        d = gen.design(p, seed)
        a = assemble(d.parts, d.looks)
        meshes = [
            (np.asarray(m.vertices), np.asarray(m.faces), (d.looks.get(r) or d.looks["main"]).rgb)
            for r, m in a.meshes.items()
        ]
        cap = p if d.message is None else f"{p} -> ?{d.understood.category}"
        tiles.append((render(meshes, 160), cap))
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(tiles, columns).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/genmodels.py", description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2, help="seeds per prompt (each measured)")
    ap.add_argument("--latency-seeds", type=int, default=2)
    ap.add_argument("--sheets", type=Path, default=None, help="write contact sheets (PNG) into this folder")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t_start = time.time()
    gen = PartGenerator(use_cache=False)
    gen._encode(["warm up"])  # MiniLM loads once per process: not part of any asset's latency
    judge = Judge()
    report: dict = {
        "suite": "authors",
        "categories": len(catalog.CATEGORIES),
        "text_model": gen.clf.version,
        "text_model_metrics": gen.clf.metrics,
        "judge_reference_accuracy": round(judge.reference_accuracy(), 4),
    }
    systems: dict[str, Retrieval | None] = {"parts": None}
    if not args.no_baseline:
        systems["retrieval"] = Retrieval(gen)
    groups: dict[str, list[tuple[str, str | None]]] = {
        "inside": [(p, c) for p, c in INSIDE],
        "paraphrase": [(p, c) for p, c in PARAPHRASES],
        "outside": [(p, None) for p in OUTSIDE],
    }
    tmp = Path(tempfile.mkdtemp(prefix="plaza-bench-"))
    try:
        for sname, sys_ in systems.items():
            res: dict = {}
            files: list[Path] = []
            for gname, items in groups.items():
                rows = []
                for p, intended in items:
                    for s in range(args.seeds):
                        u = None if sys_ is None else sys_.understand(p)
                        d = gen.design(p, s, understood=u)
                        a = assemble(d.parts, d.looks)
                        if sname == "parts" and s == 0:
                            f = tmp / f"{len(files)}.glb"
                            f.write_bytes(a.glb)
                            files.append(f)
                        rows.append(measure(d, a.glb, p, intended, judge))
                res[gname] = summarise(rows, gname == "outside")
                res[gname]["misses"] = sorted(
                    {
                        f"{r['prompt']} -> {r['category']}"
                        for r in rows
                        if gname != "outside" and r["category"] != r["intended"]
                    }
                )[:40]
                if gname == "outside":
                    res[gname]["claimed_known"] = sorted(
                        {f"{r['prompt']} -> {r['category']}" for r in rows if r["known"]}
                    )
            if files:
                errs = validate(files)
                res["validator_clean"] = None if errs is None else round(float(np.mean([e == 0 for e in errs])), 4)
                res["validated_files"] = len(files)
            report[sname] = res
        lat_prompts = [p for p, _ in INSIDE[::6]] + [p for p, _ in PARAPHRASES[::3]] + OUTSIDE[::6]
        report["latency"] = {f"threads_{t}": latency(gen, lat_prompts, t, args.latency_seeds) for t in (1, 2)}
        report["latency"]["note"] = (
            "per uncached asset (no GLB cache), text model included; MiniLM loaded before timing"
        )
        if args.sheets is not None:
            sheet(gen, [p for p, _ in INSIDE[::5]][:56], args.sheets / "genmodels-inside.png")
            sheet(gen, [p for p, _ in PARAPHRASES], args.sheets / "genmodels-paraphrase.png")
            sheet(gen, OUTSIDE[:24], args.sheets / "genmodels-outside.png")
            cats = list(catalog.CATEGORIES)
            sheet(gen, [f"a {c}" for c in cats], args.sheets / "genmodels-catalogue.png", columns=12)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["seconds"] = round(time.time() - t_start, 1)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
