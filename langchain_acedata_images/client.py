"""The AceDataCloud image API client: pooled sync and async HTTP, submit, poll, recover.

Every operation is written once as a sans-I/O *flow* (:mod:`._flows`, :mod:`._lookups`,
:mod:`._waiting`) and run by a driver (:mod:`._drivers`): ``httpx.Client`` + ``time.sleep``
for the sync methods, ``httpx.AsyncClient`` + ``asyncio.sleep`` for the async ones. Request
building, answer parsing, retries and the polling policy are therefore shared exactly.

Module map: :mod:`._steps` (steps, jobs, events) · :mod:`._base` (settings and pure helpers) ·
:mod:`._outcomes` (what a submission attempt means) · :mod:`._flows` (submit, stream, resume) ·
:mod:`._lookups` (``/openai/tasks``, recovery) · :mod:`._waiting` (waiting for a job) ·
:mod:`._results` (answers → results) · :mod:`._drivers` · :mod:`._pools` · this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import httpx
from pydantic import SecretStr

from ._base import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    EDITS_PATH,
    GENERATIONS_PATH,
    TASKS_PATH,
    TOKEN_ENV,
    BaseImagesClient,
)
from ._calls import Call, Resume
from ._deprecation import warn_renamed
from ._drivers import async_drive, sync_drive
from ._image_inputs import ImageSource, LoadedImage
from ._lookups import list_flow, lookup_flow, post_json
from ._offline import embedded_token, start_embedded_emulator
from ._poller_io import PollerHub
from ._pools import HTTPPools
from ._steps import Flow, Job, ProgressCallback, ProgressEvent, T, new_trace_id
from ._uploads import labels, loaded_inputs, resolve_upload_flow
from .errors import AceDataImagesError, ConfigurationError
from .handles import HandleCache
from .models import (
    EditImageInput,
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    TaskList,
    TaskQuery,
    TaskRecord,
)
from .poller import PollCadence, PollerCore
from .polling import PollSchedule, RetryPolicy

if TYPE_CHECKING:
    from .emulator import EmulatorConfig, RunningEmulator

R = TypeVar("R", bound="ImageGenerationResult | ImageTask")
logger = logging.getLogger(__name__)
# Progress callbacks of cancelled jobs, delivered from their own task; referenced until done.
_REPORTS: set[asyncio.Future[Any]] = set()
SavePath = str | os.PathLike[str] | None
#: The edit images a caller may pass: one source or a list (URLs, handles, bytes, paths, files).
EditImages = ImageSource | Sequence[ImageSource]


T_co = TypeVar("T_co", covariant=True)


class _Rounds(Protocol[T_co]):
    """A call run as rounds of concurrent flows (:class:`._calls.Call` / ``Resume``)."""

    def first_round(self) -> list[Flow[Any]]: ...
    def absorb(self, ended: Sequence[Any]) -> list[Flow[Any]]: ...
    def outcome(self) -> T_co: ...


class AceDataImagesClient(BaseImagesClient):
    """Typed client for AceDataCloud's OpenAI-compatible image API.

    One pooled ``httpx.Client`` and one ``httpx.AsyncClient`` are created on first use and
    reused; close them with :meth:`close` / :meth:`aclose` or use the client as a (async)
    context manager. The token comes from ``api_token`` or ``$ACEDATACLOUD_API_TOKEN`` and is
    only read when the first request is built.

    ``emulator=True`` (or an ``EmulatorConfig``) is the explicit offline switch: the client
    starts its own emulator of the API on 127.0.0.1 (extra ``emulator``) and talks only to it,
    with a placeholder token; :meth:`close` stops it. Nothing else ever selects the emulator.

    Images saved with ``save_dir`` are downloaded from public hosts and the API's own host
    only (every redirect hop and resolved address is checked); ``allow_private_downloads=True``
    also allows loopback, link-local and private hosts. At most ``max_downloads`` (16) images
    of one answer are saved; the others keep their URLs. Downloads go through the proxy of
    ``HTTP(S)_PROXY``/``ALL_PROXY`` (``NO_PROXY`` honoured), where only host names can be
    checked; ``download_proxy_from_env=False`` (or ``$ACEDATACLOUD_IMAGES_DOWNLOAD_PROXY=off``)
    connects directly.

    ``lock_dir`` (POSIX): a directory shared by processes that may run the same keyed call at
    once (a double approval); the second then waits for the first one's submission and
    attaches to its job instead of paying for another.
    """

    def __init__(
        self,
        api_token: str | SecretStr | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        poll_schedule: PollCadence | PollSchedule | None = None,
        retry_policy: RetryPolicy | None = None,
        max_wait: float = 600.0,
        max_poll_failures: int = 8,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        max_connections: int = 100,
        save_dir: str | os.PathLike[str] | None = None,
        emulator: bool | EmulatorConfig = False,
        allow_private_downloads: bool = False,
        max_downloads: int = 16,
        download_proxy_from_env: bool | None = None,
        callback_url: str | None = None,
        learn_durations: bool = True,
        idempotency_namespace: str | None = None,
        lookup_window: float = 86400.0,
        lock_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._emulator = _start_emulator(self, emulator, base_url)
        if self._emulator is not None:
            api_token, base_url = embedded_token(), self._emulator.base_url
        super().__init__(
            api_token, base_url=base_url, timeout=timeout, poll_schedule=poll_schedule,
            retry_policy=retry_policy, max_wait=max_wait, max_poll_failures=max_poll_failures,
            save_dir=save_dir, allow_private_downloads=allow_private_downloads,
            max_downloads=max_downloads, download_proxy_from_env=download_proxy_from_env,
            callback_url=callback_url, learn_durations=learn_durations,
            idempotency_namespace=idempotency_namespace, lookup_window=lookup_window,
            lock_dir=lock_dir,
        )  # fmt: skip
        self._pools = HTTPPools(
            timeout=self.timeout, max_connections=max_connections,
            http_client=http_client, http_async_client=http_async_client,
        )  # fmt: skip
        #: Recent images by handle, so generate → edit chains skip the task look-up.
        self.image_cache = HandleCache()
        self._pollers = PollerHub(
            self._new_poller_core, self._check_tasks, self._acheck_tasks,
            lambda: self._clock(), self._poller_pause, self._apoller_pause,
        )  # fmt: skip

    # ------------------------------------------------------------------ pooled HTTP clients

    @property
    def http_client(self) -> httpx.Client:
        """The shared sync ``httpx.Client`` (created on first use)."""
        return self._pools.sync

    @property
    def http_async_client(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` of the running event loop (created on first use)."""
        return self._pools.async_

    @property
    def emulator(self) -> RunningEmulator | None:
        """The embedded emulator of ``emulator=True`` (faults, stats), else ``None``."""
        return self._emulator

    def close(self) -> None:
        """Close the sync pool, and async pools whose event loop is idle (not running).

        Also stops the embedded emulator, if any. Calls still waiting in other threads end
        with a :class:`TransportError`."""
        self._pollers.close()
        self._pools.close()
        if self._emulator is not None:
            self._emulator.stop()

    async def aclose(self) -> None:
        """Close the sync pool and the async pool of the running event loop (and the emulator)."""
        self._pollers.close()
        await self._pools.aclose()
        if self._emulator is not None:
            self._emulator.stop()

    # ------------------------------------------------------------------ the poller

    def resolve_callback(self, task_id: str, record: TaskRecord | None = None) -> None:
        """A callback said ``task_id`` finished: end the calls waiting for it with ``record``
        (a trusted callback's content), or check the task at once when ``record`` is None.
        Thread-safe; :class:`~.webhook.CallbackReceiver` calls it."""
        if record is not None and record.id == task_id and record.finished:
            self._pollers.deliver(record)
        else:
            self._pollers.hint(task_id)

    def _new_poller_core(self) -> PollerCore:
        schedule = self.poll_schedule
        return PollerCore(
            schedule if isinstance(schedule, PollCadence) else PollCadence(),
            self.durations,
            max_failures=self.max_poll_failures,
            schedule=schedule if isinstance(schedule, PollSchedule) else None,
        )

    def _check_tasks(self, body: dict[str, Any]) -> dict[str, Any]:
        """One status request for the poller thread (its failures are the poller's to count)."""
        return sync_drive(
            post_json(self, TASKS_PATH, body, None, None), self.http_client, self._sleep
        )

    async def _acheck_tasks(self, body: dict[str, Any]) -> dict[str, Any]:
        flow = post_json(self, TASKS_PATH, body, None, None)
        return await async_drive(flow, self.http_async_client, self._async_sleep)

    def _poller_pause(self, condition: threading.Condition, seconds: float) -> None:
        if self._sleep is time.sleep:
            condition.wait(seconds)  # woken early when a new job is watched
        else:
            self._sleep(seconds)  # a replaced sleep (a test's fake clock) decides

    async def _apoller_pause(self, event: asyncio.Event, seconds: float) -> None:
        if self._async_sleep is asyncio.sleep:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        else:
            await self._async_sleep(seconds)

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
        idempotency_key: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Generate images; returns the result, or an :class:`ImageTask` when not waiting.

        ``request`` is a :class:`GenerateImageInput`, a mapping of its fields, or omitted in
        favour of keyword arguments (``client.generate(prompt="a fox", size="1536x1024")``).
        With ``save_dir`` (or the client's ``save_dir``) the images are also written to disk
        and their paths set on the result. ``max_wait`` overrides the client's for this call.

        ``idempotency_key``: a repeated call with the key attaches to the first call's job
        (two look-up requests per call; see README "Exactly once").
        """
        job = self._new_job(
            GenerateImageInput, request, params, trace_id, max_wait, key=idempotency_key
        )
        call = Call(self, GENERATIONS_PATH, job, wait, self.image_cache)
        return self._save(_run_reporting(self, call, job, on_progress), save_dir)

    async def agenerate(
        self,
        request: GenerateImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        idempotency_key: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`generate`."""
        job = self._new_job(
            GenerateImageInput, request, params, trace_id, max_wait, key=idempotency_key
        )
        call = Call(self, GENERATIONS_PATH, job, wait, self.image_cache)
        return await self._asave(await _arun_reporting(self, call, job, on_progress), save_dir)

    def edit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        idempotency_key: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Edit images; same waiting, saving and result as :meth:`generate`.

        ``image`` (1-16) and ``mask`` entries are ``http(s)``/``data:`` URLs, image handles
        (``img:<task_id>:<index>`` from an earlier result), or bytes to upload: ``bytes``,
        :class:`pathlib.Path`, binary file objects. URLs alone go as JSON; bytes and masks as
        a multipart upload (see :mod:`._uploads`).
        """
        job, images, mask = _new_edit(self, request, params, trace_id, max_wait, idempotency_key)
        upload = resolve_upload_flow(self, job.request, images, mask, self.image_cache)
        job.upload = self._drive(upload)
        call = Call(self, EDITS_PATH, job, wait, self.image_cache)
        return self._save(_run_reporting(self, call, job, on_progress), save_dir)

    async def aedit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        idempotency_key: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`edit`."""
        job, images, mask = _new_edit(self, request, params, trace_id, max_wait, idempotency_key)
        upload = resolve_upload_flow(self, job.request, images, mask, self.image_cache)
        job.upload = await self._adrive(upload)
        call = Call(self, EDITS_PATH, job, wait, self.image_cache)
        return await self._asave(await _arun_reporting(self, call, job, on_progress), save_dir)

    def get_task(
        self, task_id: str | None = None, *, trace_id: str | None = None
    ) -> TaskRecord | None:
        """The task record by id or trace id, or ``None`` when the API knows no such task."""
        return self._drive(lookup_flow(self, task_id, trace_id))

    async def aget_task(
        self, task_id: str | None = None, *, trace_id: str | None = None
    ) -> TaskRecord | None:
        """Async :meth:`get_task`."""
        return await self._adrive(lookup_flow(self, task_id, trace_id))

    def list_tasks(self, query: TaskQuery | None = None, **filters: Any) -> TaskList:
        """Tasks matching ``retrieve_batch`` filters (ids, trace_ids, type, paging, time window)."""
        return self._drive(list_flow(self, query or TaskQuery(**filters)))

    async def alist_tasks(self, query: TaskQuery | None = None, **filters: Any) -> TaskList:
        """Async :meth:`list_tasks`."""
        return await self._adrive(list_flow(self, query or TaskQuery(**filters)))

    def wait_for_task(
        self,
        task_id: str | None = None,
        *,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> ImageGenerationResult:
        """Poll a submitted job until it finishes (resume after a :class:`TaskTimeoutError`).

        A ``task_id`` listing several jobs (comma-joined, from a call that delivered ``n``
        images by several jobs) waits for all of them and merges their images.
        """
        resume = Resume(self, task_id, trace_id, max_wait, self.image_cache)
        return self._save(self._run(resume, on_progress), save_dir)

    async def await_for_task(
        self,
        task_id: str | None = None,
        *,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImageGenerationResult:
        """Async :meth:`wait_for_task`."""
        resume = Resume(self, task_id, trace_id, max_wait, self.image_cache)
        return await self._asave(await self._arun(resume, on_progress), save_dir)

    def await_task(
        self, task_id: str | None = None, **options: Any
    ) -> Coroutine[Any, Any, ImageGenerationResult]:
        """Deprecated alias of :meth:`await_for_task` (removed in 0.3.0)."""
        warn_renamed("AceDataImagesClient.await_task", "AceDataImagesClient.await_for_task")
        return self.await_for_task(task_id, **options)

    # ------------------------------------------------------------------ drivers and saving

    def _run(self, call: _Rounds[T], on_progress: Callable[[ProgressEvent], Any] | None) -> T:
        """Run a call's rounds; a round of several flows runs them in threads."""
        flows = call.first_round()
        while flows:
            flows = call.absorb(self._run_round(flows, on_progress))
        return call.outcome()

    async def _arun(self, call: _Rounds[T], on_progress: ProgressCallback | None) -> T:
        """Async :meth:`_run`: a round's flows run concurrently on the event loop."""
        flows = call.first_round()
        while flows:
            ended = await asyncio.gather(*(self._aended(flow, on_progress) for flow in flows))
            flows = call.absorb(ended)
        return call.outcome()

    def _run_round(
        self, flows: list[Flow[Any]], on_progress: Callable[[ProgressEvent], Any] | None
    ) -> list[Any]:
        if len(flows) == 1:
            return [self._ended(flows[0], on_progress)]
        with ThreadPoolExecutor(len(flows), thread_name_prefix="acedata-job") as pool:
            # Each thread gets the caller's context (LangChain run managers live there).
            futures = [
                pool.submit(contextvars.copy_context().run, self._ended, flow, on_progress)
                for flow in flows
            ]
            return [future.result() for future in futures]

    def _ended(self, flow: Flow[Any], on_progress: Callable[[ProgressEvent], Any] | None) -> Any:
        """The flow's value, or the package error it raised (the call decides what it means)."""
        try:
            return self._drive(flow, on_progress)
        except AceDataImagesError as error:
            return error

    async def _aended(self, flow: Flow[Any], on_progress: ProgressCallback | None) -> Any:
        try:
            return await self._adrive(flow, on_progress)
        except AceDataImagesError as error:
            return error

    def _drive(self, flow: Flow[T], on_progress: Callable[[ProgressEvent], Any] | None = None) -> T:
        return sync_drive(flow, self.http_client, self._sleep, on_progress, self._pollers)

    async def _adrive(self, flow: Flow[T], on_progress: ProgressCallback | None = None) -> T:
        return await async_drive(
            flow, self.http_async_client, self._async_sleep, on_progress, self._pollers
        )

    def _save(self, outcome: R, save_dir: SavePath) -> R:
        target = save_dir if save_dir is not None else self.save_dir
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import save_images

        return cast(R, save_images(outcome, target, **self._download_options()))

    async def _asave(self, outcome: R, save_dir: SavePath) -> R:
        target = save_dir if save_dir is not None else self.save_dir
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import asave_images

        return cast(R, await asave_images(outcome, target, **self._download_options()))

    def _download_options(self) -> dict[str, Any]:
        # Downloads use their own short-lived guarded client, not the API pool: its
        # connections only reach public addresses (and the API's own host).
        return {
            "max_images": self.max_downloads,
            "allow_private_hosts": self.allow_private_downloads,
            "trusted_origins": (self.base_url,),
            "proxy_from_env": self.download_proxy_from_env,
        }


def _new_edit(
    client: AceDataImagesClient,
    request: EditImageInput | Mapping[str, Any] | None,
    params: Mapping[str, Any],
    trace_id: str | None,
    max_wait: float | None,
    key: str | None = None,
) -> tuple[Job, list[LoadedImage], LoadedImage | None]:
    """The edit's job, its checked images and mask (handles are resolved before sending)."""
    given = request if isinstance(request, EditImageInput) else dict(request or {})
    fields = dict(params)
    images = fields.pop("image", None)
    mask = fields.pop("mask", None)
    if images is None:
        images = given.image if isinstance(given, EditImageInput) else given.pop("image", None)
    if mask is None:
        mask = given.mask if isinstance(given, EditImageInput) else given.pop("mask", None)
    entries = loaded_inputs(images) if images is not None else []
    mask_entry = loaded_inputs(mask)[0] if mask is not None else None
    if images is not None:
        shown = labels(entries)
        fields["image"] = shown if isinstance(images, (list, tuple)) else shown[0]
    if mask_entry is not None:
        fields["mask"] = labels([mask_entry])[0]
    job = client._new_job(EditImageInput, given, fields, trace_id, max_wait, key=key)
    return job, entries, mask_entry


def _run_reporting(
    client: AceDataImagesClient,
    call: _Rounds[T],
    job: Job,
    on_progress: Callable[[ProgressEvent], Any] | None,
) -> T:
    """Run ``call``; an interrupted job that may exist is reported."""
    try:
        return client._run(call, on_progress)
    except (KeyboardInterrupt, SystemExit):
        _report_abandoned(client, job, on_progress)
        raise


async def _arun_reporting(
    client: AceDataImagesClient, call: _Rounds[T], job: Job, on_progress: ProgressCallback | None
) -> T:
    """Async :func:`_run_reporting` (a cancelled job that may exist is reported)."""
    try:
        return await client._arun(call, on_progress)
    except asyncio.CancelledError:
        _report_abandoned(client, job, on_progress)
        raise


def _report_abandoned(
    base: BaseImagesClient, job: Job, on_progress: Callable[[ProgressEvent], Any] | None
) -> None:
    """A job given up while it may exist server-side: say so, so it can be found again."""
    if not job.may_exist:
        return
    logger.warning(
        "image job cancelled after it was submitted; it may still run and be billed: "
        "trace_id=%s task_id=%s (find it with get_task(trace_id=...))",
        job.trace_id,
        job.task_id,
    )
    if on_progress is None:
        return
    pending = on_progress(base._event(job, "cancelled", status="cancelled"))
    if inspect.isawaitable(pending):
        # The caller's task is being cancelled: deliver the event from a task of its own.
        _REPORTS.add(task := asyncio.ensure_future(pending))
        task.add_done_callback(_REPORTS.discard)


__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "AceDataImagesClient",
    "ProgressCallback",
    "ProgressEvent",
    "new_trace_id",
]


def _start_emulator(
    owner: object, emulator: bool | EmulatorConfig, base_url: str | None
) -> RunningEmulator | None:
    """The embedded emulator ``emulator`` asks for, running while ``owner`` lives."""
    if emulator is False:
        return None
    if base_url is not None:
        raise ConfigurationError(
            "emulator=True serves its own base URL: pass emulator or base_url, not both"
        )
    running = start_embedded_emulator(None if emulator is True else emulator)
    weakref.finalize(owner, running.stop)  # also when dropped without close()
    return running
