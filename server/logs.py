"""Log setup for ``plaza serve``: JSON lines for machines, readable text for people.

    configure_logging("auto")   # JSON when stderr is not a terminal (a service, a container), else text

A JSON line is one event: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, then
``session``/``world``/``instance``/``user`` when the log site knows them (passed with
``extra={...}``), and ``exc`` with the traceback of a logged exception. Text is
``time LEVEL logger: message [session=3 world=lobby]``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, TextIO

LogFormat = Literal["auto", "json", "text"]
FORMATS: tuple[LogFormat, ...] = ("auto", "json", "text")

# Record attributes a log site may set with ``extra=``, in the order they are written.
CONTEXT = ("session", "world", "instance", "user")


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k in CONTEXT if (v := getattr(record, k, None)) is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, object] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        # One line per event whatever the message holds: json.dumps escapes newlines.
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx = _context(record)
        if not ctx:
            return line
        head, sep, tail = line.partition("\n")  # the context goes on the message, not after a traceback
        return head + " [" + " ".join(f"{k}={v}" for k, v in ctx.items()) + "]" + sep + tail


class ClientRequestErrors(logging.Filter):
    """aiohttp logs a request it cannot parse (a bad header, chunk or Content-Length, a body
    that fails to decode) at ERROR with a traceback, though it is the client's fault and any
    client can send them by the thousand. Such a record becomes one INFO line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not _client_fault(exc):
            return True
        detail = " ".join(str(exc).split())[:200]
        record.msg, record.args = "%s: %s", (record.getMessage(), detail)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text = None, None
        return True


def _client_fault(exc: BaseException) -> bool:
    from aiohttp.http_exceptions import HttpProcessingError
    from aiohttp.web_protocol import RequestPayloadError

    if isinstance(exc, RequestPayloadError):
        return True
    return isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 0) < 500


def wants_json(fmt: LogFormat, stream: TextIO) -> bool:
    if fmt == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (isatty is not None and isatty())
    return fmt == "json"


def configure_logging(fmt: LogFormat = "auto", level: int = logging.INFO, stream: TextIO | None = None) -> bool:
    """One handler on the root logger writing to ``stream`` (stderr); returns whether it writes
    JSON. Replaces any handler set before (calling it twice is harmless). Warnings and, in JSON,
    uncaught exceptions become log records too, so the stream stays one format."""
    stream = stream if stream is not None else sys.stderr
    as_json = wants_json(fmt, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientRequestErrors) for f in server_log.filters):
        server_log.addFilter(ClientRequestErrors())
    logging.captureWarnings(True)
    if as_json:
        sys.excepthook = _log_uncaught
    return as_json


def _log_uncaught(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(tp, KeyboardInterrupt):
        sys.__excepthook__(tp, value, tb)
        return
    logging.getLogger("plaza").critical("uncaught %s", tp.__name__, exc_info=(tp, value, tb))
