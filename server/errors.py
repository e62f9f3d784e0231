"""The exceptions the core raises; the I/O layer turns them into ERROR messages or closes."""

from __future__ import annotations

import reprlib

from server.protocol import CloseCode, ErrorCode

MAX_ERROR_TEXT = 240  # an ERROR text never exceeds this many characters
MAX_SHOWN = 80  # a client value echoed in an error text is shown in at most this many characters

_repr = reprlib.Repr()
_repr.maxlevel = 2  # [[...]]: a value nested 1,000 deep costs nothing to show
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4
_repr.maxstring = _repr.maxother = _repr.maxlong = 40


def show(value: object) -> str:
    """A client-sent value for an error text: depth, items and length capped (<= MAX_SHOWN)."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value[:16])  # reprlib would repr a whole 16 KiB bytes before cutting it
    try:
        text = _repr.repr(value)
    except Exception:  # an error text must never raise
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _cap(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 3] + "..."


class ProtocolError(Exception):
    """A client message was rejected; the sender gets ERROR(code, text), the socket stays."""

    def __init__(self, code: ErrorCode, text: str, ref: int = 0) -> None:
        text = _cap(text)
        super().__init__(text)
        self.code = code
        self.text = text
        self.ref = ref


class CloseConnection(Exception):
    """The session must end with this WebSocket close code."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
