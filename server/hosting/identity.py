"""Identity: accounts, guests, signed expiring tokens, rate-limited sign-in, no impersonation.

Pure apart from the store, ``secrets`` (salts, ids) and two small private files under the data
directory (the token secret and the one-time setup token, see keyfile.py): the caller passes
``now`` (Unix seconds). Tokens travel in the HELLO message (and HTTP ``Authorization: Bearer``),
never in a URL, so they do not end up in access logs.

Token format: ``p1.<payload>.<mac>`` where payload is base64url (no padding) of compact JSON —
guests ``["g", name, guest_id, issued, expires]``, accounts
``["a", user, "", issued, expires, account_id, epoch]`` (whole Unix seconds) — and mac is
base64url HMAC-SHA256 over ``p1.<payload>`` with a key derived from the server secret and the
token's purpose. Account tokens are bound to the account's random ``account_id`` (so the token
of a deleted account never works for whoever registers the freed name) and to its token
``epoch`` (bumped by "sign out everywhere" and by a password change). A token issued more than
``CLOCK_SKEW_S`` in the future is refused. The secret is ``<data_dir>/secret.key`` (0600).

Passwords: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` (hashlib.scrypt; default n=2**17, r=8,
p=1 — 128 MiB, OWASP's current minimum — 16-byte salt, 32-byte hash). The cost is stored with
each hash, so old hashes still verify; a successful sign-in rehashes one made at another cost.
Verification compares in constant time. At most ``HASH_SLOTS`` hashes run at once (each needs
128 MiB), whatever the number of threads.

CPU-heavy calls (one scrypt each, ~0.35 s on one core; call them in a worker thread from
asyncio, e.g. ``await asyncio.to_thread(...)``; they are thread-safe): ``hash_password``,
``verify_password``, ``Identity.register``, ``Identity.sign_in`` (two when it rehashes),
``Identity.change_password`` (two), ``Identity.confirm_password``, ``Identity.claim_reserved``.
Everything else is cheap.

API::

    Principal(kind, name, account=None, guest_id=None)   .key -> "a:<user>" | "g:<guest id>"
    Principal.from_key(key)                               # InvalidUserKey (a ValueError too)
    Claims(kind, name, guest_id, issued, expires, account_id="", epoch=0)
    normalize_user_name(name) -> str                      # validated, lower-cased; InvalidUserName
    validate_display_name(name) -> str                    # cleaned (text.clean_name); InvalidDisplayName
    ScryptCost(n=2**17, r=8, p=1)  DEFAULT_COST
    hash_password(password, cost=DEFAULT_COST) -> str;  verify_password(password, stored) -> bool
    hash_cost(stored) -> ScryptCost | None;  needs_rehash(stored, cost) -> bool
    TokenSigner(secret).sign(claims) -> str;  .verify(token, now) -> Claims   # InvalidToken / TokenExpired
    SignInLimiter(max_failures=5, window_s=60, cooldown_s=60)
        .check(user, client, now) / .failure(user, client, now) / .success(user)
    Identity(store, secret=None, *, secret_path=None, setup_token_path=None, password_cost=DEFAULT_COST,
             account_ttl_s=30 days, guest_ttl_s=90 days, limiter=None, register_limiter=None)
        .register(user_name, password, now, client="", reserved=(), setup_token=None) -> Principal
        .issue_token(principal, now) -> str                # a session token, no hashing
        .sign_in(user_name, password, client, now) -> str (token)
        .confirm_password(principal, password, client, now) -> None        # re-authentication
        .change_password(principal, old, new, client, now) -> str (new token; others signed out)
        .sign_out_everywhere(principal) -> int (new epoch)
        .delete_account(user_name) -> bool                 # the row; see server/privacy.py for all data
        .claim_reserved(user_name, password, now) -> Principal   # operator: plaza admin create-account
        .ensure_setup_token(unclaimed) -> str | None       # new token to log once, else None
        .guest(display_name, now, reserved=(), guest_id=None) -> str (token)
        .authenticate(token, now, reserved=()) -> Principal
        .check_display_name(display_name, principal, reserved=()) -> str
        .is_reserved(name, reserved=()) -> bool ; .lookalike_of(name, reserved=()) -> str | None

``reserved`` is the set of names world files give a role to (``Hosting.reserved()``: owners,
moderators, event hosts): they are treated like account names even before anyone registers
them, and registering one needs the setup token (or the operator's ``claim_reserved``).
Names are compared by confusable skeleton (text.name_keys): ``Kοfi`` with a Greek omicron or a
fullwidth ``Ｋofi`` collide with ``kofi``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from server.hosting.errors import (
    BadCredentials,
    InvalidDisplayName,
    InvalidPassword,
    InvalidToken,
    InvalidUserKey,
    InvalidUserName,
    NameReserved,
    RegisterRateLimited,
    ReservedNameNeedsSetup,
    SignInRateLimited,
    TokenExpired,
    UserNameTaken,
)
from server.hosting.keyfile import load_or_create_secret, read_private, write_private
from server.hosting.ratelimit import WindowLimiter
from server.hosting.store import AccountMeta, AccountRow, HostingStore
from server.hosting.text import clean_name, name_keys

USER_NAME_RE = re.compile(r"[A-Za-z0-9_-]{3,24}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing megabytes of "password" would be a DoS lever
MAX_DISPLAY_NAME = 32  # matches protocol.MAX_NAME_CHARS
SALT_BYTES, HASH_BYTES = 16, 32
MAX_HASH_MEMORY = 256 * 2**20  # verify refuses stored parameters needing more (a tampered row)
# scrypt runs at once, process-wide (128 MiB each): all cores but one, so a burst of sign-ins
# always leaves a core to the event loop (the worlds' ticks).
HASH_SLOTS = max(1, min(4, (os.cpu_count() or 2) - 1))
TOKEN_PREFIX = "p1"
ACCOUNT_TTL_S = 30 * 24 * 3600.0
GUEST_TTL_S = 90 * 24 * 3600.0  # the browser keeps it; a long life keeps the guest's id (bans stick)
CLOCK_SKEW_S = 120.0  # tokens "issued" further in the future than this are refused
# New accounts per client address: at most 10 registration attempts an hour (checked before the
# account is created or anything is hashed).
REGISTER_RULES: tuple[tuple[int, float], ...] = ((10, 3600.0),)


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a signed-in account or a guest. ``name`` is the display name."""

    kind: str  # "account" | "guest"
    name: str
    account: str | None = None  # lower-cased user name (accounts)
    guest_id: str | None = None  # (guests)

    @property
    def key(self) -> str:
        """Stable id used by bans, mutes, RSVPs, attendance: survives display-name changes."""
        return f"a:{self.account}" if self.kind == "account" else f"g:{self.guest_id}"

    @property
    def is_guest(self) -> bool:
        return self.kind == "guest"

    @staticmethod
    def for_account(user_name: str, display: str | None = None) -> Principal:
        """A principal for an account not necessarily online (e.g. ban by user name)."""
        return Principal("account", display or user_name, account=user_name.lower())

    @staticmethod
    def for_guest(guest_id: str, display: str = "guest") -> Principal:
        return Principal("guest", display, guest_id=guest_id)

    @staticmethod
    def from_key(key: str) -> Principal:
        """``a:<user>`` / ``g:<guest id>`` -> Principal; InvalidUserKey (a HostingError and a
        ValueError) for anything else."""
        kind, _, ident = key.partition(":") if isinstance(key, str) else ("", "", "")
        if kind == "a" and USER_NAME_RE.fullmatch(ident):
            return Principal.for_account(ident)
        if kind == "g" and ident and len(ident) <= 64:
            return Principal.for_guest(ident)
        raise InvalidUserKey(f"not a user key: {str(key)[:80]!r} (expected a:<user name> or g:<guest id>)")


