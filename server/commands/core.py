"""The pure parts of natural-language commands: intents, the live context, slot extraction.

Slots are not tagged by a learned model but matched against what is actually there: the
worlds this server hosts, the people in the asker's instance, the events, the places in the
world (portals, named objects, spawns). A name that is not in the context is no slot, which
is what keeps "ban Bo" from acting on anyone when no Bo is present. Matching is fuzzy on
characters so typos ("galery", "concrt hall") still resolve; very short names (Bo, Jun)
must match a whole word exactly, since a fuzzy two-letter match is noise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TypeVar

T = TypeVar("T")

INTENTS = (
    "travel",  # go to another world now ("take me to the concert hall")
    "guide",  # be walked to a place in this world ("show me the gallery portal")
    "whats_on",  # events ("what's on tonight?", "when does the open mic start?")
    "who_here",
    "find_friends",
    "generate",  # a generated object ("make a red chair here")
    "mute",
    "kick",
    "ban",
    "help",
    "unclear",  # anything else: answered with a clarifying question, never an action
)
MODERATION_INTENTS = frozenset({"mute", "kick", "ban"})
ACTION_INTENTS = frozenset({"travel", "guide", "generate"}) | MODERATION_INTENTS

# Chat lines starting with one of these go to the command handler (case-insensitive).
WAKE_PREFIXES = ("@plaza", "/ask")


@dataclass(frozen=True, slots=True)
class WorldRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class PersonRef:
    eid: int
    name: str


@dataclass(frozen=True, slots=True)
class EventRef:
    key: str  # "<world>/<event id>"
    title: str
    world: str
    start: float  # Unix seconds
    end: float
    live: bool = False
    stage: str = ""


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """Somewhere in the asker's world the guide can walk to."""

    key: str  # "portal:<id>", "object:<id>", "spawn:<name>"
    name: str
    position: tuple[float, float, float]
    world: str | None = None  # a portal's target world


@dataclass(frozen=True, slots=True)
class CommandContext:
    """A snapshot of what the asker can refer to, taken when they asked (pure data)."""

    world: str
    worlds: tuple[WorldRef, ...] = ()
    people: tuple[PersonRef, ...] = ()  # in the asker's instance, the asker excluded
    events: tuple[EventRef, ...] = ()
    places: tuple[PlaceRef, ...] = ()
    now: float = 0.0  # Unix seconds
    friends_online: tuple[tuple[str, str], ...] = ()  # (name, world name), filled for find_friends
    guide: str | None = None  # name of the guide NPC in the asker's world, if any


@dataclass(frozen=True, slots=True)
class Parse:
    text: str
    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)  # slot -> value ("world": id, "person": name...)
    world: WorldRef | None = None
    person: PersonRef | None = None
    event: EventRef | None = None
    place: PlaceRef | None = None
    probs: dict[str, float] = field(default_factory=dict)


_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def normalise(text: str) -> str:
    return " ".join(tokens(text))


def strip_wake(text: str, extra: tuple[str, ...] = ()) -> str | None:
    """The request in a chat line addressed to Plaza (``@plaza ...``, ``/ask ...`` or
    ``@<guide name> ...``), or None when the line is ordinary chat."""
    low = text.lstrip().casefold()
    for p in (*WAKE_PREFIXES, *(f"@{e.casefold()}" for e in extra)):
        if low.startswith(p) and (len(low) == len(p) or not (low[len(p)].isalnum() or low[len(p)] == "_")):
            return text.lstrip()[len(p) :].lstrip(" ,:;-").strip()
    return None


# ----- fuzzy matching ------------------------------------------------------------------------
_GENERIC = frozenset({"the", "a", "an", "night", "evening", "session", "weekly", "plaza", "room", "my"})


def _variants(name: str) -> list[list[str]]:
    """Token lists a name may be written as: whole, and without generic words."""
    base = tokens(re.sub(r"\(.*?\)", " ", name))
    out = [base] if base else []
    short = [t for t in base if t not in _GENERIC]
    if short and short != base:
        out.append(short)
    return out


def _score(toks: list[str], variant: list[str]) -> tuple[float, int]:
    """Best similarity of ``variant`` to any window of ``toks`` and where it starts."""
    target = " ".join(variant)
    best, where = 0.0, -1
    if len(target) <= 3:  # short names: a whole word, exactly
        for i, t in enumerate(toks):
            if t == target or t == target + "'s":
                return 1.0, i
        return 0.0, -1
    n = len(variant)
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(0, max(0, len(toks) - size) + 1):
            window = " ".join(toks[i : i + size])
            if not window:
                continue
            r = SequenceMatcher(None, window, target, autojunk=False).ratio()
            if r > best:
                best, where = r, i
    return best, where


MATCH_MIN = 0.8


def _spans(name: str) -> list[list[str]]:
    """Variants plus every run of >= 2 words of a long title ("book club" in "Sci-fi book club")."""
    out = _variants(name)
    base = out[0] if out else []
    for n in range(2, len(base)):
        for i in range(len(base) - n + 1):
            span = base[i : i + n]
            if len(" ".join(span)) >= 6 and any(t not in _GENERIC for t in span):
                out.append(span)
    return out


