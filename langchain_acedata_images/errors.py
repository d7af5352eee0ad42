"""Exception hierarchy and the mapping of API error answers onto it.

Every error carries what a caller needs to act: HTTP status, API code, message and the
``trace_id`` / ``task_id`` that let a job be found again. None of them ever holds the token.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .models import ImageGenerationResult


class AceDataImagesError(Exception):
    """Base class of every error raised by this package."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        trace_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.trace_id = trace_id
        self.task_id = task_id

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status_code),
                ("code", self.code),
                ("task_id", self.task_id),
                ("trace_id", self.trace_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigurationError(AceDataImagesError):
    """The client is missing configuration (e.g. no API token)."""


class APIError(AceDataImagesError):
    """The API answered with an error status."""


class AuthenticationError(APIError):
    """The token is missing, invalid, expired or not valid for this resource (401)."""


class InsufficientBalanceError(APIError):
    """The account's balance is used up (``used_up``)."""


class ModerationError(APIError):
    """The prompt or image was refused by content moderation."""


class RateLimitError(APIError):
    """Too many requests (429); ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidRequestError(APIError):
    """The API rejected the request as invalid (400 ``bad_request``)."""


class ResourceDisabledError(APIError):
    """The resource or account is disabled."""


class ServerError(APIError):
    """A transient server-side failure (5xx, 408, 409).

    ``maybe_submitted`` is true when it answered a submission: a proxy may send it after the
    server took the job, so look the job up by ``trace_id`` before submitting again.
    """

    def __init__(self, message: str, *, maybe_submitted: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_submitted = maybe_submitted


class TaskNotFoundError(AceDataImagesError):
    """The API knows no task with that id / trace id."""


class TaskFailedError(AceDataImagesError):
    """The job finished without images."""


class TaskTimeoutError(AceDataImagesError):
    """The job did not finish within ``max_wait``; resume with ``task_id``/``trace_id``."""

    def __init__(self, message: str, *, waited: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.waited = waited


class TransportError(AceDataImagesError):
    """The API could not be reached, or the answer was lost or unreadable.

    ``maybe_submitted`` is true when a generation may have been created (and billed) even
    though no answer arrived: look it up by ``trace_id`` before submitting again.
    """

    def __init__(self, message: str, *, maybe_submitted: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_submitted = maybe_submitted


class MalformedAnswerError(TransportError):
    """The API answered, but in a shape this client cannot use (wrong types, missing parts).

    Raised instead of a pydantic error or a bare ``TypeError``/``OverflowError``. An answer
    to a submission means the job was accepted (and billed): find it by ``task_id`` /
    ``trace_id`` rather than submitting again.
    """

    def __init__(self, message: str, *, maybe_submitted: bool = True, **kwargs: Any) -> None:
        super().__init__(message, maybe_submitted=maybe_submitted, **kwargs)


class ImageInputError(AceDataImagesError, ValueError):
    """An image entry cannot be used: a refused local path, a missing file, a non-image."""


class ImageDownloadError(AceDataImagesError):
    """An image could not be decoded, downloaded, verified or written to disk.

    ``result`` is the unsaved result when known: the job already succeeded (and was billed),
    so its URLs / base64 data stay usable.
    """

    def __init__(
        self, message: str, *, result: ImageGenerationResult | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.result = result


TRANSIENT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_AUTH_CODES = frozenset({"invalid_token", "token_expired", "no_token", "token_mismatched"})
_SNIPPET = 200


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form; dates are ignored).

    ``inf``/``nan`` are no delay a server can mean: they give ``None`` like other junk.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """``(code, message, trace_id)`` from any error body: JSON object, bare string, HTML, empty."""
    text = response.text
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        trace_id = body.get("trace_id")
        trace = str(trace_id) if trace_id else None
        if isinstance(error, dict):
            code = error.get("code")
            message = error.get("message")
            return (str(code) if code else None, str(message) if message else None, trace)
        if isinstance(error, str) and error:
            return None, error, trace
        message = body.get("message") or body.get("detail")
        return None, str(message) if message else None, trace
    if isinstance(body, str) and body:
        return None, body, None
    if not text.strip():
        return None, None, None
    kind = "HTML page" if "<html" in text[:500].lower() else "non-JSON body"
    snippet = " ".join(text[:_SNIPPET].split())
    return None, f"unexpected {kind} from the server: {snippet!r}", None


def error_from_response(
    response: httpx.Response, *, trace_id: str | None = None, task_id: str | None = None
) -> APIError:
    """Map an error answer to the most specific :class:`APIError` subclass."""
    status = response.status_code
    code, message, body_trace = _error_fields(response)
    message = message or f"HTTP {status} {response.reason_phrase or ''}".strip()
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "trace_id": body_trace or trace_id,
        "task_id": task_id,
    }
    if status == 429 or code == "too_many_requests":
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if code == "used_up" or status == 402:
        return InsufficientBalanceError(message, **kwargs)
    if code in _AUTH_CODES or status == 401:
        return AuthenticationError(message, **kwargs)
    if code == "disabled":
        return ResourceDisabledError(message, **kwargs)
    if status == 403:
        # API.md: a 403 without a (known) code is a content moderation refusal.
        return ModerationError(message, **kwargs)
    if status == 400 or code == "bad_request" or status == 422:
        return InvalidRequestError(message, **kwargs)
    if status in TRANSIENT_STATUSES or status >= 500:
        return ServerError(message, **kwargs)
    return APIError(message, **kwargs)
