"""The AceDataCloud image API client: pooled sync and async HTTP, submit, poll, recover.

Every operation is written once as a *flow*: a generator that yields I/O steps (send a
request, sleep, report progress) and receives their outcome. :meth:`AceDataImagesClient._drive`
runs a flow with ``httpx.Client`` and ``time.sleep``; :meth:`AceDataImagesClient._adrive` with
``httpx.AsyncClient`` and ``asyncio.sleep``. Request building, answer parsing, retries and the
polling policy are therefore shared exactly by both paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import httpx
from pydantic import BaseModel, Field, SecretStr

from .errors import (
    AceDataImagesError,
    APIError,
    ConfigurationError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    TransportError,
    error_from_response,
)
from .models import (
    ALLOW_UNKNOWN_MODELS,
    EditImageInput,
    GeneratedImage,
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    TaskList,
    TaskQuery,
    TaskRecord,
    _ImageRequestBase,
)
from .polling import PollSchedule, RetryPolicy

logger = logging.getLogger(__name__)

TOKEN_ENV = "ACEDATACLOUD_API_TOKEN"
BASE_URL_ENV = "ACEDATACLOUD_API_BASE_URL"
SAVE_DIR_ENV = "ACEDATACLOUD_IMAGES_SAVE_DIR"
DEFAULT_BASE_URL = "https://api.acedata.cloud"
GENERATIONS_PATH = "/openai/images/generations"
EDITS_PATH = "/openai/images/edits"
TASKS_PATH = "/openai/tasks"

#: Submissions answer at once (``async: true``); polls are small. Connect fails fast.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

T = TypeVar("T")
R = TypeVar("R", bound="ImageGenerationResult | ImageTask")
_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class ProgressEvent(BaseModel):
    """What happened while a job ran; handed to ``on_progress`` callbacks."""

    kind: Literal["submitted", "poll", "partial_image", "finished"]
    elapsed: float
    task_id: str | None = None
    trace_id: str | None = None
    status: str | None = None
    poll: int | None = None
    partial_image_index: int | None = None
    b64_json: str | None = Field(default=None, repr=False)


ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]


# ----------------------------------------------------------------------------- I/O steps


@dataclass
class _Send:
    request: httpx.Request
    stream: bool = False


@dataclass
class _Sleep:
    seconds: float


@dataclass
class _Emit:
    event: ProgressEvent


@dataclass
class _NextLine:
    """Read the next line of a streamed answer (``None`` at its end)."""

    response: httpx.Response


@dataclass
class _Close:
    """Release a streamed answer."""

    response: httpx.Response


@dataclass
class _Read:
    """Read a streamed answer to its end (when it turned out not to be an event stream)."""

    response: httpx.Response


_Step = _Send | _Sleep | _Emit | _NextLine | _Close | _Read
Flow = Generator[_Step, Any, T]

# Errors raised before a byte of the request could reach the server: safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Gateway timeouts: the server behind the gateway may still create the job.
_GATEWAY_TIMEOUTS = frozenset({408, 504})
# Errors after (part of) the request was sent: the job may exist.
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def new_trace_id() -> str:
    """A fresh client-chosen id that lets a submission be found again."""
    return f"lcai-{uuid.uuid4().hex}"


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; a truncated, malformed or non-object body is a TransportError."""
    try:
        answer = response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransportError(
            f"the API answered HTTP {response.status_code} with a body that is not valid JSON"
        ) from exc
    if not isinstance(answer, dict):
        raise TransportError("the API answered with JSON that is not an object")
    return answer


@dataclass
class _Job:
    """State of one generation/edit from submission to result."""

    request: _ImageRequestBase
    trace_id: str
    started: float
    deadline: float
    task_id: str | None = None


