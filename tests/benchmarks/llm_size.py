"""4. LLM-visible size: bytes of the ``ToolMessage`` content the model reads.

``tool.invoke`` with a ``ToolCall`` returns the ``ToolMessage`` an agent appends to the
conversation; its ``content`` is what the model reads, in every combination of ``n``, size
(gpt-image-2, up to 3840x2160) and ``response_format``. It is compared with the raw API answer
serialised as JSON (``json.dumps(result.raw)``), which is what a tool returning the API answer
hands the model.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import ToolMessage

from langchain_acedata_images import AceDataImagesClient, OpenAIGenerateImageTool, PollSchedule
from langchain_acedata_images.emulator import EmulatorConfig

from ._common import PROMPT, TOKEN, BenchResult, Goal, Table, loopback_emulator, tool_call

GOAL_BYTES = 1024
FORMATS = ("url", "b64_json")
SIZES = ("1024x1024", "1536x1024", "2048x2048", "3840x2160")
QUICK_SIZES = ("1024x1024", "3840x2160")
SCHEDULE = PollSchedule(first_delay=0.01, factor=1.5, max_interval=0.1)
#: Long, signed-CDN-like image URLs (never fetched here): about 200 characters each.
LONG_URL_BASE = (
    "http://127.0.0.1/cdn/" + "signed-path-segment/" * 6 + "x-amz-signature-abcdef0123456789"
)
LONG = "url, 200-char URLs"


def content_bytes(message: ToolMessage) -> int:
    """UTF-8 bytes of what the model reads (content blocks count as their JSON)."""
    content = message.content
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return len(text.encode())


def _measure(tool: OpenAIGenerateImageTool, size: str, fmt: str, n: int) -> dict[str, int]:
    args = {"prompt": PROMPT, "model": "gpt-image-2", "size": size, "n": n, "response_format": fmt}
    message = tool.invoke(tool_call(args))
    if not isinstance(message, ToolMessage) or message.status != "success":
        raise RuntimeError(f"generation failed for {args}: {message}")
    if len(message.artifact.images) != n:
        raise RuntimeError(f"expected {n} images, got {len(message.artifact.images)}")
    raw = len(json.dumps(message.artifact.raw, ensure_ascii=False).encode())
    return {"tool_bytes": content_bytes(message), "raw_bytes": raw}


def run(quick: bool) -> BenchResult:
    sizes, counts = (QUICK_SIZES, (1, 10)) if quick else (SIZES, tuple(range(1, 11)))
    result = BenchResult("llm_size", "4. LLM-visible size of a generation result", quick)
    measured: dict[str, dict[str, dict[int, dict[str, int]]]] = {}
    settings = {
        "": EmulatorConfig(latency=0.0, queue_delay=0.0),
        LONG: EmulatorConfig(latency=0.0, queue_delay=0.0, public_base_url=LONG_URL_BASE),
    }
    for label, config in settings.items():
        with loopback_emulator(config) as emulator:
            client = AceDataImagesClient(TOKEN, base_url=emulator.base_url, poll_schedule=SCHEDULE)
            tool = OpenAIGenerateImageTool(client=client)
            # Size outermost: the emulator caches the last pictures it drew, for both formats.
            for size in sizes[:1] if label else sizes:
                for fmt in ("url",) if label else FORMATS:
                    by_n = {n: _measure(tool, size, fmt, n) for n in counts}
                    measured.setdefault(label or fmt, {})[size] = by_n
            client.close()

    first, last = counts[0], counts[-1]
    table = Table(
        f"ToolMessage content vs raw API JSON, bytes, n = {first}..{last}",
        [
            "response_format",
            "size",
            f"tool n={first}",
            f"tool n={last}",
            "tool max",
            f"raw JSON n={first}",
            f"raw JSON n={last}",
            f"raw ÷ tool n={last}",
        ],
    )
    for fmt, by_size in measured.items():
        for size, by_n in by_size.items():
            most = max(figures["tool_bytes"] for figures in by_n.values())
            low, high = by_n[first], by_n[last]
            table.add(
                fmt,
                size,
                low["tool_bytes"],
                high["tool_bytes"],
                most,
                low["raw_bytes"],
                high["raw_bytes"],
                high["raw_bytes"] / high["tool_bytes"],
            )
    result.tables.append(table)
    largest = max(
        figures["tool_bytes"]
        for by_size in measured.values()
        for by_n in by_size.values()
        for figures in by_n.values()
    )
    result.goals.append(Goal("largest ToolMessage content", largest, GOAL_BYTES, " B"))
    result.notes.append(
        "image URLs are the emulator's (`http://127.0.0.1:<port>/files/<task-uuid>-<i>.png`, "
        f"about 80 characters); the `{LONG}` row serves them under a longer base URL"
    )
    figures: dict[str, Any] = {
        fmt: {size: {str(n): f for n, f in by_n.items()} for size, by_n in by_size.items()}
        for fmt, by_size in measured.items()
    }
    result.figures = {"bytes": figures, "largest_tool_bytes": largest}
    return result
