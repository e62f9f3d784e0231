"""Accounts: password cost, the token secret file, tokens bound to the account, sign out
everywhere, password change, deletion, and role names claimed only by the operator."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import server.hosting.identity as identity_mod
from server.hosting import Hosting, SQLiteHostingStore
from server.hosting.admin import create_account, startup_notes
from server.hosting.errors import (
    BadCredentials,
    InvalidPassword,
    InvalidToken,
    RegisterRateLimited,
    ReservedNameNeedsSetup,
    SignInRateLimited,
    UserNameTaken,
)
from server.hosting.identity import (
    DEFAULT_COST,
    Claims,
    Identity,
    Principal,
    ScryptCost,
    SignInLimiter,
    TokenSigner,
    hash_cost,
    hash_password,
    verify_password,
)
from server.hosting.ratelimit import WindowLimiter
from tests.hosting.conftest import CHEAP, NOW, WORLDS, restart

REPO = Path(__file__).resolve().parents[2]


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ----- 1. password hashing ------------------------------------------------------------------
def test_default_cost_is_owasp_scrypt_n_2_17() -> None:
    assert (DEFAULT_COST.n, DEFAULT_COST.r, DEFAULT_COST.p) == (2**17, 8, 1) and ScryptCost() == DEFAULT_COST
    assert DEFAULT_COST.memory >= 128 * 2**20  # ~128 MiB: maxmem must allow it
    assert Identity(SQLiteHostingStore(":memory:")).password_cost == DEFAULT_COST
    h = hash_password("correct horse")  # the real default, once (about 0.35 s)
    assert h.split("$")[:4] == ["scrypt", str(2**17), "8", "1"]
    assert hash_cost(h) == DEFAULT_COST and verify_password("correct horse", h)


def test_old_hashes_verify_and_are_rehashed_on_sign_in(db_path: Path) -> None:
    old, new = ScryptCost(2**4, 8, 1), CHEAP
    h1 = Hosting(SQLiteHostingStore(db_path), data_dir=db_path.parent, password_cost=old)
    h1.identity.register("ada", "password1", NOW)
    assert hash_cost(h1.store.get_account("ada").password_hash) == old  # type: ignore[union-attr]
    h1.close()
    h2 = Hosting(SQLiteHostingStore(db_path), data_dir=db_path.parent, password_cost=new)
    tok = h2.identity.sign_in("ada", "password1", "c", NOW)  # the old cost still verifies
    assert h2.identity.authenticate(tok, NOW).account == "ada"
    assert hash_cost(h2.store.get_account("ada").password_hash) == new  # type: ignore[union-attr]
    h2.identity.sign_in("ada", "password1", "c", NOW + 1)
    h2.close()


def test_verify_refuses_absurd_stored_parameters() -> None:
    h = hash_password("password1", CHEAP)
    assert not verify_password("password1", h.replace("$256$", f"${2**24}$", 1))  # 16 GiB: refused
    assert not verify_password("password1", h.replace("$256$", "$255$", 1))  # not a power of two


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(identity_mod, name)

    def wrapper(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(identity_mod, name, wrapper)
    return calls


def test_register_hashes_once_and_returns_a_token(hosting: Hosting, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes, verifies = counting(monkeypatch, "hash_password"), counting(monkeypatch, "verify_password")
    p, tok = hosting.register("Ada", "password1", NOW, client="10.0.0.1")
    assert (len(hashes), len(verifies)) == (1, 0)  # one scrypt, no sign-in round trip
    assert hosting.identity.authenticate(tok, NOW).account == "ada" == p.account


def test_register_is_rate_limited_before_the_account_exists(hosting: Hosting, monkeypatch: pytest.MonkeyPatch) -> None:
    hosting.identity.register_limiter = WindowLimiter([(2, 3600.0)], error=RegisterRateLimited)
    hosting.identity.register("ada", "password1", NOW, client="1.2.3.4")
    hosting.identity.register("bea", "password1", NOW + 1, client="1.2.3.4")
    hashes = counting(monkeypatch, "hash_password")
    with pytest.raises(RegisterRateLimited) as e:
        hosting.identity.register("cyd", "password1", NOW + 2, client="1.2.3.4")
    assert e.value.code == "register_rate_limited" and 3500 < e.value.retry_after_s <= 3600
    assert not hosting.store.account_exists("cyd") and hashes == []  # refused before anything
    hosting.identity.register("cyd", "password1", NOW + 2, client="5.6.7.8")  # other addresses are fine
    hosting.identity.register("dee", "password1", NOW + 3601, client="1.2.3.4")  # and later again


def test_register_refused_while_the_address_is_blocked_for_sign_ins(hosting: Hosting) -> None:
    hosting.identity.limiter = SignInLimiter(max_failures=2)
    for i in range(2):
        with pytest.raises(BadCredentials):
            hosting.identity.sign_in(f"nobody{i}", "password1", "9.9.9.9", NOW)
    with pytest.raises(SignInRateLimited):
        hosting.identity.register("eve", "password1", NOW + 1, client="9.9.9.9")
    assert not hosting.store.account_exists("eve")  # (it used to be created, then answered 429)


async def test_heavy_calls_run_in_a_worker_thread(hosting: Hosting) -> None:
    p = await asyncio.to_thread(hosting.identity.register, "ada", "password1", NOW)
    toks = await asyncio.gather(
        *(asyncio.to_thread(hosting.identity.sign_in, "ada", "password1", f"c{i}", NOW) for i in range(4))
    )
    assert {hosting.identity.authenticate(t, NOW).key for t in toks} == {p.key}
    assert await asyncio.to_thread(verify_password, "password1", hosting.store.get_account("ada").password_hash)  # type: ignore[union-attr]


# ----- 2. the token secret file --------------------------------------------------------------
def test_secret_in_its_own_private_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    h = Hosting(SQLiteHostingStore(data / "plaza.sqlite3"), data_dir=data, password_cost=CHEAP)
    key = data / "secret.key"
    assert mode(key) == 0o600 and mode(data) == 0o700
    assert len(bytes.fromhex(key.read_text())) == 32
    h.identity.register("ada", "password1", NOW)
    tok = h.identity.sign_in("ada", "password1", "c", NOW)
    h.roles.set_worlds(WORLDS)
    invite = h.roles.make_invite("vault", NOW + 3600, Principal.for_account("olivia"), NOW)
    h.close()
    db = sqlite3.connect(data / "plaza.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM hosting_secret").fetchone() == (0,)  # not in the database
    db.close()
    os.chmod(key, 0o644)  # loosened by hand: tightened again at start
    h2 = Hosting(SQLiteHostingStore(data / "plaza.sqlite3"), data_dir=data, password_cost=CHEAP)
    h2.roles.set_worlds(WORLDS)
    assert mode(key) == 0o600
    assert h2.identity.authenticate(tok, NOW + 60).account == "ada"  # signed before the restart
    assert h2.roles.check_invite(invite, "vault", NOW + 60)
    h2.close()


def test_a_secret_kept_in_the_database_moves_to_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    SQLiteHostingStore(data / "plaza.sqlite3").close()
    legacy = b"L" * 32
    db = sqlite3.connect(data / "plaza.sqlite3")
    db.execute("INSERT INTO hosting_secret VALUES ('token', ?)", (legacy,))
    db.commit()
    db.close()
    old_guest = TokenSigner(legacy).sign(Claims("guest", "Gus", "gid", int(NOW), int(NOW) + 60))
    h = Hosting(SQLiteHostingStore(data / "plaza.sqlite3"), data_dir=data, password_cost=CHEAP)
    assert bytes.fromhex((data / "secret.key").read_text()) == legacy
    assert h.identity.authenticate(old_guest, NOW).name == "Gus"
    assert h.store.take_legacy_secret() is None  # gone from the database
    h.close()


# ----- 3. tokens bound to the account --------------------------------------------------------
def test_a_deleted_accounts_token_does_not_work_for_the_next_owner_of_the_name(hosting: Hosting) -> None:
    hosting.identity.register("ada", "password1", NOW)
    old = hosting.identity.sign_in("ada", "password1", "c", NOW)
    assert hosting.identity.delete_account("ada")
    with pytest.raises(InvalidToken, match="no longer exists"):
        hosting.identity.authenticate(old, NOW + 1)
    with pytest.raises(BadCredentials):
        hosting.identity.sign_in("ada", "password1", "c", NOW + 1)
    hosting.identity.register("ada", "another-pw", NOW + 2)  # someone else takes the free name
    with pytest.raises(InvalidToken):
        hosting.identity.authenticate(old, NOW + 3)
    new = hosting.identity.sign_in("ada", "another-pw", "c", NOW + 3)
    assert hosting.identity.authenticate(new, NOW + 3).account == "ada"


def test_tokens_from_the_future_and_unbound_tokens_are_refused(hosting: Hosting) -> None:
    hosting.identity.register("ada", "password1", NOW)
    signer = hosting.identity.signer
    meta = hosting.store.account_meta("ada")
    assert meta is not None
    ahead = signer.sign(Claims("account", "ada", "", int(NOW) + 3600, int(NOW) + 7200, meta.account_id, meta.epoch))
    with pytest.raises(InvalidToken, match="in the future"):
        hosting.identity.authenticate(ahead, NOW)
    skew = signer.sign(Claims("account", "ada", "", int(NOW) + 60, int(NOW) + 7200, meta.account_id, meta.epoch))
    assert hosting.identity.authenticate(skew, NOW).account == "ada"  # small clock skew is fine
    unbound = signer.sign_payload(["a", "ada", "", int(NOW), int(NOW) + 60])  # the old format
    with pytest.raises(InvalidToken):
        hosting.identity.authenticate(unbound, NOW)


def test_sign_out_everywhere(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    p = hosting.identity.register("ada", "password1", NOW)
    phone, laptop = (hosting.identity.sign_in("ada", "password1", c, NOW) for c in ("a", "b"))
    assert hosting.identity.sign_out_everywhere(p) == 1
    for tok in (phone, laptop):
        with pytest.raises(InvalidToken, match="signed out"):
            hosting.identity.authenticate(tok, NOW + 1)
    fresh = hosting.identity.sign_in("ada", "password1", "a", NOW + 2)
    h2 = restart(hosting, open_hosting)  # the epoch is stored
    assert h2.identity.authenticate(fresh, NOW + 3).account == "ada"
    with pytest.raises(InvalidToken):
        h2.identity.authenticate(phone, NOW + 3)


def test_change_password_needs_the_old_one_and_signs_out_other_sessions(hosting: Hosting) -> None:
    p = hosting.identity.register("ada", "password1", NOW)
    other = hosting.identity.sign_in("ada", "password1", "c", NOW)
    with pytest.raises(BadCredentials):
        hosting.identity.change_password(p, "wrong-old", "password2", "c", NOW)
    with pytest.raises(InvalidPassword):
        hosting.identity.change_password(p, "password1", "short", "c", NOW)
    tok = hosting.identity.change_password(p, "password1", "password2", "c", NOW + 1)
    assert hosting.identity.authenticate(tok, NOW + 1).account == "ada"
    with pytest.raises(InvalidToken):
        hosting.identity.authenticate(other, NOW + 1)
    with pytest.raises(BadCredentials):
        hosting.identity.sign_in("ada", "password1", "c", NOW + 2)
    hosting.identity.sign_in("ada", "password2", "c", NOW + 2)
    hosting.identity.confirm_password(p, "password2", "c", NOW + 3)
    with pytest.raises(BadCredentials):
        hosting.identity.confirm_password(Principal.for_guest("g"), "password2", "c", NOW + 3)


# ----- 5. role names are the operator's to create -------------------------------------------
def test_unclaimed_role_names_and_the_setup_token(hosting: Hosting, tmp_path: Path) -> None:
    assert hosting.unclaimed_role_names() == ["max", "mia", "olivia"]
    with pytest.raises(ReservedNameNeedsSetup, match="plaza admin create-account Olivia") as e:
        hosting.identity.register("Olivia", "password1", NOW, reserved=hosting.reserved())
    assert e.value.code == "name_needs_setup" and not hosting.store.account_exists("olivia")
    notes = startup_notes(hosting)
    token = notes[-1].split("token for registering one of those names: ")[1].split(" ")[0]
    assert "max, mia, olivia" in notes[0]
    path = hosting.identity.setup_token_path
    assert path is not None and mode(path) == 0o600 and path.read_text().strip() == token
    assert hosting.identity.ensure_setup_token(hosting.unclaimed_role_names()) is None  # printed once only
    with pytest.raises(ReservedNameNeedsSetup):
        hosting.identity.register("olivia", "password1", NOW, reserved=hosting.reserved(), setup_token="guess")
    hosting.identity.register("olivia", "password1", NOW, reserved=hosting.reserved(), setup_token=token)
    assert not path.exists()  # one-time
    with pytest.raises(ReservedNameNeedsSetup):
        hosting.identity.register("max", "password1", NOW, reserved=hosting.reserved(), setup_token=token)
    hosting.claim_reserved("max", "password1", NOW)  # the operator's way
    assert hosting.unclaimed_role_names() == ["mia"]
    hosting.identity.register("zed", "password1", NOW, reserved=hosting.reserved())  # other names: as before


def test_event_hosts_are_role_names_too(hosting: Hosting) -> None:
    from dataclasses import replace

    from tests.hosting.shows import show

    hosting.events.set_world_events("plaza", [replace(show(), host="Deejay")])
    assert "deejay" in hosting.unclaimed_role_names()
    with pytest.raises(ReservedNameNeedsSetup):
        hosting.identity.register("DEEJAY", "password1", NOW, reserved=hosting.reserved())


def test_plaza_admin_create_account(tmp_path: Path) -> None:
    data = tmp_path / "data"
    h = Hosting(SQLiteHostingStore(data / "plaza.sqlite3"), data_dir=data, password_cost=CHEAP)
    from server.worldconfig import load_worlds

    cfgs, _ = load_worlds(REPO / "worlds")
    h.load_worlds(cfgs.values(), NOW)
    owner = cfgs["concert-hall"].roles.owner
    assert owner and owner.lower() in h.unclaimed_role_names()
    h.close()
    p = create_account(data, REPO / "worlds", owner, "password1", NOW)  # what the CLI calls
    assert p.account == owner.lower()
    with pytest.raises(UserNameTaken):
        create_account(data, REPO / "worlds", owner, "password1", NOW)
    h2 = Hosting(SQLiteHostingStore(data / "plaza.sqlite3"), data_dir=data, password_cost=CHEAP)
    h2.load_worlds(cfgs.values(), NOW)
    assert owner.lower() not in h2.unclaimed_role_names()
    assert h2.identity.sign_in(owner, "password1", "c", NOW)
    h2.close()
