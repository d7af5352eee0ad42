"""MCP server: the package's four tools for any MCP host (``acedata-images mcp``, extra ``mcp``).

Each MCP tool runs the LangChain tool of the same name (:mod:`.tools`) for one call, so
validation, waiting, exactly-once and the text the model reads are the same everywhere:

- one call returns the finished images; while it waits, the package's progress events become
  MCP progress notifications (``ctx.report_progress``);
- the content is one short text line plus a ``ResourceLink`` per image (its http(s) URL, its
  saved file, or an ``acedata-images://image/...`` resource for base64 answers), and
  ``structuredContent`` follows the tool's output schema. Base64 never reaches the text;
- arguments the rules refuse are an ``isError`` result before any request;
- generate and edit take an optional ``idempotency_key``: a retry with the same key and
  arguments finds the first job instead of paying again. MCP request ids are counters of one
  session (a retry gets a new one), so they identify no retry and are not used; without a key
  every call is a new job.
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import anyio
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.types import (
    CallToolResult,
    ContentBlock,
    ResourceLink,
    ResourceTemplate,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as MCPTool
from pydantic import AnyUrl, BaseModel, Field

from ._text import display_url, one_line
from .client import AceDataImagesClient
from .handles import HandleCache, ImageHandle, image_in_record
from .models import GeneratedImage, ImageGenerationResult, ImageTask, TaskList, TaskRecord
from .progress import PROGRESS_EVENT
from .toolkit import AceDataImagesToolkit

SERVER_NAME = "acedata-images"
INSTRUCTIONS = (
    "Image generation and editing (AceDataCloud's OpenAI-compatible API). One call of "
    "openai_generate_image or openai_edit_image returns the finished images; there is no "
    "need to poll. Use openai_get_task only to resume a job whose call was interrupted."
)
IMAGE_URI_TEMPLATE = "acedata-images://image/{task_id}/{index}"
_IMAGE_URI = re.compile(r"^acedata-images://image/([A-Za-z0-9_.-]{1,128})/([0-9]{1,2})$")
KEY_ARGUMENT = "idempotency_key"
_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "description": "Optional. Reuse the same key (and arguments) only to retry a call whose "
    "answer was lost: the first job is returned instead of paying again.",
}
_MIME = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}

_JOB = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True
)
_LOOKUP = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=True)


class McpImage(BaseModel):
    """One image of a result as an MCP client sees it (never base64)."""

    uri: str = Field(description="Where to get the image: http(s) URL, file URI or resource.")
    mime_type: str
    url: str | None = None
    path: str | None = None
    handle: str | None = Field(default=None, description="img:<task_id>:<index>, for edits.")
    revised_prompt: str | None = None


class McpImageOutput(BaseModel):
    """Structured result of generate, edit and get task."""

    status: Literal["succeeded", "running", "submitted", "queued", "failed"]
    task_id: str | None = None
    trace_id: str | None = None
    images: list[McpImage] = Field(default_factory=list)
    model: str | None = None
    size: str | None = None
    elapsed: float | None = Field(default=None, description="Seconds, measured locally.")
    note: str | None = None


class McpTask(BaseModel):
    id: str | None = None
    trace_id: str | None = None
    type: str | None = None
    status: str
    created_at: float | None = None
    urls: list[str] = Field(default_factory=list)


class McpTaskListOutput(BaseModel):
    """Structured result of list tasks."""

    count: int
    items: list[McpTask]


@dataclass(frozen=True)
class _Entry:
    """One MCP tool: the LangChain tool it runs, and its keyed twin (generate and edit)."""

    tool: BaseTool
    keyed: BaseTool | None
    output: type[BaseModel]
    annotations: ToolAnnotations


class _ProgressBridge(AsyncCallbackHandler):
    """The tool's progress events as MCP progress notifications of the current request."""

    def __init__(self, ctx: Context[Any, Any, Any]) -> None:
        self.ctx = ctx
        self.progress = 0.0

    async def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if name != PROGRESS_EVENT or not isinstance(data, dict):
            return
        elapsed = float(data.get("elapsed") or 0.0)
        # The protocol asks for a progress value that increases with every notification.
        self.progress = max(elapsed, self.progress + 0.001)
        status = data.get("status") or data.get("kind")
        message = f"{data.get('kind')}: {status} ({elapsed:.1f}s)"
        await self.ctx.report_progress(round(self.progress, 3), None, message)


