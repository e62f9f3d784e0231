"""The media server lives and dies with Plaza: a server killed outright (kill -9, the OOM
killer) takes its Janus with it, so a restart does not leave one more Janus running each time."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from tests.serverproc import ServerProcess
from tests.voice.conftest import need_media
from tests.worldfiles import LOBBY, world_dir


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_killed_server_takes_its_janus_with_it(tmp_path: Path) -> None:
    need_media()
    s = ServerProcess.in_dir(tmp_path, world_dir(tmp_path, {"lobby": LOBBY}), extra_args=("--no-recommender",))
    try:
        assert s.proc is not None
        log = s.data_dir / "server.log"
        deadline = time.monotonic() + 30
        while not (m := re.search(r"voice: janus \S+ \(pid (\d+)", log.read_text())):
            assert time.monotonic() < deadline, "Janus never started"
            time.sleep(0.1)
        janus = int(m[1])
        # Once Plaza holds a session on it (rooms made), Janus' own SIGTERM shutdown waits on
        # it: that is when a Janus used to outlive a killed server.
        janus_log = s.data_dir / "janus" / "janus.log"
        while "Creating new session" not in (janus_log.read_text(errors="replace") if janus_log.exists() else ""):
            assert time.monotonic() < deadline, "Plaza never opened a session on Janus"
            time.sleep(0.1)
        time.sleep(5)  # long enough for Plaza's long poll of that session to be waiting in Janus
        assert _alive(janus)
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.wait(10)
        deadline = time.monotonic() + 5
        while _alive(janus):
            assert time.monotonic() < deadline, f"Janus {janus} outlived the killed server"
            time.sleep(0.1)
    finally:
        s.stop()
