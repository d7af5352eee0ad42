"""The error tree and the mapping of error answers onto it (``errors.py``), case by case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_acedata_images import (
    AceDataImagesError,
    APIError,
    AuthenticationError,
    ImageDownloadError,
    InsufficientBalanceError,
    InvalidRequestError,
    MalformedAnswerError,
    ModerationError,
    RateLimitError,
    ResourceDisabledError,
    ServerError,
    TaskTimeoutError,
    TransportError,
)
from langchain_acedata_images.errors import error_from_response, parse_retry_after


def answer(
    status: int,
    body: Any = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    request = httpx.Request("POST", "https://api.test/openai/images/generations")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


# ------------------------------------------------------------------ the error objects


def test_str_lists_every_detail_in_order() -> None:
    error = APIError("boom", status_code=500, code="api_error", task_id="t1", trace_id="tr1")
    assert str(error) == "boom (status=500, code=api_error, task_id=t1, trace_id=tr1)"
    assert repr(error) == "APIError('boom (status=500, code=api_error, task_id=t1, trace_id=tr1)')"
    assert error.args == ("boom",)
    assert str(APIError("plain")) == "plain"
    assert repr(ServerError("plain")) == "ServerError('plain')"
    assert str(APIError("x", status_code=0)) == "x (status=0)"  # 0 is a value, None is not
    assert str(APIError("x", trace_id="tr")) == "x (trace_id=tr)"


def test_subclasses_keep_every_field() -> None:
    limited = RateLimitError("slow", retry_after=2.5, status_code=429, code="c", trace_id="tr")
    assert (limited.retry_after, limited.status_code, limited.code, limited.trace_id) == (
        2.5,
        429,
        "c",
        "tr",
    )
    assert str(limited) == "slow (status=429, code=c, trace_id=tr)"
    timeout = TaskTimeoutError("late", waited=12.0, task_id="t")
    assert (timeout.waited, timeout.task_id) == (12.0, "t")
    lost = TransportError("lost", maybe_submitted=True, trace_id="tr")
    assert (lost.maybe_submitted, lost.trace_id) == (True, "tr")
    assert TransportError("x").maybe_submitted is False
    malformed = MalformedAnswerError("odd", task_id="t")
    assert malformed.maybe_submitted is True
    assert isinstance(malformed, TransportError)
    assert MalformedAnswerError("odd", maybe_submitted=False).maybe_submitted is False
    download = ImageDownloadError("disk", task_id="t")
    assert download.result is None
    assert download.task_id == "t"


# ------------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("1e3", 1000.0),
        ("inf", None),
        ("Infinity", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


# ------------------------------------------------------------------- status and code

MAPPING: list[tuple[int, dict[str, Any] | None, type[APIError]]] = [
    (429, None, RateLimitError),  # a gateway's bare 429: honour Retry-After, never recover
    (400, {"error": {"code": "too_many_requests"}}, RateLimitError),
    (200, {"error": {"code": "too_many_requests"}}, RateLimitError),
    (402, None, InsufficientBalanceError),
    (403, {"error": {"code": "used_up"}}, InsufficientBalanceError),
    (401, None, AuthenticationError),
    (401, {"error": {"code": "something_new"}}, AuthenticationError),
    (400, {"error": {"code": "token_mismatched"}}, AuthenticationError),
    (403, {"error": {"code": "invalid_token"}}, AuthenticationError),
    (400, {"error": {"code": "token_expired"}}, AuthenticationError),
    (400, {"error": {"code": "no_token"}}, AuthenticationError),
    (403, {"error": {"code": "disabled"}}, ResourceDisabledError),
    (403, None, ModerationError),
    (403, {"error": {"code": "forbidden"}}, ModerationError),
    (400, None, InvalidRequestError),
    (422, None, InvalidRequestError),
    (409, {"error": {"code": "bad_request"}}, InvalidRequestError),
    (404, {"error": {"code": "bad_request"}}, InvalidRequestError),
    (408, None, ServerError),
    (409, None, ServerError),
    (500, None, ServerError),
    (502, None, ServerError),
    (503, None, ServerError),
    (504, {"error": {"code": "timeout"}}, ServerError),
    (501, None, ServerError),
    (599, None, ServerError),
    (404, None, APIError),
    (418, None, APIError),
    (430, None, APIError),
]


@pytest.mark.parametrize(("status", "body", "kind"), MAPPING)
def test_status_and_code_map_to_the_most_specific_error(
    status: int, body: dict[str, Any] | None, kind: type[APIError]
) -> None:
    error = error_from_response(answer(status, body), trace_id="mine", task_id="t9")
    assert type(error) is kind
    assert (error.status_code, error.trace_id, error.task_id) == (status, "mine", "t9")


def test_rate_limit_keeps_retry_after_and_every_field() -> None:
    error = error_from_response(
        answer(429, {"trace_id": "srv"}, headers={"Retry-After": "7"}), trace_id="mine"
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert (error.status_code, error.trace_id, error.message) == (
        429,
        "srv",
        "HTTP 429 Too Many Requests",
    )
    bare = error_from_response(answer(429))
    assert isinstance(bare, RateLimitError)
    assert bare.retry_after is None


# --------------------------------------------------------------------- body shapes


@pytest.mark.parametrize(
    ("body", "code", "message", "trace_id"),
    [
        (
            {"error": {"code": "bad_request", "message": "no"}, "trace_id": "srv"},
            "bad_request",
            "no",
            "srv",
        ),
        ({"error": {"code": "bad_request"}}, "bad_request", "HTTP 400 Bad Request", "mine"),
        ({"error": {"message": "only text"}, "trace_id": 123}, None, "only text", "123"),
        (
            {"error": {"code": "", "message": ""}, "trace_id": ""},
            None,
            "HTTP 400 Bad Request",
            "mine",
        ),
        ({"error": "a bare string"}, None, "a bare string", "mine"),
        ({"error": "", "message": "from message"}, None, "from message", "mine"),
        ({"message": "from message"}, None, "from message", "mine"),
        ({"detail": "from detail"}, None, "from detail", "mine"),
        ({"message": "", "detail": "from detail"}, None, "from detail", "mine"),
        ({"message": "first", "detail": "second"}, None, "first", "mine"),
        ({"message": 42}, None, "42", "mine"),
        ({}, None, "HTTP 400 Bad Request", "mine"),
    ],
)
def test_error_bodies(body: dict[str, Any], code: str | None, message: str, trace_id: str) -> None:
    error = error_from_response(answer(400, body), trace_id="mine")
    assert (error.code, error.message, error.trace_id) == (code, message, trace_id)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"plain JSON string"', "plain JSON string"),
        ('""', "unexpected non-JSON body from the server: '\"\"'"),
        ("", "HTTP 502 Bad Gateway"),
        ("   \n ", "HTTP 502 Bad Gateway"),
        (
            "<HTML><body>Bad   gateway\n</body></HTML>",
            "unexpected HTML page from the server: '<HTML><body>Bad gateway </body></HTML>'",
        ),
        (
            "upstream connect error",
            "unexpected non-JSON body from the server: 'upstream connect error'",
        ),
        ("[1, 2]", "unexpected non-JSON body from the server: '[1, 2]'"),
    ],
)
def test_non_object_bodies(text: str, message: str) -> None:
    error = error_from_response(answer(502, text=text), trace_id="mine")
    assert isinstance(error, ServerError)
    assert (error.code, error.message, error.trace_id) == (None, message, "mine")


def test_html_is_recognised_in_the_first_500_characters_only() -> None:
    late = "x" * 496 + "<html>"  # "<html" ends at character 501
    error = error_from_response(answer(502, text=late))
    assert error.message.startswith("unexpected non-JSON body from the server: 'xxx")
    early = "x" * 495 + "<html>"
    assert error_from_response(answer(502, text=early)).message.startswith("unexpected HTML page")


def test_snippets_are_clipped_to_200_characters() -> None:
    error = error_from_response(answer(500, text="y" * 1000))
    assert error.message == f"unexpected non-JSON body from the server: {'y' * 200!r}"


def test_a_status_without_reason_phrase() -> None:
    assert error_from_response(answer(599)).message == "HTTP 599"
    assert error_from_response(answer(422)).message == "HTTP 422 Unprocessable Entity"


def test_every_error_is_a_package_error() -> None:
    for _, _, kind in MAPPING:
        assert issubclass(kind, AceDataImagesError)