class AceDataImagesMCP(FastMCP[Any]):
    """A FastMCP server offering generate, edit, get task and list tasks over one client.

    The client is the caller's to close. ``save_dir`` saves every image (the links then point
    at the files); ``max_wait`` bounds one call's wait, after which it answers with the task
    id to resume with ``openai_get_task``; ``local_files_root`` lets edits read image files
    under that directory. ``local_links=False`` links only images with an http(s) URL: clients
    such as ``langchain-mcp-adapters`` turn every link into an image URL for the chat model,
    which cannot fetch ``file://`` or ``acedata-images://``. ``settings`` go to
    :class:`FastMCP` (host, port).
    """

    def __init__(
        self,
        client: AceDataImagesClient,
        *,
        save_dir: str | Path | None = None,
        max_wait: float | None = None,
        local_files_root: str | Path | None = None,
        local_links: bool = True,
        **settings: Any,
    ) -> None:
        # FastMCP configures the root logger at this level: keep the host's logs quiet.
        settings.setdefault("log_level", "WARNING")
        super().__init__(SERVER_NAME, instructions=INSTRUCTIONS, **settings)
        self.client = client
        self.local_links = local_links
        options: dict[str, Any] = {"client": client, "save_dir": save_dir}
        if max_wait is not None:
            options["max_wait"] = max_wait
        if local_files_root is not None:
            options.update(allow_local_files=True, local_files_root=local_files_root)
        fresh = AceDataImagesToolkit(**options, exactly_once=False).get_tools()
        keyed = AceDataImagesToolkit(**options).get_tools()
        generate, edit, get_task, list_tasks = fresh
        self._entries = {
            generate.name: _Entry(generate, keyed[0], McpImageOutput, _JOB),
            edit.name: _Entry(edit, keyed[1], McpImageOutput, _JOB),
            get_task.name: _Entry(get_task, None, McpImageOutput, _LOOKUP),
            list_tasks.name: _Entry(list_tasks, None, McpTaskListOutput, _LOOKUP),
        }
        self._images = HandleCache()

    # ------------------------------------------------------------------ tools

    async def list_tools(self) -> list[MCPTool]:
        """The four tools; input schemas are the LangChain tools' (one declaration)."""
        return [_definition(name, entry) for name, entry in self._entries.items()]

    async def call_tool(  # type: ignore[override]
        self, name: str, arguments: dict[str, Any]
    ) -> CallToolResult:
        """Run one tool call to its end (progress reported while it waits)."""
        # Overridden with a wider return type: FastMCP's own returns content or a dict, but
        # the low-level server it registers this with also takes a whole CallToolResult,
        # which is how isError and structuredContent are set together with resource links.
        entry = self._entries.get(name)
        if entry is None:
            return _error(f"Unknown tool {name!r}; tools: {', '.join(self._entries)}")
        arguments = dict(arguments)
        key = arguments.pop(KEY_ARGUMENT, None) if entry.keyed is not None else None
        if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
            return _error(f"{KEY_ARGUMENT}: a string of 1-200 characters, or leave it out")
        tool = entry.keyed if key is not None and entry.keyed is not None else entry.tool
        call = {"type": "tool_call", "id": key or "mcp", "name": tool.name, "args": arguments}
        config: RunnableConfig = {"callbacks": [_ProgressBridge(self.get_context())]}
        message = await tool.ainvoke(call, config=config)
        assert isinstance(message, ToolMessage)
        return self._result(message)

    def _result(self, message: ToolMessage) -> CallToolResult:
        text = message.text
        if message.status == "error":
            return _error(text)
        outcome = message.artifact
        if isinstance(outcome, TaskList):
            listing = McpTaskListOutput(
                count=outcome.count, items=[_task(record) for record in outcome.items]
            )
            return _answer([TextContent(type="text", text=text)], listing)
        if isinstance(outcome, ImageTask):
            pending = McpImageOutput(
                status=outcome.status,
                task_id=outcome.task_id,
                trace_id=outcome.trace_id,
                note=outcome.note,
            )
            return _answer([TextContent(type="text", text=text)], pending)
        assert isinstance(outcome, ImageGenerationResult)
        images = [self._image(outcome, index, image) for index, image in enumerate(outcome.images)]
        head = text.splitlines()[0] if text else ""
        note = f" {one_line(outcome.note, 300)}" if outcome.note else ""
        content: list[ContentBlock] = [TextContent(type="text", text=head + note + _refs(images))]
        for number, image in enumerate(images, 1):
            uri = image.uri if self.local_links else image.url
            if uri:
                content.append(_link(number, uri, image.mime_type))
        output = McpImageOutput(
            status="succeeded",
            task_id=outcome.task_id,
            trace_id=outcome.trace_id,
            images=images,
            model=outcome.model,
            size=outcome.size,
            elapsed=outcome.elapsed,
            note=outcome.note,
        )
        return _answer(content, output)

    def _image(self, outcome: ImageGenerationResult, index: int, image: GeneratedImage) -> McpImage:
        mime = image.mime_type or _MIME.get(outcome.output_format.lower(), "image/png")
        url = display_url(image.url)
        handle = ImageHandle.parse(image.handle) if image.handle else None
        if image.path:
            uri = Path(image.path).resolve().as_uri()
        elif url:
            uri = url
        else:
            # Base64 only: served as a resource, never put in the text or the structure.
            handle = handle or ImageHandle(outcome.task_ids[0] if outcome.task_ids else "", index)
            self._images.put(handle, image)
            uri = IMAGE_URI_TEMPLATE.format(task_id=handle.task_id, index=handle.index)
        revised = one_line(image.revised_prompt, 240) if image.revised_prompt else None
        return McpImage(
            uri=uri,
            mime_type=mime,
            url=url,
            path=image.path,
            handle=str(handle) if handle else None,
            revised_prompt=revised,
        )

    # -------------------------------------------------------------- resources

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        """Base64 images of earlier results, by task and index."""
        template = ResourceTemplate(
            name="image",
            uriTemplate=IMAGE_URI_TEMPLATE,
            description="An image that came back as base64 only (task id, index from 0).",
        )
        return [*await super().list_resource_templates(), template]

    async def read_resource(self, uri: AnyUrl | str) -> Iterable[ReadResourceContents]:
        """The bytes of an ``acedata-images://image/...`` image (other URIs: FastMCP's)."""
        match = _IMAGE_URI.match(str(uri))
        if match is None:
            return await super().read_resource(uri)
        handle = ImageHandle(match[1], int(match[2]))
        image = self._images.get(handle)
        if image is None:  # not answered by this process: the task still has it
            record = await self.client.aget_task(handle.task_id)
            if record is None:
                raise ValueError(f"no task {handle.task_id!r}: the image is not available")
            image = image_in_record(record, handle)
        if not image.b64_json:
            raise ValueError(f"image {handle} has no image data here; use its URL")
        data = base64.b64decode(image.b64_json)
        return [ReadResourceContents(content=data, mime_type=image.mime_type or "image/png")]