@dataclass(frozen=True, slots=True)
class Claims:
    kind: str  # "account" | "guest"
    name: str  # user name (account) or display name (guest)
    guest_id: str
    issued: int
    expires: int
    account_id: str = ""  # accounts: the account's random id (AccountMeta.account_id)
    epoch: int = 0  # accounts: token generation


# ----- names and passwords ------------------------------------------------------------------
def normalize_user_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME_RE.fullmatch(name):
        raise InvalidUserName("user names are 3–24 characters: letters a–z, digits, '_' and '-' (case does not matter)")
    return name.lower()


def validate_display_name(name: str) -> str:
    """The name as it will be shown: invisible and control characters removed (text.clean_name)."""
    name = clean_name(name) if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise InvalidDisplayName(f"display names are 1–{MAX_DISPLAY_NAME} visible characters")
    if any(not ch.isprintable() for ch in name.replace(" ", "")) or not name_keys(name):
        raise InvalidDisplayName("display names must be made of visible characters")
    return name


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt parameters. The default is OWASP's (2023+) minimum: N=2^17, r=8, p=1 (128 MiB)."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        return 128 * self.r * (self.n + self.p + 2)  # what OpenSSL checks maxmem against

    @property
    def maxmem(self) -> int:
        return self.memory + 2**20


