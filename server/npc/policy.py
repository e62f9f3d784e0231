"""The trained walking policy, run in numpy: features -> Q-values -> a move.

The Q-network is shared across moves: each of the 9 actions (8 moves, stay) gets one row of
features (that direction's progress, blocked, people in and near it, whether it is a
diagonal, plus the walker's global features) and the same small MLP scores every row. The
symmetry is built in, so what is learnt about "north" holds for every direction.

``walker.npz`` is written by ``python -m server.npc.train`` (DQN in torch); inference is two
small matrix products (~10 us), cheap enough to run inside the world tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from server.npc.grid import STAY

CHECKPOINT = Path(__file__).with_name("walker.npz")


N_ROW = 11
_DIAG = np.array([k % 2 == 1 for k in range(8)], dtype=np.float32)


def action_rows(obs: np.ndarray) -> np.ndarray:
    """(..., 35) observations -> (..., 9, N_ROW) per-action rows (server.npc.sim.observe)."""
    lead = obs.shape[:-1]
    g = np.stack([obs[..., 32], obs[..., 33], obs[..., 34], obs[..., 0:8].max(-1), obs[..., 16:24].mean(-1)], axis=-1)
    rows = np.zeros((*lead, 9, N_ROW), dtype=np.float32)
    rows[..., :8, 0] = obs[..., 0:8]
    rows[..., :8, 1] = obs[..., 8:16]
    rows[..., :8, 2] = obs[..., 16:24]
    rows[..., :8, 3] = obs[..., 24:32]
    rows[..., :8, 4] = _DIAG
    rows[..., 8, 2] = obs[..., 34]
    rows[..., 8, 5] = 1.0  # the stay row
    rows[..., :, 6:] = g[..., None, :]
    return rows


@dataclass(frozen=True, slots=True)
class WalkPolicy:
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (W, b) per layer, ReLU between

    def q(self, obs: np.ndarray) -> np.ndarray:
        h = action_rows(obs)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return np.asarray(h[..., 0])

    def act(self, obs: np.ndarray) -> int:
        # A blocked move is never taken, whatever the network says (obs[8:16] flags them).
        q = self.q(obs)
        blocked = obs[8:16] > 0.5
        q = q.copy()
        q[:8][blocked] = -np.inf
        k = int(np.argmax(q))
        return k if np.isfinite(q[k]) else STAY

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {}
        for i, (w, b) in enumerate(self.layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float32), b.astype(np.float32)
        np.savez_compressed(path, allow_pickle=False, **arrays)

    @staticmethod
    def load(path: Path = CHECKPOINT) -> WalkPolicy:
        with np.load(path, allow_pickle=False) as z:
            n = len([k for k in z.files if k.startswith("w")])
            return WalkPolicy(tuple((z[f"w{i}"], z[f"b{i}"]) for i in range(n)))
