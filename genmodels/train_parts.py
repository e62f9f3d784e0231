"""Train the part generator's text model: MiniLM embedding -> category (or "unknown").

    python -m genmodels.train_parts                  # writes genmodels/checkpoints/parts.npz (+ parts.json)
    python -m genmodels.train_parts --out /tmp/p.npz --epochs 5

Captions are written from the catalogue: every synonym in varied author phrasings (article,
colour, material, size, style, place, "with ..." clauses), plus an "unknown" class of objects
and notions the catalogue does not make. Validation holds out one synonym per category that
has four or more (the model never sees those words) and a slice of unknown phrases, so its
accuracy measures paraphrase reach, not memory; the shipped weights are then refit on all
captions. Runs in about a minute on one CPU thread (most of it MiniLM encoding).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path
from typing import cast

import numpy as np
import torch

from genmodels.catalog import CATEGORIES
from genmodels.parts import COLOURS, MATERIAL_WORDS
from genmodels.text import get_encoder
from genmodels.understand import UNKNOWN

CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "parts.npz"

TEMPLATES = (
    "{s}",
    "a {s}",
    "the {s}",
    "a {adj} {s}",
    "an old {s}",
    "a {colour} {s}",
    "a {material} {s}",
    "a small {s}",
    "a big {s}",
    "a {s} for the {place}",
    "a {colour} {material} {s}",
    "a {s} with {colour} details",
    "low poly {s}",
    "a cute {s}",
    "a {adj} {colour} {s}",
    "a {s} in the {place}",
    "{colour} {s}",
    "one {s}",
    "a realistic {s}",
    "a cartoon {s}",
    "a {size} {s}",
    "some kind of {s}",
    "a {s}, {colour}",
    "a nice {s}",
)
ADJ = (
    "modern",
    "rustic",
    "vintage",
    "simple",
    "fancy",
    "tall",
    "short",
    "round",
    "square",
    "wide",
    "tiny",
    "huge",
    "shiny",
    "worn",
    "painted",
    "antique",
    "classic",
    "futuristic",
    "cosy",
    "sturdy",
)
PLACES = ("garden", "park", "living room", "kitchen", "office", "street", "forest", "beach", "lobby", "stage", "shop")
SIZES = ("1 m tall", "50 cm", "2 m long", "30 cm tall", "3 ft tall", "12 inch", "1.5 m high")
# what we do not make (training only: the bench's outside prompts are a different list)
NEGATIVES = (
    "smartphone",
    "laptop",
    "television",
    "washing machine",
    "cloud",
    "thundercloud",
    "the sun",
    "planet",
    "tornado",
    "volcano",
    "idea",
    "happiness",
    "song",
    "ghost",
    "skeleton",
    "wizard",
    "knight",
    "mermaid",
    "tooth",
    "heart",
    "hand",
    "shoe",
    "hat",
    "shirt",
    "dress",
    "sword",
    "shield",
    "key",
    "camera",
    "umbrella",
    "backpack",
    "scissors",
    "hammer",
    "spoon",
    "fork",
    "knife",
    "toothbrush",
    "necklace",
    "ring",
    "crown",
    "helmet",
    "glove",
    "sock",
    "human",
    "person",
    "man",
    "woman",
    "child",
    "baby",
    "face",
    "brain",
    "galaxy",
    "black hole",
    "atom",
    "molecule",
    "virus",
    "rainbow",
    "lightning",
    "wave",
    "ocean",
    "river",
    "waterfall",
    "island",
    "city",
    "country",
    "map",
    "letter",
    "number",
    "word",
    "sentence",
    "emotion",
    "music",
    "dance",
    "the internet",
    "democracy",
    "time",
    "love",
    "fear",
    "printer",
    "microwave",
    "toaster",
    "vacuum cleaner",
    "drone",
    "satellite",
    "submarine",
    "helicopter",
    "tank",
    "wheelchair",
    "skateboard",
    "surfboard",
    "ski",
    "tennis racket",
    "golf club",
    "baseball bat",
    "fishing rod",
    "telescope",
    "microscope",
    "headphones",
    "speaker",
    "radio",
    "guitar amp cable",
    "battery",
    "light bulb",
    "socket",
    "screw",
    "nail",
    "brick",
    "tile",
    "pipe",
    "chain",
    "rope",
    "net",
    "spider web",
    "nest",
    "egg",
    "bone",
    "skull",
    "feather",
    "shell",
    "coral",
    "seaweed",
    "jellyfish",
    "octopus",
    "crab",
    "lobster",
    "starfish",
    "spider",
    "scorpion",
    "ant",
    "mosquito",
    "bat",
    "monkey",
    "gorilla",
    "kangaroo",
    "giraffe",
    "camel",
    "squirrel",
    "mouse",
    "hedgehog",
    "beaver",
    "otter",
    "seal",
    "walrus",
    "alien",
    "ufo",
    "zombie",
    "vampire",
    "fairy",
    "angel",
    "devil",
    "abstract concept",
    "nothing",
    "something",
    "anything",
    "asdf",
    "qwerty",
    "lorem ipsum",
    "hello",
    "test",
)
NEG_TEMPLATES = (
    "{s}",
    "a {s}",
    "the {s}",
    "a {colour} {s}",
    "a big {s}",
    "a small {s}",
    "a {adj} {s}",
    "a {s} in the {place}",
    "a {material} {s}",
    "some {s}",
)


def _fill(t: str, s: str, rng: np.random.Generator) -> str:
    return t.format(
        s=s,
        adj=rng.choice(ADJ),
        colour=rng.choice(list(COLOURS)),
        material=rng.choice(list(MATERIAL_WORDS)),
        place=rng.choice(PLACES),
        size=rng.choice(SIZES),
    )


def captions(
    seed: int = 0, per_synonym: int = 8, holdout: bool = False
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(train texts, train labels, val texts, val labels)."""
    rng = np.random.default_rng(seed)
    tx, ty, vx, vy = [], [], [], []
    for c in CATEGORIES.values():
        syns = list(c.synonyms)
        held = syns[-1] if holdout and len(syns) >= 4 else None
        for s in syns:
            texts = [_fill(str(t), s, rng) for t in rng.choice(TEMPLATES, per_synonym)]
            if s == held:
                vx += texts
                vy += [c.name] * len(texts)
            else:
                tx += texts
                ty += [c.name] * len(texts)
    negs = list(NEGATIVES)
    held_neg = set(negs[::7]) if holdout else set()
    for s in negs:
        texts = [_fill(str(t), s, rng) for t in rng.choice(NEG_TEMPLATES, 4)]
        if s in held_neg:
            vx += texts
            vy += [UNKNOWN] * len(texts)
        else:
            tx += texts
            ty += [UNKNOWN] * len(texts)
    return tx, ty, vx, vy