DEFAULT_COST = ScryptCost()
_HASH_SLOTS = threading.BoundedSemaphore(HASH_SLOTS)


def _scrypt(password: str, salt: bytes, cost: ScryptCost, dklen: int) -> bytes:
    with _HASH_SLOTS:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p, dklen=dklen, maxmem=cost.maxmem
        )


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    """CPU-heavy (one scrypt): call from a worker thread in async code."""
    _check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    h = _scrypt(password, salt, cost, HASH_BYTES)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64e(salt)}${_b64e(h)}"


def hash_cost(stored: str) -> ScryptCost | None:
    """The cost a stored hash was made with (None: not one of ours)."""
    try:
        algo, n, r, p, _, _ = stored.split("$")
        cost = ScryptCost(int(n), int(r), int(p))
    except (ValueError, TypeError, AttributeError):
        return None
    if algo != "scrypt" or cost.n < 2 or cost.n & (cost.n - 1) or cost.r < 1 or cost.p < 1:
        return None
    return cost if cost.memory <= MAX_HASH_MEMORY and cost.p <= 16 else None


def needs_rehash(stored: str, cost: ScryptCost) -> bool:
    return hash_cost(stored) != cost


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check against ``stored`` at the cost stored in it. CPU-heavy (one scrypt)."""
    cost = hash_cost(stored)
    if cost is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    try:
        _, _, _, _, salt, want = stored.split("$")
        want_b = _b64d(want)
        if not 16 <= len(want_b) <= 64:
            return False
        got = _scrypt(password, _b64d(salt), cost, len(want_b))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want_b)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidPassword(f"passwords are {MIN_PASSWORD}–{MAX_PASSWORD} characters")


# ----- tokens -------------------------------------------------------------------------------
class TokenSigner:
    """HMAC-SHA256 signed, expiring tokens. ``purpose`` separates token families (sessions, invites)."""

    def __init__(self, secret: bytes, purpose: str = "session") -> None:
        if len(secret) < 16:
            raise ValueError("token secret must be at least 16 bytes")
        # Derive a key per purpose so an invite token can never verify as a session token.
        self._key = hmac.new(secret, f"plaza/{purpose}".encode(), hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64e(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign_payload(self, payload: list[object]) -> str:
        body = f"{TOKEN_PREFIX}.{_b64e(json.dumps(payload, separators=(',', ':')).encode())}"
        return f"{body}.{self._mac(body)}"

    def open_payload(self, token: str) -> list[object]:
        """Check the signature and return the payload; raises InvalidToken."""
        if not isinstance(token, str) or len(token) > 2048:
            raise InvalidToken("malformed token")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise InvalidToken("malformed token")
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._mac(body), parts[2]):
            raise InvalidToken("token signature does not match (tampered, or signed by another server)")
        try:
            payload = json.loads(_b64d(parts[1]))
        except ValueError:
            raise InvalidToken("malformed token") from None
        if not isinstance(payload, list):
            raise InvalidToken("malformed token")
        return payload

    def sign(self, claims: Claims) -> str:
        if claims.kind == "account":
            return self.sign_payload(
                ["a", claims.name, claims.guest_id, claims.issued, claims.expires, claims.account_id, claims.epoch]
            )
        return self.sign_payload(["g", claims.name, claims.guest_id, claims.issued, claims.expires])

    def verify(self, token: str, now: float) -> Claims:
        p = self.open_payload(token)
        ok = (
            len(p) in (5, 7)
            and p[0] in ("a", "g")
            and isinstance(p[1], str)
            and isinstance(p[2], str)
            and type(p[3]) is int
            and type(p[4]) is int
            and (len(p) == 5 or (p[0] == "a" and isinstance(p[5], str) and type(p[6]) is int))
        )
        if not ok:
            raise InvalidToken("malformed token")
        extra = (str(p[5]), int(p[6])) if len(p) == 7 else ("", 0)  # type: ignore[call-overload]
        claims = Claims("account" if p[0] == "a" else "guest", p[1], p[2], p[3], p[4], *extra)  # type: ignore[arg-type]
        if claims.issued > now + CLOCK_SKEW_S:
            raise InvalidToken("token issued in the future (check the server clock); sign in again")
        if now >= claims.expires:
            raise TokenExpired("token expired; sign in again" if p[0] == "a" else "guest token expired; join again")
        return claims


# ----- sign-in rate limit -------------------------------------------------------------------
class SignInLimiter:
    """At most ``max_failures`` failed sign-ins per ``window_s`` per user name and per client
    address; past that, the user name (or address) is refused for ``cooldown_s``.

    Both keys matter: per-user stops guessing one account's password from many addresses,
    per-client stops one address spraying many accounts. In memory only (a restart resets it),
    bounded by ``max_keys`` so a flood of made-up names cannot grow it without limit. Thread-safe.
    """

    def __init__(
        self, max_failures: int = 5, window_s: float = 60.0, cooldown_s: float = 60.0, max_keys: int = 100_000
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.max_keys = max_keys
        self._fails: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def _keys(self, user: str, client: str) -> list[tuple[str, str]]:
        return [("user", f"u:{user.lower()}"), ("client", f"c:{client}")]

    def check(self, user: str, client: str, now: float) -> None:
        with self._lock:
            for scope, key in self._keys(user, client):
                until = self._blocked_until.get(key)
                if until is not None:
                    if now < until:
                        raise SignInRateLimited(until - now, scope)
                    del self._blocked_until[key]

    def failure(self, user: str, client: str, now: float) -> None:
        with self._lock:
            for _, key in self._keys(user, client):
                q = self._fails.setdefault(key, deque())
                q.append(now)
                while q and q[0] <= now - self.window_s:
                    q.popleft()
                if len(q) >= self.max_failures:
                    self._blocked_until[key] = now + self.cooldown_s
                    q.clear()
            if len(self._fails) > self.max_keys:
                self._prune(now)

    def success(self, user: str) -> None:
        # The client key keeps its count: one good password must not reset an address's spraying.
        with self._lock:
            self._fails.pop(f"u:{user.lower()}", None)

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._fails.items() if not q or q[-1] <= now - self.window_s]:
            del self._fails[key]
        for key in [k for k, t in self._blocked_until.items() if t <= now]:
            del self._blocked_until[key]


# ----- the service --------------------------------------------------------------------------
class Identity:
    """Accounts and tokens. Thread-safe, so the CPU-heavy calls (see the module docstring) can
    run in worker threads while the event loop authenticates; pass ``reserved`` computed on the
    loop (``Hosting.reserved()``)."""

    def __init__(
        self,
        store: HostingStore,
        secret: bytes | None = None,
        *,
        secret_path: Path | None = None,
        setup_token_path: Path | None = None,
        password_cost: ScryptCost = DEFAULT_COST,
        account_ttl_s: float = ACCOUNT_TTL_S,
        guest_ttl_s: float = GUEST_TTL_S,
        limiter: SignInLimiter | None = None,
        register_limiter: WindowLimiter | None = None,
        new_guest_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self.store = store
        if secret is None:
            secret = resolve_secret(store, secret_path)
        self.secret = secret
        self.signer = TokenSigner(secret)
        self.setup_token_path = Path(setup_token_path) if setup_token_path is not None else None
        self.password_cost = password_cost
        self.account_ttl_s = account_ttl_s
        self.guest_ttl_s = guest_ttl_s
        self.limiter = limiter or SignInLimiter()
        self.register_limiter = register_limiter or WindowLimiter(REGISTER_RULES, error=RegisterRateLimited)
        self._new_guest_id = new_guest_id
        self._lock = threading.RLock()  # the name index and the setup token
        self._dummy: str | None = None
        # Confusable-skeleton key -> account name keys (display names are compared by skeleton).
        self._index: dict[str, set[str]] = {}
        for row in store.accounts():
            self._index_add(row.name_key, row.name)

    # ----- names --------------------------------------------------------------------------------
    def _index_add(self, name_key: str, name: str) -> None:
        with self._lock:
            for k in name_keys(name) | name_keys(name_key):
                self._index.setdefault(k, set()).add(name_key)

    def _index_remove(self, name_key: str) -> None:
        with self._lock:
            for k in [k for k, v in self._index.items() if name_key in v]:
                self._index[k].discard(name_key)
                if not self._index[k]:
                    del self._index[k]

    def lookalike_of(self, name: str, reserved: Iterable[str] = (), exclude: str | None = None) -> str | None:
        """The account or reserved name that ``name`` collides with (skeleton match), if any.
        ``exclude``: an account name key that does not count (the caller's own)."""
        keys = name_keys(name)
        with self._lock:
            for k in keys:
                for acct in self._index.get(k, ()):
                    if acct != exclude:
                        return acct
        for r in reserved:
            if r.casefold() != exclude and not keys.isdisjoint(name_keys(r)):
                return r
        k = name.strip().lower()
        if k != exclude and USER_NAME_RE.fullmatch(k) and self.store.account_exists(k):
            return k  # made by another process (plaza admin create-account) since we started
        return None

    def is_reserved(self, name: str, reserved: Iterable[str] = ()) -> bool:
        return self.lookalike_of(name, reserved) is not None

    def check_display_name(self, display_name: str, principal: Principal, reserved: Iterable[str] = ()) -> str:
        """The display name ``principal`` may use, or NameReserved when it looks like someone else's."""
        name = validate_display_name(display_name)
        own = principal.account if principal.kind == "account" else None
        if own is not None and not name_keys(name).isdisjoint(name_keys(own)):
            return name  # their own name, in any spelling
        if self.lookalike_of(name, reserved, exclude=own) is not None:
            raise NameReserved(name)
        return name

    # ----- accounts -----------------------------------------------------------------------------
    def register(
        self,
        user_name: str,
        password: str,
        now: float,
        client: str = "",
        reserved: Iterable[str] = (),
        setup_token: str | None = None,
    ) -> Principal:
        """Create an account (hashes once; CPU-heavy). Order: input checks, then the rate limits
        (RegisterRateLimited / SignInRateLimited) *before* anything is created or hashed, then
        names: a name a world file gives a role to needs ``setup_token`` (ReservedNameNeedsSetup),
        a look-alike of an account or such a name is taken (UserNameTaken). Get a token with
        :meth:`issue_token`. Pass ``client`` (the address) and ``reserved``
        (``Hosting.reserved()``) — ``Hosting.register`` does — or those checks are skipped."""
        key = normalize_user_name(user_name)
        _check_password(password)
        if client:  # the caller's address (HTTP: request.remote); unknown: no per-address limit
            self.register_limiter.check(client, now)
        self.limiter.check(key, client, now)
        if client:
            self.register_limiter.hit(client, now)
        reserved = [r for r in reserved if r]
        claims_reserved = any(r.casefold() == key for r in reserved)
        if claims_reserved and not self.setup_token_ok(setup_token):
            raise ReservedNameNeedsSetup(user_name)
        self._check_free(key, user_name, [r for r in reserved if r.casefold() != key])
        pw = hash_password(password, self.password_cost)  # the one scrypt of a registration (no lock held)
        with self._lock:
            if claims_reserved and not self.setup_token_ok(setup_token):
                raise ReservedNameNeedsSetup(user_name)  # used by a concurrent registration meanwhile
            principal = self._store(key, user_name, pw, now)
            if claims_reserved:
                self._consume_setup_token()
        return principal

    def claim_reserved(self, user_name: str, password: str, now: float) -> Principal:
        """The operator's way (``plaza admin create-account NAME``): create the account of a name
        world files give a role to, no setup token needed. Refuses names already taken or
        looking like another account. CPU-heavy (one scrypt)."""
        key = normalize_user_name(user_name)
        _check_password(password)
        self._check_free(key, user_name, ())
        pw = hash_password(password, self.password_cost)
        with self._lock:
            return self._store(key, user_name, pw, now)

    def _check_free(self, key: str, display: str, reserved: Iterable[str]) -> None:
        if self.store.account_exists(key):
            raise UserNameTaken(f"the user name {display!r} is taken (names are case-insensitive)")
        other = self.lookalike_of(key, reserved, exclude=key)
        if other is not None:
            raise UserNameTaken(f"the user name {display!r} looks too much like {other!r}; pick another")

    def _store(self, key: str, display: str, pw_hash: str, now: float) -> Principal:
        if not self.store.add_account(AccountRow(key, display, pw_hash, now)):
            raise UserNameTaken(f"the user name {display!r} is taken (names are case-insensitive)")
        self.store.set_account_meta(AccountMeta(key, secrets.token_urlsafe(12), 0))
        self._index_add(key, display)
        return Principal.for_account(key, display)

    def _meta(self, key: str) -> AccountMeta:
        meta = self.store.account_meta(key)
        if meta is None:  # an account made before account ids existed: give it one now
            meta = AccountMeta(key, secrets.token_urlsafe(12), 0)
            self.store.set_account_meta(meta)
        return meta

    def issue_token(self, principal: Principal, now: float) -> str:
        """A session token for an account (after register or a checked password). No hashing."""
        if principal.kind != "account" or principal.account is None:
            raise InvalidToken("only accounts get session tokens; guests use guest()")
        meta = self._meta(principal.account)
        issued, expires = int(now), int(now + self.account_ttl_s)
        return self.signer.sign(Claims("account", principal.account, "", issued, expires, meta.account_id, meta.epoch))

    def _dummy_hash(self) -> str:
        # Verified against when the user does not exist: sign-in costs the same scrypt either
        # way, so response times do not reveal which names are registered.
        if self._dummy is None:
            self._dummy = hash_password("not-a-real-password", self.password_cost)
        return self._dummy

    def _check(self, user_name: str, password: str, client: str, now: float) -> AccountRow:
        """Rate limit, then the password (one scrypt); BadCredentials for both unknown user and
        wrong password."""
        self.limiter.check(user_name if isinstance(user_name, str) else "", client, now)
        try:
            key = normalize_user_name(user_name)
        except InvalidUserName:
            key = ""
        row = self.store.get_account(key) if key else None
        pw = password if isinstance(password, str) else ""
        ok = verify_password(pw, row.password_hash if row else self._dummy_hash())
        if row is None or not ok:
            self.limiter.failure(str(user_name), client, now)
            raise BadCredentials()
        self.limiter.success(key)
        if needs_rehash(row.password_hash, self.password_cost):
            self.store.set_password_hash(key, hash_password(pw, self.password_cost))
        return row

    def sign_in(self, user_name: str, password: str, client: str, now: float) -> str:
        """Returns a session token. Raises SignInRateLimited before checking anything else."""
        row = self._check(user_name, password, client, now)
        return self.issue_token(Principal.for_account(row.name_key, row.name), now)

    def confirm_password(self, principal: Principal, password: str, client: str, now: float) -> None:
        """Re-authentication before a sensitive step (deleting the account): BadCredentials."""
        if principal.kind != "account" or principal.account is None:
            raise BadCredentials()
        self._check(principal.account, password, client, now)

    def change_password(self, principal: Principal, old: str, new: str, client: str, now: float) -> str:
        """Needs the old password. Signs out every other session (epoch bump); returns a fresh token."""
        _check_password(new)
        self.confirm_password(principal, old, client, now)
        assert principal.account is not None
        self.store.set_password_hash(principal.account, hash_password(new, self.password_cost))
        self.sign_out_everywhere(principal)
        return self.issue_token(principal, now)

    def sign_out_everywhere(self, principal: Principal) -> int:
        """Every token issued to this account so far stops working. Returns the new epoch."""
        if principal.kind != "account" or principal.account is None:
            raise InvalidToken("guests have no account to sign out of")
        self._meta(principal.account)
        return self.store.bump_epoch(principal.account)

    def delete_account(self, user_name: str) -> bool:
        """Remove the account row (sign-in and every token stop working; the name is free).
        The person's other data: server/privacy.py ``delete_person``."""
        key = user_name.lower()
        with self._lock:
            done = self.store.delete_account(key)
            self._index_remove(key)
        self.limiter.success(key)
        return done

    # ----- the setup token ----------------------------------------------------------------------
    def ensure_setup_token(self, unclaimed: Iterable[str]) -> str | None:
        """At start: while world files give roles to names without an account, keep a one-time
        setup token in ``setup_token_path`` (0600). Returns it when it was just made (log it
        once), else None. Removed once nothing is left to claim."""
        if self.setup_token_path is None:
            return None
        with self._lock:
            if not list(unclaimed):
                self._consume_setup_token()
                return None
            token = secrets.token_urlsafe(24)
            return token if write_private(self.setup_token_path, token + "\n") else None

    def setup_token_ok(self, token: str | None) -> bool:
        if not token or not isinstance(token, str) or self.setup_token_path is None:
            return False
        want = read_private(self.setup_token_path)
        return bool(want) and hmac.compare_digest(token.strip().encode(), (want or "").encode())

    def _consume_setup_token(self) -> None:
        if self.setup_token_path is not None:
            self.setup_token_path.unlink(missing_ok=True)

    # ----- guests and tokens --------------------------------------------------------------------
    def guest(self, display_name: str, now: float, reserved: Iterable[str] = (), guest_id: str | None = None) -> str:
        """A guest token for ``display_name``. Pass the guest id of an earlier token to keep it
        (the browser sends its old token back when the guest renames)."""
        name = validate_display_name(display_name)
        if self.is_reserved(name, reserved):
            raise NameReserved(name)
        gid = guest_id or self._new_guest_id()
        return self.signer.sign(Claims("guest", name, gid, int(now), int(now + self.guest_ttl_s)))

    def authenticate(self, token: str, now: float, reserved: Iterable[str] = ()) -> Principal:
        """Token -> Principal. Account tokens must match the account's id and token epoch; guest
        names are re-checked: an account registered after the guest token was issued takes the
        name away from the guest."""
        c = self.signer.verify(token, now)
        if c.kind == "account":
            row = self.store.get_account(c.name)
            meta = self.store.account_meta(c.name) if row is not None else None
            if row is None or meta is None or not hmac.compare_digest(meta.account_id, c.account_id):
                raise InvalidToken("this account no longer exists (or was made again); sign in again")
            if c.epoch != meta.epoch:
                raise InvalidToken("this session was signed out (password changed or signed out everywhere)")
            return Principal("account", row.name, account=row.name_key)
        if self.is_reserved(c.name, reserved):
            raise NameReserved(c.name)
        return Principal("guest", c.name, guest_id=c.guest_id)


def resolve_secret(store: HostingStore, secret_path: Path | None) -> bytes:
    """The token secret: ``secret_path`` (made on first start, 0600; a secret an older server kept
    in the database moves there), or — no path, e.g. an in-memory test server — a random one."""
    if secret_path is None:
        return secrets.token_bytes(32)
    legacy = store.take_legacy_secret()
    return load_or_create_secret(Path(secret_path), legacy)
