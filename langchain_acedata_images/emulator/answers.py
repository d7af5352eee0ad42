"""Error answers of the emulator, in the shape and with the codes of the chosen dialect.

Body: ``{"error": {"code", "message"}, "trace_id"}``. Under ``errors=seed`` the codes are the
seed's (``internal_error``, 403 without a code for moderation) and every error carries a trace id
(the client's when it sent one and the dialect honours it, else server-made), or under
``error_trace_id=seed`` only the client's when it sent one; under ``errors=documented`` every
error carries a server-made trace id and the published codes (``forbidden``, ``api_error``,
``timeout``, ``api_not_implemented``).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from .dialect import Dialect

SEED_CODES = {
    408: "timeout",
    409: "conflict",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
"""Code of an injected error status, seed notes."""

DOCUMENTED_CODES = {**SEED_CODES, 403: "forbidden", 500: "api_error", 504: "timeout"}
"""Code of an injected error status, published documents."""

HTML_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


class ConnectionDropped(Exception):
    """Raised by the emulator to cut a connection half-way through an answer (a fault)."""


class Refusal(Exception):
    """An answer that ends the request early: an error body or an injected fault."""

    def __init__(self, response: Response, *, fault: str | None = None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.fault = fault


class CutShortResponse(Response):
    """Sends half of a JSON answer, then drops the connection (the job was already accepted)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.body)).encode()),
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": self.body[: len(self.body) // 2],
                "more_body": True,
            }
        )
        raise ConnectionDropped("emulated connection drop after the job was accepted")


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    *,
    trace_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error in the API's shape: ``{"error": {"code", "message"}, "trace_id"}``."""
    error: dict[str, str] = {"message": message}
    if code:
        error["code"] = code
    body: dict[str, Any] = {"error": error}
    if trace_id:
        body["trace_id"] = trace_id
    return JSONResponse(body, status_code=status, headers=headers)


class Errors:
    """Builds error answers for one dialect (codes and trace ids differ between variants)."""

    def __init__(self, dialect: Dialect) -> None:
        self.documented = dialect.errors == "documented"
        self._seed_trace_ids = dialect.error_trace_id == "seed"
        self._client_trace_ids = self._seed_trace_ids or dialect.trace_id == "honoured"

    def trace_id(self, client_trace_id: str | None) -> str | None:
        """The trace id an error body carries."""
        if self.documented:
            return str(uuid.uuid4())
        if client_trace_id and self._client_trace_ids:
            return client_trace_id
        return None if self._seed_trace_ids else str(uuid.uuid4())

    def answer(
        self,
        status: int,
        message: str,
        code: str | None,
        *,
        trace_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        """An error answer with this dialect's trace id."""
        return error_response(
            status, message, code, trace_id=self.trace_id(trace_id), headers=headers
        )

    def code_for(self, status: int) -> str:
        """The code of an injected error with this status."""
        codes = DOCUMENTED_CODES if self.documented else SEED_CODES
        return codes.get(status, "error")

    def refuse(
        self, status: int, message: str, code: str | None, *, trace_id: str | None = None
    ) -> Refusal:
        """A :class:`Refusal` carrying this error (``raise errors.refuse(...)``)."""
        return Refusal(self.answer(status, message, code, trace_id=trace_id))

    def bad_request(self, message: str, *, trace_id: str | None = None) -> Refusal:
        return self.refuse(400, message, "bad_request", trace_id=trace_id)

    def moderation(self, *, trace_id: str | None = None) -> Refusal:
        """403 refusal of a prompt: ``forbidden`` (documented) or without a code (seed)."""
        code = "forbidden" if self.documented else None
        message = "the prompt was refused by content moderation"
        return Refusal(self.answer(403, message, code, trace_id=trace_id), fault="moderation")

    def task_failed(self, error: dict[str, Any], *, trace_id: str | None = None) -> JSONResponse:
        """500 answer of a synchronous job that failed."""
        code = "api_error" if self.documented else error["code"]
        return self.answer(500, error["message"], code, trace_id=trace_id)

    def timeout(self, *, trace_id: str | None = None) -> JSONResponse:
        """504 ``timeout``: the job was created (and billed) but the answer gave up waiting."""
        return self.answer(504, "timed out waiting for the image", "timeout", trace_id=trace_id)


__all__ = [
    "ConnectionDropped",
    "CutShortResponse",
    "Errors",
    "Refusal",
    "error_response",
]
