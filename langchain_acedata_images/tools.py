"""LangChain tools: declarative wrappers around :class:`AceDataImagesClient`.

Every tool is a name, a description, an ``args_schema`` from :mod:`.models` and one client call.
The shared base runs them all the same way, sync and async alike::

    args -> _prepare (validate, resolve inputs) -> _execute (the client call, with progress)
         -> _render (short text for the LLM, full object as the artifact)

Only ``_aprepare``/``_aexecute`` differ from their sync twins, and only by doing async I/O.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForToolRun,
    CallbackManagerForToolRun,
)
from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools.base import ArgsSchema
from pydantic import BaseModel, Field, model_validator

from ._graph_run import await_until_durable, wait_until_durable
from ._idempotency import current_tool_call_key, tool_call_scope
from ._image_inputs import LoadedImage, aload_image_inputs, load_image_inputs
from ._llm_schema import LLMArgs
from ._narrowing import narrowed_args
from ._text import (
    ToolContent,
    format_validation_error,
    result_summary,
    still_running_text,
    task_list_summary,
    tool_content,
    tool_error_text,
    unsaved_note,
)
from .client import AceDataImagesClient, ProgressCallback, ProgressEvent
from .errors import AceDataImagesError, TaskTimeoutError
from .models import (
    PUBLIC_CALLBACKS_ONLY,
    EditImageInput,
    GenerateImageInput,
    GetTaskInput,
    ImageGenerationResult,
    ImageTask,
    TaskList,
    TaskQuery,
    _ImageRequestBase,
)
from .progress import ProgressDispatcher
from .settings import EditInputSettings, JobSettings, ResultSettings, ToolSettings

GENERATE_DESCRIPTION = (
    "Create images from a text prompt. Returns URLs or saved paths, revised prompt, task id."
)

EDIT_DESCRIPTION = (
    "Edit images: restyle, add/remove objects, merge references. Returns URLs or saved "
    "paths, revised prompt, task id."
)
_LOCAL_FILES_NOTE = "Local image file paths are accepted too."

GET_TASK_DESCRIPTION = (
    "Get an earlier image job by task_id or trace_id. Returns its images, a note to call "
    "again later, or why it failed."
)

LIST_TASKS_DESCRIPTION = (
    "List image jobs, e.g. to find a lost task id. Returns per job: id, type, status, time, "
    "prompt, URL."
)

#: ``(content, artifact)`` as returned to LangChain with ``response_format="content_and_artifact"``.
ToolOutput = tuple[ToolContent, Any]


class _AceDataImagesTool(ToolSettings, BaseTool):
    """Shared configuration and the one run/arun implementation of the AceDataCloud tools.

    Subclasses declare ``name``, ``description`` and ``args_schema`` and implement
    :meth:`_execute` / :meth:`_aexecute` (one client call each) and :meth:`_render`.
    """

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = format_validation_error

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """The args model itself: its ``model_json_schema()`` is the compact LLM form.

        LangChain's default copies the fields into a plain model, losing that form.
        """
        schema = self.args_schema
        if isinstance(schema, type) and issubclass(schema, LLMArgs):
            return schema
        return super().tool_call_schema

    @property
    def _client(self) -> AceDataImagesClient:
        assert self.client is not None  # set by _build_client
        return self.client

    # ---------------------------------------------------------------- steps, per tool

    def _prepare(self, args: dict[str, Any]) -> Any:
        """The validated request (LangChain validated ``args`` already; this keeps the model)."""
        schema = self.args_schema
        assert isinstance(schema, type)
        assert issubclass(schema, BaseModel)
        if issubclass(schema, LLMArgs) and schema.hidden_fields:
            # LangChain passes every field, defaults included; the LLM's own hidden values
            # were refused when it validated them.
            args = {key: value for key, value in args.items() if key not in schema.hidden_fields}
        return schema.model_validate(args, context=self._validation_context())

    def _validation_context(self) -> dict[str, Any]:
        """Validation context of the LLM's arguments (see :mod:`.models`)."""
        return {}

    async def _aprepare(self, args: dict[str, Any]) -> Any:
        return self._prepare(args)

    @abstractmethod
    def _execute(self, request: Any, on_progress: Callable[[ProgressEvent], None]) -> Any:
        """The tool's one blocking client call."""

    @abstractmethod
    async def _aexecute(self, request: Any, on_progress: ProgressCallback) -> Any:
        """The tool's one async client call."""

    @abstractmethod
    def _render(self, outcome: Any) -> ToolOutput:
        """``(content, artifact)`` for an outcome."""

    def _handle(self, error: AceDataImagesError) -> ToolOutput:
        """Turn a client error into the tool's answer; by default an actionable ToolException."""
        raise ToolException(tool_error_text(error)) from error

    # ------------------------------------------------------------ the one run / arun

    def _run(
        self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> ToolOutput:
        try:
            request = self._prepare(kwargs)
            progress = ProgressDispatcher.for_run(
                self.name, run_manager, enabled=self.emit_progress
            )
            outcome = self._execute(request, progress.dispatch)
        except AceDataImagesError as error:
            return self._handle(error)
        return self._render(outcome)

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> ToolOutput:
        try:
            request = await self._aprepare(kwargs)
            progress = ProgressDispatcher.for_run(
                self.name, run_manager, enabled=self.emit_progress
            )
            outcome = await self._aexecute(request, progress.adispatch)
        except AceDataImagesError as error:
            return self._handle(error)
        return self._render(outcome)


class _ImageResultTool(ResultSettings, _AceDataImagesTool):
    """A tool whose answer is images: optional saving and optional image content blocks."""

    _verb: ClassVar[str] = "Generated"
    _timed: ClassVar[bool] = True

    def _render(self, outcome: ImageGenerationResult | ImageTask, note: str = "") -> ToolOutput:
        text = result_summary(outcome, verb=self._verb, timed=self._timed, note=note)
        return tool_content(text, outcome, image_blocks=self.image_blocks), outcome

    def _handle(self, error: AceDataImagesError) -> ToolOutput:
        # Saving failed after the job succeeded (and was billed): still hand over its images.
        made = getattr(error, "result", None)
        if isinstance(made, ImageGenerationResult):
            return self._render(made, note=unsaved_note(error))
        return super()._handle(error)


class _ImageJobTool(JobSettings, _ImageResultTool):
    """Generation and edit: submit a job, wait for it (or not), summarise the result.

    Run for a tool call (``tool.invoke(tool_call)``, LangGraph's ``ToolNode``), the job's
    trace_id derives from the tool call id, its arguments, the run's thread id and LangGraph
    task (``exactly_once``); under ``durability="async"`` the job is submitted once the
    checkpoint holding the call is stored (see :mod:`._graph_run`).
    """

    @model_validator(mode="after")
    def _narrow_args(self) -> _ImageJobTool:
        schema = self.args_schema
        if (self.pinned_args or self.models is not None) and (
            isinstance(schema, type) and issubclass(schema, _ImageRequestBase)
        ):
            self.args_schema = narrowed_args(schema, self.pinned_args, self.models)
        return self

    def _validation_context(self) -> dict[str, Any]:
        # Only a callback_url the LLM chose is judged: a pinned one is the developer's.
        from_llm = "callback_url" not in self.pinned_args
        return {PUBLIC_CALLBACKS_ONLY: from_llm and not self.allow_private_callback_urls}

    def run(self, tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        # Only run() sees the tool call id and the RunnableConfig; hand them to _run.
        call_id = kwargs.get("tool_call_id") if self.exactly_once else None
        config = kwargs.get("config")
        if call_id:
            wait_until_durable(config)
        with tool_call_scope(self.name, call_id, config):
            return super().run(tool_input, *args, **kwargs)

    async def arun(self, tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        call_id = kwargs.get("tool_call_id") if self.exactly_once else None
        config = kwargs.get("config")
        if call_id:
            await await_until_durable(config)
        with tool_call_scope(self.name, call_id, config):
            return await super().arun(tool_input, *args, **kwargs)

    def _job_options(self, request: GenerateImageInput | EditImageInput) -> dict[str, Any]:
        options = {"wait": self.wait, "save_dir": self.save_dir, "max_wait": self.max_wait}
        key = current_tool_call_key(request.to_body())
        if key is not None:
            options["idempotency_key"] = key
        return options


class OpenAIGenerateImageTool(_ImageJobTool):
    """Generate images with AceDataCloud's OpenAI-compatible API in one tool call.

    The LLM sees a short text (URLs, revised prompt, task id); the program gets the full
    :class:`ImageGenerationResult` as the ``ToolMessage.artifact``.

    Example:
        .. code-block:: python

            from langchain_acedata_images import OpenAIGenerateImageTool

            tool = OpenAIGenerateImageTool()  # token from $ACEDATACLOUD_API_TOKEN
            message = tool.invoke(  # the id is the exactly-once key: a new one per job
                {"type": "tool_call", "id": f"call_{uuid.uuid4().hex}",
                 "name": "openai_generate_image",
                 "args": {"prompt": "a red fox in snow", "size": "1536x1024"}}
            )
            message.artifact.urls
    """

    name: str = "openai_generate_image"
    description: str = GENERATE_DESCRIPTION
    args_schema: type[GenerateImageInput] = GenerateImageInput

    def _execute(
        self, request: GenerateImageInput, on_progress: Callable[[ProgressEvent], None]
    ) -> ImageGenerationResult | ImageTask:
        return self._client.generate(request, **self._job_options(request), on_progress=on_progress)

    async def _aexecute(
        self, request: GenerateImageInput, on_progress: ProgressCallback
    ) -> ImageGenerationResult | ImageTask:
        return await self._client.agenerate(
            request, **self._job_options(request), on_progress=on_progress
        )


class OpenAIEditImageTool(EditInputSettings, _ImageJobTool):
    """Edit images (one base image plus up to 15 references) in one tool call.

    Same result, waiting, saving and progress events as :class:`OpenAIGenerateImageTool`.
    Images (and the optional ``mask``) are ``http(s)`` or ``data:`` URLs, image handles
    (``img:<task_id>:<index>``, printed for images that came back as base64 only) or paths of
    images saved in ``save_dir``: with default settings the LLM can edit whatever an earlier
    call returned. With ``allow_local_files=True`` it may also name other local files (paths
    or ``file://`` URLs): PNG, JPEG, WebP or GIF files up to ``max_local_image_bytes``. Bytes
    are uploaded as ``multipart/form-data``. Set ``local_files_root`` to confine reads of
    other files to one directory.

    Example:
        .. code-block:: python

            from langchain_acedata_images import OpenAIEditImageTool

            tool = OpenAIEditImageTool(allow_local_files=True, local_files_root="./images")
            tool.invoke({"prompt": "make the sky stormy", "image": "beach.png"})
    """

    name: str = "openai_edit_image"
    description: str = EDIT_DESCRIPTION
    args_schema: type[EditImageInput] = EditImageInput

    _verb: ClassVar[str] = "Edited"

    @model_validator(mode="after")
    def _describe_local_files(self) -> OpenAIEditImageTool:
        if self.allow_local_files and self.description == EDIT_DESCRIPTION:
            self.description = f"{EDIT_DESCRIPTION} {_LOCAL_FILES_NOTE}"
        return self

    def _input_options(self) -> dict[str, Any]:
        # Images this package saved may always be passed back: they are its own output.
        trusted = [d for d in (self.save_dir, self._client.save_dir) if d is not None]
        return {
            "allow_local_files": self.allow_local_files,
            "root": self.local_files_root,
            "trusted_dirs": trusted,
            "max_bytes": self.max_local_image_bytes,
        }

    def _prepare(self, args: dict[str, Any]) -> _Edit:
        request: EditImageInput = super()._prepare(args)
        images = load_image_inputs(request.image, **self._input_options())
        mask = load_image_inputs(request.mask, **self._input_options()) if request.mask else []
        return _Edit(request, images, mask)

    async def _aprepare(self, args: dict[str, Any]) -> _Edit:
        request: EditImageInput = super()._prepare(args)
        images = await aload_image_inputs(request.image, **self._input_options())
        mask = (
            await aload_image_inputs(request.mask, **self._input_options()) if request.mask else []
        )
        return _Edit(request, images, mask)

    def _execute(
        self, edit: _Edit, on_progress: Callable[[ProgressEvent], None]
    ) -> ImageGenerationResult | ImageTask:
        options = {**self._job_options(edit.request), **edit.inputs()}
        return self._client.edit(edit.request, **options, on_progress=on_progress)

    async def _aexecute(
        self, edit: _Edit, on_progress: ProgressCallback
    ) -> ImageGenerationResult | ImageTask:
        options = {**self._job_options(edit.request), **edit.inputs()}
        return await self._client.aedit(edit.request, **options, on_progress=on_progress)


@dataclass(frozen=True)
class _Edit:
    """A validated edit request and its images and mask, read and checked."""

    request: EditImageInput
    images: list[LoadedImage]
    mask: list[LoadedImage]

    def inputs(self) -> dict[str, Any]:
        single = isinstance(self.request.image, str)
        return {
            "image": self.images[0] if single else self.images,
            "mask": self.mask[0] if self.mask else None,
        }


class OpenAIGetTaskTool(_ImageResultTool):
    """Fetch (and briefly wait for) an image job by ``task_id`` or ``trace_id``.

    A finished job gives the same summary and :class:`ImageGenerationResult` artifact as the
    generate tool. A job still running after ``max_wait`` seconds is not an error: the LLM is
    told to call again later and the artifact is an :class:`ImageTask` with status
    ``running``. Unknown ids and failed jobs become error messages.
    """

    name: str = "openai_get_task"
    description: str = GET_TASK_DESCRIPTION
    args_schema: type[GetTaskInput] = GetTaskInput

    max_wait: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    """Seconds one call waits for a running job before answering "still running"."""

    _verb: ClassVar[str] = "Retrieved"
    _timed: ClassVar[bool] = False

    def _execute(
        self, request: GetTaskInput, on_progress: Callable[[ProgressEvent], None]
    ) -> ImageGenerationResult:
        return self._client.wait_for_task(
            request.task_id,
            trace_id=request.trace_id,
            max_wait=self.max_wait,
            save_dir=self.save_dir,
            on_progress=on_progress,
        )

    async def _aexecute(
        self, request: GetTaskInput, on_progress: ProgressCallback
    ) -> ImageGenerationResult:
        return await self._client.await_for_task(
            request.task_id,
            trace_id=request.trace_id,
            max_wait=self.max_wait,
            save_dir=self.save_dir,
            on_progress=on_progress,
        )

    def _handle(self, error: AceDataImagesError) -> ToolOutput:
        if isinstance(error, TaskTimeoutError):
            task = ImageTask(task_id=error.task_id, trace_id=error.trace_id, status="running")
            text = still_running_text(error)
            return tool_content(text, task, image_blocks=self.image_blocks), task
        return super()._handle(error)


class OpenAIListTasksTool(_AceDataImagesTool):
    """List image jobs (filters of :class:`TaskQuery`).

    The LLM sees at most 1,000 bytes: one line per task (id, type, status, creation time,
    prompt, first image URL); the artifact is the full :class:`TaskList`.
    """

    name: str = "openai_list_tasks"
    description: str = LIST_TASKS_DESCRIPTION
    args_schema: type[TaskQuery] = TaskQuery

    def _execute(
        self, request: TaskQuery, on_progress: Callable[[ProgressEvent], None]
    ) -> TaskList:
        return self._client.list_tasks(request)

    async def _aexecute(self, request: TaskQuery, on_progress: ProgressCallback) -> TaskList:
        return await self._client.alist_tasks(request)

    def _render(self, outcome: TaskList) -> ToolOutput:
        return task_list_summary(outcome), outcome


__all__ = [
    "EDIT_DESCRIPTION",
    "GENERATE_DESCRIPTION",
    "GET_TASK_DESCRIPTION",
    "LIST_TASKS_DESCRIPTION",
    "OpenAIEditImageTool",
    "OpenAIGenerateImageTool",
    "OpenAIGetTaskTool",
    "OpenAIListTasksTool",
    "ProgressEvent",
]
