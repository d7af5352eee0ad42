"""Command line: ``python -m langchain_acedata_images generate "a fox" --out images``.

Subcommands ``generate``, ``edit``, ``task``, ``tasks`` and ``emulator``. Image options are derived
from the request models' fields, and only those fields are sent, so the CLI always offers
exactly what the tool's schema does. Where requests go is decided by
:mod:`._cli_connection` (the real API with a token, else the embedded emulator, saying so).
Every option is checked before any request (:mod:`._cli_checks`); each run is a new job;
saved images are never lost (:mod:`._cli_saving`). Problems are reported in one line per
problem for people, without tracebacks, and printed commands can be pasted as they are.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID, uuid4

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import ToolException
from pydantic import BaseModel, ValidationError

from ._cli_checks import (
    OneLineParser,
    file_stem,
    http_url,
    image_dimensions,
    local_images,
    max_wait_seconds,
    writable_directory,
)
from ._cli_connection import EMULATOR_NOTICE, Target, UsageError, choose_target, open_client
from ._cli_messages import PROG, Rerun, error_text, invalid_arguments_text, task_command
from ._cli_saving import save_for_cli
from ._env import ENV
from ._offline import emulator_module
from .errors import AceDataImagesError
from .models import (
    EditImageInput,
    GenerateImageInput,
    GetTaskInput,
    ImageGenerationResult,
    TaskQuery,
    TaskRecord,
)

DEFAULT_OUT = "generated-images"
RICH_HINT = 'No progress spinner: it needs the "cli" extra (pip install ".[cli]").'
MCP_HINT = 'the MCP server needs the "mcp" extra: pip install ".[mcp]"'

#: The request model of each image command (also the tool's ``args_schema``).
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "generate": GenerateImageInput,
    "edit": EditImageInput,
    "task": GetTaskInput,
    "tasks": TaskQuery,
}


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


def request_values(args: argparse.Namespace) -> dict[str, Any]:
    """The options that are fields of the command's request model (nothing else is sent)."""
    fields = REQUEST_MODELS[args.command].model_fields
    return {name: value for name, value in vars(args).items() if name in fields}


def _version() -> str:
    from . import __version__

    return f"{PROG} {__version__}"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Generate and edit images with AceDataCloud's OpenAI-compatible image API. "
        f"With {ENV.token} set they call the real API; without it, an embedded emulator "
        "(offline).",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True)
    helps = {
        "generate": "generate images from a prompt",
        "edit": "edit images (URLs, data: URLs or local files)",
        "task": "look up (and wait for) one task",
        "tasks": "list recent tasks",
    }
    for command, model in REQUEST_MODELS.items():
        sub = commands.add_parser(command, help=helps[command])
        positional = ("prompt",) if "prompt" in model.model_fields else ()
        add_model_options(sub, model, positional=positional)
        _add_connection_options(sub)
        if command != "tasks":
            _add_output_options(sub, named=command != "task")

    # The emulator's own options (host, port, latency, dialect) are parsed by emulator.cli,
    # imported only when this command runs: --help of the others must not need the extra.
    commands.add_parser(
        "emulator",
        help="serve the local emulator of the API (acedata-images emulator --help)",
        add_help=False,
    )
    # Parsed by mcp_server, imported only when this command runs (the "mcp" extra).
    commands.add_parser(
        "mcp", help="serve the tools to MCP hosts (acedata-images mcp --help)", add_help=False
    )
    return parser


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        type=http_url,
        help=f"API base URL (default: ${ENV.base_url}, else the real API with {ENV.token}, "
        "else the embedded emulator); without a token only a local (loopback) server is accepted",
    )
    parser.add_argument(
        "--emulator", action="store_true", help="use the embedded emulator even with a token"
    )


def _add_output_options(parser: argparse.ArgumentParser, *, named: bool) -> None:
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"directory to save images in ({DEFAULT_OUT})"
    )
    if named:
        parser.add_argument(
            "--name",
            type=file_stem,
            help="file name for the saved image, without extension: --name fox saves "
            "OUT/fox.png (fox-1.png, fox-2.png, ... for several)",
        )
    parser.add_argument(
        "--max-wait", type=max_wait_seconds, help="seconds to wait for the job (above 0)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress spinner")


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
    try:
        from rich.console import Console
    except ModuleNotFoundError:
        print(RICH_HINT, file=sys.stderr)
        yield []
        return
    with Console(stderr=True).status("submitting…") as status:
        yield [_Spinner(status)]


