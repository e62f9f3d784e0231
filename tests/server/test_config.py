"""Settings: flags > PLAZA_* environment > config file > defaults, with each value's source.

``load_config`` (server/config.py) and the ``plaza config`` / ``plaza serve`` commands that use
it; and ``python -m server.worldconfig`` being the same command as ``plaza validate``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from server.cli import main
from server.config import CONFIG_ENV, ConfigError, ServerConfig, env_var, load_config, setting_names
from server.interest import InterestSettings
from server.voice.settings import VoiceSettings
from tests.serverproc import ANY_PORT, REPO, wait_healthy
from tests.worldconfig.helpers import BROKEN


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PLAZA_* setting from the machine running the tests, and no default config file."""
    for name in list(os.environ):
        if name.upper() == CONFIG_ENV or (name.upper().startswith("PLAZA_") and "GENMODELS" not in name.upper()):
            monkeypatch.delenv(name)
    monkeypatch.setenv(env_var("data_dir"), str(tmp_path / "data"))  # <data_dir>/plaza.toml: absent


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert main(["config", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def run_plaza(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip


# ----- precedence --------------------------------------------------------------------------


def test_defaults_are_the_dataclass_defaults() -> None:
    loaded = load_config()
    assert loaded.config == dataclasses.replace(ServerConfig(), data_dir=loaded.config.data_dir)
    assert loaded.file is None
    assert list(loaded.origins) == setting_names()
    assert {n for n, o in loaded.origins.items() if o.kind != "default"} == {"data_dir"}  # the fixture's


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "plaza.toml", 'host = "0.0.0.0"\nport = 9000\n')
    monkeypatch.setenv("PLAZA_PORT", "9100")
    loaded = load_config(config_file=cfg)
    assert (loaded.config.host, loaded.config.port) == ("0.0.0.0", 9100)
    assert loaded.origins["port"].kind == "env" and loaded.origins["port"].where == "PLAZA_PORT"
    assert loaded.origins["host"].kind == "file" and loaded.origins["host"].where == str(cfg)


def test_flag_overrides_env(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAZA_PORT", "9100")
    monkeypatch.setenv("PLAZA_HOST", "0.0.0.0")
    out = config_json(capsys, "--port", "9200")
    assert out["settings"]["port"] == {"value": 9200, "source": "flag", "from": "--port"}
    assert out["settings"]["host"] == {"value": "0.0.0.0", "source": "env", "from": "PLAZA_HOST"}


def test_unpassed_flags_do_not_clobber_env_or_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse defaults never reach load_config: only typed flags override."""
    cfg = write(
        tmp_path / "p.toml",
        'recommender = false\ngenerate_placeholders = false\nrecommender_encoder = "hashing"\n'
        'chat_words = ["darn"]\nslow_client_bytes = 1000\nhost = "0.0.0.0"\n',
    )
    s = config_json(capsys, "--config", str(cfg))["settings"]
    assert [s[k]["value"] for k in ("recommender", "generate_placeholders", "recommender_encoder")] == [
        False,
        False,
        "hashing",
    ]
    assert s["chat_words"]["value"] == ["darn"] and s["slow_client_bytes"]["value"] == 1000
    assert {s[k]["source"] for k in ("recommender", "chat_words", "host", "slow_client_bytes")} == {"file"}
    # The flags as they worked before: each one overrides.
    s = config_json(
        capsys, "--config", str(cfg), "--host", "127.0.0.2", "--chat-words", "a, b,,c", "--no-recommender",
        "--recommender-encoder", "minilm", "--slow-client-bytes", "5", "--slow-client-seconds", "2.5",
        "--socket-sndbuf", "4096", "--worlds", str(tmp_path),
    )["settings"]  # fmt: skip
    assert s["host"] == {"value": "127.0.0.2", "source": "flag", "from": "--host"}
    assert s["chat_words"]["value"] == ["a", "b", "c"] and s["chat_words"]["from"] == "--chat-words"
    assert s["recommender"] == {"value": False, "source": "flag", "from": "--no-recommender"}
    assert s["recommender_encoder"]["value"] == "minilm"
    assert (s["slow_client_bytes"]["value"], s["slow_client_close_s"]["value"], s["socket_sndbuf"]["value"]) == (
        5,
        2.5,
        4096,
    )
    assert s["worlds_dir"] == {"value": str(tmp_path.resolve()), "source": "flag", "from": "--worlds"}


def test_nested_interest_setting_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "plaza.toml", "[interest]\nnear_radius_m = 10\nfar_every = 3\n")
    monkeypatch.setenv("PLAZA_INTEREST__NEAR_RADIUS_M", "15.5")
    loaded = load_config(config_file=cfg)
    assert loaded.config.interest == InterestSettings(near_radius_m=15.5, far_every=3)
    assert isinstance(loaded.config.interest, InterestSettings)
    assert str(loaded.origins["interest.near_radius_m"]) == "env PLAZA_INTEREST__NEAR_RADIUS_M"
    assert loaded.origins["interest.far_every"].kind == "file" and loaded.origins["interest.far_every"].line == 3
    assert loaded.origins["interest.far_radius_m"].kind == "default"
    # The whole table as JSON works too.
    monkeypatch.setenv("PLAZA_INTEREST", '{"far_budget": 7}')
    loaded = load_config(config_file=cfg)
    assert loaded.config.interest.far_budget == 7 and loaded.config.interest.near_radius_m == 15.5
    assert loaded.origins["interest.far_budget"].where == "PLAZA_INTEREST"


@pytest.mark.parametrize(
    "value", ["darn, heck ,,golly", '["darn", "heck", "golly"]', " darn,heck,golly "], ids=["commas", "json", "spaces"]
)
def test_chat_words_tuple_from_env(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAZA_CHAT_WORDS", value)
    config = load_config().config
    assert config.chat_words == ("darn", "heck", "golly") and isinstance(config.chat_words, tuple)


def test_open_internet_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAZA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    monkeypatch.setenv("PLAZA_ALLOWED_ORIGINS", "https://plaza.example.org,http://localhost:8080")
    monkeypatch.setenv("PLAZA_MAX_CONNECTIONS_PER_IP", "4")
    monkeypatch.setenv("PLAZA_HEADER_TIMEOUT_S", "2.5")
    c = load_config().config
    assert c.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert c.allowed_origins == ("https://plaza.example.org", "http://localhost:8080")
    assert (c.max_connections_per_ip, c.header_timeout_s) == (4, 2.5)


def _other_value(name: str, default: object, tmp_path: Path) -> tuple[str, object]:
    """A valid non-default value for a setting, as env text and as the loaded value."""
    special = {
        "host": ("0.0.0.0", "0.0.0.0"),
        "recommender_encoder": ("hashing", "hashing"),
        "event_loop": ("asyncio", "asyncio"),
        "trusted_proxies": ("10.1.0.0/16", ("10.1.0.0/16",)),
        "allowed_origins": ("*", ("*",)),
        "chat_words": ("x,y", ("x", "y")),
        "database": ("postgresql://plaza@db/plaza", "postgresql://plaza@db/plaza"),
        "redis": ("redis://redis:6379/0", "redis://redis:6379/0"),
        "public_host": ("node-a.example.org", "node-a.example.org"),
        "voice.url": ("http://sfu:8088/janus", "http://sfu:8088/janus"),
        "voice.public_url": ("https://sfu.example.org/janus", "https://sfu.example.org/janus"),
        "voice.admin_key": ("k3y", "k3y"),
        "voice.janus": ("/opt/janus/bin/janus", Path("/opt/janus/bin/janus")),
        "voice.rtp_ports": ("30000-30099", "30000-30099"),
        "voice.ice_interfaces": ("eth0,lo", ("eth0", "lo")),
        "voice.public_ip": ("203.0.113.7", "203.0.113.7"),
    }
    if name in special:
        return special[name]
    if isinstance(default, bool):
        return str(not default).lower(), not default
    if isinstance(default, int):
        return str(default + 1), default + 1
    if isinstance(default, float):
        return str(default + 0.5), default + 0.5
    if isinstance(default, Path):
        return str(tmp_path / name), (tmp_path / name).resolve()
    raise AssertionError(f"no test value for {name} ({type(default).__name__}): add one")


def test_every_setting_is_settable_from_the_environment_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = load_config().settings()
    flat_defaults = {n: getattr(ServerConfig(), n) for n in setting_names() if "." not in n}
    flat_defaults |= {f"interest.{k}": v for k, v in dataclasses.asdict(InterestSettings()).items()}
    flat_defaults |= {f"voice.{k}": v for k, v in dataclasses.asdict(VoiceSettings()).items()}
    assert set(defaults) == set(flat_defaults) and len(defaults) > 20
    lines: list[str] = []
    nested: dict[str, list[str]] = {}
    for name in setting_names():
        text, want = _other_value(name, flat_defaults[name], tmp_path)
        monkeypatch.setenv(env_var(name), text)
        got = load_config().config
        for part in name.split("."):
            got = getattr(got, part)
        assert got == want, name
        monkeypatch.delenv(env_var(name))
        head, _, key = name.rpartition(".")
        plain = text if isinstance(want, Path) else list(want) if isinstance(want, tuple) else want
        (nested.setdefault(head, []) if head else lines).append(f"{key} = {json.dumps(plain)}")
    tables = [line for head, rows in nested.items() for line in (f"[{head}]", *rows)]
    cfg = write(tmp_path / "all.toml", "\n".join([*lines, *tables]) + "\n")
    loaded = load_config(config_file=cfg)
    assert all(loaded.origins[n].kind == "file" for n in setting_names())
    assert loaded.settings() != defaults


# ----- the file ----------------------------------------------------------------------------


def test_default_file_is_in_the_data_dir_and_plaza_config_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write(data / "plaza.toml", "port = 9001\n")
    loaded = load_config()
    assert loaded.file == data / "plaza.toml" and loaded.config.port == 9001
    other = write(tmp_path / "other.toml", "port = 9002\n")
    monkeypatch.setenv(CONFIG_ENV, str(other))
    assert load_config().config.port == 9002  # $PLAZA_CONFIG before <data_dir>/plaza.toml
    third = write(tmp_path / "third.toml", "port = 9003\n")
    assert load_config(config_file=third).config.port == 9003  # --config before both
    # --data moves the default file with it.
    monkeypatch.delenv(CONFIG_ENV)
    (tmp_path / "d2").mkdir()
    write(tmp_path / "d2" / "plaza.toml", "port = 9004\n")
    assert load_config({"data_dir": (str(tmp_path / "d2"), "--data")}).config.port == 9004


def test_relative_paths_in_the_file_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    cfg = write(tmp_path / "conf" / "plaza.toml", 'worlds_dir = "../myworlds"\nweb_dir = "~/plaza-web"\n')
    c = load_config(config_file=cfg).config
    assert c.worlds_dir == (tmp_path / "myworlds").resolve()
    assert c.web_dir == (Path.home() / "plaza-web").resolve()


def test_a_bad_value_in_the_file_exits_2_naming_the_file_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / "plaza.toml", 'host = "0.0.0.0"\nport = "eighty"\n\n[interest]\nfar_every = 0\n')
    with pytest.raises(ConfigError) as exc:
        load_config(config_file=cfg)
    assert exc.value.problems == [
        f"{cfg}:2:1: port: Input should be a valid integer, unable to parse string as an integer",
        f"{cfg}:5:1: interest.far_every: Input should be greater than or equal to 1",
    ]
    for cmd in ("serve", "config"):
        r = run_plaza(cmd, "--config", str(cfg), "--port", "1")  # even when a flag overrides it
        assert r.returncode == 2, r
        assert "Traceback" not in r.stderr and r.stdout == ""
        assert f"{cfg}:2:1: port:" in r.stderr and f"{cfg}:5:1: interest.far_every:" in r.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 80\n", 'prot: unknown setting (did you mean "port"?)'),
        (
            "[interest]\nnear_radius = 3\n",
            'interest.near_radius: unknown setting (did you mean "interest.near_radius_m"?)',
        ),
        ("port = 70000\n", "port: Input should be less than or equal to 65535"),
        ('recommender_encoder = "bert"\n', "recommender_encoder: Input should be 'minilm' or 'hashing'"),
        ('trusted_proxies = ["10.0.0.0/8", "proxy.local"]\n', "trusted_proxies: 'proxy.local' is not an IP address"),
        ('allowed_origins = ["plaza.example.org"]\n', "allowed_origins: 'plaza.example.org' is not an origin"),
        ("chat_words = [1]\n", "chat_words[0]: Input should be a valid string"),
        ("interest = 3\n", "interest: Input should be"),
        ("port = \n", "not valid TOML: Invalid value (at line 1, column 8)"),
    ],
)
def test_file_errors_are_located_and_precise(tmp_path: Path, text: str, message: str) -> None:
    cfg = write(tmp_path / "plaza.toml", text)
    with pytest.raises(ConfigError) as exc:
        load_config(config_file=cfg)
    (problem,) = exc.value.problems
    assert problem.startswith(str(cfg)) and message in problem, problem


def test_a_missing_config_file_is_an_error_when_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(config_file=tmp_path / "nope.toml")
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        load_config()


def test_bad_env_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAZA_PORT", "eighty")
    monkeypatch.setenv("PLAZA_INTEREST__FAR_EVERY", "often")
    monkeypatch.setenv("PLAZA_INTEREST__FAR_EVRY", "2")
    with pytest.raises(ConfigError) as exc:
        load_config()
    assert sorted(exc.value.problems) == [
        "PLAZA_INTEREST__FAR_EVERY='often': interest.far_every: Input should be a valid integer, unable to parse"
        " string as an integer",
        "PLAZA_INTEREST__FAR_EVRY='2': interest.far_evry: unknown setting (did you mean \"interest.far_every\"?)",
        "PLAZA_PORT='eighty': port: Input should be a valid integer, unable to parse string as an integer",
    ]
    monkeypatch.delenv("PLAZA_PORT")
    monkeypatch.delenv("PLAZA_INTEREST__FAR_EVERY")
    monkeypatch.delenv("PLAZA_INTEREST__FAR_EVRY")
    monkeypatch.setenv("PLAZA_INTEREST", "{oops")
    with pytest.raises(ConfigError, match=r"PLAZA_INTEREST='\{oops': not valid JSON"):
        load_config()


def test_a_bad_flag_value_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["config", "--port", "-1"])
    assert exc.value.code == 2
    assert "--port -1: port: Input should be greater than or equal to 0" in capsys.readouterr().err


def test_other_plaza_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAZA_GENMODELS_CACHE", "/tmp/x")
    monkeypatch.setenv("PLAZA_SKIP_CHROMIUM", "1")
    assert load_config().config.port == 8080


def test_the_loaded_config_is_frozen() -> None:
    config = load_config().config
    assert isinstance(config, ServerConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]


# ----- plaza config ------------------------------------------------------------------------


def test_plaza_config_json_lists_each_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "plaza.toml", 'host = "0.0.0.0"\nport = 9000\n[interest]\nfar_budget = 5\n')
    monkeypatch.setenv("PLAZA_PORT", "9100")
    monkeypatch.setenv("PLAZA_RETENTION_DAYS", "30")
    monkeypatch.setenv("PLAZA_INTEREST__NEAR_BUDGET", "9")
    out = config_json(capsys, "--config", str(cfg), "--no-generate")
    s = out["settings"]
    assert out["config_file"] == str(cfg)
    assert list(s) == setting_names()
    assert s["host"] == {"value": "0.0.0.0", "source": "file", "from": str(cfg), "line": 1}
    assert s["port"] == {"value": 9100, "source": "env", "from": "PLAZA_PORT"}  # env beats the file's 9000
    assert s["retention_days"] == {"value": 30.0, "source": "env", "from": "PLAZA_RETENTION_DAYS"}
    assert s["interest.far_budget"] == {"value": 5, "source": "file", "from": str(cfg), "line": 4}
    assert s["interest.near_budget"] == {"value": 9, "source": "env", "from": "PLAZA_INTEREST__NEAR_BUDGET"}
    assert s["generate_placeholders"] == {"value": False, "source": "flag", "from": "--no-generate"}
    assert s["data_dir"]["source"] == "env"  # the fixture's PLAZA_DATA_DIR
    assert s["watch"] == {"value": True, "source": "default", "from": None}
    assert s["interest.far_radius_m"] == {"value": 32.0, "source": "default", "from": None}
    assert s["chat_words"] == {"value": [], "source": "default", "from": None}


def test_plaza_config_text_is_toml_with_sources_and_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "plaza.toml", 'chat_words = ["darn"]\n[interest]\nfar_every = 2\n')
    monkeypatch.setenv("PLAZA_PORT", "9100")
    capsys.readouterr()
    assert main(["config", "--config", str(cfg), "--host", "0.0.0.0"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"# config file: {cfg}"
    assert any(line.startswith('host = "0.0.0.0"') and line.endswith("# flag --host") for line in lines)
    assert any(line.startswith("port = 9100") and line.endswith("# env PLAZA_PORT") for line in lines)
    assert any(line.startswith('chat_words = ["darn"]') and line.endswith(f"# {cfg}:1:1") for line in lines)
    assert any(line.startswith("watch = true") and line.endswith("# default") for line in lines)
    parsed = tomllib.loads(text)
    assert parsed["interest"]["far_every"] == 2 and parsed["port"] == 9100
    # The printed configuration, used as a config file, gives the same configuration.
    again = write(tmp_path / "again.toml", text)
    monkeypatch.delenv("PLAZA_PORT")
    monkeypatch.delenv("PLAZA_DATA_DIR")
    assert (
        load_config(config_file=again).config
        == load_config(
            {"host": ("0.0.0.0", "--host"), "port": (9100, "--port"), "data_dir": (str(tmp_path / "data"), "--data")},
            cfg,
        ).config
    )


# ----- plaza serve uses it -----------------------------------------------------------------


def test_serve_runs_with_the_config_file_and_env(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "plaza.toml",
        f'port = 1\ndata_dir = "data"\nrecommender = false\ngenerate_placeholders = false\n'
        f'worlds_dir = "{REPO / "worlds"}"\n',
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PLAZA_")}
    env |= {"PLAZA_PORT": str(ANY_PORT), CONFIG_ENV: str(cfg)}  # env port beats the file's
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    try:
        port, health = wait_healthy(proc, log)
        assert health["status"] == "ok"
        assert port != 1  # the port the OS chose (PLAZA_PORT=0), not the file's
    finally:
        proc.terminate()
        proc.wait(15)
    assert (tmp_path / "data" / "plaza.sqlite3").exists()  # data_dir relative to the file
    assert f"(data: {(tmp_path / 'data').resolve()})" in log.read_text()


def test_backup_finds_the_data_dir_through_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The fixture's PLAZA_DATA_DIR has no database: backup names that directory.
    assert main(["backup", str(tmp_path / "b.sqlite3")]) == 1
    assert str(tmp_path / "data") in capsys.readouterr().err


# ----- one validate ------------------------------------------------------------------------


@pytest.mark.parametrize("target", [str(BROKEN), str(BROKEN / "wrong-type.toml"), str(REPO / "worlds")])
def test_worldconfig_module_and_plaza_validate_are_the_same_command(target: str) -> None:
    plaza = run_plaza("validate", target)
    module = subprocess.run(
        [sys.executable, "-m", "server.worldconfig", "validate", target],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (module.returncode, module.stdout, module.stderr) == (plaza.returncode, plaza.stdout, plaza.stderr)
    assert plaza.returncode == (0 if target.endswith("worlds") else 1)
    if plaza.returncode:
        assert plaza.stdout.count("\n") >= 1 and "Traceback" not in plaza.stderr


def test_deploy_doc_lists_every_setting_with_its_variable_and_flag() -> None:
    from server.cli.options import SETTING_FLAGS

    doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    for name in setting_names():
        assert name in rows and f"`{env_var(name)}`" in rows[name], f"docs/deploy.md: no row for {name}"
    for f in SETTING_FLAGS:
        assert f"`{f.flag}`" in rows[f.setting], f"docs/deploy.md: {f.setting}'s row does not name {f.flag}"