def best_match(
    toks: list[str], items: Sequence[tuple[str, T]], minimum: float = MATCH_MIN, partial: bool = False
) -> tuple[T | None, float]:
    """The item whose name appears (fuzzily) in ``toks``: (item, score), or (None, 0). Two
    different items scoring about the same is ambiguous: no match (the caller asks)."""
    scores: dict[int, tuple[float, T]] = {}
    for name, item in items:
        for v in _spans(name) if partial else _variants(name):
            s, _ = _score(toks, v)
            # Prefer longer names on ties ("concert hall" over "hall"); part of a title a little less.
            s = s * (0.98 if partial and len(v) < len(tokens(name)) else 1.0) + 0.001 * len(v)
            key = id(item)
            if s > scores.get(key, (0.0, item))[0]:
                scores[key] = (s, item)
    ranked = sorted(scores.values(), key=lambda si: -si[0])
    if not ranked or ranked[0][0] < minimum:
        return None, 0.0
    if (
        len(ranked) > 1
        and ranked[1][0] >= minimum
        and ranked[0][0] - ranked[1][0] < 0.03
        and ranked[1][1] != ranked[0][1]
    ):
        return None, 0.0
    return ranked[0][1], min(ranked[0][0], 1.0)


# ----- the prompt of a generate request ------------------------------------------------------
_TRIGGER = re.compile(
    r"\b(?:make|create|build|generate|spawn|put|place|add|conjure|craft|summon|drop|render|"
    r"give me|i want|i'd like|i would like|can i have|could i have|can i get|could i get)\b\s*(?:me\s+)?",
)
_TAIL = re.compile(
    r"\s*\b(?:right here|over here|here|next to me|in front of me|near me|beside me|for me|please|pls|"
    r"now|thanks|thank you|plz)\b\s*$"
)
_LEAD = re.compile(r"^(?:(?:a|an|one|some|the)\s+)")


def prompt_of(text: str) -> str | None:
    low = " ".join(re.sub(r"[^\w#' -]+", " ", text.casefold()).split())
    m = _TRIGGER.search(low)
    if m is None:
        return None
    rest = low[m.end() :]
    prev = None
    while rest and rest != prev:
        prev = rest
        rest = _TAIL.sub("", rest).strip()
    rest = rest.strip(" -")
    return rest or None


def prompt_key(prompt: str) -> str:
    """A prompt without leading articles, for comparing two prompts (slot F1)."""
    return _LEAD.sub("", normalise(prompt))


# ----- slots by intent -----------------------------------------------------------------------
def _world_items(ctx: CommandContext) -> list[tuple[str, WorldRef]]:
    items: list[tuple[str, WorldRef]] = []
    for w in ctx.worlds:
        items.append((w.name, w))
        items.append((w.id.replace("-", " "), w))
    known = {w.id: w for w in ctx.worlds}
    for p in ctx.places:  # a portal's label names its target world ("Bench Field (load test)")
        if p.world is not None and p.world in known:
            items.append((p.name, known[p.world]))
    return items


def extract_slots(intent: str, text: str, ctx: CommandContext) -> dict[str, object]:
    """Slots for ``intent`` found in ``text`` against ``ctx``: refs by slot name."""
    toks = tokens(text)
    out: dict[str, object] = {}
    if intent == "travel":
        w, _ = best_match(toks, _world_items(ctx))
        if w is not None:
            out["world"] = w
    elif intent == "guide":
        items: list[tuple[str, PlaceRef]] = [(p.name, p) for p in ctx.places]
        items += [(p.key.split(":", 1)[1].replace("-", " "), p) for p in ctx.places if p.world is None]
        worlds = {w.id: w for w in ctx.worlds}
        for p in ctx.places:
            if p.world is not None and p.world in worlds:
                items.append((worlds[p.world].name, p))
                items.append((p.world.replace("-", " "), p))
        place, _ = best_match(toks, items)
        if place is None:  # an event's stage: walk to the place the event is held at
            ev, _ = best_match(toks, [(e.title, e) for e in ctx.events if e.world == ctx.world], partial=True)
            if ev is not None:
                out["event"] = ev
        else:
            out["place"] = place
    elif intent == "whats_on":
        ev, _ = best_match(toks, [(e.title, e) for e in ctx.events], partial=True)
        if ev is not None:
            out["event"] = ev
    elif intent in MODERATION_INTENTS:
        person, _ = best_match(toks, [(p.name, p) for p in ctx.people])
        if person is not None:
            out["person"] = person
    elif intent == "generate":
        prompt = prompt_of(text)
        if prompt:
            out["prompt"] = prompt
    return out


def slot_values(refs: dict[str, object]) -> dict[str, str]:
    """Plain values of slot refs, as the eval set writes them."""
    out: dict[str, str] = {}
    for k, v in refs.items():
        if isinstance(v, WorldRef):
            out[k] = v.id
        elif isinstance(v, PersonRef):
            out[k] = v.name
        elif isinstance(v, EventRef | PlaceRef):
            out[k] = v.key
        elif isinstance(v, str):
            out[k] = v
    return out
