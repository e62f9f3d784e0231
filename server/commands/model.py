"""The intent classifier: a sentence embedding, then a two-layer MLP, run in numpy.

The checkpoint (``intents.npz``, written by ``python -m server.commands.train``) carries its
weights, the intent names and the name of the text encoder it was trained on; the two
encoders' spaces differ, so a checkpoint only runs with its own. Embedding a sentence with
MiniLM costs ~15 ms of CPU, so the server calls ``parse`` from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genmodels.text import TextEncoder, get_encoder
from server.commands.core import CommandContext, Parse, extract_slots, slot_values

CHECKPOINT = Path(__file__).with_name("intents.npz")


@dataclass(frozen=True, slots=True)
class Weights:
    w1: np.ndarray  # (dim, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden, intents)
    b2: np.ndarray
    intents: tuple[str, ...]
    encoder: str

    def logits(self, emb: np.ndarray) -> np.ndarray:
        h = np.maximum(emb @ self.w1 + self.b1, 0.0)
        return h @ self.w2 + self.b2

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            w1=self.w1.astype(np.float32),
            b1=self.b1.astype(np.float32),
            w2=self.w2.astype(np.float32),
            b2=self.b2.astype(np.float32),
            intents=np.array(self.intents),
            encoder=np.array(self.encoder),
        )

    @staticmethod
    def load(path: Path) -> Weights:
        with np.load(path, allow_pickle=False) as z:
            return Weights(z["w1"], z["b1"], z["w2"], z["b2"], tuple(str(i) for i in z["intents"]), str(z["encoder"]))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


class CommandModel:
    def __init__(self, weights: Weights, encoder: TextEncoder | None = None) -> None:
        self.weights = weights
        self.encoder = encoder or get_encoder(weights.encoder)
        if self.encoder.name != weights.encoder:
            raise ValueError(f"checkpoint was trained with the {weights.encoder!r} encoder, not {self.encoder.name!r}")

    def probabilities(self, texts: list[str]) -> np.ndarray:
        emb = self.encoder.encode([t.casefold() for t in texts])
        return _softmax(self.weights.logits(emb))

    def parse(self, text: str, ctx: CommandContext) -> Parse:
        p = self.probabilities([text])[0]
        self.encoder.clear_cache()  # requests rarely repeat; the cache would only grow
        k = int(np.argmax(p))
        intent = self.weights.intents[k]
        refs = extract_slots(intent, text, ctx)
        return Parse(
            text=text,
            intent=intent,
            confidence=float(p[k]),
            slots=slot_values(refs),
            world=refs.get("world"),  # type: ignore[arg-type]
            person=refs.get("person"),  # type: ignore[arg-type]
            event=refs.get("event"),  # type: ignore[arg-type]
            place=refs.get("place"),  # type: ignore[arg-type]
            probs={i: float(v) for i, v in zip(self.weights.intents, p, strict=True)},
        )


def load_model(path: Path = CHECKPOINT, encoder: TextEncoder | None = None) -> CommandModel:
    return CommandModel(Weights.load(path), encoder)
