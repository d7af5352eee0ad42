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

import os
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
from pydantic import SecretStr

from ._base import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    EDITS_PATH,
    GENERATIONS_PATH,
    TOKEN_ENV,
    BaseImagesClient,
)
from ._deprecation import warn_renamed
from ._drivers import async_drive, sync_drive
from ._flows import image_flow, resume_flow
from ._lookups import list_flow, lookup_flow
from ._offline import embedded_token, start_embedded_emulator
from ._pools import HTTPPools
from ._steps import Flow, ProgressCallback, ProgressEvent, T, new_trace_id
from .errors import ConfigurationError
from .models import (
    EditImageInput,
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    TaskList,
    TaskQuery,
    TaskRecord,
)
from .polling import PollSchedule, RetryPolicy

if TYPE_CHECKING:
    from .emulator import EmulatorConfig, RunningEmulator

R = TypeVar("R", bound="ImageGenerationResult | ImageTask")
SavePath = str | os.PathLike[str] | None


class AceDataImagesClient(BaseImagesClient):
    """Typed client for AceDataCloud's OpenAI-compatible image API.

    One pooled ``httpx.Client`` and one ``httpx.AsyncClient`` are created on first use and
    reused; close them with :meth:`close` / :meth:`aclose` or use the client as a (async)
    context manager. The token comes from ``api_token`` or ``$ACEDATACLOUD_API_TOKEN`` and is
    only read when the first request is built.

    ``emulator=True`` (or an ``EmulatorConfig``) is the explicit offline switch: the client
    starts its own emulator of the API on 127.0.0.1 (extra ``emulator``) and talks only to it,
    with a placeholder token; :meth:`close` stops it. Nothing else ever selects the emulator.
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
        emulator: bool | EmulatorConfig = False,
    ) -> None:
        self._emulator: RunningEmulator | None = None
        if emulator is not False:
            if base_url is not None:
                raise ConfigurationError(
                    "emulator=True serves its own base URL: pass emulator or base_url, not both"
                )
            self._emulator = start_embedded_emulator(None if emulator is True else emulator)
            weakref.finalize(self, self._emulator.stop)  # also when dropped without close()
            api_token, base_url = embedded_token(), self._emulator.base_url
        super().__init__(
            api_token,
            base_url=base_url,
            timeout=timeout,
            poll_schedule=poll_schedule,
            retry_policy=retry_policy,
            max_wait=max_wait,
            max_poll_failures=max_poll_failures,
            save_dir=save_dir,
        )
        self._pools = HTTPPools(
            timeout=self.timeout,
            max_connections=max_connections,
            http_client=http_client,
            http_async_client=http_async_client,
        )

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

        Also stops the embedded emulator, if any."""
        self._pools.close()
        if self._emulator is not None:
            self._emulator.stop()

    async def aclose(self) -> None:
        """Close the sync pool and the async pool of the running event loop (and the emulator)."""
        await self._pools.aclose()
        if self._emulator is not None:
            self._emulator.stop()

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
        save_dir: SavePath = None,
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
        outcome = self._drive(image_flow(self, GENERATIONS_PATH, job, wait), on_progress)
        return self._save(outcome, save_dir)

    async def agenerate(
        self,
        request: GenerateImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`generate`."""
        job = self._new_job(GenerateImageInput, request, params, trace_id, max_wait)
        outcome = await self._adrive(image_flow(self, GENERATIONS_PATH, job, wait), on_progress)
        return await self._asave(outcome, save_dir)

    def edit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Edit image(s) given by URL; same waiting, saving and result as :meth:`generate`."""
        job = self._new_job(EditImageInput, request, params, trace_id, max_wait)
        outcome = self._drive(image_flow(self, EDITS_PATH, job, wait), on_progress)
        return self._save(outcome, save_dir)

    async def aedit(
        self,
        request: EditImageInput | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        trace_id: str | None = None,
        max_wait: float | None = None,
        save_dir: SavePath = None,
        on_progress: ProgressCallback | None = None,
        **params: Any,
    ) -> ImageGenerationResult | ImageTask:
        """Async :meth:`edit`."""
        job = self._new_job(EditImageInput, request, params, trace_id, max_wait)
        outcome = await self._adrive(image_flow(self, EDITS_PATH, job, wait), on_progress)
        return await self._asave(outcome, save_dir)

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
        """Poll a submitted job until it finishes (resume after a :class:`TaskTimeoutError`)."""
        result = self._drive(resume_flow(self, task_id, trace_id, max_wait), on_progress)
        return self._save(result, save_dir)

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
        result = await self._adrive(resume_flow(self, task_id, trace_id, max_wait), on_progress)
        return await self._asave(result, save_dir)

    def await_task(
        self, task_id: str | None = None, **options: Any
    ) -> Coroutine[Any, Any, ImageGenerationResult]:
        """Deprecated alias of :meth:`await_for_task` (removed in 0.3.0)."""
        warn_renamed("AceDataImagesClient.await_task", "AceDataImagesClient.await_for_task")
        return self.await_for_task(task_id, **options)

    # ------------------------------------------------------------------ drivers and saving

    def _drive(self, flow: Flow[T], on_progress: Callable[[ProgressEvent], Any] | None = None) -> T:
        return sync_drive(flow, self.http_client, self._sleep, on_progress)

    async def _adrive(self, flow: Flow[T], on_progress: ProgressCallback | None = None) -> T:
        return await async_drive(flow, self.http_async_client, self._async_sleep, on_progress)

    def _save(self, outcome: R, save_dir: SavePath) -> R:
        target = save_dir if save_dir is not None else self.save_dir
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import save_images

        return cast(R, save_images(outcome, target, http_client=self.http_client))

    async def _asave(self, outcome: R, save_dir: SavePath) -> R:
        target = save_dir if save_dir is not None else self.save_dir
        if target is None or not isinstance(outcome, ImageGenerationResult):
            return outcome
        from .storage import asave_images

        return cast(R, await asave_images(outcome, target, http_client=self.http_async_client))


__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "AceDataImagesClient",
    "ProgressCallback",
    "ProgressEvent",
    "new_trace_id",
]
