"""The API routes: image generations and edits (JSON or multipart), and ``/openai/tasks``.

Every API request goes through :meth:`Api.route`: it is logged, authenticated, its body read,
faults injected, then handled; a :class:`.Refusal` anywhere ends it with its answer. The dialect
is read per request from the state, so tests can switch it on a running emulator.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from . import bodies, faults, rules
from .answers import Errors, Refusal
from .dialect import Dialect
from .sources import SourceLoader
from .state import EmulatorState, LogEntry, Owner, Task
from .tasks import TaskRunner

EDITS_PATHS = frozenset({"/openai/images/edits", "/v1/images/edits"})


@dataclass(frozen=True)
class Context:
    """What a handler knows about the request it serves."""

    request: Request
    body: bodies.Body
    entry: LogEntry
    dialect: Dialect
    errors: Errors
    owner: Owner

    @property
    def files_base(self) -> str:
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[Context], Awaitable[Response]]


class Api:
    """Route handlers bound to one :class:`EmulatorState`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.config = state.config
        self._background: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """Client for callbacks and loopback image fetches (created on first use)."""
        if self._http is None or self._http.is_closed:
            self._http = httpx.AsyncClient(timeout=self.config.callback_timeout)
        return self._http

    @property
    def runner(self) -> TaskRunner:
        return TaskRunner(self.state, self.http)

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

    def route(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an API handler with logging, faults, auth and body parsing."""

        async def endpoint(request: Request) -> Response:
            entry = LogEntry(time=time.time(), method=request.method, path=request.url.path)
            self.state.log_request(entry)
            try:
                response = await self._serve(request, entry, handler)
            except Refusal as refusal:
                entry.fault = entry.fault or refusal.fault
                response = refusal.response
            entry.status = response.status_code
            return response

        return endpoint

    async def _serve(self, request: Request, entry: LogEntry, handler: Handler) -> Response:
        dialect = self.state.dialect
        errors = Errors(dialect)
        owner = self._authenticate(request, errors)
        # The body is read before any delay: a slow server has the request even if the
        # client stops waiting, which is what makes timeouts ambiguous.
        body = await self._body(request, errors, dialect)
        faulty = entry.path in self.state.faults.fault_paths
        if faulty and self.state.faults.response_delay:
            await asyncio.sleep(self.state.faults.response_delay)
        if faulty:
            faults.inject_before_accept(self.state, errors)
        trace_id = body.fields.get("trace_id")
        entry.trace_id = trace_id if isinstance(trace_id, str) else None
        return await handler(Context(request, body, entry, dialect, errors, owner))

    def _authenticate(self, request: Request, errors: Errors) -> Owner:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.refuse(401, "no token was provided", "no_token")
        if token in self.config.expired_tokens:
            raise errors.refuse(401, "the token has expired", "token_expired")
        if self.config.tokens and token not in self.config.tokens:
            raise errors.refuse(401, "the token is invalid", "invalid_token")
        if token in self.config.mismatched_tokens:
            raise errors.refuse(400, "the token does not belong to this API", "token_mismatched")
        return Owner.of_token(token)

    async def _body(self, request: Request, errors: Errors, dialect: Dialect) -> bodies.Body:
        limit = self.config.max_request_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise errors.refuse(413, "request body too large", "bad_request")
        raw = await request.body()  # cached: the multipart parser reads it again
        if len(raw) > limit:
            raise errors.refuse(413, "request body too large", "bad_request")
        try:
            if bodies.is_multipart(request):
                if not (dialect.multipart_edits and request.url.path in EDITS_PATHS):
                    raise bodies.BodyError("the body must be a JSON object")
                return await bodies.parse_multipart(request, self.config.max_image_bytes)
            return bodies.parse_json(raw)
        except bodies.BodyError as exc:
            raise errors.bad_request(str(exc)) from None

    # --------------------------------------------------------------- submissions

    async def generations(self, context: Context) -> Response:
        job = self._validated(rules.GENERATIONS, context)
        return await self._submit(context, job, sources=[])

    async def edits(self, context: Context) -> Response:
        job = self._validated(rules.EDITS, context)
        loader = SourceLoader(self.state, self.http, context.request.url.netloc)
        try:
            sources = await loader.load(job)
        except ValueError as exc:
            raise context.errors.bad_request(str(exc), trace_id=context.entry.trace_id) from None
        return await self._submit(context, job, sources=sources)

    def _validated(self, kind: str, context: Context) -> rules.ImageJob:
        errors, trace_id = context.errors, context.entry.trace_id
        try:
            job = rules.validate(context.body.fields, kind, context.dialect)
        except rules.RuleViolation as violation:
            raise errors.bad_request(str(violation), trace_id=trace_id) from None
        if self.state.faults.balance_used_up:
            refusal = errors.refuse(403, "your balance is used up", "used_up", trace_id=trace_id)
            refusal.fault = "balance_used_up"
            raise refusal
        marker = self.state.faults.moderation_marker
        if marker and marker in job.prompt:
            raise errors.moderation(trace_id=trace_id)
        if job.trace_id is None and context.dialect.trace_id == "ignored":
            job = rules.with_trace_id(job, str(uuid.uuid4()))  # the gateway's own trace id
        return job

    async def _submit(
        self, context: Context, job: rules.ImageJob, sources: list[Image.Image]
    ) -> Response:
        state, entry = self.state, context.entry
        faulty = entry.path in state.faults.fault_paths
        outcome = state.roll(state.faults.task_outcome) if faulty else None
        hide_timing = state.roll({"missing_fields": state.faults.missing_fields_rate}) is not None
        task = state.create_task(job, context.body.stored, hide_timing, context.owner)
        entry.accepted, entry.task_id = True, task.id
        if outcome:
            entry.fault = outcome
        base = context.files_base
        if job.stream:
            return StreamingResponse(
                self.runner.stream(task, sources, base, outcome),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        spoiled = faults.roll_after_accept(state, entry) if faulty else None
        ids = {k: v for k, v in {"task_id": task.id, "trace_id": job.trace_id}.items() if v}
        background = job.callback_url or (job.asynchronous and not self.config.force_sync)
        gateway = spoiled in (faults.TIMEOUT_AFTER_ACCEPT, faults.GATEWAY_AFTER_ACCEPT)
        if background or gateway:
            run = self.runner.run(task, sources, base, outcome)
            if self.config.finish_before_answer:
                await run
            else:
                self._spawn(run)
            if spoiled == faults.TIMEOUT_AFTER_ACCEPT:
                return context.errors.timeout(trace_id=job.trace_id)
            if spoiled == faults.GATEWAY_AFTER_ACCEPT:
                return faults.gateway_page(state)
            return await faults.spoil(state, spoiled, JSONResponse(ids))
        await self.runner.run(task, sources, base, outcome)
        if task.response is None:  # never finishes: the synchronous caller times out
            await asyncio.Event().wait()
        assert task.response is not None
        if task.response.get("success") is False:
            return context.errors.task_failed(task.response["error"], trace_id=job.trace_id)
        return await faults.spoil(state, spoiled, JSONResponse({**task.response, **ids}))

    # ------------------------------------------------------------------- tasks

    async def tasks(self, context: Context) -> Response:
        body, dialect = context.body.fields, context.dialect
        action = body.get("action")
        context.entry.action = _text(action)
        context.entry.filters = sorted(key for key in body if key != "action")
        if action == "retrieve":
            task_id = _text(body.get("id"))
            task = self.state.task(task_id, _text(body.get("trace_id")))
            if task is not None and not task_id and not self._visible(task):
                task = None
            if task is not None:
                context.entry.task_id = task.id
            return JSONResponse(task.record(dialect) if task else {})
        if action == "retrieve_batch":
            try:
                items, count = self._batch(body, context.owner, dialect)
            except ValueError as exc:
                raise context.errors.bad_request(str(exc)) from None
            return JSONResponse({"items": [task.record(dialect) for task in items], "count": count})
        raise context.errors.bad_request("action must be 'retrieve' or 'retrieve_batch'")

    def _batch(
        self, body: dict[str, Any], owner: Owner, dialect: Dialect
    ) -> tuple[list[Task], int]:
        ids, trace_ids = _id_set(body, "ids"), _id_set(body, "trace_ids")
        kind = body.get("type")
        if kind not in (None, "images", rules.GENERATIONS, rules.EDITS):
            raise ValueError("type must be images, images_generations or images_edits")
        low, high = _number(body, "created_at_min"), _number(body, "created_at_max")
        offset, limit = _count(body, "offset", 0), _count(body, "limit", 12)
        owners = _owner_filter(body, dialect)
        if dialect.max_page_size:
            limit = min(limit, dialect.max_page_size)
        tasks = self.state.tasks(ids, trace_ids)  # oldest first
        if dialect.listing_order == "newest_first":
            tasks.reverse()
        matching = [
            task
            for task in tasks
            if (ids is not None or self._visible(task))
            and (ids is None or task.id in ids)
            and (trace_ids is None or task.job.trace_id in trace_ids)
            and (kind in (None, "images") or task.job.kind == kind)
            and (low is None or task.created_at >= low)
            and (high is None or task.created_at <= high)
            and all(getattr(task.owner, name) == value for name, value in owners.items())
        ]
        return matching[offset : offset + limit], len(matching)

    def _visible(self, task: Task) -> bool:
        """Whether a look-up that does not name the task's id may see it yet (``lookup_delay``)."""
        return time.time() >= task.created_at + self.state.faults.lookup_delay


def _owner_filter(body: dict[str, Any], dialect: Dialect) -> dict[str, str]:
    """The ``application_id``/``user_id`` filters, honoured under ``batch_filters=documented``."""
    if dialect.batch_filters != "documented":
        return {}
    found = {}
    for name in ("application_id", "user_id"):
        value = body.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            found[name] = value
    return found


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


__all__ = ["Api", "Context"]
