"""The labelled chat set the toxicity classifier is trained and measured on, built here.

Abusive lines (insults, threats, harassment, telling someone to leave or hurt themselves,
spam-like shouting at a person) and ordinary chat, including hard negatives a word list gets
wrong ("that drop was sick", "killer set", "I'm so stupid, forgot my mic"). Every template
belongs to one of two disjoint halves: ``split="train"`` and ``split="test"`` never share a
template, so the held-out precision and recall measure new phrasings, not memorised ones.
No slurs are written here; insults are generic.
"""

from __future__ import annotations

import random

INSULTS = [
    "idiot", "moron", "loser", "clown", "freak", "creep", "trash", "garbage", "imbecile", "dumbass",
    "pathetic worm", "waste of space", "joke", "failure", "parasite", "rat", "pig", "muppet", "halfwit",
]  # fmt: skip
ADJ = ["stupid", "ugly", "worthless", "pathetic", "disgusting", "useless", "brainless", "dumb", "miserable"]
NAMES = ["bo", "ana", "kofi", "mira", "jun", "sasha", "host", "dj", "everyone", "mods"]
HARM = ["hurt", "beat", "find", "destroy", "punch", "wreck", "end"]

TOXIC = [
    # (template, half) — 0: train, 1: test
    ("you are a {i}", 0),
    ("{n} is a {i}", 0),
    ("shut up you {i}", 0),
    ("what a {a} {i}", 0),
    ("nobody wants you here {n}, leave", 0),
    ("i will {h} you", 0),
    ("go away you {a} {i}", 0),
    ("you're so {a}", 0),
    ("get lost {i}", 0),
    ("{n} you {a} {i}", 0),
    ("kill yourself", 0),
    ("i know where you live {n}", 0),
    ("you should just disappear forever", 0),
    ("die {i}", 0),
    ("everyone hates you {n}", 0),
    ("{a} {i}", 0),
    ("u r a {i}", 0),
    ("stfu {i}", 0),
    ("i'm going to {h} you after this", 0),
    ("{n} is {a} and {a}", 0),
    ("you {a} piece of {i}", 0),
    ("ur voice is {a}, shut up", 0),
    ("leave this world {i}, no one likes you", 0),
    ("hey {i}, nobody asked", 1),
    ("{n} = {i}", 1),
    ("you absolute {i}", 1),
    ("what are you, a {i}?", 1),
    ("i hope you {h} yourself", 1),
    ("go {h} yourself {n}", 1),
    ("wow you're {a}", 1),
    ("{n} is the most {a} person here", 1),
    ("get out of here you {i}", 1),
    ("ur such a {i} lol", 1),
    ("i'll {h} you irl", 1),
    ("you deserve to suffer {n}", 1),
    ("nobody cares about you {i}", 1),
    ("typical {a} {i}", 1),
    ("shut your mouth {n}", 1),
    ("{a} {a} {i}!!!", 1),
]
BENIGN = [
    ("hi everyone", 0),
    ("that drop was sick", 0),
    ("killer set tonight", 0),
    ("i'm so stupid, forgot my mic", 0),
    ("this song kills me every time", 0),
    ("{n} you are amazing", 0),
    ("see you at the open mic", 0),
    ("lol that was hilarious", 0),
    ("can someone help me find the gallery", 0),
    ("great show {n}!", 0),
    ("the bass is insane", 0),
    ("i hate mondays", 0),
    ("this game destroyed me", 0),
    ("good night all", 0),
    ("where is the portal", 0),
    ("my internet is trash today", 0),
    ("the fountain is so pretty", 0),
    ("who wants to dance", 0),
    ("i'm dead, that joke", 0),
    ("thanks for hosting {n}", 0),
    ("that chair looks ugly but funny", 0),
    ("shoot, i missed the start", 0),
    ("beat the high score!", 0),
    ("hey {n}, welcome back", 1),
    ("you killed it up there", 1),
    ("this track is a banger", 1),
    ("i'm such an idiot, wrong world again", 1),
    ("wow {n} that's awesome", 1),
    ("anyone up for the quiz", 1),
    ("the lag is killing me", 1),
    ("i could die laughing", 1),
    ("nice outfit {n}", 1),
    ("ok brb", 1),
    ("stupid question, how do i mute my mic", 1),
    ("go {n} go!", 1),
    ("love this place", 1),
    ("the weather here is crazy", 1),
    ("that boss fight was brutal", 1),
    ("let's find the others", 1),
]


def _fill(t: str, rng: random.Random) -> str:
    return t.format(i=rng.choice(INSULTS), a=rng.choice(ADJ), n=rng.choice(NAMES), h=rng.choice(HARM))


def _noise(s: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        s = s.upper()
    elif r < 0.25:  # leetspeak and stretched letters, as people dodge word lists
        s = s.replace("o", "0").replace("e", "3").replace("i", "1")
    elif r < 0.32:
        s = "".join(c * 2 if c in "aeiou" and rng.random() < 0.3 else c for c in s)
    if rng.random() < 0.2:
        s += rng.choice(["!!", " lol", " >:(", "?", " ..."])
    return s


def labelled(split: str, per_template: int = 25, seed: int = 0) -> list[tuple[str, int]]:
    """(text, 1 = abusive / 0 = fine) for one half of the templates."""
    half = 0 if split == "train" else 1
    rng = random.Random(seed * 2 + half)
    out: list[tuple[str, int]] = []
    for label, rows in ((1, TOXIC), (0, BENIGN)):
        for t, h in rows:
            if h != half:
                continue
            seen: set[str] = set()
            for _ in range(per_template):
                s = _noise(_fill(t, rng), rng)
                if s not in seen:
                    seen.add(s)
                    out.append((s, label))
    rng.shuffle(out)
    return out
