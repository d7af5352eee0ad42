"""Turning the API's answers and task records into results (pure functions), defensively.

A wrong type or shape in an answer never escapes as a pydantic ``ValidationError`` (a tool
would present it as the LLM's bad arguments) nor as a bare ``TypeError``/``OverflowError``:
descriptive fields are coerced or dropped by the models in :mod:`.results`, and what leaves
the result unusable raises :class:`~.errors.MalformedAnswerError` with the job's ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from ._steps import Job
from .errors import MalformedAnswerError, TaskFailedError, TransportError
from .models import (
    ALLOW_UNKNOWN_MODELS,
    DEFAULT_MODEL,
    EditImageInput,
    GenerateImageInput,
    _ImageRequestBase,
)
from .results import (
    GeneratedImage,
    ImageGenerationResult,
    TaskList,
    TaskRecord,
    lenient_text,
)

_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_MAX_ID_CHARS = 64


def json_object(
    response: httpx.Response, *, task_id: str | None = None, trace_id: str | None = None
) -> dict[str, Any]:
    """The answer's JSON object; a truncated or malformed body is a :class:`TransportError`,
    JSON that is no object a :class:`MalformedAnswerError` (both carry the job's ids)."""
    try:
        answer = response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransportError(
            f"the API answered HTTP {response.status_code} with a body that is not valid JSON",
            task_id=task_id,
            trace_id=trace_id,
        ) from exc
    if not isinstance(answer, dict):
        raise MalformedAnswerError(
            f"the API answered with JSON that is not an object ({type(answer).__name__})",
            task_id=task_id,
            trace_id=trace_id,
        )
    return answer


def result_from_record(record: TaskRecord, job: Job, elapsed: float) -> ImageGenerationResult:
    """The result of a finished task; a failed one (or one without images) raises."""
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
    return result_from_answer(response, job, elapsed)


def result_from_answer(
    answer: Mapping[str, Any], job: Job, elapsed: float
) -> ImageGenerationResult:
    """The result of an images answer (``data`` + ``created`` + ``size``)."""
    request = job.request
    output_format = request.output_format if isinstance(request.output_format, str) else "png"
    return build_result(
        answer,
        model=request.model,
        size=lenient_text(request.size),
        output_format=output_format,
        mime_type=_MIME_TYPES.get(output_format),
        task_id=job.task_id,
        trace_id=job.trace_id,
        elapsed=elapsed,
    )


def request_of(record: TaskRecord) -> _ImageRequestBase:
    """Rebuild the request a task was made from; it labels the result (model, format, size).

    The stored request is the server's word: when it does not validate, only its labels are
    kept, and only when they are text.
    """
    request = record.request or {}
    model_cls: type[_ImageRequestBase] = (
        EditImageInput if "image" in request else GenerateImageInput
    )
    fields = {k: v for k, v in request.items() if k in model_cls.model_fields}
    fields["prompt"] = fields.get("prompt") or "(unknown prompt)"
    try:
        return model_cls.model_validate(fields, context={ALLOW_UNKNOWN_MODELS: True})
    except ValueError:
        output_format = fields.get("output_format")
        labels: dict[str, Any] = {
            "prompt": "(unknown prompt)",
            "model": lenient_text(fields.get("model")) or DEFAULT_MODEL,
            "size": lenient_text(fields.get("size")),
            "output_format": output_format if output_format in _MIME_TYPES else "png",
        }
        return model_cls.model_construct(**labels)


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "answer"
    return f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"


def task_id_of(value: Any) -> str | None:
    """A task id as the server gave it, if it is one (text or integer)."""
    return lenient_text(value) or None


def parse_task_record(
    answer: Any, *, task_id: str | None = None, trace_id: str | None = None
) -> TaskRecord | None:
    """A ``retrieve`` answer as a record; ``None`` for an empty answer (no such task).

    Given ``task_id`` (a look-up by task id), a record naming another task is a
    :class:`~.errors.MalformedAnswerError` naming ``task_id``.
    """
    if answer is None or answer == {}:
        return None
    if not isinstance(answer, Mapping):
        raise MalformedAnswerError(
            f"the task look-up answered with {type(answer).__name__}, not a task record",
            task_id=task_id,
            trace_id=trace_id,
        )
    try:
        record = TaskRecord.model_validate(dict(answer))
    except ValidationError as exc:
        raise MalformedAnswerError(
            f"the task record is malformed ({_problem(exc)})",
            task_id=task_id_of(answer.get("id")) or task_id,
            trace_id=lenient_text(answer.get("trace_id")) or trace_id,
        ) from None
    if task_id is not None and record.id is not None and record.id != task_id:
        # A gateway mixing answers up: waiting on would only end at max_wait.
        raise MalformedAnswerError(
            f"the look-up of task {_short(task_id)} answered with the record of another "
            f"task ({_short(record.id)})",
            task_id=task_id,
            trace_id=trace_id,
        )
    return record


def _short(value: str) -> str:
    """A server-given id capped for messages (the tool text sanitises it further)."""
    return value if len(value) <= _MAX_ID_CHARS else value[: _MAX_ID_CHARS - 1] + "…"


def parse_task_list(answer: Any) -> TaskList:
    """A ``retrieve_batch`` answer; unreadable items are left out (see :class:`TaskList`)."""
    if not isinstance(answer, Mapping):
        return TaskList()
    return TaskList.model_validate({"items": answer.get("items"), "count": answer.get("count")})


def _image(item: Any, mime_type: str | None) -> GeneratedImage | None:
    if isinstance(item, str) and item.strip().lower().startswith(("http://", "https://")):
        item = {"url": item}
    if not isinstance(item, Mapping):
        return None
    image = GeneratedImage.model_validate(
        {key: item.get(key) for key in ("url", "b64_json", "revised_prompt")}
        | {"mime_type": mime_type}
    )
    url = (image.url or "").strip() or None
    data = (image.b64_json or "").strip() or None
    if url is None and data is None:
        return None
    return image.model_copy(update={"url": url, "b64_json": data})


def parse_images(
    data: Any, *, mime_type: str | None, task_id: str | None, trace_id: str | None
) -> list[GeneratedImage]:
    """The images of an answer's ``data``.

    No ``data`` or an empty list means the job made no image (:class:`TaskFailedError`);
    entries that hold no usable URL or base64 are dropped, and if none is left the answer is
    malformed (:class:`MalformedAnswerError`): the job ran, so it must not be paid again.
    """
    if data is None or data == []:
        raise TaskFailedError(
            "the API answered without any image", task_id=task_id, trace_id=trace_id
        )
    entries = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    images = [image for item in entries if (image := _image(item, mime_type)) is not None]
    if not images:
        raise MalformedAnswerError(
            "the answer's data holds no usable image URL or base64 "
            f"({type(data).__name__} of {len(entries)} entries)",
            task_id=task_id,
            trace_id=trace_id,
        )
    return images


def build_result(
    answer: Mapping[str, Any],
    *,
    model: Any,
    size: str | None,
    output_format: str,
    mime_type: str | None,
    task_id: str | None,
    trace_id: str | None,
    elapsed: float,
) -> ImageGenerationResult:
    """An :class:`ImageGenerationResult` from a synchronous answer or a task's ``response``."""
    task_id = task_id_of(answer.get("task_id")) or task_id
    images = parse_images(
        answer.get("data"), mime_type=mime_type, task_id=task_id, trace_id=trace_id
    )
    try:
        return ImageGenerationResult(
            images=images,
            task_id=task_id,
            trace_id=trace_id,
            model=model,
            size=lenient_text(answer.get("size")) or size,
            output_format=output_format,
            created=answer.get("created"),
            elapsed=elapsed,
            raw=dict(answer),
        )
    except ValidationError as exc:  # pragma: no cover - the models above coerce every field
        raise MalformedAnswerError(
            f"the answer is malformed ({_problem(exc)})", task_id=task_id, trace_id=trace_id
        ) from None


__all__ = [
    "build_result",
    "json_object",
    "parse_images",
    "parse_task_list",
    "parse_task_record",
    "request_of",
    "result_from_answer",
    "result_from_record",
    "task_id_of",
]
