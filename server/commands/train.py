"""Train the intent classifier: ``python -m server.commands.train [--encoder minilm] [--out PATH]``.

Utterances from server.commands.data (templates x invented fillers, typos), embedded once
with the sentence encoder, then a 384-128-K MLP trained with Adam and dropout on one CPU
thread (well under a minute after the embeddings). Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from genmodels.text import get_encoder
from server.commands.core import INTENTS
from server.commands.data import utterances
from server.commands.model import CHECKPOINT, Weights


def train(encoder_name: str = "minilm", seed: int = 0, epochs: int = 300, hidden: int = 128) -> tuple[Weights, dict]:
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    data = utterances(seed)
    texts = [t for t, _ in data]
    y = np.array([INTENTS.index(i) for _, i in data])
    t0 = time.perf_counter()
    enc = get_encoder(encoder_name)
    x = enc.encode([t.casefold() for t in texts])
    enc.clear_cache()
    t_embed = time.perf_counter() - t0
    n_val = len(x) // 10
    xt, yt = torch.tensor(x[n_val:]), torch.tensor(y[n_val:])
    xv, yv = torch.tensor(x[:n_val]), torch.tensor(y[:n_val])
    net = torch.nn.Sequential(
        torch.nn.Dropout(0.1), torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(hidden, len(INTENTS)),
    )  # fmt: skip
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
    # Label smoothing keeps the confidence calibrated enough for the thresholds in plan.py.
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 256):
            idx = perm[i : i + 256]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        val_acc = float((net(xv).argmax(1) == yv).float().mean())
    lin1, lin2 = net[1], net[4]
    assert isinstance(lin1, torch.nn.Linear) and isinstance(lin2, torch.nn.Linear)
    w = Weights(
        lin1.weight.detach().numpy().T.copy(),
        lin1.bias.detach().numpy().copy(),
        lin2.weight.detach().numpy().T.copy(),
        lin2.bias.detach().numpy().copy(),
        INTENTS,
        encoder_name,
    )
    stats = {
        "utterances": len(texts),
        "encoder": encoder_name,
        "embed_s": round(t_embed, 2),
        "train_s": round(time.perf_counter() - t0 - t_embed, 2),
        "val_accuracy": round(val_acc, 4),
    }
    return w, stats


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--encoder", default="minilm", choices=["minilm", "hash"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--out", type=Path, default=CHECKPOINT)
    a = ap.parse_args(argv)
    w, stats = train(a.encoder, a.seed, a.epochs)
    w.save(a.out)
    print(json.dumps({**stats, "out": str(a.out)}))


if __name__ == "__main__":
    main()
