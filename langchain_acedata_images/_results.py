"""Turning the API's answers and task records into results (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._steps import Job
from .errors import TaskFailedError, TransportError
from .models import (
    ALLOW_UNKNOWN_MODELS,
    EditImageInput,
    GeneratedImage,
    GenerateImageInput,
    ImageGenerationResult,
    TaskRecord,
    _ImageRequestBase,
)

_MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def json_object(response: httpx.Response) -> dict[str, Any]:
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
        elapsed=elapsed,
        raw=dict(answer),
    )


def request_of(record: TaskRecord) -> _ImageRequestBase:
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
