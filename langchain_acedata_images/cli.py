"""Command line: ``python -m langchain_acedata_images generate "a fox" --out images``.

Subcommands ``generate``, ``edit``, ``task``, ``tasks`` and ``emulator``. Image options are derived
from the request models' fields, so the CLI always offers exactly what the tool's schema does.
Without ``ACEDATACLOUD_API_TOKEN`` the image commands run against an embedded emulator and say
so on stderr; with a token they use the real API and never fall back.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from pydantic import BaseModel, ValidationError

from ._text import format_validation_error
from .client import BASE_URL_ENV, TOKEN_ENV, AceDataImagesClient
from .models import EditImageInput, GenerateImageInput, GetTaskInput, TaskQuery, TaskRecord

DEFAULT_OUT = "generated-images"
EMULATOR_NOTICE = (
    f"No {TOKEN_ENV} set: using the embedded AceDataCloud emulator (offline placeholder images)."
)
_DEMO_LATENCY = 1.0


def _annotation_args(annotation: Any) -> tuple[Any, ...]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return tuple(a for arg in get_args(annotation) for a in _annotation_args(arg))
    return (annotation,)


def add_model_options(
    parser: argparse.ArgumentParser, model: type[BaseModel], *, positional: Sequence[str] = ()
) -> None:
    """Add one option per field of ``model`` (names, types, choices and help from the model)."""
    for name, field in model.model_fields.items():
        kinds = _annotation_args(field.annotation)
        choices = [
            value for kind in kinds if get_origin(kind) is Literal for value in get_args(kind)
        ]
        # argparse formats help with %; the descriptions say "0-100%".
        options: dict[str, Any] = {"help": (field.description or "").replace("%", "%%")}
        if choices:
            options["choices"] = choices
        elif int in kinds:
            options["type"] = int
        elif float in kinds:
            options["type"] = float
        if any(get_origin(kind) is list for kind in kinds):
            options["action"] = "append"
            options["metavar"] = name.upper()
        if name in positional:
            parser.add_argument(name, **options)
        else:
            # SUPPRESS leaves unset options out, so only what the user chose is sent.
            flag = "--" + name.replace("_", "-")
            parser.add_argument(flag, dest=name, default=argparse.SUPPRESS, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acedata-images",
        description="Generate and edit images with AceDataCloud's OpenAI-compatible image API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="generate images from a prompt")
    add_model_options(generate, GenerateImageInput, positional=("prompt",))
    edit = commands.add_parser("edit", help="edit images (URLs, data: URLs or local files)")
    add_model_options(edit, EditImageInput, positional=("prompt",))
    task = commands.add_parser("task", help="look up (and wait for) one task")
    add_model_options(task, GetTaskInput)
    tasks = commands.add_parser("tasks", help="list recent tasks")
    add_model_options(tasks, TaskQuery)
    for sub in (generate, edit, task, tasks):
        _add_connection_options(sub)
    for sub in (generate, edit, task):
        sub.add_argument(
            "--out", default=DEFAULT_OUT, help=f"directory to save images in ({DEFAULT_OUT})"
        )
        sub.add_argument("--max-wait", type=float, help="seconds to wait for the job")
        sub.add_argument("--no-progress", action="store_true", help="hide the progress spinner")

    emulator = commands.add_parser("emulator", help="serve the local emulator of the API")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=0, help="0 picks a free port")
    emulator.add_argument("--latency", type=float, help="seconds each task takes")
    return parser


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV} or the API)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help=f"use the embedded emulator even when {TOKEN_ENV} is set",
    )


@contextmanager
def _connection(args: argparse.Namespace) -> Iterator[AceDataImagesClient]:
    """A client for the real API when a token is set, else for an embedded emulator."""
    max_wait = {"max_wait": args.max_wait} if getattr(args, "max_wait", None) else {}
    if os.environ.get(TOKEN_ENV) and not args.emulator:
        with AceDataImagesClient(base_url=args.base_url, **max_wait) as client:
            yield client
        return
    try:
        from .emulator import EMULATOR_TOKEN, EmulatorConfig, run_emulator
    except ImportError as exc:
        raise SystemExit(
            f"No {TOKEN_ENV} set and the emulator is not installed: set the token, or "
            'pip install "langchain-acedata-images[emulator]".'
        ) from exc
    print(EMULATOR_NOTICE, file=sys.stderr)
    config = EmulatorConfig.from_env()
    if "ACEDATA_EMULATOR_LATENCY" not in os.environ:
        config = replace(config, latency=_DEMO_LATENCY)
    with (
        run_emulator(config) as emulator,
        AceDataImagesClient(
            api_token=EMULATOR_TOKEN, base_url=emulator.base_url, **max_wait
        ) as client,
    ):
        yield client


class _Spinner(BaseCallbackHandler):
    """Shows the tool's progress events on a rich status line."""

    def __init__(self, status: Any) -> None:
        self.status = status

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if isinstance(data, dict):
            status = data.get("status") or data.get("kind")
            self.status.update(f"{data.get('kind')}: {status} ({data.get('elapsed', 0):.1f}s)")


