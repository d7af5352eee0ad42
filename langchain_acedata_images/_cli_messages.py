"""What the command line tells a person when something goes wrong (the tools tell the LLM)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ._env import ENV
from ._offline import MissingExtraError
from .errors import (
    AceDataImagesError,
    AuthenticationError,
    ConfigurationError,
    ImageDownloadError,
    ImageInputError,
    InsufficientBalanceError,
    InvalidRequestError,
    ModerationError,
    RateLimitError,
    ResourceDisabledError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
    TransportError,
)

PROG = "acedata-images"
# ``n=1``, ``model='dall-e-3'`` or ``output_format`` in a validation message: the library's
# spelling of an option.
_ASSIGNMENT = re.compile(r"\b([a-z_]+)=('([^']*)'|[\w.-]+)|\b([a-z]+_[a-z_]+)\b")


@dataclass(frozen=True)
class Rerun:
    """How a printed ``task`` command reaches the job again: the same server and output
    options (``flags``), or nothing when the job lived in the embedded emulator."""

    flags: tuple[str, ...] = ()
    embedded: bool = False


def invalid_arguments_text(
    command: str, error: ValidationError, options: Collection[str] = ()
) -> str:
    """One line per wrong option with what is allowed; the last says where to read more.

    ``name='value'`` in a message becomes ``--name value``, and ``output_format`` (or a
    field's name opening the message) ``--output-format``, for each of ``options`` (the
    request model's fields), so the advice is the command line to type.
    """

    def as_flag(found: re.Match[str]) -> str:
        name = found[1] or found[4]
        if name not in options:
            return found[0]
        value = "" if found[4] else f" {found[3] if found[3] is not None else found[2]}"
        return f"--{name.replace('_', '-')}{value}"

    lines = []
    for item in error.errors(include_url=False):
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        where = ".".join(str(part) for part in item.get("loc", ()))
        option = f"--{where.replace('_', '-')}: " if where and where != "prompt" else ""
        for problem in message.splitlines():
            problem = _ASSIGNMENT.sub(as_flag, problem.strip().removeprefix("- "))
            first = problem.split(" ", 1)[0]
            if not option and first in options:  # "size 1792x1024 is not supported..."
                problem = f"--{first.replace('_', '-')}{problem[len(first) :]}"
            lines.append(f"{PROG} {command}: {option}{problem}")
    lines[-1] += f'. Nothing was sent; see "{PROG} {command} --help".'
    return "\n".join(lines)


def _ids(error: AceDataImagesError) -> str:
    return f"task id {error.task_id}" if error.task_id else f"trace id {error.trace_id}"


def task_command(rerun: Rerun, *, task_id: str | None, trace_id: str | None = None) -> str:
    """The ``task`` command that fetches a job, with the options that reach it again."""
    ids = ["--task-id", task_id] if task_id else ["--trace-id", str(trace_id)]
    return shlex.join([PROG, "task", *ids, *rerun.flags])


def _later(error: AceDataImagesError, rerun: Rerun) -> str:
    return task_command(rerun, task_id=error.task_id, trace_id=error.trace_id)


def error_text(error: AceDataImagesError, rerun: Rerun | None = None) -> str:
    """One or two sentences for a person: what happened and what to do next."""
    rerun = rerun or Rerun()
    message = error.message.rstrip(".")
    texts: list[tuple[type[AceDataImagesError], Any]] = [
        (MissingExtraError, lambda: error.message[:1].upper() + error.message[1:]),
        (ConfigurationError, lambda: f"{message}. Set {ENV.token} (export {ENV.token}=...)."),
        (AuthenticationError, lambda: f"The API refused the token ({message}); check {ENV.token}."),
        (InsufficientBalanceError, lambda: "Your AceDataCloud balance is used up."),
        (ResourceDisabledError, lambda: f"The service is disabled for this account ({message})."),
        (ModerationError, lambda: f"Refused by content moderation ({message}); rephrase it."),
        (RateLimitError, lambda: _rate_limited(error)),
        (InvalidRequestError, lambda: f"The API rejected the request: {message}."),
        (TaskTimeoutError, lambda: _still_running(error, rerun)),
        (ImageInputError, lambda: f"{message}."),
        (TaskNotFoundError, lambda: f"No task has {_ids(error)}."),
        (TaskFailedError, lambda: f"The job failed: {message}."),
        (ImageDownloadError, lambda: f"The images were made but not saved: {message}."),
        (TransportError, lambda: _transport(error, rerun)),
    ]
    for kind, text in texts:
        if isinstance(error, kind):
            return str(text())
    return f"The image service failed: {message}. Try again later."


def _rate_limited(error: AceDataImagesError) -> str:
    wait = getattr(error, "retry_after", None)
    return (
        f"Too many requests; wait {wait:.0f} s and run it again."
        if wait
        else ("Too many requests; wait a minute and run it again.")
    )


def _still_running(error: AceDataImagesError, rerun: Rerun) -> str:
    if rerun.embedded:
        return (
            f"The job ({_ids(error)}) was still running when --max-wait ran out, and the "
            "embedded emulator stops with this command. Run the command again with a larger "
            "--max-wait (the emulator bills nothing)."
        )
    return (
        f"The job ({_ids(error)}) is still running; it is not lost. Fetch it later with "
        f"`{_later(error, rerun)}` rather than running the command again (that would start and "
        "bill a new job)."
    )


def _transport(error: AceDataImagesError, rerun: Rerun) -> str:
    if getattr(error, "maybe_submitted", False):
        if rerun.embedded:
            return (
                f"The embedded emulator did not confirm the job ({error.message.rstrip('.')}). "
                "Run the command again (the emulator bills nothing)."
            )
        return (
            f"The API did not confirm the job ({error.message.rstrip('.')}), but it may have "
            f"been created: check with `{_later(error, rerun)}` before running the command again."
        )
    return f"Could not reach the image API ({error.message.rstrip('.')}). Try again later."


__all__ = ["PROG", "Rerun", "error_text", "invalid_arguments_text", "task_command"]
