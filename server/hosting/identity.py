"""Identity: accounts, guests, signed expiring tokens, rate-limited sign-in, no impersonation.

Pure apart from the store and ``secrets`` (for salts and guest ids): the caller passes ``now``
(Unix seconds). Tokens travel in the HELLO message (and HTTP ``Authorization: Bearer``),
never in a URL, so they do not end up in access logs.

Token format: ``p1.<payload>.<mac>`` where payload is base64url (no padding) of the compact
JSON ``[kind, name, guest_id, issued, expires]`` (kind ``"a"`` account or ``"g"`` guest; the
times are whole Unix seconds) and mac is base64url HMAC-SHA256(secret, "p1." + payload).
The secret lives in the store and is created on first start, so tokens survive restarts;
deleting it signs everyone out.

Passwords: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` (hashlib.scrypt, n=2**14, r=8, p=1,
16-byte salt, 32-byte hash); the parameters are stored with the hash so they can be raised
later without breaking old accounts. Verification compares in constant time.

API::

    Principal(kind, name, account=None, guest_id=None)   .key -> "a:<user>" | "g:<guest id>"
    Claims(kind, name, guest_id, issued, expires)
    normalize_user_name(name) -> str                      # validated, lower-cased; InvalidUserName
    validate_display_name(name) -> str                    # trimmed; InvalidDisplayName
    hash_password(password) -> str;  verify_password(password, stored) -> bool
    TokenSigner(secret).sign(claims) -> str;  .verify(token, now) -> Claims   # InvalidToken / TokenExpired
    SignInLimiter(max_failures=5, window_s=60, cooldown_s=60)
        .check(user, client, now) / .failure(user, client, now) / .success(user)
    Identity(store, account_ttl_s=30 days, guest_ttl_s=90 days)
        .register(user_name, password, now) -> Principal
        .sign_in(user_name, password, client, now) -> str (token)
        .guest(display_name, now, reserved=(), guest_id=None) -> str (token)
        .authenticate(token, now, reserved=()) -> Principal
        .check_display_name(display_name, principal, reserved=()) -> str
        .is_reserved(name, reserved=()) -> bool

``reserved`` is the set of names world files grant roles to (``RoleBook.reserved_names()``):
they are treated like account names even before anyone registers them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

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
from server.hosting.store import AccountRow, HostingStore

USER_NAME_RE = re.compile(r"[A-Za-z0-9_-]{3,24}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # scrypt cost is fixed, but hashing megabytes of "password" is still a DoS lever
MAX_DISPLAY_NAME = 32  # matches protocol.MAX_NAME_CHARS
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, HASH_BYTES = 2**14, 8, 1, 16, 32
TOKEN_PREFIX = "p1"
ACCOUNT_TTL_S = 30 * 24 * 3600.0
GUEST_TTL_S = 90 * 24 * 3600.0  # the browser keeps it; a long life keeps the guest's id (bans stick)


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
        kind, _, ident = key.partition(":")
        if kind == "a" and ident:
            return Principal.for_account(ident)
        if kind == "g" and ident:
            return Principal.for_guest(ident)
        raise ValueError(f"not a user key: {key!r}")


@dataclass(frozen=True, slots=True)
class Claims:
    kind: str  # "account" | "guest"
    name: str  # user name (account) or display name (guest)
    guest_id: str
    issued: int
    expires: int


# ----- names and passwords ------------------------------------------------------------------
def normalize_user_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME_RE.fullmatch(name):
        raise InvalidUserName("user names are 3–24 characters: letters a–z, digits, '_' and '-' (case does not matter)")
    return name.lower()


def validate_display_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise InvalidDisplayName(f"display names are 1–{MAX_DISPLAY_NAME} characters")
    if any(not ch.isprintable() for ch in name):
        raise InvalidDisplayName("display names cannot contain control characters")
    return name


def _name_key(name: str) -> str:
    # Impersonation compares the way people read names: case- and surrounding-space-insensitive.
    return name.strip().casefold()


def hash_password(password: str) -> str:
    _check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    h = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64e(salt)}${_b64e(h)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, want = stored.split("$")
        if algo != "scrypt" or len(password) > MAX_PASSWORD:
            return False
        want_b = _b64d(want)
        got = hashlib.scrypt(password.encode(), salt=_b64d(salt), n=int(n), r=int(r), p=int(p), dklen=len(want_b))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want_b)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidPassword(f"passwords are {MIN_PASSWORD}–{MAX_PASSWORD} characters")


# A fixed hash to verify against when the user does not exist: sign-in then costs the same
# scrypt time either way, so response times do not reveal which names are registered.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password")
    return _DUMMY_HASH


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
        kind = "a" if claims.kind == "account" else "g"
        return self.sign_payload([kind, claims.name, claims.guest_id, claims.issued, claims.expires])

    def verify(self, token: str, now: float) -> Claims:
        p = self.open_payload(token)
        if (
            len(p) != 5
            or p[0] not in ("a", "g")
            or not isinstance(p[1], str)
            or not isinstance(p[2], str)
            or not isinstance(p[3], int)
            or not isinstance(p[4], int)
        ):
            raise InvalidToken("malformed token")
        claims = Claims("account" if p[0] == "a" else "guest", p[1], p[2], p[3], p[4])
        if now >= claims.expires:
            raise TokenExpired("token expired; sign in again" if p[0] == "a" else "guest token expired; join again")
        return claims


# ----- sign-in rate limit -------------------------------------------------------------------
class SignInLimiter:
    """At most ``max_failures`` failed sign-ins per ``window_s`` per user name and per client
    address; past that, the user name (or address) is refused for ``cooldown_s``.

    Both keys matter: per-user stops guessing one account's password from many addresses,
    per-client stops one address spraying many accounts. In memory only (a restart resets it),
    bounded by ``max_keys`` so a flood of made-up names cannot grow it without limit.
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

    def _keys(self, user: str, client: str) -> list[tuple[str, str]]:
        return [("user", f"u:{user.lower()}"), ("client", f"c:{client}")]

    def check(self, user: str, client: str, now: float) -> None:
        for scope, key in self._keys(user, client):
            until = self._blocked_until.get(key)
            if until is not None:
                if now < until:
                    raise SignInRateLimited(until - now, scope)
                del self._blocked_until[key]

    def failure(self, user: str, client: str, now: float) -> None:
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
        self._fails.pop(f"u:{user.lower()}", None)

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._fails.items() if not q or q[-1] <= now - self.window_s]:
            del self._fails[key]
        for key in [k for k, t in self._blocked_until.items() if t <= now]:
            del self._blocked_until[key]


