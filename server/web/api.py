"""HTTP API plumbing: typed routes, one error middleware, and the OpenAPI document.

Every JSON route is declared with ``ApiRoutes.route`` (an aiohttp ``RouteTableDef`` plus the
request/response models), so the body is parsed and validated by pydantic before the handler
runs, the result is serialised through its declared model, and ``/api/openapi.json`` is
generated from the same declarations. Handlers raise ``ApiError`` (or a ``HostingError``);
the middleware turns every failure into ``{"error": code, "message": ...}`` — never a
traceback or an HTML page.
"""

from __future__ import annotations

import html
import json
import logging
import re
import reprlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aiohttp import web
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema

from server.hosting import HostingError

log = logging.getLogger("plaza.http")
M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024
_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlevel, _short.maxlist, _short.maxdict = 60, 60, 2, 4, 4

HOSTING_STATUS = {
    "bad_credentials": 401,
    "invalid_token": 401,
    "token_expired": 401,
    "sign_in_rate_limited": 429,
    "permission_denied": 403,
    "not_found": 404,
    "unknown_event": 404,
    "unknown_world": 404,
    "user_name_taken": 409,
    "event_full": 409,
    "register_rate_limited": 429,
    "report_rate_limited": 429,
    "rate_limited": 429,
    "name_needs_setup": 403,
    "account_required": 403,
    "invalid_user_key": 400,
    "invalid_signal": 400,
}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


class Model(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    error: str
    message: str
    retry_after_s: float | None = None


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object
) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status, headers=headers)


def hosting_error(e: HostingError) -> ApiError:
    retry = getattr(e, "retry_after_s", None)
    headers = {"Retry-After": str(max(1, round(retry)))} if retry else None
    extra = {"retry_after_s": retry} if retry else {}
    return ApiError(HOSTING_STATUS.get(e.code, 400), e.code, e.message, headers, **extra)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        resp = await handler(request)
        if resp.status >= 400 and resp.content_type != "application/json" and not resp.body_length:
            # aiohttp's static resources answer a bare 404/403 (octet-stream, no body).
            return _plain_error(request, resp.status, resp.reason or "")
        return resp
    except ApiError as e:
        return error_response(e.status, e.code, e.message, e.headers, **e.extra)
    except HostingError as e:
        a = hosting_error(e)
        return error_response(a.status, a.code, a.message, a.headers, **a.extra)
    except web.HTTPException as e:
        if e.status < 400 or e.status == 101:
            raise
        if e.content_type == "application/json":
            return web.Response(status=e.status, text=e.text, content_type="application/json")
        allow = {k: v for k, v in e.headers.items() if k == "Allow"}
        return _plain_error(request, e.status, e.reason, allow)
    except Exception:
        # Details may be security-sensitive: the log has them, the client gets a code.
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "the server failed to handle this request")


def _plain_error(request: web.Request, status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    if request.path.startswith("/api/"):
        code = _HTTP_CODES.get(status, reason.lower().replace(" ", "_") or "error")
        return error_response(status, code, reason or code, headers)
    return html_error(status, reason, headers=headers)


def html_error(status: int, reason: str, detail: str = "", headers: dict[str, str] | None = None) -> web.Response:
    """A page a browser shows (not an empty octet-stream it would download), with a way back."""
    title = html.escape(f"{status} {reason}")
    text = html.escape(detail or "There is nothing at this address.")
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} — Plaza</title></head>"
        '<body style="font-family:system-ui,sans-serif;background:#0f1320;color:#eef;padding:2rem">'
        f'<h1>{title}</h1><p>{text}</p><p><a href="/" style="color:#4fa3ff">Go to the Plaza lobby</a></p>'
        "</body></html>\n"
    )
    return web.Response(status=status, text=body, content_type="text/html", headers=headers)


# ----- request parsing ---------------------------------------------------------------------
def _field_errors(e: ValidationError) -> str:
    first = e.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"[:200]


async def parse_body(request: web.Request, model: type[M]) -> M:
    if not request.can_read_body:  # no body at all: the model's defaults (or its required fields)
        return _validate(model, {})
    if request.content_type != "application/json":
        # A browser form or text/plain body could come from any web page without a preflight.
        raise ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"bodies are at most {MAX_BODY_BYTES} bytes")
    try:
        raw = await request.read()
    except web.RequestPayloadError:  # a body that fails to decode (bad chunking, Content-Encoding)
        raise ApiError(400, "bad_json", "the body could not be read (chunking or Content-Encoding)") from None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"bodies are at most {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "bad_json", "body must be JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "body must be a JSON object")
    return _validate(model, data)


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ApiError(400, "bad_field", _field_errors(e)) from None
    except RecursionError:
        raise ApiError(400, "bad_json", "body is nested too deeply") from None