@contextmanager
def _progress(enabled: bool) -> Iterator[list[BaseCallbackHandler]]:
    if not enabled or not sys.stderr.isatty():
        yield []
        return
    from rich.console import Console

    with Console(stderr=True).status("submitting…") as status:
        yield [_Spinner(status)]


def _run_tool(args: argparse.Namespace, values: dict[str, Any]) -> int:
    from .tools import OpenAIEditImageTool, OpenAIGenerateImageTool, OpenAIGetTaskTool

    tool_class: Any = {
        "generate": OpenAIGenerateImageTool,
        "edit": OpenAIEditImageTool,
        "task": OpenAIGetTaskTool,
    }[args.command]
    schema: type[BaseModel] = tool_class.model_fields["args_schema"].default
    try:
        schema.model_validate(values)
    except ValidationError as error:
        print(format_validation_error(error), file=sys.stderr)
        return 2
    options: dict[str, Any] = {"save_dir": args.out}
    if args.command == "edit":
        options["allow_local_files"] = True
    with _connection(args) as client, _progress(not args.no_progress) as handlers:
        tool = tool_class(client=client, **options)
        message = tool.invoke(
            {"type": "tool_call", "id": "cli", "name": tool.name, "args": values},
            config={"callbacks": handlers},
        )
    artifact = getattr(message, "artifact", None)
    if artifact is None:
        print(message.content, file=sys.stderr)
        return 1
    print(_dump(artifact))
    return 0


def _dump(result: BaseModel) -> str:
    """The result as JSON, with base64 left out (the images were saved to files)."""
    data = result.model_dump(mode="json", exclude_none=True)
    for image in data.get("images", []):
        if image.pop("b64_json", None) is not None:
            image["b64_json"] = "(omitted: saved to path)"
    return json.dumps(data, indent=2, ensure_ascii=False)


def _task_line(record: TaskRecord) -> dict[str, Any]:
    data = (record.response or {}).get("data") or []
    urls = [item["url"] for item in data if isinstance(item, dict) and item.get("url")]
    return {
        "id": record.id,
        "trace_id": record.trace_id,
        "type": record.type,
        "status": record.status,
        "created_at": record.created_at,
        "urls": urls,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "emulator":
        from .emulator import EmulatorConfig, serve

        config = EmulatorConfig.from_env()
        if args.latency is not None:
            config = replace(config, latency=args.latency)
        serve(config, host=args.host, port=args.port)
        return 0
    fields = {"command", "out", "max_wait", "no_progress", "base_url", "emulator"}
    values = {k: v for k, v in vars(args).items() if k not in fields}
    if args.command == "tasks":
        try:
            query = TaskQuery.model_validate(values)
        except ValidationError as error:
            print(format_validation_error(error), file=sys.stderr)
            return 2
        with _connection(args) as client:
            listing = client.list_tasks(query)
        print(
            json.dumps(
                {"count": listing.count, "items": [_task_line(t) for t in listing.items]}, indent=2
            )
        )
        return 0
    return _run_tool(args, values)


__all__ = ["DEFAULT_OUT", "EMULATOR_NOTICE", "add_model_options", "build_parser", "main"]
