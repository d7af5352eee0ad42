"""Reading a streamed (SSE) submission answer: partial images as events, the end as a result."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ._base import BaseImagesClient
from ._outcomes import Submission
from ._results import task_id_of
from ._steps import Emit, Flow, Job, NextEvent
from .models import TaskRecord


def parse_sse(
    base: BaseImagesClient, response: httpx.Response, job: Job
) -> Flow[Submission | None]:
    """OpenAI-style SSE: partial images become progress events; ``completed`` ones the answer.

    One ``completed`` event arrives per image; the answer is complete once all ``n`` have
    arrived (or the stream ends with at least one). ``None`` means the stream ended early.
    Events come parsed by the SSE rules (httpx-sse): ``data:`` lines joined with newlines, sent
    at a blank line; the ``type`` in the data names the event, else the ``event:`` field.
    """
    completed: list[dict[str, Any]] = []
    expected = getattr(job.request, "n", None) or 1
    while (event := (yield NextEvent(response))) is not None:
        if not event.data:
            continue  # the SSE spec dispatches no event without data (httpx-sse does)
        payload = json.loads(event.data)
        if not isinstance(payload, dict):
            # Read as a broken stream: the caller recovers the job by trace_id.
            raise ValueError(f"stream event data is {type(payload).__name__}, not an object")
        kind = payload.get("type") or event.event
        job.task_id = task_id_of(payload.get("task_id")) or job.task_id
        if kind == "image_generation.partial_image":
            yield Emit(
                base._event(
                    job,
                    "partial_image",
                    status="running",
                    partial_image_index=_index(payload.get("partial_image_index")),
                    b64_json=_text(payload.get("b64_json")),
                )
            )
        elif kind == "image_generation.completed":
            completed.append(payload)
            if len(completed) >= expected:
                break
        elif kind == "error":
            failed = TaskRecord(id=job.task_id, response=payload, finished_at=0.0)
            return Submission(failed, answered=True)
    if not completed:
        return None
    return Submission.from_answer(_answer_of(completed, job), job.trace_id)


def _answer_of(completed: list[dict[str, Any]], job: Job) -> dict[str, Any]:
    """The images answer the ``completed`` events add up to."""
    return {
        "created": completed[0].get("created_at"),
        "data": [
            {k: item[k] for k in ("url", "b64_json", "revised_prompt") if item.get(k)}
            for item in completed
        ],
        "size": completed[0].get("size"),
        "task_id": job.task_id,
    }


def _index(value: Any) -> int | None:
    """A partial image's index, if it is one (progress is decorative: junk is dropped)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
