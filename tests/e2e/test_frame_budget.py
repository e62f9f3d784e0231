"""Frame budget: draw calls and triangles with 50 avatars in view (numbers for docs/client.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Pages, keep, save_shot
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.timeout(60)


def test_fifty_avatars_cost_a_constant_number_of_draw_calls(
    e2e_server: ServerProcess, pages: Pages, artifacts: Path
) -> None:
    page = pages.open(e2e_server.url + "/w/meeting-room?name=Perf&lowpower&test")
    page.wait_for_function("window.plaza && plaza.state().connected && plaza.state().frames > 5")
    # The world loads progressively: every slice of scenery built before the base count.
    page.wait_for_function("plaza.state().loading && plaza.state().loading.completeMs !== null", timeout=60_000)
    page.wait_for_timeout(300)  # settle: models (glTF) in before the base count

    def stats() -> dict[str, float]:
        f = page.evaluate("plaza.state().frames")
        page.wait_for_function(f"plaza.state().frames > {f + 2}")
        return page.evaluate("plaza.stats()")  # type: ignore[no-any-return]

    page.wait_for_function("plaza.state().avatar.ready", timeout=30_000)  # every look's GLB in
    base = stats()
    page.evaluate("plazaTest.fakeAvatars(50)")  # every look and accessory, in turn
    page.wait_for_function("plaza.state().avatars.length === 50")
    page.wait_for_function("plazaTest.app.avatars.list.every((a) => a.fade >= 1)")  # faded in
    full = stats()
    save_shot(page, artifacts, "6-fifty-avatars")
    numbers = {
        "world": "meeting-room",
        "world_only": {"calls": base["calls"], "triangles": base["triangles"]},
        "with_50_avatars": {"calls": full["calls"], "triangles": full["triangles"]},
        "avatars_calls": full["calls"] - base["calls"],
        "avatars_triangles": full["triangles"] - base["triangles"],
    }
    (artifacts / "frame_budget.json").write_text(json.dumps(numbers, indent=1))
    keep(artifacts / "frame_budget.json")
    print(numbers)
    # One instanced mesh per look's part (4 looks x head, torso, hands), per accessory (3) and
    # the name tags: 16 at most, whatever the number of avatars (avatars.js).
    assert numbers["avatars_calls"] <= 16
    assert numbers["avatars_triangles"] < 50 * 2500
