"""Training utterances for the intent classifier, generated from our templates.

Fillers are invented names (worlds, people, events, objects) that do not occur in the
held-out evaluation set (bench/commands_eval.py), so the classifier learns the shape of a
request, not particular names; slots are matched against the live context at run time.
A fraction of the utterances get typos (dropped, doubled or swapped letters).
"""

from __future__ import annotations

import random

WORLDS = [
    "rooftop bar", "moon base", "art studio", "sky garden", "harbour", "library", "arcade",
    "beach club", "observatory", "ice rink", "jazz cellar", "market square", "museum",
    "science lab", "tea house", "theatre", "camp site", "dance floor", "greenhouse", "atrium",
]  # fmt: skip
PEOPLE = [
    "Zed", "Lina", "Marco", "Yuki", "Olu", "Farah", "Dev", "Greta", "Ike", "Nadia", "Pablo",
    "Quinn", "Rosa", "Theo", "Uma", "Vik", "Wren", "Xia", "Yosef", "Zara", "Al", "Em",
]  # fmt: skip
EVENTS = [
    "poetry slam", "karaoke", "quiz night", "film club", "salsa class", "book club",
    "drum circle", "chess meetup", "yoga session", "talk show", "dj set", "craft hour",
]  # fmt: skip
COLOURS = ["red", "blue", "green", "yellow", "purple", "black", "white", "orange", "pink", "golden", "wooden"]
THINGS = [
    "chair", "table", "lamp", "tree", "boulder", "sofa", "cat statue", "rocket", "mushroom",
    "guitar", "vase", "sign", "bench", "crate", "barrel", "cactus", "teapot", "umbrella",
]  # fmt: skip
PLACES = ["portal", "stage", "fountain", "exit", "bar", "dance floor", "event board", "entrance"]

