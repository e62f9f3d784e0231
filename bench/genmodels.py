"""Benchmark text-to-3D. Default: the part generator on authors' prompts (genmodels/benchauthors.py):

    python bench/genmodels.py [--out-dir docs/img] [--sheets]      # what `plaza serve` runs by default

``--suite flow``: the SDF flow model vs the retrieval baseline on held-out test shapes:

    python bench/genmodels.py --suite flow [--checkpoint genmodels/checkpoints/cpu.pt] [--per-category 6]
                              [--split test|val|band-val] [--prompts height|plain]

Prints one JSON document.  Prompts are captions of held-out test shapes (heights in the
band no training shape has): by default the shape's first caption that states its height
("a 1.24 m tall leafy tree": the height error measures what was asked), with
``--prompts plain`` its first caption, which at most says "medium".  Each generated asset
is compared with the test shapes of its category.  Metrics (lower is better unless noted):
  mmd_cd      minimum-matching distance, Chamfer (x1e3), test -> generated
  cov_cd      coverage: share of test shapes that are some generated shape's nearest (higher better)
  nna_cd      1-NN accuracy of telling generated from test (50% ideal, 100% = fully separable)
  cat_acc     share of generated shapes a 3D CNN (the judge) puts in the asked category (higher
              better); the judge learns from real shapes of an independent corpus seed, all heights;
              classifier_ref_acc is its accuracy on the real held-out shapes (the ceiling)
  height_err  |asked height - measured height| in world units (grid spans 2.0)
  mem_ratio   nearest-training-shape distance of generated / of real held-out shapes; ~1 is
              healthy, << 1 means copying training shapes (retrieval copies, so it scores low)
  watertight, validator_clean (share of GLBs with zero glTF-Validator errors), latency p50/p95 (s)
              per uncached asset, text encoding included: both systems are warmed up, every request
              starts with an empty prompt-embedding cache (the two share one encoder and the same
              prompts), and requests alternate between the systems so machine noise hits both alike
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import trimesh
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genmodels import asset, shapes  # noqa: E402
from genmodels.api import DEFAULT_CHECKPOINT, Asset, GenerationError, Generator  # noqa: E402
from genmodels.heights import parse_height  # noqa: E402
from genmodels.model import ShapeClassifier  # noqa: E402
from genmodels.train import grid_res  # noqa: E402

VALIDATOR = REPO / "genmodels" / "tools" / "validate.mjs"


def clouds(grids: list[np.ndarray], n: int) -> list[np.ndarray]:
    """Point clouds of the grids that have a surface (thin shapes can vanish at low res)."""
    return [p for p in (surface_points(g, n, 0) for g in grids) if p is not None]


def surface_points(grid: np.ndarray, n: int, seed: int) -> np.ndarray | None:
    try:
        mesh, _, _ = asset.keep_main_components(asset.grid_to_mesh(grid, upsample=1, smooth_sigma=0.0))
    except ValueError:
        return None
    pts, _ = trimesh.sample.sample_surface(mesh, n, seed=seed)
    return np.asarray(pts, np.float32)


def measured_height(grid: np.ndarray) -> float:
    try:
        mesh, _, _ = asset.keep_main_components(asset.grid_to_mesh(grid, upsample=1, smooth_sigma=0.0))
    except ValueError:
        return 0.0
    return float(mesh.bounds[1, 1] - mesh.bounds[0, 1])


def chamfer_matrix(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    trees_a = [cKDTree(p) for p in a]
    trees_b = [cKDTree(p) for p in b]
    out = np.zeros((len(a), len(b)))
    for i, (pa, ta) in enumerate(zip(a, trees_a, strict=True)):
        for j, (pb, tb) in enumerate(zip(b, trees_b, strict=True)):
            d1, _ = tb.query(pa)
            d2, _ = ta.query(pb)
            out[i, j] = np.mean(d1**2) + np.mean(d2**2)
    return out * 1e3


def set_metrics(gen: list[np.ndarray], ref: list[np.ndarray]) -> dict[str, float | None]:  # a per-category row
    """MMD, COV, 1-NNA with Chamfer distance between two point-cloud sets."""
    d_gr = chamfer_matrix(gen, ref)
    d_gg = chamfer_matrix(gen, gen)
    d_rr = chamfer_matrix(ref, ref)
    mmd = float(d_gr.min(axis=0).mean())
    cov = len(set(d_gr.argmin(axis=1).tolist())) / len(ref)
    full = np.block([[d_gg, d_gr], [d_gr.T, d_rr]])
    np.fill_diagonal(full, np.inf)
    labels = np.array([0] * len(gen) + [1] * len(ref))
    nna = float(np.mean(labels[full.argmin(axis=1)] == labels))
    return {"mmd_cd": round(mmd, 3), "cov_cd": round(cov, 3), "nna_cd": round(nna, 3)}


def coarse(x: torch.Tensor) -> torch.Tensor:
    """Classifier input: 32^3 grids average-pooled to 16^3 (8x cheaper; category is coarse)."""
    return torch.nn.functional.avg_pool3d(x, 2) if x.shape[-1] >= 32 else x


def judge_shapes(cfg_per_category: int, corpus_seed: int) -> list[shapes.Shape]:
    """Real shapes the category judge learns from: every split of an independent corpus seed.

    All heights, the held-out band included: a judge that never saw a 1 m mushroom misjudged 11
    of 24 real band-val mushrooms (10 as lamps), which scores the judge, not the generator.  The seed
    (corpus_seed + 2000) is disjoint from the test, band-val and extra training corpora.
    """
    judge = shapes.build_corpus(cfg_per_category, corpus_seed + 2000)
    return judge["train"] + judge["val"] + judge["test"]


def train_classifier(
    train: list[shapes.Shape], val: list[shapes.Shape], res: int, trunc: float, epochs: int, seed: int = 0
) -> tuple[ShapeClassifier, float]:
    torch.manual_seed(seed)
    cats = shapes.CATEGORIES
    x = torch.from_numpy(np.stack([s.tsdf(res, trunc) for s in train]))[:, None]
    y = torch.tensor([cats.index(s.category) for s in train])
    xv = torch.from_numpy(np.stack([s.tsdf(res, trunc) for s in val]))[:, None]
    yv = torch.tensor([cats.index(s.category) for s in val])
    net = ShapeClassifier(len(cats))
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 32):
            idx = perm[i : i + 32]
            xb = x[idx]
            xb = torch.where(torch.rand(len(idx), 1, 1, 1, 1, generator=g) < 0.5, xb.flip(2), xb)
            loss = torch.nn.functional.cross_entropy(net(coarse(xb)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(coarse(xv)).argmax(1) == yv).float().mean())
    return net, acc


def validate_files(paths: list[Path]) -> list[int] | None:
    if shutil.which("node") is None or not (VALIDATOR.parent / "node_modules" / "gltf-validator").is_dir():
        return None
    out = subprocess.run(["node", str(VALIDATOR), *map(str, paths)], capture_output=True, text=True, timeout=600)
    return [json.loads(line)["numErrors"] for line in out.stdout.splitlines() if line.strip()]


def prompt_for(shape: shapes.Shape, style: str) -> str:
    if style == "plain":
        return shape.captions[0]
    return next(c for c in shape.captions if parse_height(c) is not None)


def main(argv: list[str] | None = None) -> int:
    """``--suite authors`` (default): the part generator `plaza serve` runs, on authors' prompts
    (bench/genmodels_authors.py); ``--suite flow``: the SDF flow model vs its retrieval floor."""
    argv = list(sys.argv[1:] if argv is None else argv)
    suite = "authors"
    if "--suite" in argv:
        i = argv.index("--suite")
        suite = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
    if suite == "authors":
        from genmodels.benchauthors import main as authors_main

        return authors_main(argv)
    if suite != "flow":
        print(f"error: --suite must be 'authors' or 'flow', not {suite!r}", file=sys.stderr)
        return 2
    return flow_main(argv)


def flow_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--per-category", type=int, default=6, help="held-out prompts per category")
    ap.add_argument("--points", type=int, default=1024, help="surface points per shape for Chamfer")
    ap.add_argument("--classifier-epochs", type=int, default=6)
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: checkpoint's)")
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="cpu", help="the model's device (for the GPU figure: cuda)"
    )
    ap.add_argument(
        "--split",
        choices=("test", "val", "band-val"),
        default="test",
        help="prompts from: test (held-out height band), val, or band-val (held-out-band shapes of corpus "
        "seed+1: same distribution as test, disjoint from it; use it, not test, to choose settings)",
    )
    ap.add_argument(
        "--prompts",
        choices=("height", "plain"),
        default="height",
        help="height: a caption stating the shape's height (default); plain: its first caption (size word at most)",
    )
    ap.add_argument("--systems", default="model,baseline", help="comma list of model,baseline (tuning runs skip one)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.time()

    systems = args.systems.split(",")
    gens = {
        "model": Generator(
            args.checkpoint,
            backend="flow",
            steps=args.steps,
            guidance=args.guidance,
            use_cache=False,
            device=args.device,
        ),
        "baseline": Generator(args.checkpoint, backend="baseline", use_cache=False, device="cpu"),
    }
    gens = {k: v for k, v in gens.items() if k in systems}
    cfg = next(iter(gens.values())).cfg
    res, trunc = grid_res(cfg), cfg.trunc
    # the judge (classifier) and the memorisation references come from the base corpus whatever
    # extra training shapes a checkpoint used, so figures of different checkpoints compare
    corpus = shapes.build_corpus(cfg.per_category, cfg.corpus_seed)
    if args.split == "band-val":
        pool = shapes.build_corpus(cfg.per_category, cfg.corpus_seed + 1)["test"]
    else:
        pool = corpus[args.split]
    tests = {c: [s for s in pool if s.category == c][: args.per_category] for c in shapes.CATEGORIES}
    classifier, cls_val_acc = train_classifier(
        judge_shapes(cfg.per_category, cfg.corpus_seed), corpus["val"], res, trunc, args.classifier_epochs
    )
    refs = [s for ss in tests.values() for s in ss]
    with torch.no_grad():
        ref_grids = torch.from_numpy(np.stack([s.tsdf(res, trunc) for s in refs]))[:, None]
        ref_pred = classifier(coarse(ref_grids)).argmax(1).tolist()
    # the judge on the real held-out shapes themselves: the ceiling for category accuracy
    cls_ref_acc = float(np.mean([shapes.CATEGORIES[p] == s.category for p, s in zip(ref_pred, refs, strict=True)]))

    # references: held-out shapes, and training shapes for the memorisation check
    ref_pts = {c: clouds([s.tsdf(res, trunc) for s in ss], args.points) for c, ss in tests.items()}
    train_pts = {
        c: clouds([s.tsdf(res, trunc) for s in corpus["train"] if s.category == c][:60], args.points)
        for c in shapes.CATEGORIES
    }
    test_nn_train = {c: chamfer_matrix(ref_pts[c], train_pts[c]).min(axis=1) for c in shapes.CATEGORIES if ref_pts[c]}

    report: dict = {
        "checkpoint": str(args.checkpoint),
        "model_version": next(iter(gens.values())).model.version,
        "sample_steps": gens["model"].steps if "model" in gens else None,
        "guidance": gens["model"].guidance if "model" in gens else None,
        "split": args.split,
        "prompts": args.prompts,
        "per_category": args.per_category,
        "points": args.points,
        "classifier_val_acc": round(cls_val_acc, 3),
        "classifier_ref_acc": round(cls_ref_acc, 3),
        "threads": args.threads,
        "device": gens["model"].device if "model" in gens else "cpu",
    }
    tmp = Path(tempfile.mkdtemp(prefix="genbench-"))
    # Same footing for both systems: warm (baseline index built, torch initialised), and every
    # request starts with no prompt embedding cached (they share one encoder and the same
    # prompts). Requests alternate between the systems, so machine noise hits both alike.
    for gen in gens.values():
        gen.generate("a small wooden chair", seed=10**6)
    outcomes: dict[str, dict[str, list[tuple[Asset | None, float]]]] = {n: {c: [] for c in tests} for n in gens}
    for c, ss in tests.items():
        for i, s in enumerate(ss):
            order = list(gens) if i % 2 == 0 else list(reversed(gens))
            for name in order:
                gens[name].conditioner.encoder.clear_cache()
                t0 = time.perf_counter()
                try:
                    a: Asset | None = gens[name].generate(prompt_for(s, args.prompts), seed=i)
                except GenerationError:
                    a = None
                outcomes[name][c].append((a, time.perf_counter() - t0))
    for name in gens:
        per_cat: dict[str, dict] = {}
        all_lat, all_wt, all_files, all_hits, all_herr, all_mem = [], [], [], [], [], []
        failures = 0
        for c, ss in tests.items():
            if not ss:
                continue  # tiny corpora can leave a category without held-out shapes
            pts, lat, wt, hits, herr, mem = [], [], [], [], [], []
            for i, (s, (a, seconds)) in enumerate(zip(ss, outcomes[name][c], strict=True)):
                if a is None:
                    # an empty sample is a failed asset: counts against every metric
                    failures += 1
                    lat.append(seconds)
                    wt.append(False)
                    hits.append(False)
                    herr.append(s.height)
                    continue
                lat.append(a.seconds)
                wt.append(a.watertight)
                f = tmp / f"{name}-{c}-{i}.glb"
                f.write_bytes(a.glb)
                all_files.append(f)
                grid = a.grid if a.grid is not None else np.ones((res,) * 3, np.float32)
                p = surface_points(grid, args.points, 0)
                if p is not None:
                    pts.append(p)
                with torch.no_grad():
                    pred = int(classifier(coarse(torch.from_numpy(grid)[None, None])).argmax(1))
                hits.append(shapes.CATEGORIES[pred] == c)
                herr.append(abs(measured_height(grid) - s.height))
                if p is not None and c in test_nn_train:
                    nn = chamfer_matrix([p], train_pts[c]).min()
                    mem.append(nn / max(float(np.mean(test_nn_train[c])), 1e-9))
            m: dict[str, float | None] = set_metrics(pts, ref_pts[c]) if pts and ref_pts[c] else {}
            m.update(
                {
                    "n": len(ss),
                    "cat_acc": round(float(np.mean(hits)), 3),
                    "height_err": round(float(np.mean(herr)), 3),
                    "mem_ratio": round(float(np.mean(mem)), 3) if mem else None,
                }
            )
            per_cat[c] = m
            all_lat += lat
            all_wt += wt
            all_hits += hits
            all_herr += herr
            all_mem += mem
        errors = validate_files(all_files)
        overall: dict[str, float | None] = {
            k: round(float(np.mean([v[k] for v in per_cat.values() if v.get(k) is not None])), 3)
            for k in ("mmd_cd", "cov_cd", "nna_cd")
        }
        overall.update(
            {
                "cat_acc": round(float(np.mean(all_hits)), 3),
                "height_err": round(float(np.mean(all_herr)), 3),
                "mem_ratio": round(float(np.mean(all_mem)), 3) if all_mem else None,
                "watertight": round(float(np.mean(all_wt)), 3),
                # failed generations count as not clean
                "validator_clean": None
                if errors is None
                else round(sum(e == 0 for e in errors) / max(len(all_lat), 1), 3),
                "failed": failures,
                "latency_p50_s": round(float(np.percentile(all_lat, 50)), 3),
                "latency_p95_s": round(float(np.percentile(all_lat, 95)), 3),
                "assets": len(all_lat),
            }
        )
        report[name] = {"overall": overall, "per_category": per_cat}
    shutil.rmtree(tmp, ignore_errors=True)
    report["bench_seconds"] = round(time.time() - t_start, 1)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
