"""Prompt -> (category, how sure, the honest answer): lexical head noun first, then a trained model.

1. ``lexical``: the catalogue's synonyms matched on word sequences. The head noun wins: text
   after "with/on/next to/..." only describes, the last match before it names the object, a
   longer match beats a shorter one ending at the same word ("a table lamp" is a lamp), and
   "a statue/bust/figurine of a cat" is the cat (in stone unless the prompt says otherwise).
2. ``TextClassifier``: an MLP over the MiniLM sentence embedding, trained by
   ``python -m genmodels.train_parts`` on captions written from the synonyms (plus an
   "unknown" class of objects we do not make). It answers paraphrases the lists miss
   ("a place to sit for three people") and says when nothing fits.

Some synonyms are approximations (a dragon drawn as a lizard figure): the asset is made,
and the answer says so; with ``unknown="refuse"`` nothing is made for them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genmodels.catalog import CATEGORIES

UNKNOWN = "unknown"
CUT_WORDS = ("with", "on", "next", "beside", "under", "holding", "near", "in", "inside", "behind", "for", "that")
FIGURE_WORDS = frozenset(("statue", "sculpture", "bust", "figurine", "figure", "carving", "model", "toy", "monument"))
# synonyms we draw as something else: the author is told what they got
APPROXIMATE = frozenset(
    [
        "dragon",
        "dinosaur",
        "crocodile",
        "alligator",
        "chameleon",
        "lion",
        "tiger",
        "leopard",
        "wolf",
        "fox",
        "zebra",
        "deer",
        "reindeer",
        "goat",
        "mammoth",
        "rhino",
        "hippo",
        "shark",
        "whale",
        "dolphin",
        "llama",
        "alpaca",
        "ostrich",
        "penguin",
        "goose",
        "swan",
        "snail",
        "worm",
        "moth",
        "dragonfly",
        "bee",
        "ladybird",
        "ladybug",
        "insect",
        "bug",
        "organ",
        "synthesizer",
        "cello",
        "viola",
        "trombone",
        "saxophone",
        "tuba",
        "lyre",
        "banjo",
        "lute",
        "sundial",
        "easel",
        "canvas",
        "mesa",
        "dune",
        "ship",
        "galleon",
        "bulldozer",
        "digger",
        "excavator",
        "forklift",
        "carriage",
        "tram",
        "trolley",
        "kettle",
        "atm",
        "booth",
        "kiosk",
        "shack",
        "ruin",
        "ruins",
        "obelisk",
        "hoodoo",
        "stalactite",
        "pinwheel",
        "robot",
        "monument",
        "portal",
    ]
)


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _singular(w: str, known: set[str]) -> str:
    if w in known:
        return w
    for suffix, rep in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", "")):
        if w.endswith(suffix) and w[: -len(suffix)] + rep in known:
            return w[: -len(suffix)] + rep
    return w


@dataclass
class LexIndex:
    phrases: dict[tuple[str, ...], str]  # synonym words -> category
    words: set[str]
    longest: int


def build_index() -> LexIndex:
    phrases: dict[tuple[str, ...], str] = {}
    for c in CATEGORIES.values():
        for s in c.synonyms:
            phrases.setdefault(tuple(tokens(s)), c.name)
    words = {w for p in phrases for w in p}
    return LexIndex(phrases, words, max(len(p) for p in phrases))


_INDEX: LexIndex | None = None


def index() -> LexIndex:
    global _INDEX
    if _INDEX is None:
        _INDEX = build_index()
    return _INDEX


@dataclass
class Match:
    category: str
    phrase: str
    start: int
    end: int  # exclusive token index


def _matches(ws: list[str], idx: LexIndex) -> list[Match]:
    out = []
    for i in range(len(ws)):
        for n in range(min(idx.longest, len(ws) - i), 0, -1):
            key = tuple(ws[i : i + n])
            if key in idx.phrases:
                out.append(Match(idx.phrases[key], " ".join(key), i, i + n))
    return out


def _head(ms: list[Match]) -> Match | None:
    """Last-ending match; longer wins at the same end."""
    if not ms:
        return None
    return max(ms, key=lambda m: (m.end, m.end - m.start))


def lexical(prompt: str) -> tuple[Match | None, bool]:
    """(head-noun match, whether it was a "statue of X" figure)."""
    idx = index()
    ws = [_singular(w, idx.words) for w in tokens(prompt)]
    if "of" in ws:
        k = ws.index("of")
        left, right = ws[:k], ws[k + 1 :]
        lm = _head(_matches(left, idx))
        rm = _head(_matches(_cut(right), idx))
        # a bowl of fruit, a pile of books: phrases that span "of" are synonyms themselves
        span = [m for m in _matches(ws, idx) if m.start < k < m.end]
        if span:
            return _head(span), False
        if lm is not None and lm.phrase in FIGURE_WORDS | {"statue", "sculpture", "bust", "figure"} and rm is not None:
            return rm, True
        if lm is not None:
            return lm, False
        if left and set(left) & FIGURE_WORDS and rm is not None:
            return rm, True
        return rm, False
    return _head(_matches(_cut(ws), idx)), False


def _cut(ws: list[str]) -> list[str]:
    """Words before the first describing clause ("a tree with red leaves" -> "a tree")."""
    for i, w in enumerate(ws):
        if i > 0 and w in CUT_WORDS:
            head = ws[:i]
            if _matches(head, index()):
                return head
    return ws


# ----- the trained text model ---------------------------------------------------------------
@dataclass
class TextClassifier:
    """MLP (embedding -> hidden -> classes) in numpy at inference: no torch needed to answer."""

    classes: list[str]
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    encoder: str
    version: str
    metrics: dict

    def probs(self, emb: np.ndarray) -> np.ndarray:
        h = np.maximum(emb @ self.w1 + self.b1, 0.0)
        z = h @ self.w2 + self.b2
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def load_classifier(path: str | Path) -> TextClassifier:
    import hashlib

    data = Path(path).read_bytes()
    z = np.load(io.BytesIO(data), allow_pickle=False)
    meta = __import__("json").loads(bytes(z["meta"]).decode())
    return TextClassifier(
        meta["classes"],
        z["w1"].astype(np.float32),
        z["b1"].astype(np.float32),
        z["w2"].astype(np.float32),
        z["b2"].astype(np.float32),
        meta["encoder"],
        hashlib.sha256(data).hexdigest()[:12],
        meta.get("metrics", {}),
    )


@dataclass
class Understood:
    category: str  # always a real category: the closest one when nothing fits
    known: bool  # the prompt names something we make as such
    approximate: bool  # we make something close instead (a dragon as a lizard figure)
    source: str  # "words" (lexical) or "model" (classifier)
    confidence: float
    figure: bool = False  # "a statue of a horse"
    phrase: str = ""

    def answer(self, prompt: str) -> str | None:
        """The honest line for the author, or None when the prompt is simply understood."""
        label = CATEGORIES[self.category].display
        if self.known and not self.approximate:
            return None
        return f"I can't make “{prompt}” yet; closest: {label}"


def understand(prompt: str, clf: TextClassifier | None, encode: object = None, threshold: float = 0.55) -> Understood:
    """What the prompt asks for. ``encode(list[str]) -> np.ndarray`` embeds text for ``clf``."""
    m, figure = lexical(prompt)
    if m is not None:
        approx = m.phrase in APPROXIMATE
        return Understood(m.category, True, approx, "words", 1.0, figure, m.phrase)
    if clf is None or encode is None:
        return Understood("statue", False, False, "none", 0.0)
    emb = encode([prompt])  # type: ignore[operator]
    p = clf.probs(np.asarray(emb, np.float32))[0]
    order = np.argsort(-p)
    best = next(int(i) for i in order if clf.classes[int(i)] != UNKNOWN)
    top = int(order[0])
    known = clf.classes[top] != UNKNOWN and float(p[top]) >= threshold
    return Understood(clf.classes[best], known, False, "model", float(p[best]))
