"""What the command line tells a person when something goes wrong (the tools tell the LLM)."""

from __future__ import annotations

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


def invalid_arguments_text(command: str, error: ValidationError) -> str:
    """Each wrong option with what is allowed, then where to read about the options."""
    lines = [f"{PROG} {command}: invalid arguments"]
    for item in error.errors(include_url=False):
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        where = ".".join(str(part) for part in item.get("loc", ()))
        option = f"--{where.replace('_', '-')}" if where and where != "prompt" else where
        for problem in message.splitlines():
            lines.append(f"  {option}: {problem}" if option else f"  {problem}")
    lines.append(f'Nothing was sent. See "{PROG} {command} --help".')
    return "\n".join(lines)


def _ids(error: AceDataImagesError) -> str:
    return f"task id {error.task_id}" if error.task_id else f"trace id {error.trace_id}"


def _later(error: AceDataImagesError) -> str:
    option = f"--task-id {error.task_id}" if error.task_id else f"--trace-id {error.trace_id}"
    return f"{PROG} task {option}"


def error_text(error: AceDataImagesError) -> str:
    """One or two sentences for a person: what happened and what to do next."""
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
        (TaskTimeoutError, lambda: _still_running(error)),
        (ImageInputError, lambda: f"{message}."),
        (TaskNotFoundError, lambda: f"No task has {_ids(error)}."),
        (TaskFailedError, lambda: f"The job failed: {message}."),
        (ImageDownloadError, lambda: f"The images were made but not saved: {message}."),
        (TransportError, lambda: _transport(error)),
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


def _still_running(error: AceDataImagesError) -> str:
    return (
        f"The job ({_ids(error)}) is still running; it is not lost. Fetch it later with "
        f"`{_later(error)}` rather than running the command again (that would start and bill a "
        "new job)."
    )


def _transport(error: AceDataImagesError) -> str:
    if getattr(error, "maybe_submitted", False):
        return (
            f"The API did not confirm the job ({error.message.rstrip('.')}), but it may have "
            f"been created: check with `{_later(error)}` before running the command again."
        )
    return f"Could not reach the image API ({error.message.rstrip('.')}). Try again later."


__all__ = ["PROG", "error_text", "invalid_arguments_text"]
