"""9. MCP servers side by side: AceDataCloud's ``mcp-openai-pro`` (the seed) against ours.

Both run over stdio against the same loopback emulator (``ACEDATACLOUD_API_BASE_URL``), driven
by an MCP client session and a scripted "LLM" that follows each server's own instructions:

- the seed answers a submission with a task id and "wait at least 15 s between polls, up to 40
  polls" of ``openai_get_task`` (which itself sleeps 5 s while the job runs): the policy waits
  15 s before each poll (scaled by ``POLL_SCALE`` in the quick form; turns counted as made);
- ours answers the one call with the finished images.

Measured per job length (1/5/20 s): tool calls and LLM turns (each tool call is one turn, plus
the turn that reads the image) to a finished image, wall time, lateness (the job's
``finished_at`` on the emulator to the moment the policy holds the image), and the bytes of
tool-result content the model reads (``url``; ``b64_json`` for the 1 s job). Then the
generation requests sent and tasks created (paid) for bad input (``n=99``, ``size="banana"``)
and the paid jobs when the first submission's connection drops after the job was created and
the policy retries after an error.

The seed is installed from PyPI into its own virtualenv (``.venv-seed``, or ``$SEED_MCP_VENV``)
by the full form; the quick form (and so CI) only uses one that is already there, else it
measures ours alone and says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator

from ._common import REPO_ROOT, TASKS, TOKEN, BenchResult, Goal, Table, loopback_emulator

SEED_PACKAGE = "mcp-openai-pro==2026.10.24.0"
SEED_VENV = Path(os.environ.get("SEED_MCP_VENV", REPO_ROOT / ".venv-seed"))
SEED_POLL_INTERVAL = 15.0  # the seed's "polling_interval_seconds"
SEED_MAX_POLLS = 40
POLL_SCALE_QUICK = 0.1
PROMPT = "a red fox in fresh snow, watercolour"
GENERATE = "openai_generate_image"


@dataclass
class Run:
    """One scenario of one server."""

    tool_calls: int = 0
    wall_s: float = 0.0
    lateness_s: float | None = None
    content_bytes: int = 0
    image: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return self.tool_calls + 1  # the last turn reads the result


def _content_bytes(result: CallToolResult) -> int:
    """Bytes of the content blocks a host hands the model (text, and links as JSON)."""
    total = 0
    for block in result.content:
        if isinstance(block, TextContent):
            total += len(block.text.encode())
        else:
            total += len(block.model_dump_json(exclude_none=True).encode())
    return total


def _text(result: CallToolResult) -> str:
    return "".join(b.text for b in result.content if isinstance(b, TextContent))


# ------------------------------------------------------------------------ the servers


def seed_executable(install: bool) -> Path | str:
    """The seed's console script, or why it is not available."""
    script = SEED_VENV / "bin" / "mcp-openai-pro"
    if script.exists():
        return script
    if not install:
        return f"{SEED_VENV} has no mcp-openai-pro (the full form installs it)"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SEED_VENV)], check=True, timeout=120)
        pip = [str(SEED_VENV / "bin" / "pip"), "install", "-q", SEED_PACKAGE]
        subprocess.run(pip, check=True, timeout=600, capture_output=True)
    except (subprocess.SubprocessError, OSError) as error:
        return f"{SEED_PACKAGE} could not be installed: {error}"
    return script if script.exists() else f"{SEED_PACKAGE} installed no mcp-openai-pro script"


