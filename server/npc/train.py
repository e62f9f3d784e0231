"""Train the guide's walking policy by reinforcement learning (double DQN, torch, one thread).

    .venv/bin/python -m server.npc.train [--steps 60000] [--seed 0] [--out server/npc/walker.npz]

Worlds: procedurally generated rooms (random furniture, walls with doors) plus the shipped
TRAIN_WORLDS; the other shipped worlds (HELD_OUT) are never seen in training and are where
bench/npc.py evaluates. Randomised starts and targets, 4-20 people moving as obstacles.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from server.npc.grid import NavGrid
from server.npc.policy import CHECKPOINT, N_ROW, WalkPolicy, action_rows
from server.npc.sim import N_FEATURES, WalkEnv, random_world

TRAIN_WORLDS = ("lobby", "gallery")
HELD_OUT = ("concert-hall", "forest-park", "meeting-room")
REPO = Path(__file__).resolve().parents[2]


def shipped_grid(world: str, worlds_dir: Path = REPO / "worlds") -> NavGrid:
    from server.worldconfig import load_world

    return NavGrid.from_description(load_world(worlds_dir / f"{world}.toml").to_client())


class SharedQ(torch.nn.Module):
    """One MLP scoring each action's row (server.npc.policy.action_rows): Q is (B, 9)."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(N_ROW, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, 1),
        )  # fmt: skip

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.mlp(rows).squeeze(-1)


def _net() -> SharedQ:
    return SharedQ()


def to_policy(net: SharedQ) -> WalkPolicy:
    lin = [m for m in net.mlp if isinstance(m, torch.nn.Linear)]
    return WalkPolicy(tuple((m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in lin))


def train(steps: int = 60_000, seed: int = 0, n_envs: int = 16) -> tuple[WalkPolicy, dict[str, object]]:
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    grids = [random_world(rng) for _ in range(40)] + [shipped_grid(w) for w in TRAIN_WORLDS]

    def new_env() -> WalkEnv:
        g = rng.choice(grids)
        if len(g._fields) > 64:  # distance fields per target: keep memory bounded
            g._fields.clear()
        return WalkEnv(g, random.Random(rng.random()), n_people=rng.randrange(4, 21))

    envs = [new_env() for _ in range(n_envs)]
    obs = np.stack([e.reset() for e in envs])
    net, target = _net(), _net()
    target.load_state_dict(net.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    cap = 100_000
    buf_o = np.zeros((cap, N_FEATURES), np.float32)
    buf_a = np.zeros(cap, np.int64)
    buf_r = np.zeros(cap, np.float32)
    buf_o2 = np.zeros((cap, N_FEATURES), np.float32)
    buf_d = np.zeros(cap, np.float32)
    n = 0
    gamma, batch = 0.97, 128
    episodes = arrived = 0
    for t in range(0, steps, n_envs):
        eps = max(0.05, 1.0 - t / (0.5 * steps))
        with torch.no_grad():
            q = net(torch.from_numpy(action_rows(obs))).numpy()
        for i, e in enumerate(envs):
            blocked = obs[i, 8:16] > 0.5
            if rng.random() < eps:
                choices = [k for k in range(9) if k == 8 or not blocked[k]]
                a = rng.choice(choices)
            else:
                qi = q[i].copy()
                qi[:8][blocked] = -np.inf
                a = int(np.argmax(qi))
            o2, r, done, info = e.step(a)
            k = n % cap
            buf_o[k], buf_a[k], buf_r[k], buf_o2[k] = obs[i], a, r, o2
            buf_d[k] = float(info["arrived"])  # a timeout is not terminal for the value
            n += 1
            if done:
                episodes += 1
                arrived += int(info["arrived"])
                envs[i] = new_env()
                o2 = envs[i].reset()
            obs[i] = o2
        if n >= 2000:
            for _ in range(2):
                idx = np.random.default_rng(t).integers(0, min(n, cap), batch)
                o, o2_ = torch.from_numpy(action_rows(buf_o[idx])), torch.from_numpy(action_rows(buf_o2[idx]))
                a_, r_, d_ = (torch.from_numpy(x[idx]) for x in (buf_a, buf_r, buf_d))
                with torch.no_grad():
                    blocked2 = torch.from_numpy(buf_o2[idx, 8:16] > 0.5)
                    q_next = net(o2_)
                    q_next[:, :8][blocked2] = -1e9
                    best = q_next.argmax(1, keepdim=True)
                    y = r_ + gamma * (1 - d_) * target(o2_).gather(1, best).squeeze(1)
                qa = net(o).gather(1, a_[:, None]).squeeze(1)
                loss = torch.nn.functional.smooth_l1_loss(qa, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        if (t // n_envs) % 50 == 0:
            target.load_state_dict(net.state_dict())
    stats: dict[str, object] = {
        "steps": steps,
        "seed": seed,
        "episodes": episodes,
        "train_success": round(arrived / max(1, episodes), 3),
        "train_s": round(time.perf_counter() - t0, 1),
    }
    return to_policy(net), stats


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=CHECKPOINT)
    a = ap.parse_args(argv)
    policy, stats = train(a.steps, a.seed)
    policy.save(a.out)
    print(json.dumps({**stats, "out": str(a.out)}))


if __name__ == "__main__":
    main()
