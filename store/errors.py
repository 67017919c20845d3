"""Errors the store reports to clients: a status code and a message a developer can act on."""

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse


class StoreError(Exception):
    """A refused request. `code` is the HTTP status and the FPError code the picker reports;
    `headers` are what a protocol requires on that refusal (tus's 412 names the versions it speaks)."""

    def __init__(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> StoreError:
    return StoreError(400, message)


def forbidden(message: str) -> StoreError:
    return StoreError(403, message)


def not_found(message: str) -> StoreError:
    return StoreError(404, message)


async def store_error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreError)
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.code, headers=exc.headers)