# ----- the service --------------------------------------------------------------------------
class Identity:
    def __init__(
        self,
        store: HostingStore,
        account_ttl_s: float = ACCOUNT_TTL_S,
        guest_ttl_s: float = GUEST_TTL_S,
        limiter: SignInLimiter | None = None,
        new_guest_id: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self.store = store
        self.signer = TokenSigner(store.secret())
        self.account_ttl_s = account_ttl_s
        self.guest_ttl_s = guest_ttl_s
        self.limiter = limiter or SignInLimiter()
        self._new_guest_id = new_guest_id

    def register(self, user_name: str, password: str, now: float) -> Principal:
        key = normalize_user_name(user_name)
        pw = hash_password(password)
        if not self.store.add_account(AccountRow(key, user_name, pw, now)):
            raise UserNameTaken(f"the user name {user_name!r} is taken (names are case-insensitive)")
        return Principal.for_account(key, user_name)

    def sign_in(self, user_name: str, password: str, client: str, now: float) -> str:
        """Returns a session token. Raises SignInRateLimited before checking anything else."""
        self.limiter.check(user_name if isinstance(user_name, str) else "", client, now)
        try:
            key = normalize_user_name(user_name)
        except InvalidUserName:
            key = ""
        row = self.store.get_account(key) if key else None
        ok = verify_password(password if isinstance(password, str) else "", row.password_hash if row else _dummy_hash())
        if row is None or not ok:
            self.limiter.failure(str(user_name), client, now)
            raise BadCredentials()
        self.limiter.success(key)
        return self.signer.sign(Claims("account", row.name_key, "", int(now), int(now + self.account_ttl_s)))

    def guest(self, display_name: str, now: float, reserved: Iterable[str] = (), guest_id: str | None = None) -> str:
        """A guest token for ``display_name``. Pass the guest id of an earlier token to keep it
        (the browser sends its old token back when the guest renames)."""
        name = validate_display_name(display_name)
        if self.is_reserved(name, reserved):
            raise NameReserved(name)
        gid = guest_id or self._new_guest_id()
        return self.signer.sign(Claims("guest", name, gid, int(now), int(now + self.guest_ttl_s)))

    def authenticate(self, token: str, now: float, reserved: Iterable[str] = ()) -> Principal:
        """Token -> Principal. Guest names are re-checked: an account registered after the guest
        token was issued takes the name away from the guest."""
        c = self.signer.verify(token, now)
        if c.kind == "account":
            row = self.store.get_account(c.name)
            if row is None:
                raise InvalidToken("this account no longer exists")
            return Principal("account", row.name, account=row.name_key)
        if self.is_reserved(c.name, reserved):
            raise NameReserved(c.name)
        return Principal("guest", c.name, guest_id=c.guest_id)

    def is_reserved(self, name: str, reserved: Iterable[str] = ()) -> bool:
        k = _name_key(name)
        if any(_name_key(r) == k for r in reserved):
            return True
        return bool(USER_NAME_RE.fullmatch(k)) and self.store.account_exists(k)

    def check_display_name(self, display_name: str, principal: Principal, reserved: Iterable[str] = ()) -> str:
        """The display name ``principal`` may use, or NameReserved when it is someone else's."""
        name = validate_display_name(display_name)
        if principal.kind == "account" and _name_key(name) == principal.account:
            return name
        if self.is_reserved(name, reserved):
            raise NameReserved(name)
        return name
