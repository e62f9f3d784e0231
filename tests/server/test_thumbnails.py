"""Lobby thumbnails: ``thumbnail`` in ``GET /api/worlds`` (docs/protocol.md, docs/worlds.md).

The bundled worlds carry the client-rendered ``/assets/thumbnails/<id>.webp`` (made by
``python -m tests.e2e.thumbnails``) and those URLs answer with an image; a world file may name
its own picture; a world with neither gives ``null`` (the lobby draws a placeholder).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from PIL import Image

from server.config import ServerConfig
from server.web.app import create_app
from server.worldconfig import WorldFileError, load_world
from tests.serverproc import REPO

Serve = Callable[[Path], Awaitable[TestServer]]

WORLD = """id = "{id}"
name = "Tiny"
spawns = [{{ name = "default", position = [0, 0, 0] }}]
{extra}
"""


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(worlds: Path) -> TestServer:
        data = tmp_path / f"data{len(servers)}"
        data.mkdir()
        config = ServerConfig(
            data_dir=data, worlds_dir=worlds, recommender=False, watch=False, generate_placeholders=False
        )
        srv = TestServer(create_app(config))
        await srv.start_server()
        servers.append(srv)
        return srv

    yield start
    for s in servers:
        await s.close()


async def listed(http: aiohttp.ClientSession, srv: TestServer) -> dict[str, str | None]:
    async with http.get(srv.make_url("/api/worlds")) as r:
        assert r.status == 200
        return {w["id"]: w["thumbnail"] for w in await r.json()}


async def test_bundled_worlds_list_thumbnails_that_resolve(serve: Serve) -> None:
    srv = await serve(REPO / "worlds")
    async with aiohttp.ClientSession() as http:
        thumbs = await listed(http, srv)
        assert thumbs, "no public worlds"
        for wid, url in thumbs.items():
            assert url == f"/assets/thumbnails/{wid}.webp", wid
            async with http.get(srv.make_url(url)) as r:
                assert r.status == 200, url
                assert r.content_type == "image/webp", url
                body = await r.read()
            assert len(body) < 40_000, f"{url}: {len(body)} bytes"
            assert Image.open(io.BytesIO(body)).size == (320, 180), url


async def test_authored_thumbnail_and_none(tmp_path: Path, serve: Serve) -> None:
    worlds = tmp_path / "worlds"
    (worlds / "assets").mkdir(parents=True)
    Image.new("RGB", (32, 18), "#3a6ea5").save(worlds / "assets" / "pic.png")
    (worlds / "plain.toml").write_text(WORLD.format(id="plain", extra=""))
    (worlds / "pictured.toml").write_text(WORLD.format(id="pictured", extra='thumbnail = "assets/pic.png"'))
    srv = await serve(worlds)
    async with aiohttp.ClientSession() as http:
        thumbs = await listed(http, srv)
        assert thumbs == {"plain": None, "pictured": "/assets/pic.png"}
        async with http.get(srv.make_url("/assets/pic.png")) as r:
            assert r.status == 200 and r.content_type == "image/png"
        async with http.get(srv.make_url("/api/worlds/plain")) as r:
            assert (await r.json())["thumbnail"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../pic.png", "under the worlds' assets folder"),
        ("pic.png", "under the worlds' assets folder"),
        ("assets/pic.gif", "expected a .webp, .jpg or .png file"),
        ("assets/missing.webp", "image file not found"),
    ],
)
def test_bad_thumbnail_paths_are_refused(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "pic.gif").write_bytes(b"GIF89a")
    path = tmp_path / "w.toml"
    path.write_text(WORLD.format(id="w", extra=f'thumbnail = "{value}"'))
    with pytest.raises(WorldFileError) as exc:
        load_world(path)
    assert any(i.path == "thumbnail" and message in i.message for i in exc.value.issues), exc.value.issues
