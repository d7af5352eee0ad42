"""The emulator's ASGI app: AceDataCloud's image API as documented in API.md, run locally.

Routes: ``POST /openai/images/generations``, ``POST /openai/images/edits``, ``POST /openai/tasks``,
``GET /files/<name>`` (generated images), and the admin routes under ``/_emulator/`` (``log``,
``stats``, ``callbacks``, ``faults``, ``reset``) that tests use to inject faults and count
submissions. Build it with :func:`create_app`; serve it with :func:`.run_emulator` or call it
in-process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import images, rules
from .config import SUBMISSION_PATHS, TASKS_PATH, EmulatorConfig
from .state import EmulatorState, LogEntry, Task

logger = logging.getLogger(__name__)

AUTO_SIZE = (1024, 1024)
"""What ``size: auto`` renders."""

_STATUS_CODES = {
    408: "timeout",
    409: "conflict",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_HTML_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)
_LOOPBACK_NAMES = frozenset({"localhost", "testserver"})


class ConnectionDropped(Exception):
    """Raised by the emulator to cut a connection half-way through an answer (a fault)."""


class _Refusal(Exception):
    """An answer that ends the request early: an error body or an injected fault."""

    def __init__(self, response: Response, *, fault: str | None = None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.fault = fault


class _CutShortResponse(Response):
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


@dataclass(frozen=True)
class _Context:
    """What a handler knows about the request it serves."""

    request: Request
    body: dict[str, Any]
    entry: LogEntry

    @property
    def files_base(self) -> str:
        return str(self.request.base_url).rstrip("/")


class _Emulator:
    """Route handlers bound to one :class:`EmulatorState`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.config = state.config
        self._background: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ plumbing

    @property
    def http(self) -> httpx.AsyncClient:
        """Client for callbacks and loopback image fetches (created on first use)."""
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(timeout=self.config.callback_timeout)
        return self._http

    async def shutdown(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def api_route(
        self, handler: Callable[[_Context], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an API handler with logging, faults, auth and JSON parsing."""

        async def endpoint(request: Request) -> Response:
            path = request.url.path
            entry = LogEntry(time=time.time(), method=request.method, path=path)
            self.state.log_request(entry)
            try:
                response = await self._serve(request, entry, handler)
            except _Refusal as refusal:
                entry.fault = entry.fault or refusal.fault
                response = refusal.response
            entry.status = response.status_code
            return response

        return endpoint

    async def _serve(
        self,
        request: Request,
        entry: LogEntry,
        handler: Callable[[_Context], Awaitable[Response]],
    ) -> Response:
        faults = self.state.faults
        faulty = entry.path in faults.fault_paths
        self._authenticate(request)
        # The body is read before any delay: a slow server has the request even if the
        # client stops waiting, which is what makes timeouts ambiguous.
        body = await self._json_body(request)
        if faulty and faults.response_delay:
            await asyncio.sleep(faults.response_delay)
        if faulty:
            self._inject_before_accept()
        trace_id = body.get("trace_id")
        entry.trace_id = trace_id if isinstance(trace_id, str) else None
        response = await handler(_Context(request, body, entry))
        if faulty and entry.accepted and not isinstance(response, StreamingResponse):
            response = await self._spoil_after_accept(response, entry)
        return response

    def _inject_before_accept(self) -> None:
        faults = self.state.faults
        fault = self.state.roll(faults.before_accept)
        if fault is None:
            return
        if fault.startswith("error_"):
            status = int(fault.removeprefix("error_"))
            headers = (
                {"retry-after": f"{faults.retry_after:g}"}
                if status == 429 and faults.retry_after is not None
                else None
            )
            response: Response = error_response(
                status,
                f"emulated {status} error",
                _STATUS_CODES.get(status, "error"),
                headers=headers,
            )
        elif fault == "html_error":
            response = Response(_HTML_PAGE, status_code=502, media_type="text/html")
        elif fault == "empty_body":
            response = Response(b"", status_code=502)
        else:  # string_error
            response = JSONResponse({"error": "emulated internal server error"}, status_code=500)
        raise _Refusal(response, fault=fault)

    async def _spoil_after_accept(self, response: Response, entry: LogEntry) -> Response:
        faults = self.state.faults
        fault = self.state.roll(faults.after_accept)
        if fault is None:
            return response
        entry.fault = fault
        if fault == "hang_after_accept":
            await asyncio.sleep(faults.hang_seconds)
            return response
        if fault == "drop_after_accept":
            return _CutShortResponse(response.body, status_code=200)
        return Response(response.body[: len(response.body) // 2], media_type="application/json")

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _Refusal(error_response(401, "no token was provided", "no_token"))
        if token in self.config.expired_tokens:
            raise _Refusal(error_response(401, "the token has expired", "token_expired"))
        if self.config.tokens and token not in self.config.tokens:
            raise _Refusal(error_response(401, "the token is invalid", "invalid_token"))

    async def _json_body(self, request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.config.max_request_bytes:
            raise _Refusal(error_response(413, "request body too large", "bad_request"))
        raw = await request.body()
        if len(raw) > self.config.max_request_bytes:
            raise _Refusal(error_response(413, "request body too large", "bad_request"))
        try:
            body = json.loads(raw)
        except ValueError:
            raise _Refusal(
                error_response(400, "the body must be a JSON object", "bad_request")
            ) from None
        if not isinstance(body, dict):
            raise _Refusal(error_response(400, "the body must be a JSON object", "bad_request"))
        return body

    # --------------------------------------------------------------- submissions

    async def generations(self, context: _Context) -> Response:
        job = self._validated(rules.validate_generation, context)
        return await self._submit(context, job, sources=())

    async def edits(self, context: _Context) -> Response:
        job = self._validated(rules.validate_edit, context)
        sources = await self._load_sources(context, job.images)
        return await self._submit(context, job, sources=sources)

    def _validated(
        self, validate: Callable[[dict[str, Any]], rules.ImageJob], context: _Context
    ) -> rules.ImageJob:
        try:
            job = validate(context.body)
        except rules.RuleViolation as violation:
            raise _Refusal(
                error_response(400, str(violation), "bad_request", trace_id=context.entry.trace_id)
            ) from None
        faults = self.state.faults
        if faults.balance_used_up:
            raise _Refusal(
                error_response(403, "your balance is used up", "used_up", trace_id=job.trace_id),
                fault="balance_used_up",
            )
        if faults.moderation_marker and faults.moderation_marker in job.prompt:
            raise _Refusal(
                error_response(
                    403,
                    "the prompt was refused by content moderation",
                    trace_id=job.trace_id,
                ),
                fault="moderation",
            )
        return job

    async def _submit(
        self, context: _Context, job: rules.ImageJob, sources: Sequence[Image.Image]
    ) -> Response:
        faults = self.state.faults
        outcome = (
            self.state.roll(faults.task_outcome)
            if context.entry.path in faults.fault_paths
            else None
        )
        hide_timing = self.state.roll({"missing_fields": faults.missing_fields_rate}) is not None
        task = self.state.create_task(job, dict(context.body), hide_timing)
        context.entry.accepted = True
        context.entry.task_id = task.id
        if outcome:
            context.entry.fault = outcome
        if job.stream:
            return StreamingResponse(
                self._stream(task, sources, context.files_base, outcome),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        ids = {"task_id": task.id, "trace_id": job.trace_id}
        if job.callback_url or (job.asynchronous and not self.config.force_sync):
            self._spawn(self._run_task(task, sources, context.files_base, outcome))
            return JSONResponse({k: v for k, v in ids.items() if v})
        await self._run_task(task, sources, context.files_base, outcome)
        if task.response is None:  # never finishes: the synchronous caller times out
            await asyncio.Event().wait()
        assert task.response is not None
        if task.response.get("success") is False:
            error = task.response["error"]
            return error_response(500, error["message"], error["code"], trace_id=job.trace_id)
        return JSONResponse({**task.response, **{k: v for k, v in ids.items() if v}})

    async def _load_sources(self, context: _Context, urls: Sequence[str]) -> list[Image.Image]:
        """Fetch and decode edit inputs: data: URLs, our own files, or loopback URLs only."""
        sources = []
        for position, url in enumerate(urls):
            try:
                data = await self._fetch_source(context, url)
                sources.append(
                    await anyio.to_thread.run_sync(
                        images.decode_image, data, rules.RENDER_MAX_PIXELS
                    )
                )
            except ValueError as exc:
                raise _Refusal(
                    error_response(
                        400,
                        f"image[{position}]: {exc}",
                        "bad_request",
                        trace_id=context.entry.trace_id,
                    )
                ) from None
        return sources

    async def _fetch_source(self, context: _Context, url: str) -> bytes:
        limit = self.config.max_image_bytes
        if rules.is_data_url(url):
            try:
                data = base64.b64decode(url.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("the data: URL is not valid base64") from None
            if len(data) > limit:
                raise ValueError(f"the image is larger than {limit} bytes")
            return data
        parts = urlsplit(url)
        own_host = context.request.url.netloc
        if parts.path.startswith("/files/") and parts.netloc == own_host:
            stored = self.state.file(parts.path.removeprefix("/files/"))
            if stored is None:
                raise ValueError("no such file on this emulator")
            return stored.data
        if not _is_loopback(parts.hostname or ""):
            raise ValueError(
                "the emulator fetches input images only from itself or loopback hosts; "
                "pass a data: URL instead"
            )
        try:
            async with self.http.stream("GET", url) as response:
                response.raise_for_status()
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ValueError(f"the image is larger than {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise ValueError(f"could not fetch it: {exc!r}") from None

    # --------------------------------------------------------------- life cycle

    async def _run_task(
        self, task: Task, sources: Sequence[Image.Image], base: str, outcome: str | None
    ) -> None:
        """queued → started → finished (or failed, or never), then the callback if any."""
        await asyncio.sleep(self.config.queue_delay)
        task.started_at = time.time()
        await asyncio.sleep(self.config.latency)
        if outcome == "never_finish":
            return
        if outcome == "task_failure":
            response: dict[str, Any] = _failure_response()
        else:
            rendered = await self._render(task.job, sources)
            response = self._success_response(task, rendered, base)
        self._finish(task, response)
        if task.job.callback_url:
            await self._deliver_callback(task)

    def _finish(self, task: Task, response: dict[str, Any]) -> None:
        # The response is set before finished_at, so a record is never finished and empty.
        task.response = response
        task.finished_at = time.time()

    async def _render(
        self, job: rules.ImageJob, sources: Sequence[Image.Image]
    ) -> list[images.RenderedImage]:
        width, height = job.size or AUTO_SIZE
        pictures = [
            images.Picture(
                prompt=job.prompt,
                width=width,
                height=height,
                index=index,
                output_format=job.output_format,
                quality=job.output_compression,
                transparent=job.transparent,
            )
            for index in range(job.n)
        ]

        def draw() -> list[images.RenderedImage]:
            if sources:
                return [images.render_edit(picture, sources) for picture in pictures]
            return [images.render_picture(picture) for picture in pictures]

        return await anyio.to_thread.run_sync(draw)

    def _success_response(
        self, task: Task, rendered: Sequence[images.RenderedImage], base: str
    ) -> dict[str, Any]:
        job = task.job
        data = [self._image_item(task, index, image, base) for index, image in enumerate(rendered)]
        width, height = job.size or AUTO_SIZE
        return {
            "success": True,
            "created": int(time.time()),
            "data": data,
            "size": f"{width}x{height}",
            "output_format": job.output_format,
            "quality": job.quality or "auto",
            "background": job.background or "opaque",
        }

    def _image_item(
        self, task: Task, index: int, image: images.RenderedImage, base: str
    ) -> dict[str, Any]:
        job = task.job
        item: dict[str, Any] = {}
        if job.response_format == "b64_json":
            item["b64_json"] = base64.b64encode(image.data).decode()
        else:
            name = f"{task.id}-{index}.{images.FILE_EXTENSIONS[job.output_format]}"
            self.state.store_file(name, image.data, image.mime_type)
            public = (self.config.public_base_url or base).rstrip("/")
            item["url"] = f"{public}/files/{name}"
        if job.model == "dall-e-3":
            item["revised_prompt"] = f"{job.prompt} (as rendered by the AceDataCloud emulator)"
        return item

    async def _deliver_callback(self, task: Task) -> None:
        url = task.job.callback_url
        assert url is not None
        delivery: dict[str, Any] = {"url": url, "task_id": task.id, "trace_id": task.job.trace_id}
        payload = {"task_id": task.id, "trace_id": task.job.trace_id, **(task.response or {})}
        if not (self.config.allow_external_callbacks or _is_loopback(urlsplit(url).hostname or "")):
            delivery["error"] = "refused: the emulator POSTs callbacks to loopback hosts only"
        else:
            try:
                answer = await self.http.post(url, json=payload)
                delivery["status"] = answer.status_code
            except httpx.HTTPError as exc:
                delivery["error"] = repr(exc)
        self.state.log_callback(delivery)

    async def _stream(
        self, task: Task, sources: Sequence[Image.Image], base: str, outcome: str | None
    ) -> AsyncIterator[str]:
        """OpenAI-style SSE: ``partial_image`` events, then one ``completed`` per image."""
        job = task.job
        steps = job.partial_images
        await asyncio.sleep(self.config.queue_delay)
        task.started_at = time.time()
        pause = self.config.latency / (steps + 1)
        rendered = await self._render(job, sources) if outcome is None else []
        created = int(time.time())
        width, height = job.size or AUTO_SIZE
        shape = {"size": f"{width}x{height}", "output_format": job.output_format}
        for step in range(steps if rendered else 0):
            await asyncio.sleep(pause)
            preview = await anyio.to_thread.run_sync(
                images.render_partial, rendered[0], _picture_of(job), step, steps
            )
            yield _sse(
                "image_generation.partial_image",
                b64_json=base64.b64encode(preview.data).decode(),
                partial_image_index=step,
                created_at=created,
                task_id=task.id,
                **shape,
            )
        await asyncio.sleep(pause)
        if outcome == "never_finish":
            return
        if outcome == "task_failure":
            response = _failure_response()
            self._finish(task, response)
            yield _sse("error", error=response["error"], task_id=task.id)
            return
        response = self._success_response(task, rendered, base)
        self._finish(task, response)
        if self.state.roll({"drop": self.state.faults.drop_after_accept_rate}):
            return  # the stream ends without the result; the client must recover it
        for item in response["data"]:
            yield _sse(
                "image_generation.completed", created_at=created, task_id=task.id, **shape, **item
            )

    # ------------------------------------------------------------------- tasks

    async def tasks(self, context: _Context) -> Response:
        body = context.body
        action = body.get("action")
        if action == "retrieve":
            task = self.state.task(_text(body.get("id")), _text(body.get("trace_id")))
            if task is not None:
                context.entry.task_id = task.id
            return JSONResponse(task.record() if task else {})
        if action == "retrieve_batch":
            try:
                items, count = self._batch(body)
            except ValueError as exc:
                raise _Refusal(error_response(400, str(exc), "bad_request")) from None
            return JSONResponse({"items": [task.record() for task in items], "count": count})
        raise _Refusal(
            error_response(400, "action must be 'retrieve' or 'retrieve_batch'", "bad_request")
        )

    def _batch(self, body: dict[str, Any]) -> tuple[list[Task], int]:
        ids, trace_ids = _id_set(body, "ids"), _id_set(body, "trace_ids")
        kind = body.get("type")
        if kind not in (None, "images", rules.GENERATIONS, rules.EDITS):
            raise ValueError("type must be images, images_generations or images_edits")
        low, high = _number(body, "created_at_min"), _number(body, "created_at_max")
        offset = _count(body, "offset", 0)
        limit = _count(body, "limit", 12)
        matching = [
            task
            for task in reversed(self.state.tasks())  # newest first
            if (ids is None or task.id in ids)
            and (trace_ids is None or task.job.trace_id in trace_ids)
            and (kind in (None, "images") or task.job.kind == kind)
            and (low is None or task.created_at >= low)
            and (high is None or task.created_at <= high)
        ]
        return matching[offset : offset + limit], len(matching)

    # ------------------------------------------------------------------- files and admin

    async def files(self, request: Request) -> Response:
        stored = self.state.file(request.path_params["name"])
        if stored is None:
            return error_response(404, "no such file", "not_found")
        return Response(stored.data, media_type=stored.mime_type)

    async def admin_log(self, request: Request) -> Response:
        return JSONResponse({"items": self.state.log()})

    async def admin_stats(self, request: Request) -> Response:
        stats = self.state.stats()
        stats["accepted_by_trace_id"] = self.state.accepted_by_trace_id()
        return JSONResponse(stats)

    async def admin_callbacks(self, request: Request) -> Response:
        return JSONResponse({"items": self.state.callbacks()})

    async def admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of fault settings")
                self.state.set_faults(changes)
            except ValueError as exc:
                return error_response(400, str(exc), "bad_request")
        return JSONResponse(self.state.faults.to_dict())

    async def admin_reset(self, request: Request) -> Response:
        self.state.reset(faults=request.query_params.get("keep_faults") is None)
        return JSONResponse({"reset": True})


def _picture_of(job: rules.ImageJob) -> images.Picture:
    width, height = job.size or AUTO_SIZE
    return images.Picture(
        prompt=job.prompt,
        width=width,
        height=height,
        output_format=job.output_format,
        quality=job.output_compression,
        transparent=job.transparent,
    )


def _failure_response() -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": "generation_failed", "message": "the emulated generation failed"},
    }


def _sse(event: str, **data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n"


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_set(body: dict[str, Any], field: str) -> set[str] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{field} must be a list of strings")
    return set(value)


def _number(body: dict[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number of unix seconds")
    return float(value)


def _count(body: dict[str, Any], field: str, default: int) -> int:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field} must be a non-negative integer")
    return value


def create_app(
    config: EmulatorConfig | None = None, *, state: EmulatorState | None = None
) -> Starlette:
    """Build the emulator app; its :class:`EmulatorState` is ``app.state.emulator``."""
    if state is None:
        state = EmulatorState(config or EmulatorConfig())
    elif config is not None and config is not state.config:
        raise ValueError("pass either config or state, not both")
    emulator = _Emulator(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.shutdown()

    routes = [
        Route(
            "/openai/images/generations", emulator.api_route(emulator.generations), methods=["POST"]
        ),
        Route("/openai/images/edits", emulator.api_route(emulator.edits), methods=["POST"]),
        Route(TASKS_PATH, emulator.api_route(emulator.tasks), methods=["POST"]),
        Route("/files/{name:str}", emulator.files, methods=["GET"]),
        Route("/_emulator/log", emulator.admin_log, methods=["GET"]),
        Route("/_emulator/stats", emulator.admin_stats, methods=["GET"]),
        Route("/_emulator/callbacks", emulator.admin_callbacks, methods=["GET"]),
        Route("/_emulator/faults", emulator.admin_faults, methods=["GET", "POST"]),
        Route("/_emulator/reset", emulator.admin_reset, methods=["POST"]),
    ]
    assert {route.path for route in routes} >= SUBMISSION_PATHS
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = state
    return app


__all__ = ["AUTO_SIZE", "ConnectionDropped", "create_app", "error_response"]
