"""Prompt checks shared by the API, the job queue and the CLI (no torch import: cheap).

``check_prompt`` rejects what cannot work (empty, too long) with a ``PromptError`` whose
message can be shown to a user as is, and returns best-effort notes for what merely
might not work (words the model never saw in training, no known object noun).
"""

from __future__ import annotations

import re

from genmodels import shapes
from genmodels.asset import NOUN_TO_CATEGORY, detect_category, normalise_prompt
from genmodels.heights import MAX_HEIGHT, MIN_HEIGHT, clamp_height, parse_height

MAX_PROMPT_CHARS = 200
STOPWORDS = frozenset(
    ["a", "an", "the", "of", "with", "and", "that", "is", "in", "on", "very", "some", "one", "made", "from", "for"]
)


class PromptError(ValueError):
    """The prompt cannot be generated; the message is user-facing."""


def check_prompt(prompt: str) -> tuple[str, list[str]]:
    """Return (normalised prompt, notes) or raise PromptError."""
    if not isinstance(prompt, str):
        raise PromptError("prompt must be text")
    clean = normalise_prompt(prompt)
    if not clean:
        raise PromptError("prompt is empty: describe an object, e.g. 'a tall pine tree'")
    if len(clean) > MAX_PROMPT_CHARS:
        raise PromptError(f"prompt is too long: {len(clean)} characters (max {MAX_PROMPT_CHARS})")
    notes: list[str] = []
    known = shapes.vocab() | set(NOUN_TO_CATEGORY) | STOPWORDS
    unknown = [w for w in re.findall(r"[a-z]+", clean) if w not in known]
    if unknown:
        notes.append("unknown words (best effort, may be ignored): " + ", ".join(dict.fromkeys(unknown)))
    asked = parse_height(clean)
    if asked is not None and clamp_height(asked) != asked:
        notes.append(
            f"assets are {MIN_HEIGHT:g}-{MAX_HEIGHT:g} m tall; drawing {clamp_height(asked):g} m "
            "(give the object a scale in the world for another size)"
        )
    if detect_category(clean) is None:
        notes.append("no known object word (" + ", ".join(shapes.CATEGORIES) + "); the shape is a best guess")
    return clean, notes