TEMPLATES: dict[str, list[str]] = {
    "travel": [
        "take me to the {w}",
        "take me to {w}",
        "go to the {w}",
        "go to {w}",
        "travel to the {w}",
        "teleport me to the {w}",
        "i want to go to the {w}",
        "can you take me to the {w}",
        "send me to the {w}",
        "bring me to the {w}",
        "let's go to the {w}",
        "move me to {w}",
        "i'd like to visit the {w}",
        "visit {w}",
        "jump to the {w}",
        "open the {w}",
        "warp to {w}",
        "transport me to the {w}",
        "beam me to the {w}",
        "head to the {w}",
        "could you send me over to the {w} please",
        "get me to the {w}",
        "switch world to {w}",
        "join {w}",
        "i wanna go to the {w}",
        "take me there, the {w}",
        "change world to the {w}",
        "let me travel to {w} now",
        "portal me to the {w}",
        "go {w}",
        "heading over to the {w}",
        "to the {w}, please",
        "i'm going to the {w}",
        "take me away to {w}",
        # German
        "bring mich zu {w}",
        "ich möchte in die {w}",
        "geh zur {w}",
        "teleportiere mich zu {w}",
        "schick mich in die {w}",
        "ich will zur {w}",
    ],
    "guide": [
        "show me the {p}",
        "show me where the {p} is",
        "where is the {p}",
        "walk me to the {p}",
        "lead me to the {p}",
        "guide me to the {p}",
        "how do i get to the {p}",
        "can you show me the way to the {p}",
        "which way is the {p}",
        "take me over to the {p} on foot",
        "show me around",
        "give me a tour",
        "show me the {w} portal",
        "where's the portal to the {w}",
        "walk me to the {w} portal",
        "point me to the {p}",
        "i'm lost, where is the {p}",
        "help me find the {p}",
        "find the {p} for me",
        "escort me to the {p}",
        "show me the way to {w}",
        "where do i find the portal for {w}",
        "accompany me to the {p}",
        "follow the guide to the {p}",
        "zeig mir den {p}",
        "wo finde ich den {p}",
        "führ mich zum {p}",
        "wie komme ich zum {p}",
    ],
    "whats_on": [
        "what's on tonight",
        "what's on",
        "what is happening today",
        "any events today",
        "what events are there",
        "when does the {e} start",
        "when is the {e}",
        "what time is {e}",
        "is there anything on this evening",
        "what's happening",
        "what's going on later",
        "list the events",
        "upcoming events",
        "what's next",
        "is the {e} live",
        "when's {e}",
        "what's on this week",
        "what can i do tonight",
        "any shows tonight",
        "what's the schedule",
        "is anything happening now",
        "tell me about the {e}",
        "how long until the {e}",
        "what events are coming up",
        "are there any concerts",
        "what's on the program",
        "was ist heute los",
        "welche events gibt es",
        "wann fängt {e} an",
        "wann ist {e}",
        "gibt es heute abend etwas",
        "ist {e} schon live",
    ],
    "who_here": [
        "who's here",
        "who is here",
        "who is in this world",
        "who else is around",
        "how many people are here",
        "list the people here",
        "who's online here",
        "anyone here",
        "who is with me",
        "who's around",
        "tell me who is here",
        "show me who's in the room",
        "is anybody here",
        "who's nearby",
        "how many are in this world",
        "which people are here",
        "who's in this instance",
        "wer ist da",
        "wer ist noch hier",
        "wie viele leute sind hier",
    ],
    "find_friends": [
        "find my friends",
        "where are my friends",
        "are any of my friends online",
        "where is my friend",
        "find friends",
        "are my friends here",
        "which friends are online",
        "locate my friends",
        "show me my friends",
        "where are the people i follow",
        "is anyone i follow online",
        "take me to my friends",
        "are any friends around",
        "friends online",
        "where did my friends go",
        "wo sind meine freunde",
        "sind freunde von mir online",
        "finde meine freunde",
    ],
    "generate": [
        "make a {c} {t} here",
        "make a {t}",
        "create a {c} {t}",
        "build a {t} here",
        "generate a {c} {t}",
        "spawn a {t}",
        "put a {c} {t} here",
        "can you make me a {c} {t}",
        "i want a {c} {t} here",
        "place a {t} next to me",
        "add a {c} {t}",
        "make me a {t} please",
        "could you create a {t}",
        "give me a {c} {t}",
        "i'd like a {c} {t} in front of me",
        "conjure a {c} {t}",
        "craft a {t}",
        "build me a {c} {t}",
        "make a big {c} {t}",
        "generate a small {t} please",
        "create some {c} {t}s",
        "spawn a {c} {t} right here",
        "put down a {t}",
        "mach einen {t}",
        "erstelle einen {c} {t}",
        "bau mir einen {t} hier",
    ],
    "mute": [
        "mute {n}",
        "please mute {n}",
        "mute {n} now",
        "can you mute {n}",
        "silence {n}",
        "shut {n} up",
        "mute {n} for spamming",
        "stop {n} from chatting",
        "make {n} quiet",
        "mute that {n}",
        "mute user {n}",
        "{n} is spamming, mute them",
        "turn off {n}'s chat",
        "mute {n} please",
        "schalte {n} stumm",
        "{n} stummschalten",
    ],
    "kick": [
        "kick {n}",
        "kick {n} out",
        "please kick {n}",
        "remove {n} from the world",
        "throw {n} out",
        "kick {n} for being rude",
        "get {n} out of here",
        "boot {n}",
        "kick out {n}",
        "eject {n}",
        "can you kick {n}",
        "remove {n}",
        "kick user {n}",
        "{n} is trolling, kick them",
        "wirf {n} raus",
        "{n} rauswerfen",
    ],
    "ban": [
        "ban {n}",
        "ban {n} forever",
        "please ban {n}",
        "ban {n} from this world",
        "ban user {n}",
        "permanently ban {n}",
        "ban {n} for harassment",
        "can you ban {n}",
        "ban that {n}",
        "{n} should be banned, ban them",
        "block {n} from coming back",
        "ban {n} now",
        "ban {n} please",
        "sperre {n}",
        "{n} bannen",
    ],
    "help": [
        "help",
        "what can you do",
        "how does this work",
        "what commands are there",
        "help me",
        "what can i ask you",
        "how do i use this",
        "what are you",
        "instructions",
        "commands",
        "what can i say",
        "how do i talk to you",
        "can you help",
        "what do you do",
        "usage",
        "hilfe",
        "was kannst du",
        "wie geht das",
        "was kann ich sagen",
    ],
    "unclear": [
        "hello",
        "hi",
        "thanks",
        "ok",
        "lol",
        "yes",
        "no",
        "maybe",
        "cool",
        "nice",
        "i like pizza",
        "the weather is nice",
        "what is the meaning of life",
        "tell me a joke",
        "asdf",
        "hmm",
        "do it",
        "now",
        "the {w}",
        "{n}",
        "{n} is nice",
        "i love the {w}",
        "good morning everyone",
        "how are you",
        "what's your name",
        "sing a song",
        "blue",
        "is {n} a good name",
        "i was at the {w} yesterday",
        "{n} said hi",
        "the {t} is {c}",
        "that's a nice {t}",
        "who made this world",
        "can you dance",
        "what year is it",
        "play music",
        "turn the lights off",
        "i'm bored",
        "what",
        "why",
        "banana",
        "ok thanks bye",
        "{n} and me",
        "i don't know",
        "never mind",
        "stop",
        "undo that",
        "my {t} is broken",
        "is {n} a moderator",
        "did {n} get banned",
        "{n} got kicked yesterday lol",
        "i muted my mic",
        "how do i mute myself",
        "my friend {n} says hi",
        "going to the {w} later maybe",
        "hallo",
        "danke",
        "guten morgen",
        "wie geht's",
        "ich weiß nicht",
        "ja",
        "nein",
        "{n} ist nett",
        "the {e} was great",
        "i went to the {e} last week",
        "was {n} muted",
        "who banned {n}",
    ],
}


def _typo(s: str, rng: random.Random) -> str:
    if len(s) < 5:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.randrange(3)
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i] + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


def _style(s: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        s = s.capitalize() + rng.choice(["?", "!", ".", ""])
    elif r < 0.25:
        s = rng.choice(["please ", "hey, ", "hey plaza ", "could you ", "yo "]) + s
    elif r < 0.3:
        s = s.upper()
    if rng.random() < 0.25:
        s = _typo(s, rng)
    return s


def utterances(seed: int = 0, per_template: int = 10) -> list[tuple[str, str]]:
    """(text, intent) pairs: each template filled ``per_template`` times, styled and typo'd."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for intent, templates in TEMPLATES.items():
        n = per_template * (2 if intent == "unclear" else 1)
        for t in templates:
            seen: set[str] = set()
            for _ in range(n):
                text = t.format(
                    w=rng.choice(WORLDS),
                    n=rng.choice(PEOPLE),
                    e=rng.choice(EVENTS),
                    c=rng.choice(COLOURS),
                    t=rng.choice(THINGS),
                    p=rng.choice(PLACES),
                )
                text = _style(text, rng)
                if text not in seen:
                    seen.add(text)
                    out.append((text, intent))
    rng.shuffle(out)
    return out
