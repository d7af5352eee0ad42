"""What the LLM reads: result summaries, task lists, tool errors and argument errors.

Every text is short (at most :data:`MAX_SUMMARY_BYTES`) and never contains base64; the full
objects travel as the ``ToolMessage.artifact``. With ``image_blocks`` the summary is followed
by LangChain standard image content blocks for vision models.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from langchain_core.messages.content import (
    ImageContentBlock,
    TextContentBlock,
    create_image_block,
    create_text_block,
)
from pydantic import ValidationError

from ._image_inputs import ImageInputError
from .errors import (
    AceDataImagesError,
    AuthenticationError,
    ConfigurationError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModerationError,
    RateLimitError,
    ResourceDisabledError,
    ServerError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    TransportError,
)
from .models import ImageGenerationResult, ImageTask, TaskList, TaskRecord

#: Upper bound of the LLM-visible summary, whatever ``n`` and the URL lengths are.
MAX_SUMMARY_BYTES = 1000
_MAX_PROMPT_CHARS = 240
_MAX_LISTED_URL_CHARS = 200
_MAX_LISTED_PROMPT_CHARS = 40

ToolContent = str | list[TextContentBlock | ImageContentBlock]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def result_summary(
    outcome: ImageGenerationResult | ImageTask,
    *,
    verb: str = "Generated",
    timed: bool = True,
    note: str = "",
) -> str:
    """A compact description of a result for the LLM: never base64, at most 1,000 bytes.

    ``verb`` starts the sentence ("Generated", "Edited", "Retrieved"); ``timed=False`` leaves
    out the locally measured duration (meaningless for a job looked up later); ``note`` is a
    last line that is always kept.
    """
    if isinstance(outcome, ImageTask):
        where = (
            f" The result will be POSTed to {_clip(outcome.callback_url, 200)}."
            if outcome.callback_url
            else " Fetch the result later with openai_get_task."
        )
        return _fit(
            f"Image job submitted (status: {outcome.status}), task_id={outcome.task_id}, "
            f"trace_id={outcome.trace_id}.{where}",
            [],
            _clip(outcome.note, 300) if outcome.note else "",
        )
    count = len(outcome.images)
    details = ", ".join(x for x in (outcome.model, outcome.size, outcome.output_format) if x)
    timing = f" in {outcome.elapsed:.1f}s" if timed else ""
    task = f", task_id={outcome.task_id}" if outcome.task_id else ""
    head = f"{verb} {count} image{'s' if count != 1 else ''} ({details}){timing}{task}."
    lines = []
    for number, image in enumerate(outcome.images, 1):
        if image.path:
            # Keep the URL too: other tools (edit) take URLs, not the local path.
            where = f" ({image.url})" if image.url else ""
            lines.append(f"{number}. saved to {image.path}{where}")
        elif image.url:
            lines.append(f"{number}. {image.url}")
        elif image.handle:
            # Base64 only: a short reference the edit tool accepts, never the data itself.
            lines.append(f"{number}. {image.handle} (pass this reference to edit the image)")
        else:
            lines.append(f"{number}. returned as base64 in the tool artifact")
    revised = next((i.revised_prompt for i in outcome.images if i.revised_prompt), None)
    tail = f"Revised prompt: {_clip(revised, _MAX_PROMPT_CHARS)}" if revised else ""
    for extra in (outcome.note, note):
        if extra:
            tail = f"{tail}\n{_clip(extra, 300)}" if tail else _clip(extra, 300)
    return _fit(head, lines, tail)


def unsaved_note(error: AceDataImagesError) -> str:
    """Why images that were made could not be saved (the summary then lists their URLs)."""
    return (
        f"Saving the images to disk failed ({_clip(error.message, 200)}); the job itself "
        "succeeded, so do not submit it again."
    )


def still_running_text(error: TaskTimeoutError) -> str:
    """The answer of ``openai_get_task`` for a job that did not finish within its wait."""
    ids = f"task_id={error.task_id}" if error.task_id else f"trace_id={error.trace_id}"
    return (
        f"The image job {ids} is still running (waited {error.waited:.0f}s). It has not "
        "failed: call openai_get_task again later; do not submit the job again."
    )


def _utc(timestamp: float | None) -> str:
    if timestamp is None:
        return "?"
    try:
        moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _first_url(record: TaskRecord) -> str | None:
    data = (record.response or {}).get("data")
    if isinstance(data, list):
        for item in data:
            url = item.get("url") if isinstance(item, dict) else None
            if isinstance(url, str) and url:
                return url
    return None


def task_line(record: TaskRecord) -> str:
    """One task as ``id type status created "prompt" url`` (each part clipped)."""
    parts = [record.id or "?", record.type or "?", record.status, _utc(record.created_at)]
    prompt = (record.request or {}).get("prompt")
    if isinstance(prompt, str) and prompt.strip():
        parts.append(repr(_clip(prompt, _MAX_LISTED_PROMPT_CHARS)))
    url = _first_url(record)
    if url:
        parts.append(_clip(url, _MAX_LISTED_URL_CHARS))
    return " ".join(parts)


def task_list_summary(tasks: TaskList) -> str:
    """A compact listing of tasks for the LLM, at most 1,000 bytes whatever the count."""
    if not tasks.items:
        return "No image tasks matched."
    total = max(tasks.count, len(tasks.items))
    head = (
        f"{len(tasks.items)} of {total} matching image tasks "
        "(id, type, status, created UTC, prompt, first image URL):"
    )
    return _fit(head, [task_line(record) for record in tasks.items], "")


def tool_content(
    text: str, outcome: ImageGenerationResult | ImageTask | None, *, image_blocks: bool
) -> ToolContent:
    """``text`` alone, or (``image_blocks``) a text block followed by one block per image.

    Images are referenced by URL when they have one and inlined as base64 otherwise, in the
    LangChain v1 standard shape (``{"type": "image", "url"|"base64": ..., "mime_type": ...}``)
    that chat model integrations translate for their provider.
    """
    if not image_blocks:
        return text
    blocks: list[TextContentBlock | ImageContentBlock] = [create_text_block(text)]
    if isinstance(outcome, ImageGenerationResult):
        for image in outcome.images:
            if image.url:
                blocks.append(create_image_block(url=image.url, mime_type=image.mime_type))
            elif image.b64_json:
                blocks.append(
                    create_image_block(
                        base64=image.b64_json, mime_type=image.mime_type or "image/png"
                    )
                )
    return blocks


def _fit(head: str, lines: list[str], tail: str) -> str:
    """Join ``head``, as many whole ``lines`` as fit, and ``tail`` within the byte budget."""
    budget = MAX_SUMMARY_BYTES - len(head.encode()) - len(tail.encode()) - 2
    kept: list[str] = []
    for index, line in enumerate(lines):
        more = len(lines) - index - 1
        reserve = len(f"\n(+{more} more in the artifact)") if more else 0
        cost = len(line.encode()) + 1
        if cost + reserve > budget:
            kept.append(f"(+{len(lines) - index} more in the artifact)")
            break
        kept.append(_clip(line, 400))
        budget -= cost
    text = "\n".join(part for part in (head, *kept, tail) if part)
    return text.encode()[:MAX_SUMMARY_BYTES].decode(errors="ignore")


def _without_prefix(text: str, prefix: str) -> str:
    """``text`` without a leading ``prefix`` (any case), so messages do not repeat themselves."""
    return text[len(prefix) :].lstrip() if text.lower().startswith(prefix) else text


def tool_error_text(error: AceDataImagesError) -> str:
    """What went wrong and what the LLM should do about it."""
    ids = f" task_id={error.task_id}" if error.task_id else ""
    ids += f" trace_id={error.trace_id}" if error.trace_id else ""
    message = _clip(error.message, 400)
    if isinstance(error, (ConfigurationError, AuthenticationError, ResourceDisabledError)):
        return (
            f"Image generation is not available: {message}. Changing the arguments will not "
            "help; tell the user."
        )
    if isinstance(error, InsufficientBalanceError):
        return "The AceDataCloud account balance is used up; do not retry. Tell the user."
    if isinstance(error, ModerationError):
        return (
            f"The request was refused by content moderation ({message}). Rephrase the prompt "
            "without the disallowed content, or tell the user."
        )
    if isinstance(error, RateLimitError):
        wait = f" {error.retry_after:.0f} seconds" if error.retry_after else " a minute"
        return f"The image API is rate limiting requests; wait{wait} and try again."
    if isinstance(error, InvalidRequestError):
        return f"The image API rejected the arguments: {message}. Fix them and call again."
    if isinstance(error, TaskTimeoutError):
        return (
            f"The image job is still running after {error.waited:.0f}s.{ids}. Do not submit it "
            "again; check it later with openai_get_task."
        )
    if isinstance(error, ImageInputError):
        return f"{message.rstrip('.')}. Fix the image argument and call the tool again."
    if isinstance(error, TaskNotFoundError):
        wanted = f"task_id={error.task_id}" if error.task_id else f"trace_id={error.trace_id}"
        return (
            f"No image task matches {wanted}. Copy the id exactly from the earlier tool result, "
            "or find the task with openai_list_tasks."
        )
    if isinstance(error, TaskFailedError):
        reason = _without_prefix(message, "the image job failed:")
        return f"The image job failed: {reason}.{ids}. You may try once more or change the prompt."
    if isinstance(error, TransportError) and error.maybe_submitted:
        return (
            f"The image API did not confirm the job ({message}).{ids}. It may still have been "
            "created: check with openai_get_task before generating again."
        )
    if isinstance(error, (TransportError, ServerError)):
        return f"The image service is unavailable right now ({message}). Try again later."
    return f"The image API returned an error: {message}.{ids}"


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def format_validation_error(error: ValidationError | Any) -> str:
    """Turn a pydantic error into a list the LLM can act on (field, problem, allowed values)."""
    if not isinstance(error, ValidationError):
        return f"Invalid arguments: {error}"
    lines = []
    for item in error.errors(include_url=False):
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        location = tuple(item.get("loc", ()))
        for problem in message.splitlines():
            lines.append(f"- {_location(location)}: {problem}" if location else f"- {problem}")
    return (
        "Invalid arguments:\n" + "\n".join(lines) + "\nFix the arguments listed above and "
        "call the tool again."
    )
