"""An event's chat in a real browser: two people in different instances of a world whose event
is live (capacity 1: everyone gets a room of their own) read each other's lines; the line from
the other room comes as entity 0, with the name and no speech bubble."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Pages, save_shot, wait_joined
from tests.serverproc import ServerProcess
from tests.worldfiles import LOBBY, club_world, world_dir

pytestmark = pytest.mark.timeout(150)

WATCH = "fps=10&lowpower&test"


@pytest.fixture
def event_server(tmp_path: Path) -> Iterator[ServerProcess]:
    club = club_world(datetime.now(UTC) - timedelta(minutes=10), capacity=1)  # "Late set" is on
    proc = ServerProcess.in_dir(tmp_path, world_dir(tmp_path, {"lobby": LOBBY, "club": club}))
    yield proc
    proc.stop()


def test_a_live_events_chat_reaches_the_other_rooms(event_server: ServerProcess, pages: Pages, artifacts: Path) -> None:
    ana = pages.open(f"{event_server.url}/w/club?name=Ana&{WATCH}")
    ben = pages.open(f"{event_server.url}/w/club?name=Ben&{WATCH}")
    assert wait_joined(ana, "club")["instance"] != wait_joined(ben, "club")["instance"]
    ana.click("#chat-input")
    ana.keyboard.type("see you at the front!")
    ana.keyboard.press("Enter")
    ben.wait_for_function(
        "document.querySelector('#chat-log').innerText.includes('Ana: see you at the front!')", timeout=5000
    )
    assert ben.evaluate("plazaTest.app.bubbles.bubbles.size") == 0  # nobody of Ana's room to hang it on
    save_shot(ben, artifacts, "event-chat-other-room")
    assert not pages.errors, pages.errors
