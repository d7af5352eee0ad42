"""Text the LLM reads: result summaries, tool errors and argument errors (all short)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

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
    TaskTimeoutError,
    TransportError,
)
from .models import ImageGenerationResult, ImageTask

#: Upper bound of the LLM-visible summary, whatever ``n`` and the URL lengths are.
MAX_SUMMARY_BYTES = 1000
_MAX_PROMPT_CHARS = 240


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def result_summary(outcome: ImageGenerationResult | ImageTask) -> str:
    """A compact description of a result for the LLM: never base64, at most 1,000 bytes."""
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
            "",
        )
    count = len(outcome.images)
    details = ", ".join(x for x in (outcome.model, outcome.size, outcome.output_format) if x)
    head = (
        f"Generated {count} image{'s' if count != 1 else ''} ({details}) in "
        f"{outcome.elapsed:.1f}s, task_id={outcome.task_id}."
    )
    lines = []
    for number, image in enumerate(outcome.images, 1):
        if image.path:
            lines.append(f"{number}. saved to {image.path}")
        elif image.url:
            lines.append(f"{number}. {image.url}")
        else:
            lines.append(f"{number}. returned as base64 in the tool artifact")
    revised = next((i.revised_prompt for i in outcome.images if i.revised_prompt), None)
    tail = f"Revised prompt: {_clip(revised, _MAX_PROMPT_CHARS)}" if revised else ""
    return _fit(head, lines, tail)


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
    if isinstance(error, TaskFailedError):
        return f"The image job failed: {message}.{ids}. You may try once more or change the prompt."
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
