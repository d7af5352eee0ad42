"""What the LLM reads: result summaries, task lists, tool errors and argument errors.

Every text is short (at most :data:`MAX_SUMMARY_BYTES`) and never contains base64; the full
objects travel as the ``ToolMessage.artifact``. With ``image_blocks`` the summary is followed
by LangChain standard image content blocks for vision models.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

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
    MalformedAnswerError,
    ModerationError,
    RateLimitError,
    ResourceDisabledError,
    ServerError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    TransportError,
)
from .results import (
    TASK_ID_SEPARATOR,
    GeneratedImage,
    ImageGenerationResult,
    ImageTask,
    TaskList,
    TaskRecord,
)
from .storage import sniff

#: Upper bound of the LLM-visible summary, whatever ``n`` and the URL lengths are.
MAX_SUMMARY_BYTES = 1000
#: Image content blocks: URLs longer than this are left out (the summary still lists them).
MAX_BLOCK_URL_CHARS = 2048
#: Image content blocks: at most this many, and this much inline base64 in all.
MAX_IMAGE_BLOCKS = 16
MAX_INLINE_IMAGE_BYTES = 8 * 1024 * 1024

# Caps of server-given fields in the text (ids, size, names, prompts, messages).
_MAX_ID_CHARS = 64
_MAX_TASK_IDS = 10  # one call runs as at most n = 10 jobs
_MAX_SIZE_CHARS = 16
_MAX_NAME_CHARS = 40
_MAX_PROMPT_CHARS = 240
_MAX_MESSAGE_CHARS = 200
_MAX_LISTED_URL_CHARS = 200
_MAX_LISTED_PROMPT_CHARS = 40
_MIN_PROMPT_ROOM = 60
# What a URL shown to the LLM may contain as is: printable ASCII except quotes, angle
# brackets and the like; everything else (spaces, controls, bidi marks, non-ASCII) is
# percent-encoded, which keeps the URL valid and on one line.
_URL_SAFE = "".join(chr(c) for c in range(33, 127) if chr(c) not in '"<>\\^`{|}')

ToolContent = str | list[TextContentBlock | ImageContentBlock]


def one_line(value: object, limit: int) -> str:
    """``value`` as one printable line of at most ``limit`` characters.

    Newlines, control and format characters (bidi overrides, zero-width marks) become spaces,
    runs of spaces collapse, and an over-long text ends with an ellipsis.
    """
    text = "".join(c if c.isprintable() and not c.isspace() else " " for c in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(value: str | None) -> str:
    return one_line(value, _MAX_ID_CHARS) if value else "?"


def _wanted(error: AceDataImagesError) -> str:
    """``task_id=…`` when the error has one, else ``trace_id=…``."""
    if error.task_id:
        return f"task_id={_task_id(error.task_id)}"
    return f"trace_id={_id(error.trace_id)}"


def _task_id(value: str | None) -> str:
    """A task id, or the comma-joined ids of a call run as several jobs: each id capped."""
    if not value:
        return "?"
    parts = [one_line(part, _MAX_ID_CHARS) for part in value.split(TASK_ID_SEPARATOR)]
    kept = [part for part in parts if part][:_MAX_TASK_IDS]
    return TASK_ID_SEPARATOR.join(kept) or "?"


def display_url(url: str | None) -> str | None:
    """An http(s) URL as it may be shown to the LLM (one printable line), else ``None``."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe=_URL_SAFE)