class AceDataImagesClient:
    """Typed client for AceDataCloud's OpenAI-compatible image API.

    One pooled ``httpx.Client`` and one ``httpx.AsyncClient`` are created on first use and
    reused; close them with :meth:`close` / :meth:`aclose` or use the client as a (async)
    context manager. The token comes from ``api_token`` or ``$ACEDATACLOUD_API_TOKEN`` and is
    only read when the first request is built.
    """

    def __init__(
        self,
        api_token: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        poll_schedule: PollSchedule | None = None,
        retry_policy: RetryPolicy | None = None,
        max_wait: float = 600.0,
        max_poll_failures: int = 8,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        max_connections: int = 100,
        save_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if api_token is None:
            env_token = os.environ.get(TOKEN_ENV)
            api_token = env_token or None
        self._api_token: SecretStr | None = (
            SecretStr(api_token) if isinstance(api_token, str) else api_token
        )
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.poll_schedule = poll_schedule or PollSchedule()
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_wait = max_wait
        self.max_poll_failures = max_poll_failures
        self.save_dir = save_dir if save_dir is not None else os.environ.get(SAVE_DIR_ENV) or None
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http_client = http_client
        self._given_async_client = http_async_client
        # An AsyncClient's connections belong to the event loop that opened them, and
        # notebooks/scripts may call asyncio.run() many times: keep one pool per loop.
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()
        self._pool_closers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()
        # Caller-supplied clients are the caller's to close.
        self._owns_http_client = http_client is None
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], None] = time.sleep
        self._async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __repr__(self) -> str:
        token = "set" if self._api_token else "missing"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_token=<{token}>)"

    @property
    def has_token(self) -> bool:
        return self._api_token is not None and bool(self._api_token.get_secret_value())

    # ------------------------------------------------------------------ pooled HTTP clients

    @property
    def http_client(self) -> httpx.Client:
        """The shared sync ``httpx.Client`` (created on first use)."""
        if self._http_client is None:
            with self._lock:
                if self._http_client is None:
                    pool = httpx.Client(timeout=self.timeout, limits=self._limits)
                    # A client dropped without close() (e.g. inside a tool) still frees its
                    # sockets when it is collected.
                    weakref.finalize(self, pool.close)
                    self._http_client = pool
        return self._http_client

    @property
    def http_async_client(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` of the running event loop (created on first use)."""
        if self._given_async_client is not None:
            return self._given_async_client
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            with self._lock:
                # Pools of finished loops can no longer be closed; let them be collected.
                for dead in [old for old in self._async_clients if old.is_closed()]:
                    del self._async_clients[dead]
                client = self._async_clients.get(loop)
                if client is None:
                    client = httpx.AsyncClient(timeout=self.timeout, limits=self._limits)
                    self._async_clients[loop] = client
                    self._pool_closers[loop] = _close_when_loop_ends(client)
        return client

    def close(self) -> None:
        """Close the sync pool, and async pools whose event loop is idle (not running)."""
        if self._http_client is not None and self._owns_http_client:
            self._http_client.close()
            self._http_client = None
        for loop, client in list(self._async_clients.items()):
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(client.aclose())
                self._async_clients.pop(loop, None)
                self._pool_closers.pop(loop, None)

    async def aclose(self) -> None:
        """Close the sync pool and the async pool of the running event loop."""
        self.close()
        loop = asyncio.get_running_loop()
        client = self._async_clients.pop(loop, None)
        self._pool_closers.pop(loop, None)
        if client is not None:
            await client.aclose()

    def __enter__(self) -> AceDataImagesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> AceDataImagesClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------ public API

    def generate(
        self,
        request: GenerateImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Generate images; returns the result, or an :class:`ImageTask` when not waiting.

        ``request`` is a :class:`GenerateImageInput`, a mapping of its fields, or omitted in
        favour of keyword arguments (``client.generate(prompt="a fox", size="1536x1024")``).
        With ``save_dir`` (or the client's ``save_dir``) the images are also written to disk
        and their paths set on the result. ``max_wait`` overrides the client's for this call.
        """
        job = self._new_job(GenerateImageInput, request, params, trace_id, max_wait)
        outcome = self._drive(self._image_flow(GENERATIONS_PATH, job, wait), on_progress)
        return self._save(outcome, save_dir)

    async def agenerate(
        self,
        request: GenerateImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`generate`."""
        job = self._new_job(GenerateImageInput, request, params, trace_id, max_wait)
        outcome = await self._adrive(self._image_flow(GENERATIONS_PATH, job, wait), on_progress)
        return await self._asave(outcome, save_dir)

    def edit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Edit image(s) given by URL; same waiting, saving and result as :meth:`generate`."""
        job = self._new_job(EditImageInput, request, params, trace_id, max_wait)
        outcome = self._drive(self._image_flow(EDITS_PATH, job, wait), on_progress)
        return self._save(outcome, save_dir)

    async def aedit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`edit`."""
        job = self._new_job(EditImageInput, request, params, trace_id, max_wait)
        outcome = await self._adrive(self._image_flow(EDITS_PATH, job, wait), on_progress)
        return await self._asave(outcome, save_dir)

    def get_task(
        self, task_id: str | None = None, *, trace_id: str | None = None
    ) -> TaskRecord | None:
        """The task record by id or trace id, or ``None`` when the API knows no such task."""
        return self._drive(self._lookup_flow(task_id, trace_id))

    async def aget_task(
        self, task_id: str | None = None, *, trace_id: str | None = None
    ) -> TaskRecord | None:
        """Async :meth:`get_task`."""
        return await self._adrive(self._lookup_flow(task_id, trace_id))

    def list_tasks(self, query: TaskQuery | None = None, **filters: Any) -> TaskList:
        """Tasks matching ``retrieve_batch`` filters (ids, trace_ids, type, paging, time window)."""
        return self._drive(self._list_flow(query or TaskQuery(**filters)))

    async def alist_tasks(self, query: TaskQuery | None = None, **filters: Any) -> TaskList:
        """Async :meth:`list_tasks`."""
        return await self._adrive(self._list_flow(query or TaskQuery(**filters)))

    def wait_for_task(
        self,
        task_id: str | None = None,
        *,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> ImageGenerationResult:
        """Poll a submitted job until it finishes (resume after a :class:`TaskTimeoutError`)."""
        result = self._drive(self._resume_flow(task_id, trace_id, max_wait), on_progress)
        return self._save(result, save_dir)

    async def await_task(
        self,
        task_id: str | None = None,
        *,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImageGenerationResult:
        """Async :meth:`wait_for_task`."""
        result = await self._adrive(self._resume_flow(task_id, trace_id, max_wait), on_progress)
        return await self._asave(result, save_dir)

    # ------------------------------------------------------------------------- saving

    def _save_target(
        self, save_dir: str | os.PathLike[str] | None
    ) -> str | os.PathLike[str] | None:
        return save_dir if save_dir is not None else self.save_dir

    def _save(self, outcome: R, save_dir: str | os.PathLike[str] | None) -> R:
        target = self._save_target(save_dir)
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import save_images

        return cast(R, save_images(outcome, target, http_client=self.http_client))

    async def _asave(self, outcome: R, save_dir: str | os.PathLike[str] | None) -> R:
        target = self._save_target(save_dir)
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import asave_images

        return cast(R, await asave_images(outcome, target, http_client=self.http_async_client))

    # ------------------------------------------------------------------ request building

    def _headers(self) -> dict[str, str]:
        if not self.has_token:
            raise ConfigurationError(
                f"No AceDataCloud API token: set the {TOKEN_ENV} environment variable or pass "
                "api_token= to the client/tool"
            )
        assert self._api_token is not None
        return {
            "authorization": f"Bearer {self._api_token.get_secret_value()}",
            "content-type": "application/json",
            "accept": "application/json",
        }

    def _api_error(
        self, response: httpx.Response, *, trace_id: str | None, task_id: str | None = None
    ) -> APIError:
        """The error of an answer, without the token should the server quote it back."""
        error = error_from_response(response, trace_id=trace_id, task_id=task_id)
        token = self._api_token.get_secret_value() if self._api_token else ""
        if token and token in error.message:
            error.message = error.message.replace(token, "<redacted>")
            error.args = (error.message,)
        return error

    def _request(
        self, path: str, body: Mapping[str, Any], *, stream: bool = False
    ) -> httpx.Request:
        headers = self._headers()
        if stream:
            headers["accept"] = "text/event-stream, application/json"
        return httpx.Request(
            "POST",
            self.base_url + path,
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers=headers,
        )

    def _new_job(
        self,
        model: type[_ImageRequestBase],
        request: _ImageRequestBase | Mapping[str, Any] | None,
        params: Mapping[str, Any],
        trace_id: str | None,
        max_wait: float | None = None,
    ) -> _Job:
        validated: _ImageRequestBase
        if isinstance(request, model) and not params:
            validated = request
        else:
            data = (
                request.model_dump(exclude_unset=True)
                if isinstance(request, _ImageRequestBase)
                else dict(request or {})
            )
            validated = model.model_validate(
                {**data, **params}, context={ALLOW_UNKNOWN_MODELS: True}
            )
        self._headers()  # fail fast on a missing token, before any I/O
        now = self._clock()
        wait = self.max_wait if max_wait is None else max_wait
        return _Job(validated, trace_id or new_trace_id(), started=now, deadline=now + wait)

    # ------------------------------------------------------------------------ the flows

    def _image_flow(
        self, path: str, job: _Job, wait: bool
    ) -> Flow[ImageGenerationResult | ImageTask]:
        request = job.request
        body = request.to_body()
        body["trace_id"] = job.trace_id
        callback = request.callback_url is not None
        stream = wait and not callback and bool(getattr(request, "partial_images", 0))
        if stream:
            body["stream"] = True
        else:
            body["async"] = True
        answer = yield from self._submit(path, body, job, stream=stream)
        if isinstance(answer, httpx.Response):
            return (yield from self._read_stream(answer, job))
        if isinstance(answer, TaskRecord):
            record = answer
            job.task_id = record.id or job.task_id
            if record.finished or not wait or callback:
                return self._finish_or_handle(record, job, wait and not callback)
        else:
            if answer.get("data") is not None:
                result = self._result(answer, job)
                yield _Emit(self._event(job, "finished", status="succeeded"))
                return result
            task_id = answer.get("task_id")
            if not task_id:
                raise APIError(
                    "the API answered without images and without a task_id",
                    trace_id=job.trace_id,
                )
            job.task_id = str(task_id)
        yield _Emit(self._event(job, "submitted", status="submitted"))
        if not wait or callback:
            return ImageTask(
                task_id=job.task_id,
                trace_id=job.trace_id,
                status="submitted",
                callback_url=request.callback_url,
            )
        return (yield from self._poll(job))

    def _finish_or_handle(
        self, record: TaskRecord, job: _Job, wait: bool
    ) -> ImageGenerationResult | ImageTask:
        if wait:
            return self._result_from_record(record, job)
        return ImageTask(
            task_id=record.id,
            trace_id=job.trace_id,
            status=record.status,
            callback_url=job.request.callback_url,
        )

    def _submit(
        self, path: str, body: dict[str, Any], job: _Job, *, stream: bool
    ) -> Flow[dict[str, Any] | TaskRecord | httpx.Response]:
        """POST a job without ever creating it twice.

        Resent only when the request provably created nothing: a connect error, a 429, or a
        failure after which a look-up by ``trace_id`` found no task.
        """
        attempt = 0
        while True:
            attempt += 1
            may_retry = attempt <= self.retry_policy.max_retries
            retry_after: float | None = None
            try:
                response: httpx.Response = yield _Send(
                    self._request(path, body, stream=stream), stream=stream
                )
            except _NOT_SENT as exc:
                if not may_retry or not self._time_left(job):
                    raise TransportError(
                        f"could not connect to {self.base_url}: {exc!r}", trace_id=job.trace_id
                    ) from exc
            except _MAYBE_SENT as exc:
                record = yield from self._recover(job, exc)
                if record is not None:
                    return record
                if not may_retry:
                    raise TransportError(
                        f"the submission failed ({exc!r}) and the API has no task for it",
                        trace_id=job.trace_id,
                    ) from exc
            else:
                if stream:
                    if response.is_success and response.headers.get("content-type", "").startswith(
                        "text/event-stream"
                    ):
                        return response
                    # Not a stream (an error, or a server that ignores `stream`): read it whole.
                    yield _Read(response)
                if response.is_success:
                    try:
                        answer: dict[str, Any] = _json_object(response)
                        return answer
                    except TransportError as exc:
                        # The job was accepted but its answer is unreadable: find it by trace_id.
                        record = yield from self._recover(job, exc)
                        if record is not None:
                            return record
                        raise TransportError(
                            f"{exc.message}, and no task exists for it", trace_id=job.trace_id
                        ) from exc
                error = self._api_error(response, trace_id=job.trace_id)
                if isinstance(error, RateLimitError):
                    retry_after = error.retry_after
                elif isinstance(error, ServerError):
                    # A 5xx/408/409 may come from a proxy after the server took the job.
                    record = yield from self._recover(job, error)
                    if record is not None:
                        return record
                else:
                    raise error
                if not may_retry or not self._time_left(job):
                    raise error
            delay = self.retry_policy.delay(attempt, retry_after)
            logger.info("resubmitting %s (attempt %d) in %.2fs", job.trace_id, attempt + 1, delay)
            yield _Sleep(min(delay, max(0.0, job.deadline - self._clock())))

    def _recover(self, job: _Job, cause: Exception) -> Flow[TaskRecord | None]:
        """After an ambiguous submission, ask the API whether a task with our trace_id exists.

        When the server may still be working on the request (we timed out, or a gateway did),
        a miss is not proof: look again until ``retry_policy.settle_time`` has passed.
        """
        logger.info("submission %s ended ambiguously (%r); looking it up", job.trace_id, cause)
        still_in_flight = isinstance(cause, httpx.TimeoutException) or (
            isinstance(cause, ServerError) and cause.status_code in _GATEWAY_TIMEOUTS
        )
        settle_until = self._clock() + (self.retry_policy.settle_time if still_in_flight else 0.0)
        looks = 0
        try:
            while True:
                record = yield from self._lookup_flow(None, job.trace_id)
                now = self._clock()
                if record is not None or now >= settle_until:
                    return record
                yield _Sleep(min(self.poll_schedule.interval(looks), settle_until - now))
                looks += 1
        except AceDataImagesError as exc:
            raise TransportError(
                f"the submission's outcome is unknown ({cause!r}) and looking it up failed "
                f"({exc.message}); find it with get_task(trace_id=...) before submitting again",
                trace_id=job.trace_id,
                maybe_submitted=True,
            ) from exc

    def _lookup_flow(self, task_id: str | None, trace_id: str | None) -> Flow[TaskRecord | None]:
        """One ``retrieve``, retried on transient failures (it is idempotent)."""
        if not task_id and not trace_id:
            raise ValueError("pass task_id or trace_id")
        body: dict[str, Any] = {"action": "retrieve"}
        if task_id:
            body["id"] = task_id
        else:
            body["trace_id"] = trace_id
        answer = yield from self._call_idempotent(body, task_id=task_id, trace_id=trace_id)
        if not answer:
            return None
        return TaskRecord.model_validate(answer)

    def _list_flow(self, query: TaskQuery) -> Flow[TaskList]:
        answer = yield from self._call_idempotent(query.to_body())
        return TaskList.model_validate(answer or {})

    def _call_idempotent(
        self, body: dict[str, Any], *, task_id: str | None = None, trace_id: str | None = None
    ) -> Flow[dict[str, Any]]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return (yield from self._post_json(TASKS_PATH, body, task_id, trace_id))
            except (TransportError, ServerError, RateLimitError) as exc:
                if attempt > self.retry_policy.max_retries:
                    raise
                retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
                yield _Sleep(self.retry_policy.delay(attempt, retry_after))

    def _post_json(
        self, path: str, body: dict[str, Any], task_id: str | None, trace_id: str | None
    ) -> Flow[dict[str, Any]]:
        try:
            response = yield _Send(self._request(path, body))
        except httpx.HTTPError as exc:
            raise TransportError(
                f"request to {self.base_url}{path} failed: {exc!r}",
                task_id=task_id,
                trace_id=trace_id,
            ) from exc
        if not response.is_success:
            raise self._api_error(response, trace_id=trace_id, task_id=task_id)
        return _json_object(response)

    def _poll(self, job: _Job) -> Flow[ImageGenerationResult]:
        """Poll the task with the adaptive schedule until it finishes or the deadline passes."""
        polls = failures = 0
        retry_after: float | None = None
        while True:
            remaining = job.deadline - self._clock()
            if remaining <= 0:
                waited = self._clock() - job.started
                raise TaskTimeoutError(
                    f"the image job did not finish within {waited:.0f}s; resume with "
                    "wait_for_task(task_id) or look it up later",
                    waited=waited,
                    task_id=job.task_id,
                    trace_id=job.trace_id,
                )
            yield _Sleep(
                self.poll_schedule.next_wait(polls, remaining=remaining, retry_after=retry_after)
            )
            retry_after = None
            try:
                answer = yield from self._post_json(
                    TASKS_PATH, {"action": "retrieve", "id": job.task_id}, job.task_id, job.trace_id
                )
            except (TransportError, ServerError, RateLimitError) as exc:
                failures += 1
                if failures > self.max_poll_failures:
                    raise
                if isinstance(exc, RateLimitError):
                    retry_after = exc.retry_after
                logger.info("poll of %s failed (%d): %s", job.task_id, failures, exc)
                continue
            failures = 0
            polls += 1
            record = TaskRecord.model_validate(answer) if answer else None
            status = record.status if record else "unknown"
            yield _Emit(self._event(job, "poll", status=status, poll=polls))
            if record is not None and record.finished:
                result = self._result_from_record(record, job)
                yield _Emit(self._event(job, "finished", status="succeeded"))
                return result

    def _resume_flow(
        self, task_id: str | None, trace_id: str | None, max_wait: float | None
    ) -> Flow[ImageGenerationResult]:
        record = yield from self._lookup_flow(task_id, trace_id)
        if record is None:
            raise TaskNotFoundError("no image task found", task_id=task_id, trace_id=trace_id)
        now = self._clock()
        job = _Job(
            _request_of(record),
            trace_id=record.trace_id or trace_id or "",
            started=now,
            deadline=now + (self.max_wait if max_wait is None else max_wait),
            task_id=record.id or task_id,
        )
        if record.finished:
            return self._result_from_record(record, job)
        return (yield from self._poll(job))

    def _read_stream(self, response: httpx.Response, job: _Job) -> Flow[ImageGenerationResult]:
        """Read the streamed answer; if it breaks off, the job exists: recover it by trace_id."""
        result: ImageGenerationResult | None = None
        try:
            result = yield from self._parse_sse(response, job)
        except (httpx.HTTPError, ValueError) as exc:
            logger.info("stream of %s broke (%r); recovering by trace_id", job.trace_id, exc)
        yield _Close(response)
        if result is not None:
            return result
        record = yield from self._recover(job, TransportError("stream ended early"))
        if record is None:
            raise TransportError(
                "the streamed answer ended without an image and no task exists for it",
                trace_id=job.trace_id,
            )
        job.task_id = record.id or job.task_id
        if record.finished:
            return self._result_from_record(record, job)
        return (yield from self._poll(job))

    def _parse_sse(self, response: httpx.Response, job: _Job) -> Flow[ImageGenerationResult | None]:
        """OpenAI-style SSE: partial images become progress events; ``completed`` ones the result.

        One ``completed`` event arrives per image; the result is returned once all ``n`` have
        arrived (or the stream ends with at least one). ``None`` means the stream ended early.
        """
        event_name = ""
        completed: list[dict[str, Any]] = []
        expected = getattr(job.request, "n", None) or 1
        while (line := (yield _NextLine(response))) is not None:
            if line.startswith("event:"):
                event_name = line[6:].strip()
                continue
            if not line.startswith("data:"):
                continue
            payload = json.loads(line[5:].strip())
            kind = payload.get("type") or event_name
            job.task_id = payload.get("task_id") or job.task_id
            if kind == "image_generation.partial_image":
                yield _Emit(
                    self._event(
                        job,
                        "partial_image",
                        status="running",
                        partial_image_index=payload.get("partial_image_index"),
                        b64_json=payload.get("b64_json"),
                    )
                )
            elif kind == "image_generation.completed":
                completed.append(payload)
                if len(completed) >= expected:
                    break
            elif kind == "error":
                record = TaskRecord(id=job.task_id, response=payload, finished_at=0.0)
                return self._result_from_record(record, job)  # raises TaskFailedError
        if not completed:
            return None
        answer = {
            "created": completed[0].get("created_at"),
            "data": [
                {k: item[k] for k in ("url", "b64_json", "revised_prompt") if item.get(k)}
                for item in completed
            ],
            "size": completed[0].get("size"),
            "task_id": job.task_id,
        }
        result = self._result(answer, job)
        yield _Emit(self._event(job, "finished", status="succeeded"))
        return result

    # ------------------------------------------------------------------- answer parsing

    def _event(self, job: _Job, kind: Any, **fields: Any) -> ProgressEvent:
        return ProgressEvent(
            kind=kind,
            elapsed=round(self._clock() - job.started, 3),
            task_id=job.task_id,
            trace_id=job.trace_id,
            **fields,
        )

    def _result_from_record(self, record: TaskRecord, job: _Job) -> ImageGenerationResult:
        response = record.response or {}
        if record.failed or not response.get("data"):
            error = response.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            raise TaskFailedError(
                f"the image job failed: {message or 'it finished without images'}",
                code=str(code) if code else None,
                task_id=record.id or job.task_id,
                trace_id=record.trace_id or job.trace_id,
            )
        job.task_id = record.id or job.task_id
        return self._result(response, job)

    def _result(self, answer: Mapping[str, Any], job: _Job) -> ImageGenerationResult:
        request = job.request
        output_format = request.output_format
        images = [
            GeneratedImage(
                url=item.get("url"),
                b64_json=item.get("b64_json"),
                revised_prompt=item.get("revised_prompt"),
                mime_type=_MIME_TYPES.get(output_format),
            )
            for item in answer.get("data") or []
            if isinstance(item, dict) and (item.get("url") or item.get("b64_json"))
        ]
        if not images:
            raise TaskFailedError(
                "the API answered without any image", task_id=job.task_id, trace_id=job.trace_id
            )
        created = answer.get("created")
        return ImageGenerationResult(
            images=images,
            task_id=str(answer.get("task_id") or job.task_id or "") or None,
            trace_id=job.trace_id,
            model=request.model,
            size=answer.get("size") or getattr(request, "size", None),
            output_format=output_format,
            created=int(created) if isinstance(created, (int, float)) else None,
            elapsed=round(self._clock() - job.started, 3),
            raw=dict(answer),
        )

    def _time_left(self, job: _Job) -> bool:
        return self._clock() < job.deadline

    # ------------------------------------------------------------------------ the drivers

    def _drive(self, flow: Flow[T], on_progress: Callable[[ProgressEvent], Any] | None = None) -> T:
        """Run a flow with blocking I/O."""
        client = self.http_client
        outcome: Any = None
        error: BaseException | None = None
        streams: dict[int, tuple[httpx.Response, Iterator[str]]] = {}
        try:
            while True:
                try:
                    step = flow.throw(error) if error is not None else flow.send(outcome)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                outcome, error = None, None
                try:
                    if isinstance(step, _Send):
                        outcome = client.send(step.request, stream=step.stream)
                        if step.stream:
                            streams[id(outcome)] = (outcome, outcome.iter_lines())
                    elif isinstance(step, _Sleep):
                        if step.seconds > 0:
                            self._sleep(step.seconds)
                    elif isinstance(step, _Emit):
                        if on_progress is not None:
                            on_progress(step.event)
                    elif isinstance(step, _NextLine):
                        outcome = next(streams[id(step.response)][1], None)
                    elif isinstance(step, _Read):
                        streams.pop(id(step.response), None)
                        step.response.read()
                    else:
                        streams.pop(id(step.response), None)
                        step.response.close()
                except Exception as exc:
                    error = exc
        finally:
            flow.close()
            for response, _ in streams.values():
                response.close()

    async def _adrive(self, flow: Flow[T], on_progress: ProgressCallback | None = None) -> T:
        """Run a flow with asyncio I/O (no thread offload)."""
        client = self.http_async_client
        outcome: Any = None
        error: BaseException | None = None
        streams: dict[int, tuple[httpx.Response, AsyncIterator[str]]] = {}
        try:
            while True:
                try:
                    step = flow.throw(error) if error is not None else flow.send(outcome)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                outcome, error = None, None
                try:
                    if isinstance(step, _Send):
                        outcome = await client.send(step.request, stream=step.stream)
                        if step.stream:
                            streams[id(outcome)] = (outcome, outcome.aiter_lines())
                    elif isinstance(step, _Sleep):
                        if step.seconds > 0:
                            await self._async_sleep(step.seconds)
                    elif isinstance(step, _Emit):
                        if on_progress is not None:
                            maybe = on_progress(step.event)
                            if inspect.isawaitable(maybe):
                                await maybe
                    elif isinstance(step, _NextLine):
                        outcome = await anext(streams[id(step.response)][1], None)
                    elif isinstance(step, _Read):
                        streams.pop(id(step.response), None)
                        await step.response.aread()
                    else:
                        streams.pop(id(step.response), None)
                        await step.response.aclose()
                except Exception as exc:
                    error = exc
        finally:
            flow.close()
            for response, _ in streams.values():
                await response.aclose()


def _close_when_loop_ends(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Tie ``client`` to the running loop's shutdown, so a forgotten pool is still closed.

    ``asyncio.run()`` (and pytest-asyncio, Jupyter kernels on exit) call
    ``loop.shutdown_asyncgens()``, which closes every async generator the loop has started:
    this one is started here and closes the pool in its ``finally``.
    """

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.aclose()

    generator = closer()
    step = generator.__anext__().__await__()
    with contextlib.suppress(StopIteration):
        next(step)  # runs to the first ``yield``: the loop's asyncgen hook registers it
    return generator


def _request_of(record: TaskRecord) -> _ImageRequestBase:
    """Rebuild the request a task was made from; it labels the result (model, format, size)."""
    request = record.request or {}
    model_cls: type[_ImageRequestBase] = (
        EditImageInput if "image" in request else GenerateImageInput
    )
    fields = {k: v for k, v in request.items() if k in model_cls.model_fields}
    fields["prompt"] = fields.get("prompt") or "(unknown prompt)"
    try:
        return model_cls.model_validate(fields, context={ALLOW_UNKNOWN_MODELS: True})
    except ValueError:
        return model_cls.model_construct(**fields)


__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "AceDataImagesClient",
    "ProgressCallback",
    "ProgressEvent",
    "new_trace_id",
]
