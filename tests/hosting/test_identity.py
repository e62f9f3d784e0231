from __future__ import annotations

from collections.abc import Callable

import pytest

from server.hosting import Hosting
from server.hosting.errors import (
    BadCredentials,
    InvalidDisplayName,
    InvalidPassword,
    InvalidToken,
    InvalidUserName,
    NameReserved,
    SignInRateLimited,
    TokenExpired,
    UserNameTaken,
)
from server.hosting.identity import (
    Claims,
    Principal,
    SignInLimiter,
    TokenSigner,
    hash_password,
    normalize_user_name,
    verify_password,
)
from tests.hosting.conftest import CHEAP, NOW, restart

SECRET = b"s" * 32


# ----- passwords ----------------------------------------------------------------------------
def test_password_hash_roundtrip_and_format() -> None:
    h = hash_password("correct horse", CHEAP)
    algo, n, r, p, salt, digest = h.split("$")
    assert (algo, n, r, p) == ("scrypt", "256", "8", "1")
    assert len(salt) == 22 and len(digest) == 43  # 16-byte salt, 32-byte hash, base64url
    assert verify_password("correct horse", h)
    assert not verify_password("correct horsf", h)
    assert not verify_password("", h)
    assert hash_password("correct horse", CHEAP) != h  # fresh salt every time


def test_verify_rejects_garbage_hashes() -> None:
    h = hash_password("correct horse", CHEAP)
    assert not verify_password("correct horse", h.replace("scrypt", "md5"))
    assert not verify_password("correct horse", "nonsense")
    assert not verify_password("correct horse", h[:-4] + "AAAA")


@pytest.mark.parametrize("pw", ["short", "x" * 1025])
def test_password_length_rules(pw: str) -> None:
    with pytest.raises(InvalidPassword, match="passwords are 8–1024 characters"):
        hash_password(pw, CHEAP)


# ----- user names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ab", "a" * 25, "has space", "ümlaut", "dot.name", ""])
def test_bad_user_names(name: str) -> None:
    with pytest.raises(InvalidUserName, match="3–24 characters"):
        normalize_user_name(name)


def test_user_names_are_case_insensitive(hosting: Hosting) -> None:
    assert normalize_user_name("Ada_Lovelace-1") == "ada_lovelace-1"
    p = hosting.identity.register("Ada", "password1", NOW)
    assert (p.account, p.name, p.key) == ("ada", "Ada", "a:ada")
    with pytest.raises(UserNameTaken, match="'ADA' is taken"):
        hosting.identity.register("ADA", "password2", NOW)


# ----- tokens -------------------------------------------------------------------------------
def test_token_sign_verify_expiry() -> None:
    s = TokenSigner(SECRET)
    c = Claims("guest", "Gus", "gid", int(NOW), int(NOW) + 60)
    tok = s.sign(c)
    assert "Gus" not in tok and tok.startswith("p1.")
    assert s.verify(tok, NOW + 59) == c
    with pytest.raises(TokenExpired, match="guest token expired"):
        s.verify(tok, NOW + 60)
    assert isinstance(TokenExpired("x"), InvalidToken)  # callers may catch one type


def test_token_tamper_and_foreign_secret() -> None:
    s = TokenSigner(SECRET)
    tok = s.sign(Claims("account", "ada", "", int(NOW), int(NOW) + 60))
    prefix, payload, mac = tok.split(".")
    forged = s.sign(Claims("account", "olivia", "", int(NOW), int(NOW) + 60)).split(".")[1]
    for bad in (f"{prefix}.{forged}.{mac}", f"{prefix}.{payload}.{mac[:-2]}AA", f"p2.{payload}.{mac}", "x", ""):
        with pytest.raises(InvalidToken):
            s.verify(bad, NOW)
    with pytest.raises(InvalidToken, match="signature does not match"):
        TokenSigner(b"t" * 32).verify(tok, NOW)
    # An invite token (another purpose, same secret) never passes as a session token.
    with pytest.raises(InvalidToken):
        s.verify(TokenSigner(SECRET, purpose="invite").sign(Claims("account", "ada", "", 0, 2**40)), NOW)


def test_sign_in_and_authenticate(hosting: Hosting) -> None:
    hosting.identity.register("Ada", "password1", NOW)
    tok = hosting.identity.sign_in("ADA", "password1", "10.0.0.1", NOW)
    p = hosting.identity.authenticate(tok, NOW + 10)
    assert p == Principal("account", "Ada", account="ada")
    with pytest.raises(TokenExpired, match="sign in again"):
        hosting.identity.authenticate(tok, NOW + 31 * 86400)


def test_wrong_password_and_unknown_user_look_the_same(hosting: Hosting) -> None:
    hosting.identity.register("ada", "password1", NOW)
    with pytest.raises(BadCredentials) as a:
        hosting.identity.sign_in("ada", "password2", "c", NOW)
    with pytest.raises(BadCredentials) as b:
        hosting.identity.sign_in("nobody", "password1", "c", NOW)
    assert a.value.message == b.value.message == "wrong user name or password"


