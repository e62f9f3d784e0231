"""The pure parts of commands, guides and the chat assist, driven directly (no model load)."""

from __future__ import annotations

import itertools
import math

import pytest

from server.chatguard.model import ToxicityModel, normalise
from server.commands.core import CommandContext, Parse, PersonRef, WorldRef, extract_slots, prompt_of, strip_wake
from server.commands.plan import plan
from server.messages import Moderate, Travel
from server.npc.grid import Footprint, NavGrid

CTX = CommandContext(
    world="lobby",
    worlds=(
        WorldRef("lobby", "Plaza Lobby"),
        WorldRef("gallery", "The Gallery"),
        WorldRef("concert-hall", "Concert Hall"),
    ),
    people=(PersonRef(7, "Bo"), PersonRef(8, "Mira"), PersonRef(9, "Mina")),
)


def parse(intent: str, text: str, confidence: float = 0.99) -> Parse:
    refs = extract_slots(intent, text, CTX)
    rest = (1 - confidence) / 10
    probs = {intent: confidence, "unclear": rest}
    return Parse(text, intent, confidence, {}, refs.get("world"), refs.get("person"), probs=probs)  # type: ignore[arg-type]


def test_wake_prefixes_and_guide_names() -> None:
    assert strip_wake("@plaza take me home") == "take me home"
    assert strip_wake("  /ask: who's here") == "who's here"
    assert strip_wake("@Nova show me the stage", ("nova",)) == "show me the stage"
    assert strip_wake("@plazas are nice") is None
    assert strip_wake("hello @plaza") is None


def test_worlds_match_through_typos_and_short_names_only_exactly() -> None:
    assert extract_slots("travel", "teleport me to the concrt hall", CTX)["world"] == CTX.worlds[2]
    assert extract_slots("travel", "galery pls", CTX)["world"] == CTX.worlds[1]
    assert "person" in extract_slots("mute", "mute bo", CTX)
    assert "person" not in extract_slots("mute", "mute bob", CTX)  # "Bo" is not "bob"
    # "mia" is as close to Mira as to Mina: ambiguous, so no one; "mirra" is Mira.
    assert "person" not in extract_slots("ban", "ban mia", CTX)
    assert extract_slots("ban", "ban mirra", CTX)["person"] == CTX.people[1]


def test_generate_prompt_is_the_thing_asked_for() -> None:
    assert prompt_of("make me a red chair here please") == "a red chair"
    assert prompt_of("could you create a glass pyramid next to me") == "a glass pyramid"
    assert prompt_of("hello there") is None


def test_moderation_acts_only_when_sure_and_the_person_is_here() -> None:
    act = plan(parse("ban", "ban Bo"), CTX)
    assert act.kind == "act" and isinstance(act.message, Moderate)
    assert act.message.action == "ban" and act.message.target == 7
    assert plan(parse("ban", "ban Bo", confidence=0.7), CTX).kind == "clarify"
    assert plan(parse("ban", "ban Zebulon"), CTX).kind == "clarify"
    assert plan(parse("mute", "mute Bo", confidence=0.4), CTX).kind == "clarify"


def test_travel_needs_a_known_world_that_is_not_this_one() -> None:
    go = plan(parse("travel", "take me to the gallery"), CTX)
    assert isinstance(go.message, Travel) and go.message.world == "gallery"
    assert plan(parse("travel", "take me to the moon"), CTX).kind == "clarify"
    assert plan(parse("travel", "go to the plaza lobby"), CTX).kind == "answer"


def test_the_navigation_grid_blocks_rotated_objects_and_astar_goes_around() -> None:
    wall = Footprint(0.0, 0.0, 0.2, 4.0, 0.0)  # a thin wall along z through the middle
    grid = NavGrid.build((-10, -1, -10), (10, 5, 10), [wall])
    assert not grid.ok(grid.cell_of(0.0, 0.0)) and grid.ok(grid.cell_of(0.0, 6.0))
    turned = NavGrid.build((-10, -1, -10), (10, 5, 10), [Footprint(0.0, 0.0, 0.2, 4.0, math.pi / 2)])
    assert turned.ok(grid.cell_of(0.0, 3.0)) and not turned.ok(turned.cell_of(3.0, 0.0))
    a, b = grid.cell_of(-3.0, 0.0), grid.cell_of(3.0, 0.0)
    path = grid.astar(a, b)
    assert path is not None and all(grid.ok(c) for c in path)
    steps = sum(math.dist(p, q) for p, q in itertools.pairwise(path))
    assert steps > 12  # around the wall, not through it (straight would be 12 cells)
    assert grid.distance_field(b)[a] == pytest.approx(steps)


def test_the_toxicity_model_flags_abuse_not_banter() -> None:
    m = ToxicityModel.load()
    assert normalise("Y0U 1D10T!!!") == "you idiot!!"
    assert m.score("you are a stupid idiot") > 0.9
    assert m.score("u r a m0r0n") > 0.6
    assert m.score("that drop was sick") < 0.5
    assert m.score("see you at the open mic") < 0.5
