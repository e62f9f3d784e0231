"""Untrusted text people show to each other: display names and chat lines.

Two jobs, one place:

* :func:`clean_text` removes what a reader cannot see but a renderer obeys: control characters
  (C0/C1, NUL, DEL), format characters (category Cf: bidi embeddings/overrides/isolates
  U+202A–202E and U+2066–2069, LRM/RLM/ALM, zero-width space/joiners U+200B–200D, word joiner
  U+2060, BOM U+FEFF, soft hyphen, tag characters …) and the invisible "filler" letters
  (Hangul fillers, U+034F, U+17B4/5, Mongolian selectors). Line breaks and unusual spaces
  become a plain space. A zero-width *joiner* inside an emoji sequence (👩‍👩‍👧) is kept, since
  it only glues pictographs together. Used by identity for names and by moderation for every
  chat line (so the hub's chat path gets it through ``Moderation.chat``).
* :func:`name_keys` is how names are *compared*: the Unicode TR39 confusable skeleton (via the
  ``disarm`` library, which also folds NFKC, case and the TR39 ``0``/``O``, ``1``/``l`` digit
  classes) of the cleaned name, and of its NFKC case-fold. Two names collide when their key sets
  meet: ``Kofi``, ``Kοfi`` (Greek omicron), ``Ｋofi`` (fullwidth), ``K\u200bofi`` and ``KOFI``
  all share the key ``kofi``; ``аna`` (Cyrillic а) collides with ``ana``.

API::

    clean_text(text) -> str          # strip invisible/control characters (chat and names)
    clean_name(name) -> str          # clean_text + collapse runs of spaces + trim
    name_keys(name) -> frozenset[str]
    names_collide(a, b) -> bool
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from disarm import skeleton_key

# Default-ignorable letters/marks that are not category Cf but render as nothing.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0")
_ZWJ = "\u200d"
_SPACES = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")


def _pictographic(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk") or ch == "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff"


def clean_text(text: str) -> str:
    """``text`` without control, format (bidi, zero-width, tags …) and invisible filler
    characters; line breaks and odd spaces become ``' '``. Idempotent."""
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch in _SPACES:
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in _INVISIBLE:
            continue
        if cat == "Cf":
            # Keep a joiner only between two pictographs (emoji ZWJ sequences).
            if ch == _ZWJ and out and _pictographic(out[-1]) and i + 1 < n and _pictographic(text[i + 1]):
                out.append(ch)
            continue
        out.append(" " if cat in ("Zs", "Zl", "Zp") else ch)
    return "".join(out)


def clean_name(name: str) -> str:
    """A display name as shown: :func:`clean_text`, runs of spaces collapsed, trimmed."""
    return " ".join(clean_text(name).split()) if isinstance(name, str) else ""


def name_keys(name: str) -> frozenset[str]:
    """Comparison keys of a name (TR39 skeletons); empty for a name that is all invisible."""
    c = clean_name(name)
    folded = unicodedata.normalize("NFKC", c).casefold()
    keys = {skeleton_key(c, digit_policy="tr39"), skeleton_key(folded, digit_policy="tr39")}
    keys.discard("")
    return frozenset(keys)


def names_collide(a: str, b: str) -> bool:
    return not name_keys(a).isdisjoint(name_keys(b))


def keys_of(names: Iterable[str]) -> dict[str, str]:
    """key -> one of ``names`` having it (for "which name does this look like")."""
    out: dict[str, str] = {}
    for n in names:
        for k in name_keys(n):
            out.setdefault(k, n)
    return out
