"""Prompt checks shared by the API, the job queue and the CLI (no torch import: cheap).

``check_prompt`` rejects what cannot work (empty, too long) with a ``PromptError`` whose
message can be shown to a user as is, and returns best-effort notes for what merely
might not work (words the model never saw in training, no known object noun).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from genmodels.heights import SIZE_MAX, SIZE_MIN, parse_size

MAX_PROMPT_CHARS = 200
MAX_SEED = 2**63 - 1  # what every consumer (torch, numpy, JSON clients) can hold without overflow
STOPWORDS = frozenset(
    ["a", "an", "the", "of", "with", "and", "that", "is", "in", "on", "very", "some", "one", "made", "from", "for"]
)


class PromptError(ValueError):
    """The prompt cannot be generated; the message is user-facing."""


def normalise_prompt(prompt: str) -> str:
    return re.sub(r"\s+", " ", prompt.strip().lower())


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def check_seed(seed: object) -> int:
    """The seed as an int, or a PromptError naming the allowed range (never an overflow from deep inside)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise PromptError(f"seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise PromptError(f"seed must be a whole number from 0 to {MAX_SEED}; got {seed}")
    return int(seed)


def derive_seed(seed: int, attempt: int) -> int:
    """Seed of retry ``attempt`` of a request: attempt 0 is the seed itself, later ones are spawned
    from a numpy SeedSequence, so no two (seed, attempt) pairs share a draw (``seed * 7919 +
    attempt`` made seed 0's redraw equal to seed 1's first draw)."""
    if attempt == 0:
        return seed
    child = np.random.SeedSequence(seed).spawn(attempt)[attempt - 1]
    lo, hi = (int(x) for x in child.generate_state(2, np.uint32))
    return ((hi << 32) | lo) & MAX_SEED


def check_prompt(prompt: str) -> tuple[str, list[str]]:
    """Return (normalised prompt, notes) or raise PromptError."""
    if not isinstance(prompt, str):
        raise PromptError("prompt must be text")
    # accents off ('cafe' for 'café'): the vocabulary is plain ASCII English
    clean = normalise_prompt(strip_accents(prompt))
    if not clean:
        raise PromptError("prompt is empty: describe an object, e.g. 'a tall pine tree'")
    if len(clean) > MAX_PROMPT_CHARS:
        raise PromptError(f"prompt is too long: {len(clean)} characters (max {MAX_PROMPT_CHARS})")
    if not re.search(r"[a-z]", clean):
        if any(ch.isalpha() for ch in clean):  # letters, but none of them Latin
            raise PromptError(
                f"I can only read English prompts (Latin letters) for now; {prompt.strip()[:40]!r} has none: "
                "try e.g. 'a red dragon'"
            )
        raise PromptError("prompt has no words: describe an object, e.g. 'a tall pine tree'")
    notes: list[str] = []
    foreign = [w for w in clean.split() if any(ch.isalpha() for ch in w) and not re.search(r"[a-z]", w)]
    if foreign:
        notes.append("words in other scripts were ignored (English only for now): " + " ".join(foreign))
        clean = " ".join(w for w in clean.split() if w not in foreign)
    size = parse_size(clean)
    if size is not None and size.clamped != size.metres:
        notes.append(f"assets are {SIZE_MIN:g}-{SIZE_MAX:g} m; drawing {size.clamped:g} m "
                     "(give the object a scale in the world for another size)")  # fmt: skip
    return clean, notes


def flow_notes(clean: str) -> list[str]:
    """What the SDF flow model (10 categories) will probably not honour in a checked prompt."""
    from genmodels import shapes  # the flow's corpus vocabulary: imported only for the flow model
    from genmodels.asset import NOUN_TO_CATEGORY, detect_category

    notes: list[str] = []
    known = shapes.vocab() | set(NOUN_TO_CATEGORY) | STOPWORDS
    unknown = [w for w in re.findall(r"[a-z]+", clean) if w not in known]
    if unknown:
        notes.append("unknown words (best effort, may be ignored): " + ", ".join(dict.fromkeys(unknown)))
    if detect_category(clean) is None:
        notes.append("no known object word (" + ", ".join(shapes.CATEGORIES) + "); the shape is a best guess")
    return notes
