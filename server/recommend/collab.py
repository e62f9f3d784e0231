"""Collaborative models over integer item indices.

Every model answers ``score(history, weights, user)``: scores for all items given
a user's chronological history (item indices) and optional per-item weights.
Scoring from the history rather than a stored user id means a brand-new user
is folded in with no retraining; ``user`` (row index at fit time) is only a
shortcut for factor models that keep trained user vectors.

Models here never read files or clocks: the caller builds ``InteractionData``.

scipy (sparse matrices), ``implicit`` (ALS) and torch (SASRec) come with the ``[recsys]``
extra. Without scipy, ``InteractionData`` keeps summed (row, col, weight) triplets instead of
a CSR matrix and EASE/popularity fit from them with numpy alone: a core install still
recommends. ``ALS.available()`` says whether ALS can run.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor
    from torch.nn import Module

try:
    import scipy.sparse as sp
except ImportError:  # a core install without the [recsys] extra: the numpy paths below
    sp = None  # type: ignore[assignment]

# Users per dense block when the Gram matrix is built without scipy (~32 MB of float64 rows).
_GRAM_BLOCK_CELLS = 4_000_000


@dataclass
class InteractionData:
    """Users x items implicit feedback plus each user's chronological sequence."""

    n_users: int
    n_items: int
    matrix: sp.csr_matrix | None  # weighted, users x items; None when scipy is not installed
    sequences: list[list[int]] = field(default_factory=list)  # item indices, oldest first
    # Without scipy: (rows, cols, weights) with duplicates summed, sorted by row.
    triplets: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @staticmethod
    def from_sequences(
        sequences: Sequence[Sequence[int]],
        n_items: int,
        weights: Sequence[Sequence[float]] | None = None,
    ) -> InteractionData:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for u, seq in enumerate(sequences):
            w = weights[u] if weights is not None else [1.0] * len(seq)
            rows.extend([u] * len(seq))
            cols.extend(seq)
            vals.extend(w)
        seqs = [list(s) for s in sequences]
        if sp is None:
            lin = np.asarray(rows, np.int64) * n_items + np.asarray(cols, np.int64)
            cells, inverse = np.unique(lin, return_inverse=True)
            summed = np.zeros(len(cells), np.float32)
            np.add.at(summed, inverse, np.asarray(vals, np.float32))
            triplets = (cells // max(n_items, 1), cells % max(n_items, 1), summed)
            return InteractionData(len(sequences), n_items, None, seqs, triplets)
        m = sp.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(len(sequences), n_items))
        m.sum_duplicates()
        return InteractionData(len(sequences), n_items, m, seqs)

    def item_user_counts(self) -> np.ndarray:
        """How many users have a positive weight on each item."""
        if self.matrix is not None:
            return np.asarray((self.matrix > 0).sum(axis=0), np.float32).ravel()
        assert self.triplets is not None
        _, cols, vals = self.triplets
        return np.bincount(cols[vals > 0], minlength=self.n_items).astype(np.float32)

    def gram(self, binary: bool) -> np.ndarray:
        """X^T X as a dense float64 items x items array (X binarised first when ``binary``)."""
        if self.matrix is not None:
            X = self.matrix.astype(np.float64)
            if binary:
                X = (X > 0).astype(np.float64)
            return np.asarray((X.T @ X).toarray())
        assert self.triplets is not None
        rows, cols, vals = self.triplets
        w = (vals > 0).astype(np.float64) if binary else vals.astype(np.float64)
        G = np.zeros((self.n_items, self.n_items), np.float64)
        block = max(1, _GRAM_BLOCK_CELLS // max(self.n_items, 1))
        for start in range(0, self.n_users, block):
            lo, hi = np.searchsorted(rows, [start, start + block])
            if lo == hi:
                continue
            Xb = np.zeros((min(block, self.n_users - start), self.n_items), np.float64)  # a block of X's rows
            Xb[rows[lo:hi] - start, cols[lo:hi]] = w[lo:hi]
            G += Xb.T @ Xb
        return G


def history_vector(n_items: int, history: Sequence[int], weights: Sequence[float] | None) -> np.ndarray:
    """Dense weighted history row; repeated items accumulate."""
    x = np.zeros(n_items, np.float32)
    if len(history):
        w = np.ones(len(history), np.float32) if weights is None else np.asarray(weights, np.float32)
        np.add.at(x, np.asarray(history, np.int64), w)
    return x


class CollabModel(Protocol):
    name: str
    n_items: int

    def fit(self, data: InteractionData) -> None: ...

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray: ...


class Popularity:
    """Interaction counts: the baseline every model must beat, and the cold-start prior."""

    name = "popularity"

    def __init__(self) -> None:
        self.n_items = 0
        self.counts = np.zeros(0, np.float32)

    def fit(self, data: InteractionData) -> None:
        self.n_items = data.n_items
        # Count users, not weight, so one heavy user cannot make an item "popular".
        self.counts = data.item_user_counts()

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        return self.counts.copy()


class EASE:
    """EASE (Steck 2019): closed-form item-item model, B = I - P/diag(P).

    Cheap and strong on small catalogues; fold-in of any history is one
    sparse-dense product, so new users adapt after their first visit.
    """

    name = "ease"

    def __init__(self, l2: float = 300.0, binary: bool = True, recency: float = 1.0) -> None:
        self.l2 = l2
        self.binary = binary
        # Fold-in weight of the k-th most recent distinct item is recency**k: what someone did
        # last says more about what they do next (on ML-100K validation, 0.9 lifts HR@10 from
        # 0.17 to 0.22). 1.0 = every item in the history counts the same (plain EASE).
        self.recency = recency
        self.n_items = 0
        self.B = np.zeros((0, 0), np.float32)

    def fit(self, data: InteractionData) -> None:
        G = data.gram(self.binary)
        G[np.diag_indices_from(G)] += self.l2
        P = np.linalg.inv(G)
        B = -P / np.diag(P)[None, :]
        B[np.diag_indices_from(B)] = 0.0
        self.B = B.astype(np.float32)
        self.n_items = data.n_items

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        x = history_vector(self.n_items, history, None if self.binary else weights)
        if self.binary:
            x = (x > 0).astype(np.float32)
        idx = np.flatnonzero(x)
        if idx.size == 0:
            return np.zeros(self.n_items, np.float32)
        if self.recency < 1.0:
            x[idx] *= recency_weights(self.n_items, history, self.recency)[idx]
        return x[idx] @ self.B[idx]

    def score_many(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """``score`` for many histories at once (unweighted), one matrix product."""
        X = np.zeros((len(histories), self.n_items), np.float32)
        for u, h in enumerate(histories):
            if len(h):
                X[u] = recency_weights(self.n_items, h, self.recency) if self.recency < 1.0 else 0.0
                if self.recency >= 1.0:
                    X[u, np.asarray(h, np.int64)] = 1.0
        return X @ self.B


def recency_weights(n_items: int, history: Sequence[int], decay: float) -> np.ndarray:
    """decay**k for the item whose latest occurrence is the k-th most recent (0 elsewhere)."""
    w = np.zeros(n_items, np.float32)
    seen: set[int] = set()
    k = 0
    for i in reversed(history):
        if i not in seen:
            seen.add(i)
            w[i] = decay**k
            k += 1
    return w


class Transitions:
    """What people pick next: counts of item b following item a within ``window`` steps
    (nearer steps count more), row-normalised with a prior of ``smoothing`` pseudo-counts.
    A history scores as the decayed sum of its last ``last`` items' rows. Cheap, and it is
    the sequential signal EASE (a bag of items) lacks."""

    name = "next"

    def __init__(self, window: int = 3, last: int = 5, decay: float = 0.7, smoothing: float = 5.0) -> None:
        self.window, self.last, self.decay, self.smoothing = window, last, decay, smoothing
        self.n_items = 0
        self.M = np.zeros((0, 0), np.float32)

    def fit(self, data: InteractionData) -> None:
        n = data.n_items
        M = np.zeros((n, n), np.float32)
        for s in data.sequences:
            a = np.asarray(s, np.int64)
            for step in range(1, self.window + 1):
                if len(a) > step:
                    np.add.at(M, (a[:-step], a[step:]), 1.0 / step)
        M /= M.sum(1, keepdims=True) + self.smoothing
        self.M, self.n_items = M, n

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        out = np.zeros(self.n_items, np.float32)
        for j, i in enumerate(reversed(list(history)[-self.last :])):
            out += self.decay**j * self.M[i]
        return out

    def score_many(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        return np.stack([self.score(h) for h in histories]) if histories else np.zeros((0, self.n_items))


class FactorModel:
    """Dot-product scorer over user and item factors (ALS output or synthetic)."""

    name = "factors"

    def __init__(self, user_factors: np.ndarray, item_factors: np.ndarray, reg: float = 0.05) -> None:
        self.user_factors = np.ascontiguousarray(user_factors, np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, np.float32)
        self.n_items = self.item_factors.shape[0]
        self.reg = reg
        self._gram = self.item_factors.T @ self.item_factors

    def fit(self, data: InteractionData) -> None:  # factors are given, nothing to learn
        return None

    def fold_in(self, history: Sequence[int], weights: Sequence[float] | None, alpha: float = 1.0) -> np.ndarray:
        """Implicit-ALS user vector for a history the model never saw (Hu et al. 2008)."""
        f = self.item_factors.shape[1]
        if not len(history):
            return np.zeros(f, np.float32)
        x = history_vector(self.n_items, history, weights)
        idx = np.flatnonzero(x)
        Y = self.item_factors[idx]
        c = 1.0 + alpha * x[idx]
        A = self._gram + (Y.T * (c - 1.0)) @ Y + self.reg * np.eye(f, dtype=np.float32)
        return np.linalg.solve(A, Y.T @ c).astype(np.float32)

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        if user is not None and 0 <= user < self.user_factors.shape[0]:
            u = self.user_factors[user]
        else:
            u = self.fold_in(history, weights)
        return self.item_factors @ u


class ALS(FactorModel):
    """Implicit-feedback ALS via the ``implicit`` package (CPU build)."""

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        seed: int = 0,
        threads: int = 1,
    ) -> None:
        super().__init__(np.zeros((0, factors)), np.zeros((0, factors)), reg=regularization)
        self.factors, self.alpha, self.iterations = factors, alpha, iterations
        self.seed, self.threads = seed, threads

    @staticmethod
    def available() -> bool:
        """True when ``implicit`` (the [recsys] extra) is installed; looked up, not imported."""
        try:
            return importlib.util.find_spec("implicit") is not None and sp is not None
        except (ImportError, ValueError):
            return False

    def fit(self, data: InteractionData) -> None:
        from implicit.cpu.als import AlternatingLeastSquares  # heavy import, only when used
        from threadpoolctl import threadpool_limits  # a dependency of implicit

        # implicit parallelises itself; a BLAS thread pool underneath only oversubscribes.
        with threadpool_limits(1, "blas"):
            m = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.reg,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=self.threads,
            )
            assert data.matrix is not None  # implicit needs scipy, and with scipy the data has a matrix
            m.fit(data.matrix.astype(np.float32).tocsr(), show_progress=False)
        FactorModel.__init__(self, m.user_factors, m.item_factors, reg=self.reg)

    def fold_in(
        self, history: Sequence[int], weights: Sequence[float] | None, alpha: float | None = None
    ) -> np.ndarray:
        return super().fold_in(history, weights, self.alpha if alpha is None else alpha)


# --- SASRec -----------------------------------------------------------------


def _torch() -> ModuleType:
    import torch

    return torch


class SASRec:
    """Self-attentive sequential recommender (Kang & McAuley 2018), trained with
    full softmax cross-entropy over the catalogue at every position.

    Right-padded sequences with a causal mask: real positions never attend to
    padding, and positions are counted back from the newest item so the
    prediction position always has the same embedding.
    """

    name = "sasrec"

    def __init__(
        self,
        dim: int = 64,
        blocks: int = 2,
        heads: int = 1,
        maxlen: int = 200,
        dropout: float = 0.3,
        lr: float = 1e-3,
        batch_size: int = 64,
        epochs: int = 60,
        patience: int = 4,
        eval_every: int = 2,
        min_epochs: int = 0,
        seed: int = 0,
        max_seconds: float | None = None,
    ) -> None:
        self.dim, self.blocks, self.heads, self.maxlen = dim, blocks, heads, maxlen
        self.dropout, self.lr, self.batch_size = dropout, lr, batch_size
        self.epochs, self.patience, self.eval_every = epochs, patience, eval_every
        self.min_epochs = min_epochs  # validation on ~1k users is noisy: don't stop on an early blip
        self.seed, self.max_seconds = seed, max_seconds
        self.n_items = 0
        self.net: Any = None  # _build()'s Net once fit (torch is imported lazily)
        self.log: list[dict[str, float]] = []
        self.best_epoch = 0

    def _build(self, n_items: int) -> Module:
        torch = _torch()
        nn = torch.nn
        dim, maxlen = self.dim, self.maxlen

        class Net(nn.Module):  # type: ignore[name-defined]  # nn: the lazily imported torch.nn
            def __init__(self) -> None:
                super().__init__()
                self.item = nn.Embedding(n_items + 1, dim, padding_idx=0)
                self.pos = nn.Embedding(maxlen, dim)
                self.drop = nn.Dropout(outer.dropout)
                layer = nn.TransformerEncoderLayer(
                    dim,
                    outer.heads,
                    dim_feedforward=dim * 2,
                    dropout=outer.dropout,
                    batch_first=True,
                    norm_first=True,
                    activation="gelu",
                )
                self.enc = nn.TransformerEncoder(layer, outer.blocks, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(dim)
                nn.init.normal_(self.item.weight, std=0.05)
                nn.init.normal_(self.pos.weight, std=0.05)

            def forward(self, seq: Tensor, lengths: Tensor) -> Tensor:
                L = seq.shape[1]
                ar = torch.arange(L, device=seq.device)
                pos = (lengths[:, None] - 1 - ar[None, :]).clamp(min=0)
                x = self.item(seq) * math.sqrt(dim) + self.pos(pos)
                x = self.drop(x) * (seq > 0).unsqueeze(-1)
                causal = torch.nn.Transformer.generate_square_subsequent_mask(L, device=seq.device)
                h = self.enc(x, mask=causal, is_causal=True)
                return self.norm(h)

        outer = self
        return Net()

    @staticmethod
    def _windows(seq: Sequence[int], size: int) -> list[list[int]]:
        """Split a long history into windows of ``size`` from the newest end."""
        out = []
        end = len(seq)
        while end >= 2:
            out.append(list(seq[max(0, end - size) : end]))
            end -= size - 1  # windows overlap by one so every transition is trained
            if len(out) > 50:
                break
        return out

    def _batch(self, seqs: list[list[int]]) -> tuple[Tensor, Tensor]:
        torch = _torch()
        L = max(len(s) for s in seqs)
        arr = np.zeros((len(seqs), L), np.int64)
        for i, s in enumerate(seqs):
            arr[i, : len(s)] = np.asarray(s) + 1
        return torch.from_numpy(arr), torch.tensor([len(s) for s in seqs])

    def user_vectors(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Hidden state at each history's newest item; scores are its dot with item embeddings."""
        torch = _torch()
        assert self.net is not None, "fit() first"
        self.net.eval()
        out = np.zeros((len(histories), self.dim), np.float32)
        order = sorted(range(len(histories)), key=lambda i: len(histories[i]))
        with torch.no_grad():
            for b in range(0, len(order), 256):
                ids = [i for i in order[b : b + 256] if len(histories[i])]
                if not ids:
                    continue
                seqs = [list(histories[i])[-self.maxlen :] for i in ids]
                x, lens = self._batch(seqs)
                h = self.net(x, lens)
                last = h[torch.arange(len(ids)), lens - 1]
                out[ids] = last.numpy()
        return out

    def item_matrix(self) -> np.ndarray:
        assert self.net is not None
        return self.net.item.weight.detach().numpy()[1:]

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        if not len(history):
            return np.zeros(self.n_items, np.float32)
        return self.item_matrix() @ self.user_vectors([history])[0]

    def fit(
        self,
        data: InteractionData,
        valid: Sequence[tuple[Sequence[int], int]] | None = None,
    ) -> None:
        """Train on ``data.sequences``; ``valid`` = (history, next item) pairs for early stopping."""
        torch = _torch()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.n_items = data.n_items
        self.net = self._build(data.n_items)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, betas=(0.9, 0.98))
        windows = [w for s in data.sequences for w in self._windows(s, self.maxlen + 1)]
        windows.sort(key=len)  # length-bucketed batches waste less padding
        batches = [windows[i : i + self.batch_size] for i in range(0, len(windows), self.batch_size)]
        best, best_state, bad = -1.0, None, 0
        t0 = time.perf_counter()
        for epoch in range(1, self.epochs + 1):
            self.net.train()
            total = 0.0
            for bi in rng.permutation(len(batches)):
                x, lens = self._batch([w[:-1] for w in batches[bi]])
                y, _ = self._batch([w[1:] for w in batches[bi]])
                h = self.net(x, lens)
                m = y > 0
                logits = h[m] @ self.net.item.weight.T
                logits[:, 0] = -1e9  # never predict padding
                loss = torch.nn.functional.cross_entropy(logits, y[m])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item()
            entry = {"epoch": epoch, "loss": total / max(1, len(batches))}
            timed_out = self.max_seconds is not None and time.perf_counter() - t0 > self.max_seconds
            if valid and (epoch % self.eval_every == 0 or timed_out or epoch == self.epochs):
                ndcg = self._valid_ndcg(valid)
                entry["val_ndcg10"] = ndcg
                if ndcg > best:
                    best, bad, self.best_epoch = ndcg, 0, epoch
                    best_state = {k: v.clone() for k, v in self.net.state_dict().items()}
                else:
                    bad += 1
            self.log.append(entry)
            if (valid and bad >= self.patience and epoch >= self.min_epochs) or timed_out:
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.net.eval()

    def _valid_ndcg(self, valid: Sequence[tuple[Sequence[int], int]]) -> float:
        hist = [h for h, _ in valid]
        U = self.user_vectors(hist)
        S = U @ self.item_matrix().T
        total = 0.0
        for i, (h, t) in enumerate(valid):
            s = S[i]
            s[np.asarray(h, np.int64)] = -np.inf
            r = int((s > s[t]).sum())
            total += 1.0 / math.log2(r + 2) if r < 10 else 0.0
        return total / len(valid)


class Blend:
    """Weighted sum of standardised scores from several models (e.g. SASRec + EASE).

    Each model's scores are z-scored over the catalogue first, so weights mean
    "how much to trust this model", not "undo its scale".
    """

    def __init__(self, parts: Sequence[tuple[CollabModel, float]]) -> None:
        self.parts = list(parts)
        self.name = "+".join(m.name for m, _ in self.parts)
        self.n_items = self.parts[0][0].n_items if self.parts else 0

    def fit(self, data: InteractionData) -> None:
        for m, _ in self.parts:
            m.fit(data)
        self.n_items = data.n_items

    def score(
        self,
        history: Sequence[int],
        weights: Sequence[float] | None = None,
        user: int | None = None,
    ) -> np.ndarray:
        total = np.zeros(self.n_items, np.float32)
        for m, w in self.parts:
            s = m.score(history, weights, user)
            sd = float(s.std())
            if sd > 0:
                total += w * (s - s.mean()) / sd
        return total