def fit(x: np.ndarray, y: np.ndarray, n_classes: int, hidden: int, epochs: int, seed: int) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(hidden, n_classes)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    # the unknown class is broad; weight it like an average category so it does not swallow paraphrases
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    w = torch.from_numpy((counts.sum() / np.maximum(counts, 1) / n_classes).astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 128):
            idx = perm[i : i + 128]
            # embedding noise: paraphrases sit near, not on, the training captions
            xb = xt[idx] + 0.02 * torch.randn(len(idx), x.shape[1], generator=gen)
            loss = torch.nn.functional.cross_entropy(net(xb), yt[idx], weight=w, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    lin1, lin2 = cast(torch.nn.Linear, net[0]), cast(torch.nn.Linear, net[3])
    return {
        "w1": lin1.weight.detach().numpy().T.copy(),
        "b1": lin1.bias.detach().numpy().copy(),
        "w2": lin2.weight.detach().numpy().T.copy(),
        "b2": lin2.bias.detach().numpy().copy(),
    }


def _predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = np.maximum(x @ params["w1"] + params["b1"], 0)
    return h @ params["w2"] + params["b2"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m genmodels.train_parts", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=CHECKPOINT)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder", default="minilm", choices=("minilm", "hash"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    enc = get_encoder(args.encoder)
    classes = [*CATEGORIES, UNKNOWN]
    cid = {c: i for i, c in enumerate(classes)}
    tx, ty, vx, vy = captions(args.seed, holdout=True)
    all_text = list(dict.fromkeys(tx + vx))
    emb = dict(zip(all_text, enc.encode(all_text), strict=True))
    t_enc = time.perf_counter() - t0

    def arr(texts: list[str], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.stack([emb[t] for t in texts]).astype(np.float32), np.array([cid[c] for c in labels])

    xtr, ytr = arr(tx, ty)
    xva, yva = arr(vx, vy)
    params = fit(xtr, ytr, len(classes), args.hidden, args.epochs, args.seed)
    pred = _predict(params, xva).argmax(1)
    unk = cid[UNKNOWN]
    known_mask = yva != unk
    metrics = {
        "val_heldout_synonym_accuracy": round(float((pred[known_mask] == yva[known_mask]).mean()), 4),
        "val_heldout_unknown_recall": round(float((pred[~known_mask] == unk).mean()), 4),
        "val_captions": len(yva),
    }
    # the shipped weights: every caption (the held-out synonyms are real words authors use)
    fx, fy, _, _ = captions(args.seed, holdout=False)
    new = [t for t in dict.fromkeys(fx) if t not in emb]
    emb.update(zip(new, enc.encode(new), strict=True))
    xall, yall = arr(fx, fy)
    params = fit(xall, yall, len(classes), args.hidden, args.epochs, args.seed)
    metrics.update(
        train_captions=len(yall),
        train_accuracy=round(float((_predict(params, xall).argmax(1) == yall).mean()), 4),
        seconds=round(time.perf_counter() - t0, 1),
        encode_seconds=round(t_enc, 1),
    )
    meta = {
        "classes": classes,
        "encoder": args.encoder,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "seed": args.seed,
        "metrics": metrics,
    }
    buf = io.BytesIO()
    arrays = {k: v.astype(np.float16) for k, v in params.items()}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types the first kwarg
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(buf.getvalue())
    args.out.with_suffix(".json").write_text(json.dumps({**meta, "bytes": len(buf.getvalue())}, indent=2) + "\n")
    print(json.dumps(metrics), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