def _run_tool(
    args: argparse.Namespace, values: dict[str, Any], target: Target, rerun: Rerun
) -> int:
    from .tools import OpenAIEditImageTool, OpenAIGenerateImageTool, OpenAIGetTaskTool

    tool_class: Any = {
        "generate": OpenAIGenerateImageTool,
        "edit": OpenAIEditImageTool,
        "task": OpenAIGetTaskTool,
    }[args.command]
    # Errors surface as exceptions here, to be told to a person rather than to an LLM. The
    # images are saved below, not by the tool, so a failed save cannot hide them.
    options: dict[str, Any] = {"handle_tool_error": False}
    if args.command == "edit":
        options["allow_local_files"] = True
    if args.command != "task":
        # Each run is a new job: a command line is no tool call, so no exactly-once key (it
        # would bring back this run's job for 24 h). The call id below is fresh for the same
        # reason; it only makes the tool return its artifact.
        options["exactly_once"] = False
    out = writable_directory(args.out)
    client_options = {"max_wait": args.max_wait} if args.max_wait else {}
    with open_client(target, **client_options) as client, _progress(not args.no_progress) as cbs:
        tool = tool_class(client=client, **options)
        call = {"type": "tool_call", "id": f"cli-{uuid4()}", "name": tool.name, "args": values}
        outcome = tool.invoke(call, config={"callbacks": cbs}).artifact
        problem, keep_b64 = None, False
        if isinstance(outcome, ImageGenerationResult):
            # Inside the block: the embedded emulator's image URLs end with it.
            name = getattr(args, "name", None)
            saved = save_for_cli(outcome, out, name, **client._download_options())
            outcome, problem, keep_b64 = saved.result, saved.problem, saved.keep_b64
    data = _dump(outcome, keep_b64=keep_b64)
    print(json.dumps(data, indent=2, ensure_ascii=False))
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 1
    if data.get("status") == "running":
        later = task_command(rerun, task_id=data.get("task_id"), trace_id=data.get("trace_id"))
        print(f"Still running; run `{later}` again later.", file=sys.stderr)
    return 0


def _dump(result: BaseModel, *, keep_b64: bool = False) -> dict[str, Any]:
    """The result as JSON data; base64 is left out unless it is an image's only copy."""
    data = result.model_dump(mode="json", exclude_none=True)
    for image in data.get("images", []):
        if not keep_b64 and image.pop("b64_json", None) is not None:
            image["b64_json"] = "(omitted: saved to path)"
    return data


def _edit_values(values: dict[str, Any]) -> dict[str, Any]:
    """Local files made absolute (from the working directory), and the first image's size
    kept when no ``--size`` is given and the model accepts it."""
    values = {**values, "image": local_images("--image", values["image"])}
    if values.get("mask"):
        values["mask"] = local_images("--mask", [values["mask"]])[0]
    if "size" in values:
        return values
    dimensions = image_dimensions(values["image"][0])
    if dimensions is None:  # a URL, a handle, or a file whose size is unknown
        return values
    sized = {**values, "size": "{}x{}".format(*dimensions)}
    try:
        EditImageInput.model_validate(sized)
    except ValidationError:  # a size this model does not make: the API chooses
        return values
    return sized


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


def _list_tasks(target: Target, query: TaskQuery) -> int:
    with open_client(target) as client:
        listing = client.list_tasks(query)
    items = [_task_line(task) for task in listing.items]
    print(json.dumps({"count": listing.count, "items": items}, indent=2))
    return 0


def _serve(argv: list[str]) -> int:
    emulator = emulator_module()
    options = importlib.import_module(".cli", emulator.__name__)
    parser = OneLineParser(
        prog=f"{PROG} emulator", description="Serve a local emulator of the image API."
    )
    options.add_arguments(parser)
    args = parser.parse_args(argv)
    emulator.serve(options.config_from_args(args), host=args.host, port=args.port)
    return 0


def _rerun(args: argparse.Namespace, target: Target) -> Rerun:
    """How a printed ``task`` command reaches this run's server and folder again."""
    out = getattr(args, "out", DEFAULT_OUT)
    flags = (*target.flags, *(("--out", out) if out != DEFAULT_OUT else ()))
    return Rerun(flags, embedded=target.embedded)


def _report(error: ToolException | AceDataImagesError, rerun: Rerun) -> int:
    cause = error.__cause__ if isinstance(error, ToolException) else error
    text = error_text(cause, rerun) if isinstance(cause, AceDataImagesError) else str(error)
    print(f"{PROG}: {text}", file=sys.stderr)
    return 1


def _serve_mcp(argv: list[str]) -> int:
    try:
        from . import mcp_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "mcp":
            raise
        raise UsageError(MCP_HINT) from None
    return mcp_server.main(argv)


def _run(args: argparse.Namespace) -> int:
    values = request_values(args)
    model = REQUEST_MODELS[args.command]
    try:
        request = model.model_validate(values)
    except ValidationError as error:
        print(invalid_arguments_text(args.command, error, model.model_fields), file=sys.stderr)
        return 2
    if args.command == "edit":
        values = _edit_values(values)
    target = choose_target(args.base_url, force_emulator=args.emulator, command=args.command)
    rerun = _rerun(args, target)
    try:
        if args.command == "tasks":
            assert isinstance(request, TaskQuery)
            return _list_tasks(target, request)
        return _run_tool(args, values, target, rerun)
    except (ToolException, AceDataImagesError) as error:
        return _report(error, rerun)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command not in ("emulator", "mcp") and extra:
        command = f"{PROG} {args.command}"
        parser.exit(
            2, f"{command}: unrecognized arguments: {' '.join(extra)} (see {command} --help)\n"
        )
    try:
        if args.command == "mcp":
            return _serve_mcp(extra)
        return _serve(extra) if args.command == "emulator" else _run(args)
    except UsageError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except (ToolException, AceDataImagesError) as error:
        return _report(error, Rerun())
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


__all__ = [
    "DEFAULT_OUT",
    "EMULATOR_NOTICE",
    "REQUEST_MODELS",
    "add_model_options",
    "build_parser",
    "main",
    "request_values",
]
