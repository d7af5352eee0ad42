"""Server answers into result objects, defensively (sans-I/O, shared by every flow).

A wrong type or shape in an answer never escapes as a pydantic ``ValidationError`` (a tool
would present it as the LLM's bad arguments) nor as a bare ``TypeError``/``OverflowError``:
descriptive fields are coerced or dropped by the models in :mod:`.results`, and what leaves
the result unusable raises :class:`~.errors.MalformedAnswerError` with the job's ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .errors import MalformedAnswerError, TaskFailedError
from .results import GeneratedImage, ImageGenerationResult, TaskList, TaskRecord, lenient_text


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "answer"
    return f"{where}: {first.get('msg', 'invalid')}"


def task_id_of(value: Any) -> str | None:
    """A task id as the server gave it, if it is one (text or integer)."""
    return lenient_text(value) or None


def parse_task_record(
    answer: Any, *, task_id: str | None = None, trace_id: str | None = None
) -> TaskRecord | None:
    """A ``retrieve`` answer as a record; ``None`` for an empty answer (no such task)."""
    if answer is None or answer == {}:
        return None
    if not isinstance(answer, Mapping):
        raise MalformedAnswerError(
            f"the task look-up answered with {type(answer).__name__}, not a task record",
            task_id=task_id,
            trace_id=trace_id,
        )
    try:
        return TaskRecord.model_validate(dict(answer))
    except ValidationError as exc:
        raise MalformedAnswerError(
            f"the task record is malformed ({_problem(exc)})",
            task_id=task_id_of(answer.get("id")) or task_id,
            trace_id=lenient_text(answer.get("trace_id")) or trace_id,
        ) from None


def parse_task_list(answer: Any) -> TaskList:
    """A ``retrieve_batch`` answer; unreadable items are left out (see :class:`TaskList`)."""
    if not isinstance(answer, Mapping):
        return TaskList()
    return TaskList.model_validate({"items": answer.get("items"), "count": answer.get("count")})


def _image(item: Any, mime_type: str | None) -> GeneratedImage | None:
    if isinstance(item, str):
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
    entries = data if isinstance(data, list) else [data]
    images = [image for item in entries if (image := _image(item, mime_type)) is not None]
    if not images:
        raise MalformedAnswerError(
            f"the answer's data holds no usable image URL or base64 ({len(entries)} entries)",
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
    "parse_images",
    "parse_task_list",
    "parse_task_record",
    "task_id_of",
]
