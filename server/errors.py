"""The exceptions the core raises; the I/O layer turns them into ERROR messages or closes."""

from __future__ import annotations

from server.protocol import CloseCode, ErrorCode


class ProtocolError(Exception):
    """A client message was rejected; the sender gets ERROR(code, text), the socket stays."""

    def __init__(self, code: ErrorCode, text: str, ref: int = 0) -> None:
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