def _definition(name: str, entry: _Entry) -> MCPTool:
    schema = entry.tool.tool_call_schema
    assert isinstance(schema, type)
    assert issubclass(schema, BaseModel)
    inputs = schema.model_json_schema()
    if entry.keyed is not None:
        inputs = {
            **inputs,
            "properties": {**inputs.get("properties", {}), KEY_ARGUMENT: _KEY_SCHEMA},
        }
    return MCPTool(
        name=name,
        description=entry.tool.description,
        inputSchema=inputs,
        outputSchema=entry.output.model_json_schema(),
        annotations=entry.annotations,
    )


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], isError=True)


def _answer(content: Sequence[ContentBlock], output: BaseModel) -> CallToolResult:
    structured = output.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=list(content), structuredContent=structured)


def _refs(images: Sequence[McpImage]) -> str:
    """How to name the images without an http(s) URL (saved path or handle), for edits."""
    refs = [image.path or image.handle for image in images if image.url is None]
    kept = [one_line(ref, 300) for ref in refs if ref][:4]
    more = f" (+{len(refs) - len(kept)} more)" if len(refs) > len(kept) else ""
    return f" Images: {', '.join(kept)}{more}." if kept else ""


def _link(number: int, uri: str, mime_type: str) -> ResourceLink:
    return ResourceLink(
        type="resource_link", name=f"image-{number}", uri=AnyUrl(uri), mimeType=mime_type
    )


