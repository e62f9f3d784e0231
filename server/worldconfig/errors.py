"""Validation issues and the translation of pydantic errors into author-friendly ones."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from .locate import Path, SourceMap
from .models import _found

_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, order=True)
class ValidationIssue:
    file: str
    line: int
    col: int
    path: str  # field path like objects[3].material.color ("" for syntax errors)
    message: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}:{self.line}:{self.col}: {self.path}: {self.message}"
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class WorldFileError(Exception):
    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def format_path(loc: Path) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _SIMPLE_KEY.match(part) else f'"{part}"'
            out += f".{key}" if out else key
    return out


def issue_at(file: str, smap: SourceMap, loc: Path, message: str, prefer_value: bool = True) -> ValidationIssue:
    pos = smap.locate(loc, prefer_value=prefer_value)
    return ValidationIssue(file, pos.line, pos.col, format_path(loc), message)


# -- walking model classes along an error loc (for "did you mean") ----------


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if len(args) == 1:
                tp = args[0]
            elif models:
                tp = models[0]
            else:
                return tp
        else:
            return tp


def model_at(root: type[BaseModel], loc: Path) -> Any:
    """The type found at ``loc`` below ``root`` (a model class, list, dict, ...)."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            f = tp.model_fields.get(part)
            if f is None:
                return None
            tp = f.annotation
        elif origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict and isinstance(part, str):
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def did_you_mean(word: str, choices: list[str]) -> str | None:
    hits = get_close_matches(word, choices, n=1, cutoff=0.6)
    return hits[0] if hits else None


_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "datetime_type": "a date-time like 2026-12-05T19:00:00+01:00",
    "date_type": "a date like 2026-12-05",
}


def _message(err: ErrorDetails, root: type[BaseModel]) -> str:
    typ = err["type"]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    inp = err.get("input")
    if typ == "missing":
        return f'missing required key "{loc[-1]}"'
    if typ == "extra_forbidden":
        key = str(loc[-1])
        parent = model_at(root, loc[:-1])
        choices = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        hint = did_you_mean(key, choices)
        if hint:
            return f'unknown key "{key}"; did you mean "{hint}"?'
        return f'unknown key "{key}"; expected one of: {", ".join(choices)}'
    if typ in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if typ == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        listed = ", ".join(f'"{o}"' for o in options)
        msg = f"expected one of {listed}; found {_found(inp)}"
        if isinstance(inp, str):
            hint = did_you_mean(inp, options)
            if hint:
                msg += f'; did you mean "{hint}"?'
        return msg
    if typ in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[typ]}, found {_found(inp)}"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if typ in bounds:
        op, key = bounds[typ]
        return f"expected a value {op} {ctx.get(key)}, found {_found(inp)}"
    if typ == "string_too_short":
        return f"expected at least {ctx.get('min_length')} character(s), found {_found(inp)}"
    if typ == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), found {ctx.get('actual_length')}"
    if typ == "too_long":
        return f"expected at most {ctx.get('max_length')} item(s), found {ctx.get('actual_length')}"
    return f"{err['msg']}; found {_found(inp)}"


def issues_from_pydantic(
    errors: list[ErrorDetails], root: type[BaseModel], file: str, smap: SourceMap
) -> list[ValidationIssue]:
    out: list[ValidationIssue] = []
    for err in errors:
        loc = tuple(err["loc"])
        # Unknown keys point at the key itself; wrong values at the value.
        prefer_value = err["type"] not in ("extra_forbidden",)
        msg = _message(err, root)
        # Model-level validators name the offending field with an "@field " prefix
        # so that the error points at that key rather than the table header.
        if msg.startswith("@"):
            fld, _, msg = msg[1:].partition(" ")
            loc = (*loc, fld)
        out.append(issue_at(file, smap, loc, msg, prefer_value=prefer_value))
    return out