def test_tokens_survive_a_restart(hosting: Hosting, open_hosting: Callable[[], Hosting]) -> None:
    hosting.identity.register("ada", "password1", NOW)
    tok = hosting.identity.sign_in("ada", "password1", "c", NOW)
    guest = hosting.identity.guest("Gus", NOW)
    h2 = restart(hosting, open_hosting)
    assert h2.identity.authenticate(tok, NOW).account == "ada"
    assert h2.identity.authenticate(guest, NOW).name == "Gus"


# ----- sign-in rate limit -------------------------------------------------------------------
def test_sign_in_rate_limited_per_user(hosting: Hosting) -> None:
    hosting.identity.register("ada", "password1", NOW)
    for i in range(5):
        with pytest.raises(BadCredentials):
            hosting.identity.sign_in("ada", "wrong-pass", f"10.0.0.{i}", NOW + i)  # many addresses
    # Even the right password is refused during the cooldown, from a fresh address.
    with pytest.raises(SignInRateLimited, match=r"this user; try again in 56 s") as e:
        hosting.identity.sign_in("ada", "password1", "10.9.9.9", NOW + 8)
    assert e.value.code == "sign_in_rate_limited" and e.value.scope == "user"
    assert hosting.identity.sign_in("ada", "password1", "10.9.9.9", NOW + 4 + 60)


def test_sign_in_rate_limited_per_client() -> None:
    lim = SignInLimiter(max_failures=5, window_s=60, cooldown_s=30)
    for i in range(5):
        lim.check(f"user{i}", "1.2.3.4", NOW + i)
        lim.failure(f"user{i}", "1.2.3.4", NOW + i)
    with pytest.raises(SignInRateLimited) as e:
        lim.check("someone-else", "1.2.3.4", NOW + 5)
    assert e.value.scope == "client"
    lim.check("someone-else", "5.6.7.8", NOW + 5)  # other addresses are unaffected
    lim.check("someone-else", "1.2.3.4", NOW + 4 + 30)


def test_failures_outside_the_window_do_not_add_up() -> None:
    lim = SignInLimiter(max_failures=5, window_s=60, cooldown_s=60)
    for i in range(10):
        lim.failure("ada", f"c{i}", NOW + i * 20)  # never 5 within a minute
        lim.check("ada", f"c{i}", NOW + i * 20)
    lim.success("ada")


# ----- guests and impersonation -------------------------------------------------------------
def test_guest_token(hosting: Hosting) -> None:
    tok = hosting.identity.guest("  Gus ", NOW)
    p = hosting.identity.authenticate(tok, NOW)
    assert p.kind == "guest" and p.name == "Gus" and p.guest_id and p.key == f"g:{p.guest_id}"
    # Renaming keeps the guest id (bans and RSVPs follow the id).
    tok2 = hosting.identity.guest("Gustav", NOW, guest_id=p.guest_id)
    assert hosting.identity.authenticate(tok2, NOW).key == p.key
    with pytest.raises(InvalidDisplayName):
        hosting.identity.guest("   ", NOW)
    with pytest.raises(InvalidDisplayName):
        hosting.identity.guest("x" * 33, NOW)


def test_guest_cannot_take_an_account_name(hosting: Hosting) -> None:
    hosting.identity.register("Ada", "password1", NOW)
    for name in ("ada", "ADA", " Ada "):
        with pytest.raises(NameReserved, match="belongs to a registered user; sign in as") as e:
            hosting.identity.guest(name, NOW)
        assert e.value.code == "name_reserved"


def test_guest_cannot_take_a_world_role_name(hosting: Hosting) -> None:
    reserved = hosting.reserved()
    assert {"olivia", "max", "mia"} <= reserved  # nobody registered these yet
    with pytest.raises(NameReserved):
        hosting.identity.guest("Olivia", NOW, reserved)
    with pytest.raises(NameReserved):
        hosting.identity.guest("MIA", NOW, reserved)
    assert hosting.identity.guest("Olivia's fan", NOW, reserved)


def test_guest_token_loses_a_name_registered_later(hosting: Hosting) -> None:
    tok = hosting.identity.guest("Zed", NOW)
    hosting.identity.register("zed", "password1", NOW + 1)
    with pytest.raises(NameReserved):
        hosting.identity.authenticate(tok, NOW + 2)


def test_accounts_use_their_own_name_but_not_others(hosting: Hosting) -> None:
    ada = hosting.identity.register("Ada", "password1", NOW)
    hosting.identity.register("bea", "password1", NOW)
    assert hosting.identity.check_display_name("ADA", ada) == "ADA"
    assert hosting.identity.check_display_name("Countess", ada) == "Countess"
    with pytest.raises(NameReserved):
        hosting.identity.check_display_name("Bea", ada)
    olivia = hosting.identity.register("olivia", "password1", NOW)
    assert hosting.identity.check_display_name("Olivia", olivia, hosting.reserved()) == "Olivia"
    with pytest.raises(NameReserved):
        hosting.identity.check_display_name("Olivia", ada, hosting.reserved())


def test_principal_keys() -> None:
    assert Principal.from_key("a:ada") == Principal.for_account("ada")
    assert Principal.from_key("g:xyz").guest_id == "xyz"
    with pytest.raises(ValueError):
        Principal.from_key("ada")
