"""From a parse to what happens: an answer, a clarifying question, or an action message.

Actions are the explicit protocol messages (TRAVEL, MODERATE, the ``/generate`` chat
command) that the hub then applies exactly as if the asker had sent them, so permission
checks, rate limits and errors are the same. Thresholds are deliberately high for
moderation: a wrong kick is far worse than asking again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from server.commands.core import MODERATION_INTENTS, CommandContext, Parse, PlaceRef
from server.messages import Chat, ClientMessage, Moderate, Travel
from server.protocol import MAX_REASON_CHARS

MIN_CONFIDENCE = 0.5  # below this any intent is "unclear"
ACTION_CONFIDENCE = 0.6  # travel, guide, generate
MODERATION_CONFIDENCE = 0.85  # mute, kick, ban (and the runner-up must be far behind)
MODERATION_MARGIN = 0.5

EXAMPLES = '"take me to the gallery", "what\'s on tonight?", "who\'s here?", "make a red chair here"'
HELP = (
    'I can take you to another world ("take me to the concert hall"), tell you what\'s on '
    '("when does the open mic start?"), who\'s here, where your friends are, make an object '
    '("make a red chair here"), walk you somewhere with the guide ("show me the gallery portal") '
    'and, for moderators, mute, kick or ban someone ("mute Bo"). Start a chat line with @plaza.'
)


@dataclass(frozen=True, slots=True)
class Plan:
    kind: str  # "answer" | "clarify" | "act" | "guide"
    text: str  # what the asker is told (for "act": said once the action went through)
    message: ClientMessage | None = None
    place: PlaceRef | None = None  # for "guide": where to walk
    data: dict[str, object] = field(default_factory=dict)


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%a %H:%M UTC")


def _until(delta_s: float) -> str:
    m = max(0, int(delta_s // 60))
    return f"in {m} min" if m < 60 else f"in {m // 60} h {m % 60} min"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def plan(p: Parse, ctx: CommandContext) -> Plan:
    data: dict[str, object] = {"intent": p.intent, "confidence": round(p.confidence, 3), "slots": dict(p.slots)}
    intent = p.intent if p.confidence >= MIN_CONFIDENCE else "unclear"

    def clarify(text: str) -> Plan:
        return Plan("clarify", text, data={**data, "clarify": True})

    if intent == "unclear":
        return clarify(f"Sorry, I didn't understand. You can say things like {EXAMPLES}, or @plaza help.")
    if intent == "help":
        return Plan("answer", HELP, data=data)
    if intent == "who_here":
        names = sorted(x.name for x in ctx.people)
        if not names:
            return Plan("answer", "Nobody else is here right now.", data=data)
        return Plan("answer", f"Here with you ({len(names)}): {_names(names)}.", data=data)
    if intent == "find_friends":
        if not ctx.friends_online:
            return Plan("answer", "None of the people you follow are online right now.", data=data)
        parts = [f"{n} in {w}" for n, w in ctx.friends_online]
        return Plan("answer", f"Online now: {_names(parts)}.", data=data)
    if intent == "whats_on":
        world_names = {w.id: w.name for w in ctx.worlds}
        if p.event is not None:
            e = p.event
            where = world_names.get(e.world, e.world)
            if e.live or e.start <= ctx.now < e.end:
                text = f"{e.title} is on now in {where} (until {_clock(e.end)})."
            elif e.start > ctx.now:
                text = f"{e.title} starts {_clock(e.start)} ({_until(e.start - ctx.now)}) in {where}."
            else:
                text = f"{e.title} has ended."
            return Plan("answer", text, data={**data, "events": [e.key]})
        soon = sorted(
            (e for e in ctx.events if e.end > ctx.now and e.start < ctx.now + 24 * 3600), key=lambda e: e.start
        )
        if not soon:
            return Plan("answer", "Nothing is scheduled in the next 24 hours.", data={**data, "events": []})
        items = [
            f"{e.title} ({'on now' if e.live or e.start <= ctx.now else _clock(e.start)}, "
            f"{world_names.get(e.world, e.world)})"
            for e in soon[:5]
        ]
        return Plan(
            "answer", "Coming up: " + "; ".join(items) + ".", data={**data, "events": [e.key for e in soon[:5]]}
        )
    if intent == "travel":
        if p.confidence < ACTION_CONFIDENCE:
            return clarify(f'Do you want to go somewhere? Say "take me to ..." with one of: {_world_list(ctx)}.')
        if p.world is None:
            return clarify(f"Which world? I know {_world_list(ctx)}.")
        if p.world.id == ctx.world:
            return Plan("answer", f"You are already in {p.world.name}.", data=data)
        return Plan("act", f"Taking you to {p.world.name}.", Travel(p.world.id, None), data=data)
    if intent == "guide":
        if p.confidence < ACTION_CONFIDENCE:
            return clarify('Where do you want to go? For example "show me the gallery portal".')
        place = p.place
        if place is None and p.event is not None:
            stage = p.event.stage  # the event is held at a spawn or object of that name
            place = next((x for x in ctx.places if x.key in (f"spawn:{stage}", f"object:{stage}")), None)
        if place is None:
            here = ", ".join(x.name for x in ctx.places[:8]) or "nothing to show here"
            return clarify(f"Where should I take you? Places here: {here}.")
        return Plan("guide", f"Follow me to {place.name}.", place=place, data=data)
    if intent == "generate":
        prompt = p.slots.get("prompt")
        if p.confidence < ACTION_CONFIDENCE or not prompt:
            return clarify('What should I make? For example "make a red chair here".')
        return Plan("act", f"Making {prompt}.", Chat(f"/generate {prompt}"), data=data)
    if intent in MODERATION_INTENTS:
        ranked = sorted(p.probs.values(), reverse=True)
        margin = ranked[0] - ranked[1] if len(ranked) > 1 else 1.0
        if p.person is None:
            return clarify(f"Who do you want to {intent}? Nobody here has that name.")
        if p.confidence < MODERATION_CONFIDENCE or margin < MODERATION_MARGIN:
            return clarify(f'Did you want to {intent} {p.person.name}? Say "@plaza {intent} {p.person.name}" to do it.')
        reason = f"via @plaza: {p.text}"[:MAX_REASON_CHARS]
        return Plan("act", f"{intent}: {p.person.name}", Moderate(intent, p.person.eid, reason, None), data=data)
    return clarify(f"Sorry, I didn't understand. You can say things like {EXAMPLES}.")


def _world_list(ctx: CommandContext) -> str:
    return ", ".join(w.name for w in ctx.worlds if w.id != ctx.world) or "no other worlds"