def parse_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as e:
        raise ApiError(400, "bad_field", _field_errors(e)) from None


def short(value: object) -> str:
    """An offending value, capped, for error messages that echo it."""
    return _short.repr(value)


# ----- declared routes -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any  # a model, list[model], or None for non-JSON responses
    status: int
    errors: tuple[int, ...]
    auth: str | None  # "bearer", "session or bearer", or None
    content_type: str = "application/json"
    tag: str = ""


Handler = Callable[..., Awaitable[Any]]


class ApiRoutes:
    """A RouteTableDef whose routes carry their models (for validation and OpenAPI)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.table = web.RouteTableDef()
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        errors: Iterable[int] = (),
        auth: str | None = None,
        content_type: str = "application/json",
    ) -> Callable[[Handler], Handler]:
        op = Operation(
            method, path, summary, body, query, response, status, tuple(errors), auth, content_type, self.tag
        )
        adapter = TypeAdapter(response) if response is not None else None

        def decorate(fn: Handler) -> Handler:
            async def handler(request: web.Request) -> web.StreamResponse:
                kwargs: dict[str, Any] = {}
                if body is not None:
                    kwargs["body"] = await parse_body(request, body)
                if query is not None:
                    kwargs["query"] = parse_query(request, query)
                result = await fn(request, **kwargs)
                if isinstance(result, web.StreamResponse):
                    return result
                assert adapter is not None, f"{method} {path} returns JSON but declares no response model"
                payload = adapter.dump_json(adapter.validate_python(result))
                return web.Response(body=payload, status=status, content_type="application/json")

            handler.__name__ = fn.__name__
            handler.__doc__ = fn.__doc__
            self.table.route(method, path)(handler)
            self.operations.append(op)
            return fn

        return decorate

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)


# ----- OpenAPI 3.1 -------------------------------------------------------------------------
_REF = "#/components/schemas/{model}"


def _openapi_path(path: str) -> str:
    # aiohttp's {key:.+} -> OpenAPI's {key}
    out, i = [], 0
    while i < len(path):
        if path[i] == "{":
            j = path.index("}", i)
            out.append("{" + path[i + 1 : j].split(":")[0] + "}")
            i = j + 1
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for a in getattr(tp, "__args__", ()) for m in _models_in(a)]


def openapi_document(operations: Iterable[Operation], title: str, version: str) -> dict[str, Any]:
    ops = list(operations)
    models: set[type[BaseModel]] = {Error}
    for op in ops:
        for tp in (op.body, op.query, op.response):
            if tp is not None:
                models.update(_models_in(tp))
    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema([(m, "serialization") for m in ordered], ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, Any] = {}
    for op in ops:
        item: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": _op_id(op)}
        params: list[dict[str, Any]] = []
        oapath = _openapi_path(op.path)
        for name in re.findall(r"\{(\w+)\}", oapath):
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
        if op.query is not None:
            for name, f in op.query.model_fields.items():
                params.append(
                    {
                        "name": f.alias or name,
                        "in": "query",
                        "required": f.is_required(),
                        # cast: mypy's TypeForm leaves out None, a valid annotation (never a query field's)
                        "schema": TypeAdapter(cast(Any, f.annotation)).json_schema(ref_template=_REF),
                        "description": f.description or "",
                    }
                )
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": _REF.format(model=op.body.__name__)}}},
            }
        responses: dict[str, Any] = {}
        if op.response is not None:
            schema = TypeAdapter(op.response).json_schema(ref_template=_REF, mode="serialization")
            schema.pop("$defs", None)
            responses[str(op.status)] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        else:
            responses[str(op.status)] = {"description": "OK", "content": {op.content_type: {}}}
        errs = set(op.errors) | ({400} if op.body or op.query else set()) | ({415, 413} if op.body else set())
        if op.auth and op.auth != "optional":
            errs.add(401)
        for code in sorted(errs):
            responses[str(code)] = {
                "description": "error",
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            }
        item["responses"] = responses
        if op.auth == "optional":
            item["security"] = [{}, {"bearer": []}, {"session": []}]
        elif op.auth:
            item["security"] = [{"bearer": []}] if op.auth == "bearer" else [{"bearer": []}, {"session": []}]
        paths.setdefault(oapath, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "header", "name": "X-Plaza-Session"},
            },
        },
    }


def _op_id(op: Operation) -> str:
    words = [w.strip("{}").split(":")[0] for w in op.path.split("/") if w and w != "api"]
    return op.method.lower() + "_" + "_".join(words).replace("-", "_").replace(".", "_")