def _task(record: TaskRecord) -> McpTask:
    data = (record.response or {}).get("data")
    items = data if isinstance(data, list) else []
    urls = [display_url(item.get("url")) for item in items if isinstance(item, dict)]
    return McpTask(
        id=record.id,
        trace_id=record.trace_id,
        type=record.type,
        status=record.status,
        created_at=record.created_at,
        urls=[url for url in urls if url],
    )


# ---------------------------------------------------------------------- command line


def build_parser(prog: str = "acedata-images mcp") -> argparse.ArgumentParser:
    from ._cli_checks import OneLineParser, http_url, max_wait_seconds

    parser = OneLineParser(
        prog=prog,
        description="Serve the image tools to MCP hosts (Claude Desktop, IDEs, LangChain).",
    )
    parser.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio (default), or streamable HTTP with SSE at http://HOST:PORT/mcp",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (8000)")
    parser.add_argument(
        "--base-url", type=http_url, help="API base URL (as for the other commands)"
    )
    parser.add_argument(
        "--emulator", action="store_true", help="use the embedded emulator even with a token"
    )
    parser.add_argument("--out", help="save every image in this directory")
    parser.add_argument(
        "--max-wait", type=max_wait_seconds, help="seconds one call waits for its job"
    )
    parser.add_argument("--local-files", metavar="DIR", help="let edits read image files under DIR")
    parser.add_argument(
        "--http-links-only",
        action="store_true",
        help="link only images with an http(s) URL (for langchain-mcp-adapters, which hands "
        "every link to the chat model as an image URL); others are named in the text",
    )
    return parser


async def serve(server: AceDataImagesMCP, transport: Literal["stdio", "http"]) -> None:
    """Serve until the host disconnects (stdio) or the process is stopped (HTTP)."""
    try:
        if transport == "stdio":
            await server.run_stdio_async()
        else:
            await server.run_streamable_http_async()
    finally:
        await server.client.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """``acedata-images mcp [--transport http] [--emulator] ...``."""
    from ._cli_checks import writable_directory
    from ._cli_connection import choose_target, open_client

    args = build_parser().parse_args(argv)
    if args.out is not None:
        writable_directory(args.out)  # before serving: a save must not fail after billing
    target = choose_target(args.base_url, force_emulator=args.emulator, command="mcp")
    with open_client(target) as client:
        server = AceDataImagesMCP(
            client,
            save_dir=args.out,
            max_wait=args.max_wait,
            local_files_root=args.local_files,
            local_links=not args.http_links_only,
            host=args.host,
            port=args.port,
        )
        print(f"{SERVER_NAME} MCP server ({args.transport}) ready", file=sys.stderr)
        anyio.run(serve, server, args.transport)
    return 0


__all__ = [
    "IMAGE_URI_TEMPLATE",
    "KEY_ARGUMENT",
    "AceDataImagesMCP",
    "McpImage",
    "McpImageOutput",
    "McpTask",
    "McpTaskListOutput",
    "build_parser",
    "main",
    "serve",
]
