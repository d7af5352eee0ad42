"""Result models: what a finished job, a submitted job and a task record look like.

Every field here is filled from a server answer, and server answers are untrusted. Parsing is
therefore lenient where a field is only descriptive: a ``created`` of ``Infinity``, a
``created_at`` as an ISO string or a ``size`` that is a number is coerced or dropped instead
of failing a job that was already paid for. Only what decides the outcome is strict (a
``finished_at`` that is set but no time at all); :mod:`._answers` turns such failures into
:class:`~.errors.MalformedAnswerError`, never into a pydantic error.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Beyond year 5138 a number is no unix time; between that and 1e14 it is read as milliseconds.
_MAX_SECONDS = 1e11
_MAX_MILLISECONDS = 1e14


def lenient_timestamp(value: Any) -> float | None:
    """Unix seconds from a number, a numeric string or an ISO 8601 string; ``None`` otherwise.

    Non-finite and absurd values give ``None``; millisecond timestamps are converted.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            return _iso_timestamp(text)
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    if not math.isfinite(number) or abs(number) >= _MAX_MILLISECONDS:
        return None
    return number / 1000 if abs(number) >= _MAX_SECONDS else number


def _iso_timestamp(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def lenient_text(value: Any) -> str | None:
    """A string field from the server: strings kept, integers written out, the rest dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def lenient_object(value: Any) -> dict[str, Any] | None:
    """A JSON object field: objects kept, a JSON-encoded object decoded, the rest dropped."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class GeneratedImage(BaseModel):
    """One image of a result: a URL or base64 data, and the saved path once stored.

    ``handle`` (``img:<task_id>:<index>``) names the image for :meth:`edit` and the edit tool,
    which is how an LLM refers to an image that came back as base64 only.
    """

    url: str | None = None
    b64_json: str | None = Field(default=None, repr=False)
    revised_prompt: str | None = None
    path: str | None = None
    mime_type: str | None = None
    handle: str | None = None

    @field_validator("url", "b64_json", "revised_prompt", mode="before")
    @classmethod
    def _server_text(cls, value: Any) -> str | None:
        # A number is no URL, base64 or prompt: only strings are kept.
        return value if isinstance(value, str) else None


#: Separator of the task ids of one call that ran as several jobs (``n`` fan-out).
TASK_ID_SEPARATOR = ","


class TaskStatus(BaseModel):
    """Shared identity of a server-side job.

    When one call ran as several single-image jobs, ``task_id`` lists all of them joined by
    commas (pass it as is to ``wait_for_task`` / ``openai_get_task``), ``task_ids`` holds
    them one by one and ``note`` says what was done.
    """

    task_id: str | None = None
    trace_id: str | None = None
    note: str | None = None

    @property
    def task_ids(self) -> list[str]:
        """Every job of the call (one id unless ``n`` was delivered by several jobs)."""
        if not self.task_id:
            return []
        return [part for part in self.task_id.split(TASK_ID_SEPARATOR) if part]

    @field_validator("task_id", "trace_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str | None:
        return lenient_text(value) or None


class ImageTask(TaskStatus):
    """Handle of a job that was submitted but not waited for (``wait=False`` / callback)."""

    status: Literal["submitted", "queued", "running", "succeeded", "failed"] = "submitted"
    callback_url: str | None = None


class ImageGenerationResult(TaskStatus):
    """A finished generation or edit."""

    images: list[GeneratedImage]
    model: str
    size: str | None = None
    output_format: str = "png"
    created: int | None = None
    elapsed: float = Field(description="Seconds from submission to result, measured locally.")
    raw: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @field_validator("created", mode="before")
    @classmethod
    def _created(cls, value: Any) -> int | None:
        # Decorative: a bad value is dropped rather than failing a paid job.
        seconds = lenient_timestamp(value)
        return None if seconds is None else int(seconds)

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> str | None:
        return lenient_text(value)

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> str:
        return lenient_text(value) or "unknown"

    @field_validator("output_format", mode="before")
    @classmethod
    def _output_format(cls, value: Any) -> str:
        return lenient_text(value) or "png"

    @property
    def urls(self) -> list[str]:
        return [image.url for image in self.images if image.url]

    @property
    def paths(self) -> list[str]:
        return [image.path for image in self.images if image.path]


class TaskRecord(BaseModel):
    """A task as ``/openai/tasks`` returns it; extra fields are kept.

    Descriptive fields are parsed leniently (ids and type as text, times from numbers or ISO
    strings, ``request``/``response`` as objects); ``finished_at`` decides whether the job is
    done, so a value that is set but is no time fails validation.

    Some deployments add ``_id``, ``application_id``, ``user_id``, ``credential_id`` and
    ``duration`` (kept as extras, whatever their type), and type gpt-image-2 jobs ``images``
    rather than ``images_generations``.
    """

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    trace_id: str | None = None
    type: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    elapsed: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_from_database_id(cls, value: Any) -> Any:
        # A record carrying only the database ``_id`` still names its task.
        if isinstance(value, dict) and not value.get("id") and isinstance(value.get("_id"), str):
            return {**value, "id": value["_id"]}
        return value

    @field_validator("id", "trace_id", "type", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return lenient_text(value) or None

    @field_validator("request", "response", mode="before")
    @classmethod
    def _object(cls, value: Any) -> dict[str, Any] | None:
        return lenient_object(value)

    @field_validator("created_at", "started_at", "elapsed", mode="before")
    @classmethod
    def _time(cls, value: Any) -> float | None:
        return lenient_timestamp(value)

    @field_validator("finished_at", mode="before")
    @classmethod
    def _finished_at(cls, value: Any) -> float | None:
        if value is None or value is False or value == "":
            return None
        seconds = lenient_timestamp(value)
        if seconds is None:
            raise ValueError(f"finished_at is set but is not a time: {str(value)[:40]!r}")
        return seconds

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def failed(self) -> bool:
        response = self.response or {}
        return self.finished and (
            response.get("error") is not None or response.get("success") is False
        )

    @property
    def status(self) -> Literal["queued", "running", "succeeded", "failed"]:
        if self.failed:
            return "failed"
        if self.finished:
            return "succeeded"
        return "running" if self.started_at is not None else "queued"


class TaskList(BaseModel):
    """Answer of ``retrieve_batch``; items that are no readable task record are left out."""

    items: list[TaskRecord] = Field(default_factory=list)
    count: int = 0

    @field_validator("items", mode="before")
    @classmethod
    def _readable_items(cls, value: Any) -> list[TaskRecord]:
        if not isinstance(value, list):
            return []
        records = []
        for item in value:
            if isinstance(item, TaskRecord):
                records.append(item)
                continue
            try:
                records.append(TaskRecord.model_validate(item))
            except ValidationError:
                continue
        return records

    @field_validator("count", mode="before")
    @classmethod
    def _count(cls, value: Any) -> int:
        if isinstance(value, str):
            value = value.strip()
            value = int(value) if value.isdigit() else None
        if isinstance(value, float) and math.isfinite(value):
            value = int(value)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


__all__ = [
    "TASK_ID_SEPARATOR",
    "GeneratedImage",
    "ImageGenerationResult",
    "ImageTask",
    "TaskList",
    "TaskRecord",
    "TaskStatus",
    "lenient_object",
    "lenient_text",
    "lenient_timestamp",
]
