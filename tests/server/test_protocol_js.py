"""The JS protocol module is generated from server/protocol.py, and everyone imports that file.

``sdk/js/src/protocol.js`` is what ``python -m server.protocol_js`` writes; the SDK's client
and the web client (through the ``@plaza/sdk/`` import map entry) import it, and nothing else
defines protocol numbers in JS.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from enum import IntEnum, IntFlag
from pathlib import Path

import pytest

from server import protocol, protocol_js, world

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "sdk" / "js" / "src" / "protocol.js"
WEB_JS = REPO / "web_client" / "js"
SDK_SRC = REPO / "sdk" / "js" / "src"


def test_checked_in_module_is_what_the_generator_writes() -> None:
    assert protocol_js.OUT == GENERATED
    assert GENERATED.read_text(encoding="utf-8") == protocol_js.render(), (
        "sdk/js/src/protocol.js is stale: run `python -m server.protocol_js`"
    )


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "protocol.js"
    assert protocol_js.main(["--check", "--out", str(out)]) == 1  # missing
    assert protocol_js.main(["--out", str(out)]) == 0
    assert protocol_js.main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text().replace("CHAT: 6,", "CHAT: 60,"))
    assert protocol_js.main(["--check", "--out", str(out)]) == 1


def _python_values() -> dict[str, object]:
    """Every public constant and enum of server.protocol, as the JS module should have it."""
    want: dict[str, object] = {}
    for name, value in vars(protocol).items():
        if name.startswith("_"):
            continue
        if isinstance(value, type) and issubclass(value, IntEnum | IntFlag) and value.__module__ == protocol.__name__:
            want[protocol_js.JS_NAMES.get(name, name)] = {m.name: int(m) for m in value}
        elif name.isupper() and isinstance(value, int | float | tuple) and not isinstance(value, bool):
            want[name] = list(value) if isinstance(value, tuple) else value
    want["ErrorName"] = {str(int(c)): c.name for c in protocol.ErrorCode}
    want["AVATAR_GROUPS"] = [list(g) for g in world.AVATAR_GROUPS]
    want["OBJECT_GROUPS"] = [list(g) for g in world.OBJECT_GROUPS]
    want["N_VALUES"] = world.N_Q
    return want


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_module_evaluates_to_the_python_values() -> None:
    script = f"import * as p from {json.dumps(GENERATED.as_uri())}; console.log(JSON.stringify(p));"
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    got = json.loads(out.stdout)
    want = _python_values()
    assert {k: got.get(k) for k in want} == want
    assert got["MsgType"] == got["Msg"]


def _protocol_imports(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    names: set[str] = set()
    for m in re.finditer(r"import\s*\{([^}]*)\}\s*from\s*'(?:\./protocol\.js|@plaza/sdk/protocol\.js)'", text):
        names |= {n.strip().split(" as ")[0] for n in m.group(1).split(",") if n.strip()}
    return names


def test_clients_import_only_generated_names() -> None:
    exported = set(re.findall(r"^export const (\w+)", GENERATED.read_text(encoding="utf-8"), re.M))
    files = [*WEB_JS.glob("*.js"), *SDK_SRC.glob("*.js")]
    used = {f.name: _protocol_imports(f) for f in files}
    assert used["client.js"] and used["app.js"], "the scan found the protocol imports"
    for name, names in used.items():
        assert names <= exported, f"{name} imports {sorted(names - exported)} that protocol.js does not export"


def test_web_client_has_no_copy_of_the_protocol() -> None:
    shim = (WEB_JS / "protocol.js").read_text(encoding="utf-8")
    code = [ln for ln in shim.splitlines() if ln.strip() and not ln.lstrip().startswith("//")]
    assert code == ["export * from '@plaza/sdk/protocol.js';"]
    index = (REPO / "web_client" / "index.html").read_text(encoding="utf-8")
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', index, re.S).group(1))["imports"]  # type: ignore[union-attr]
    assert imports["@plaza/sdk/"] == "/sdk/"
    assert imports["@plaza/sdk"] == "/sdk/index.js"
    # The browser resolves the SDK's @msgpack/msgpack to the web client's copy: same version.
    sdk = json.loads((REPO / "sdk" / "js" / "package.json").read_text())
    web = json.loads((REPO / "web_client" / "package.json").read_text())
    assert sdk["dependencies"]["@msgpack/msgpack"] == web["dependencies"]["@msgpack/msgpack"]
    assert sdk["exports"]["./protocol.js"] == "./src/protocol.js"
