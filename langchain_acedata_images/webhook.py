"""An optional ASGI receiver for AceDataCloud's callback POSTs (needs the ``emulator`` extra,
for Starlette; the package itself never imports this module).

When the *developer* gives the client a ``callback_url`` that reaches this receiver, every
job the client submits carries it, and a waiting call returns as soon as its callback arrives;
polling continues as the fallback, more slowly once callbacks are seen arriving.

A callback is an unauthenticated POST from the internet, so by default it only *wakes* the
poller: the job is checked at once over the authenticated API, and the body is not trusted.
With a ``secret`` (put it in the callback URL's query, ``?token=<secret>``), callbacks
carrying it are trusted and resolve the waiting call from their body directly; others are
refused with 403.

Both callback body dialects are understood: *flat* (the synchronous answer plus ``task_id``
and ``trace_id``) and *nested* (``{"success", "task_id", "trace_id", "data": {"created",
"data": [...]}}``).

    receiver = CallbackReceiver(client, secret="s3cret")
    app = Starlette(routes=[receiver.route("/acedata/callback")])
    client = AceDataImagesClient(callback_url="https://me.example/acedata/callback?token=s3cret")
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any, Protocol

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .models import TaskRecord

#: Largest callback body read (base64 answers of 4K images are big).
DEFAULT_MAX_BODY_BYTES = 64 * 2**20


class CallbackSink(Protocol):
    """What the receiver hands callbacks to (the client)."""

    def resolve_callback(self, task_id: str, record: TaskRecord | None = None) -> None: ...


def callback_record(body: Any, received_at: float | None = None) -> TaskRecord | None:
    """The finished task a callback body describes (either dialect), or ``None`` if it is not
    a callback. ``finished_at`` is when it was received."""
    if not isinstance(body, dict):
        return None
    task_id = body.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        return None
    inner = body.get("data")
    if isinstance(inner, dict):  # nested: the answer sits under "data"
        response = dict(inner)
        for name in ("success", "error"):
            if name in body:
                response.setdefault(name, body[name])
    else:  # flat: the answer itself, plus the ids
        response = {key: value for key, value in body.items() if key not in ("task_id", "trace_id")}
    trace_id = body.get("trace_id")
    return TaskRecord(
        id=task_id,
        trace_id=trace_id if isinstance(trace_id, str) else None,
        response=response,
        finished_at=time.time() if received_at is None else received_at,
    )


class CallbackReceiver:
    """Turns callback POSTs into finished waits of ``client`` (see the module docstring)."""

    def __init__(
        self,
        client: CallbackSink,
        *,
        secret: str | SecretStr | None = None,
        secret_param: str = "token",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._client = client
        self._secret = SecretStr(secret) if isinstance(secret, str) else secret
        self._secret_param = secret_param
        self._max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        secret = "set" if self._secret else "none"
        return f"{type(self).__name__}(secret=<{secret}>)"

    def route(self, path: str = "/acedata/callback") -> Route:
        """A Starlette ``Route`` accepting callback POSTs at ``path``."""
        return Route(path, self.endpoint, methods=["POST"])

    async def endpoint(self, request: Request) -> Response:
        """Handle one callback POST."""
        trusted = False
        if self._secret is not None:
            given = request.query_params.get(self._secret_param, "")
            expected = self._secret.get_secret_value()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"error": "forbidden"}, status_code=403)
            trusted = True
        body = await self._read(request)
        if body is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            record = callback_record(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            record = None
        if record is None or record.id is None:
            return JSONResponse({"error": "not a task callback"}, status_code=400)
        self._client.resolve_callback(record.id, record if trusted else None)
        return JSONResponse({"received": True})

    async def _read(self, request: Request) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


__all__ = ["CallbackReceiver", "CallbackSink", "callback_record"]