def _image_line(number: int, image: GeneratedImage) -> str:
    url = display_url(image.url)
    if image.path:
        # Keep the URL too: other tools (edit) take URLs, not the local path.
        where = f" ({url})" if url else ""
        return f"{number}. saved to {one_line(image.path, 300)}{where}"
    if url:
        return f"{number}. {url}"
    if image.handle:
        # Base64 only: a short reference the edit tool accepts, never the data itself.
        return f"{number}. {one_line(image.handle, 120)} (pass this reference to edit the image)"
    if image.url and image.url.lstrip()[:5].lower() == "data:":
        return f"{number}. returned inline (data: URL) in the tool artifact"
    if image.url:
        return f"{number}. non-http(s) URL withheld; it is in the tool artifact"
    return f"{number}. returned as base64 in the tool artifact"


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
    last line that is always kept. Every server-given value is one printable line, capped;
    URLs and paths are kept before the revised prompt.
    """
    if isinstance(outcome, ImageTask):
        callback = display_url(outcome.callback_url)
        where = (
            f" The result will be POSTed to {one_line(callback, 200)}."
            if callback
            else " Fetch the result later with openai_get_task."
        )
        return _fit(
            f"Image job submitted (status: {outcome.status}), task_id={_task_id(outcome.task_id)}, "
            f"trace_id={_id(outcome.trace_id)}.{where}",
            [],
            note=one_line(outcome.note, 300) if outcome.note else "",
        )
    count = len(outcome.images)
    details = ", ".join(
        one_line(value, limit)
        for value, limit in (
            (outcome.model, _MAX_NAME_CHARS),
            (outcome.size, _MAX_SIZE_CHARS),
            (outcome.output_format, _MAX_NAME_CHARS),
        )
        if value
    )
    timing = f" in {outcome.elapsed:.1f}s" if timed and math.isfinite(outcome.elapsed) else ""
    task = f", task_id={_task_id(outcome.task_id)}" if outcome.task_id else ""
    head = f"{verb} {count} image{'s' if count != 1 else ''} ({details}){timing}{task}."
    lines = [_image_line(number, image) for number, image in enumerate(outcome.images, 1)]
    revised = next((i.revised_prompt for i in outcome.images if i.revised_prompt), None)
    prompt = one_line(revised, _MAX_PROMPT_CHARS) if revised else ""
    notes = "\n".join(one_line(extra, 300) for extra in (outcome.note, note) if extra)
    return _fit(head, lines, prompt=prompt, note=notes)


def unsaved_note(error: AceDataImagesError) -> str:
    """Why images that were made could not be saved (the summary then lists their URLs)."""
    return (
        f"Saving the images to disk failed ({one_line(error.message, _MAX_MESSAGE_CHARS)}); "
        "the job itself succeeded, so do not submit it again."
    )


def still_running_text(error: TaskTimeoutError) -> str:
    """The answer of ``openai_get_task`` for a job that did not finish within its wait."""
    ids = (
        f"task_id={_task_id(error.task_id)}" if error.task_id else f"trace_id={_id(error.trace_id)}"
    )
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
        return "?"
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
    """One task as ``id type status created "prompt" url`` (each part one line, clipped)."""
    parts = [
        _id(record.id),
        one_line(record.type, _MAX_NAME_CHARS) if record.type else "?",
        record.status,
        _utc(record.created_at),
    ]
    prompt = (record.request or {}).get("prompt")
    if isinstance(prompt, str) and one_line(prompt, 1):
        parts.append(repr(one_line(prompt, _MAX_LISTED_PROMPT_CHARS)))
    url = display_url(_first_url(record))
    if url:
        parts.append(url if len(url) <= _MAX_LISTED_URL_CHARS else "(URL too long to list)")
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
    return _fit(head, [task_line(record) for record in tasks.items])


def _inline_block(data: str) -> ImageContentBlock | None:
    """A base64 image block for ``data`` (a bare base64 string or a ``data:`` URL)."""
    if data.lstrip()[:5].lower() == "data:":
        header, _, data = data.partition(",")
        if ";base64" not in header.lower():
            return None
    data = "".join(data.split())
    try:
        kind = sniff(base64.b64decode(data[:16], validate=True))
    except (binascii.Error, ValueError):
        return None
    if kind is None:
        return None
    return create_image_block(base64=data, mime_type=kind.mime_type)


def image_blocks_of(outcome: ImageGenerationResult) -> list[ImageContentBlock]:
    """Bounded image blocks: http(s) URLs up to 2 KB, verified base64 up to 8 MiB in all."""
    blocks: list[ImageContentBlock] = []
    inline_left = MAX_INLINE_IMAGE_BYTES
    for image in outcome.images:
        if len(blocks) >= MAX_IMAGE_BLOCKS:
            break
        url = display_url(image.url)
        if url is not None:
            if len(url) <= MAX_BLOCK_URL_CHARS:
                blocks.append(create_image_block(url=url, mime_type=image.mime_type))
            continue
        data = image.b64_json or image.url or ""
        if not data or len(data) > inline_left:
            continue
        block = _inline_block(data)
        if block is not None:
            blocks.append(block)
            inline_left -= len(data)
    return blocks


def tool_content(
    text: str, outcome: ImageGenerationResult | ImageTask | None, *, image_blocks: bool
) -> ToolContent:
    """``text`` alone, or (``image_blocks``) a text block followed by one block per image.

    Images are referenced by URL when they have an http(s) one and inlined as base64
    otherwise, in the LangChain v1 standard shape (``{"type": "image", "url"|"base64": ...,
    "mime_type": ...}``) that chat model integrations translate for their provider. Bounded:
    see :func:`image_blocks_of`.
    """
    if not image_blocks:
        return text
    blocks: list[TextContentBlock | ImageContentBlock] = [create_text_block(text)]
    if isinstance(outcome, ImageGenerationResult):
        blocks.extend(image_blocks_of(outcome))
    return blocks


def _fit(head: str, lines: list[str], *, prompt: str = "", note: str = "") -> str:
    """``head``, ``note``, as many whole ``lines`` as fit, then the revised ``prompt``.

    Within :data:`MAX_SUMMARY_BYTES`: the head (ids) and the note always stay, lines (URLs,
    paths) come next, and the revised prompt gets what room is left, clipped.
    """
    budget = MAX_SUMMARY_BYTES - len(head.encode()) - (len(note.encode()) + 1 if note else 0)
    kept: list[str] = []
    for index, line in enumerate(lines):
        more = len(lines) - index - 1
        reserve = len(f"\n(+{more} more in the artifact)") if more else 0
        cost = len(line.encode()) + 1
        if cost + reserve > budget:
            kept.append(f"(+{len(lines) - index} more in the artifact)")
            budget -= len(kept[-1].encode()) + 1
            break
        kept.append(line)
        budget -= cost
    label = "Revised prompt: "
    room = budget - len(label) - 1
    if prompt and room >= _MIN_PROMPT_ROOM:
        clipped = prompt if len(prompt.encode()) <= room else one_line(prompt, room // 4)
        kept.append(label + clipped)
    text = "\n".join(part for part in (head, *kept, note) if part)
    return text.encode()[:MAX_SUMMARY_BYTES].decode(errors="ignore")


def _without_prefix(text: str, prefix: str) -> str:
    """``text`` without a leading ``prefix`` (any case), so messages do not repeat themselves."""
    return text[len(prefix) :].lstrip() if text.lower().startswith(prefix) else text


def tool_error_text(error: AceDataImagesError) -> str:
    """What went wrong and what the LLM should do about it."""
    ids = f" task_id={_task_id(error.task_id)}" if error.task_id else ""
    ids += f" trace_id={_id(error.trace_id)}" if error.trace_id else ""
    message = one_line(error.message, _MAX_MESSAGE_CHARS)
    text = _service_error_text(error, message) or _job_error_text(error, message, ids)
    return text or f"The image API returned an error: {message}.{ids}"


def _service_error_text(error: AceDataImagesError, message: str) -> str | None:
    """Errors about the service, the account or the arguments (checked first, in order)."""
    if isinstance(error, (ConfigurationError, AuthenticationError, ResourceDisabledError)):
        return (
            f"Image generation is not available: {message}. Changing the arguments will not "
            "help; tell the user."
        )
    if isinstance(error, MalformedAnswerError):
        return malformed_answer_text(error, message)
    if isinstance(error, (TransportError, ServerError, RateLimitError)) and error.task_id:
        # The job exists (it has a task id): whatever failed afterwards, never pay twice.
        return (
            f"The image job was accepted (task_id={_task_id(error.task_id)}) but following it "
            f"failed ({message}). Do not submit it again: check it later with openai_get_task "
            f"with task_id={_task_id(error.task_id)}."
        )
    if isinstance(error, InsufficientBalanceError):
        return "The AceDataCloud account balance is used up; do not retry. Tell the user."
    if isinstance(error, ModerationError):
        return (
            f"The request was refused by content moderation ({message}). Rephrase the prompt "
            "without the disallowed content, or tell the user."
        )
    if isinstance(error, RateLimitError):
        seconds = min(error.retry_after or 0.0, 3600.0)
        wait = f" {seconds:.0f} seconds" if seconds else " a minute"
        return f"The image API is rate limiting requests; wait{wait} and try again."
    if isinstance(error, InvalidRequestError):
        return f"The image API rejected the arguments: {message}. Fix them and call again."
    return None


def _job_error_text(error: AceDataImagesError, message: str, ids: str) -> str | None:
    """Errors about one job: still running, unknown, failed, or perhaps created."""
    if isinstance(error, TaskTimeoutError):
        return (
            f"The image job is still running after {error.waited:.0f}s.{ids}. Do not submit it "
            "again; check it later with openai_get_task."
        )
    if isinstance(error, ImageInputError):
        return f"{message.rstrip('.')}. Fix the image argument and call the tool again."
    if isinstance(error, TaskNotFoundError):
        wanted = (
            f"task_id={_task_id(error.task_id)}"
            if error.task_id
            else f"trace_id={_id(error.trace_id)}"
        )
        recent = (
            ""
            if error.task_id
            else " A job submitted in the last minute may not show yet: check again shortly "
            "before generating it again."
        )
        return (
            f"No image task matches {wanted}. Copy the id exactly from the earlier tool result, "
            f"or find the task with openai_list_tasks.{recent}"
        )
    if isinstance(error, TaskFailedError):
        reason = _without_prefix(message, "the image job failed:")
        return f"The image job failed: {reason}.{ids}. You may try once more or change the prompt."
    if isinstance(error, (TransportError, ServerError)) and error.maybe_submitted:
        check = f" with trace_id={_id(error.trace_id)}" if error.trace_id else ""
        return (
            f"The image API did not confirm the job ({message}).{ids}. It may still have been "
            f"created (and billed): check with openai_get_task{check} before asking for the "
            "image again; do not call openai_generate_image again for it."
        )
    if isinstance(error, (TransportError, ServerError)):
        return f"The image service is unavailable right now ({message}). Try again later."
    return None


def malformed_answer_text(error: MalformedAnswerError, reason: str) -> str:
    """The job was accepted but its answer is unusable: look it up, never resubmit."""
    if error.task_id:
        lookup = f"openai_get_task with task_id={_task_id(error.task_id)}"
    elif error.trace_id:
        lookup = f"openai_get_task with trace_id={_id(error.trace_id)}"
    else:
        lookup = "openai_list_tasks"
    accepted = "accepted the image job" if error.maybe_submitted else "knows this image job"
    return (
        f"The image service {accepted} but sent an unreadable answer ({reason}). Do not "
        f"submit the job again: check it with {lookup}."
    )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def format_validation_error(error: ValidationError | Any) -> str:
    """Turn a pydantic error into a list the LLM can act on (field, problem, allowed values)."""
    if not isinstance(error, ValidationError):
        return f"Invalid arguments: {one_line(error, _MAX_MESSAGE_CHARS)}"
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
