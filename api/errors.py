"""One error type for the whole service, rendered as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.media import media_type


class AppError(Exception):
    """A domain error that knows its HTTP status. Subclass it next to the service that raises it."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.headers = headers or {}


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Unprocessable(AppError):
    status_code = 422
    code = "invalid"


class Overloaded(AppError):
    status_code = 503
    code = "overloaded"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _describe(err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


def _about_the_body(errors: Sequence[Any], content_type: str | None) -> tuple[int, str, str] | None:
    """(status, code, message) when the body as a whole is wrong — absent, not JSON, sent as
    another type — where the field-by-field account would not say so."""
    for err in errors:
        loc, kind = tuple(err.get("loc", ())), err.get("type")
        if kind == "json_invalid":
            reason = err.get("ctx", {}).get("error", "not JSON")
            at = f" at character {loc[1]}" if len(loc) > 1 else ""
            return 422, "invalid_json", f"the body is not valid JSON: {reason}{at}"
        if loc != ("body",):
            continue
        if kind == "missing":
            return 422, "body_required", "this request needs a JSON body (application/json)"
        media = media_type(content_type)
        if "json" not in media:
            return (
                415,
                "unsupported_media_type",
                f"send the body as application/json, not {media or 'an untyped body'}",
            )
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        whole = _about_the_body(errors, request.headers.get("content-type"))
        if whole is not None:
            status, code, message = whole
            return JSONResponse(error_body(code, message), status_code=status)
        details = [_describe(e) for e in errors]
        return JSONResponse(
            error_body("invalid", "; ".join(details) or "invalid request"), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