def _server_env(base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACEDATACLOUD_")}
    env.update(
        ACEDATACLOUD_API_TOKEN=TOKEN, ACEDATACLOUD_API_BASE_URL=base_url, LOG_LEVEL="WARNING"
    )
    return env


@asynccontextmanager
async def session_of(command: list[str], base_url: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=command[0], args=command[1:], env=_server_env(base_url), cwd=str(REPO_ROOT)
    )
    with open(os.devnull, "w") as quiet:
        async with (
            stdio_client(params, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def ours_command() -> list[str]:
    return [sys.executable, "-m", "langchain_acedata_images", "mcp"]


# ------------------------------------------------------------------------ the policies


async def _seed_policy(
    session: ClientSession, arguments: dict[str, Any], interval: float, run: Run
) -> None:
    """Submit, then poll ``openai_get_task`` as the submission's guidance says."""
    result = await session.call_tool(GENERATE, arguments)
    run.tool_calls += 1
    run.content_bytes += _content_bytes(result)
    answer = json.loads(_text(result) or "{}")
    task_id = answer.get("task_id") or answer.get("id")
    if not task_id:
        run.errors.append(_text(result)[:200])
        return
    for _ in range(SEED_MAX_POLLS):
        await asyncio.sleep(interval)
        polled = await session.call_tool("openai_get_task", {"id": task_id})
        run.tool_calls += 1
        run.content_bytes += _content_bytes(polled)
        record = json.loads(_text(polled) or "{}")
        if record.get("finished_at"):
            data = (record.get("response") or {}).get("data") or [{}]
            run.image = data[0].get("url") or ("b64" if data[0].get("b64_json") else None)
            run.errors += [] if run.image else [_text(polled)[:200]]
            return
    run.errors.append("not finished after 40 polls")


async def _our_policy(session: ClientSession, arguments: dict[str, Any], run: Run) -> None:
    """One call; should it end unfinished, resume with ``openai_get_task`` as it says."""
    result = await session.call_tool(GENERATE, arguments)
    run.tool_calls += 1
    run.content_bytes += _content_bytes(result)
    structured = result.structuredContent or {}
    while not result.isError and structured.get("status") == "running":
        result = await session.call_tool("openai_get_task", {"task_id": structured["task_id"]})
        run.tool_calls += 1
        run.content_bytes += _content_bytes(result)
        structured = result.structuredContent or {}
    if result.isError:
        run.errors.append(_text(result)[:200])
        return
    images = structured.get("images") or [{}]
    run.image = images[0].get("uri")


def _finished_at(base_url: str) -> float | None:
    """``finished_at`` of the emulator's newest task (the one just made)."""
    body = {"action": "retrieve_batch", "limit": 1}
    headers = {"authorization": f"Bearer {TOKEN}"}
    items = httpx.post(base_url + TASKS, json=body, headers=headers).json().get("items") or []
    value = items[0].get("finished_at") if items else None
    return float(value) if value is not None else None


async def _timed_job(
    command: list[str], emulator: RunningEmulator, policy: Callable[..., Any], *args: Any
) -> Run:
    run = Run()
    async with session_of(command, emulator.base_url) as session:
        emulator.reset()
        start = time.perf_counter()
        await policy(session, *args, run)
        run.wall_s = time.perf_counter() - start
        delivered = time.time()
    finished = _finished_at(emulator.base_url)
    if finished is not None and run.image:
        run.lateness_s = max(0.0, delivered - finished)
    return run


# ----------------------------------------------------------------- bad input, ambiguity


async def _bad_input(command: list[str], emulator: RunningEmulator) -> dict[str, int]:
    """Generation requests sent and tasks created for two invalid calls."""
    async with session_of(command, emulator.base_url) as session:
        emulator.reset()
        for arguments in ({"prompt": PROMPT, "n": 99}, {"prompt": PROMPT, "size": "banana"}):
            await session.call_tool(GENERATE, arguments)
        await asyncio.sleep(0.2)
        stats = emulator.stats()
    sent = stats["by_path"].get("/openai/images/generations", 0)
    return {"requests": sent, "tasks": stats["tasks"]}


def _failed(result: CallToolResult) -> bool:
    if result.isError:
        return True
    try:
        answer = json.loads(_text(result))
    except ValueError:
        return False
    return isinstance(answer, dict) and "error" in answer


async def _ambiguous(command: list[str], emulator: RunningEmulator) -> int:
    """Paid jobs when the submission's answer is cut off after the job was created and the
    policy retries a call that failed (once)."""
    async with session_of(command, emulator.base_url) as session:
        emulator.reset()
        emulator.set_faults(drop_after_accept_rate=1.0)
        result = await session.call_tool(GENERATE, {"prompt": PROMPT})
        emulator.set_faults(drop_after_accept_rate=0.0)
        if _failed(result):
            await session.call_tool(GENERATE, {"prompt": PROMPT})
        paid: int = emulator.stats()["submissions"]
    return paid


# ------------------------------------------------------------------------------ run


async def _measure(quick: bool) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    seed = seed_executable(install=not quick)
    servers: dict[str, list[str]] = {"ours": ours_command()}
    if isinstance(seed, Path):
        servers = {"seed (mcp-openai-pro)": [str(seed)], **servers}
    else:
        notes.append(f"Seed server skipped: {seed}.")
    scale = POLL_SCALE_QUICK if quick else 1.0
    if scale != 1.0 and len(servers) > 1:
        notes.append(f"Seed polls waited {SEED_POLL_INTERVAL * scale:g} s, not 15 s (quick form).")
    durations = (1.0,) if quick else (1.0, 5.0, 20.0)
    figures: dict[str, Any] = {name: {} for name in servers}

    def policy_of(name: str) -> Callable[..., Any]:
        if name == "ours":
            return _our_policy

        async def seed_policy(session: ClientSession, arguments: Any, run: Run) -> None:
            await _seed_policy(session, arguments, SEED_POLL_INTERVAL * scale, run)

        return seed_policy

    for duration in durations:
        config = EmulatorConfig(latency=duration, queue_delay=0.05, seed=7)
        with loopback_emulator(config) as emulator:
            for name, command in servers.items():
                formats = ("url", "b64_json") if duration == durations[0] else ("url",)
                for fmt in formats:
                    # The seed's defaults (model gpt-image-1, size and quality "auto").
                    arguments = {"prompt": PROMPT, "response_format": fmt}
                    run = await _timed_job(command, emulator, policy_of(name), arguments)
                    figures[name][f"{duration:g}s {fmt}"] = run.__dict__ | {"turns": run.turns}
    with loopback_emulator(EmulatorConfig(latency=1.0, queue_delay=0.05, seed=7)) as emulator:
        for name, command in servers.items():
            figures[name]["bad_input"] = await _bad_input(command, emulator)
            figures[name]["ambiguous_paid_jobs"] = await _ambiguous(command, emulator)
    return figures, notes


def run(quick: bool = False) -> BenchResult:
    figures, notes = asyncio.run(_measure(quick))
    result = BenchResult(
        "mcp_side_by_side", "MCP servers side by side (seed vs ours)", quick, notes=notes
    )
    jobs = Table(
        "A finished image through each MCP server (emulator over loopback)",
        [
            "server",
            "job",
            "tool calls",
            "LLM turns",
            "wall s",
            "lateness s",
            "result bytes",
            "ok",
        ],
    )
    for name, runs in figures.items():
        for job, one in runs.items():
            if not isinstance(one, dict) or "tool_calls" not in one:
                continue
            late = one["lateness_s"]
            jobs.add(
                name,
                job,
                one["tool_calls"],
                one["turns"],
                round(one["wall_s"], 2),
                None if late is None else round(late, 2),
                one["content_bytes"],
                "yes" if one["image"] and not one["errors"] else f"no: {one['errors'][:1]}",
            )
    money = Table(
        "Billing on bad input and after an ambiguous failure",
        ["server", "generation requests (n=99, size=banana)", "tasks created", "paid jobs"],
    )
    for name, runs in figures.items():
        bad = runs["bad_input"]
        money.add(name, bad["requests"], bad["tasks"], runs["ambiguous_paid_jobs"])
    result.tables += [jobs, money]
    ours = figures["ours"]
    worst_bytes = max(
        one["content_bytes"]
        for one in ours.values()
        if isinstance(one, dict) and "content_bytes" in one
    )
    calls = max(
        one["tool_calls"] for one in ours.values() if isinstance(one, dict) and "tool_calls" in one
    )
    result.goals += [
        Goal("ours: tool calls to a finished image", calls, 1),
        Goal("ours: tool-result bytes per image", worst_bytes, 1000, "B"),
        Goal("ours: generation requests on bad input", ours["bad_input"]["requests"], 0),
        Goal("ours: paid jobs after an ambiguous failure", ours["ambiguous_paid_jobs"], 1),
    ]
    result.figures = figures
    return result
