"""Spec: /api/openapi.json is a valid OpenAPI 3.1 document generated from the route
declarations, and it documents exactly the routes the server answers."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from openapi_spec_validator import validate

from tests.serverproc import ServerProcess

# Served but not part of the JSON API: the WebSocket, Prometheus metrics, static files and the
# client's pages.
# Not Plaza's JSON API: the socket, metrics, files, and /janus (a relay of Janus' own API, docs/protocol.md).
NOT_API = re.compile(r"^/(ws|metrics|janus\{tail\}|\{path\}|sdk/\{path\}|assets/\{path\}|w/\{world\})?$")


def _routes_of_the_app(tmp_path: Path) -> set[tuple[str, str]]:
    from server.config import ServerConfig
    from server.web import create_app

    app = create_app(ServerConfig(data_dir=tmp_path / "inproc", recommender=False, watch=False))
    out = set()
    for r in app.router.routes():
        info = r.resource.get_info() if r.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)
        if r.method in ("HEAD", "*") or NOT_API.match(path) or "directory" in info:
            continue
        out.add((r.method.lower(), path))
    return out


async def test_the_openapi_document_is_valid_and_lists_every_route(
    server: ServerProcess, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url + "/api/openapi.json") as r:
        assert r.status == 200
        doc = await r.json()
    validate(doc)  # raises on an invalid OpenAPI 3.1 document
    assert doc["openapi"] == "3.1.0"
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == _routes_of_the_app(tmp_path)
    signup = doc["paths"]["/api/accounts"]["post"]
    assert signup["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewAccount"
    }
    assert set(doc["components"]["schemas"]["NewAccount"]["required"]) == {"user", "password"}
    assert "409" in signup["responses"] and "415" in signup["responses"]


async def test_http_errors_are_uniform_json(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    cases = [
        ("POST", "/api/accounts", {"data": "{", "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
        ("POST", "/api/accounts", {"data": "[" * 5000 + "]" * 5000, "headers": {"Content-Type": "application/json"}},
         400, "bad_json"),
        ("POST", "/api/accounts", {"data": '{"user": "a", "password": "b"}', "headers": {"Content-Type": "text/plain"}},
         415, "unsupported_media_type"),
        ("POST", "/api/accounts", {"json": {"user": "ada"}}, 400, "bad_field"),
        ("POST", "/api/accounts", {"json": {"user": "ada", "password": "correct horse", "admin": True}}, 400,
         "bad_field"),
        ("GET", "/api/recommendations?limit=zero", {}, 400, "bad_field"),
        ("GET", "/api/nothing-here", {}, 404, "not_found"),
        ("GET", "/api/" + "x" * 300, {}, 404, "not_found"),
        ("PUT", "/api/worlds", {}, 405, "method_not_allowed"),
        ("GET", "/api/signin", {}, 405, "method_not_allowed"),
        ("DELETE", "/api/events/no-such-event/rsvp", {}, 401, "unknown_user"),
    ]  # fmt: skip
    for method, path, kw, status, code in cases:
        async with http.request(method, server.url + path, **kw) as r:
            body = await r.json()
            assert (r.status, body["error"]) == (status, code), (method, path, body)
            assert isinstance(body["message"], str) and body["message"]


async def test_bad_file_paths_are_plain_404s(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    for path in ("/assets/" + "x" * 300, "/assets/%00.glb", "/" + "y" * 300, "/w/lobby/", "/nonexistent"):
        async with http.get(server.url + path) as r:
            assert r.status == 404, path
            assert r.content_type == "text/html"  # a page a browser shows, not an empty download
            page = await r.text()
            assert "404 Not Found" in page and 'href="/"' in page, path


async def test_malformed_world_address_is_a_page_that_says_so(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    for path in ("/w/%E0%A4%A", "/w/Lobby", "/w/no%20such"):
        async with http.get(server.url + path) as r:
            assert (r.status, r.content_type) == (404, "text/html"), path
            assert "lobby" in (await r.text()).lower(), path
    async with http.get(server.url + "/w/no-such-world") as r:  # well-formed: the client says it
        assert (r.status, r.content_type) == (200, "text/html")
