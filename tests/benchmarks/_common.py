"""Shared pieces of the benchmarks: results and markdown tables, statistics, the loopback
emulator, and the raw ``httpx`` generate-and-poll flows the package is compared with."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from langchain_core.messages import ToolCall

from langchain_acedata_images import PollSchedule
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sk-acedata-benchmark-token"
GENERATIONS = "/openai/images/generations"
TASKS = "/openai/tasks"
PROMPT = "a red fox in fresh snow, watercolour"
#: ``socket_options`` that turn Nagle's algorithm off (httpx leaves it on).
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

Cell = str | int | float | None


# ----------------------------------------------------------------------------- results


def fmt(value: Cell) -> str:
    """A table cell: ints with thousands separators, floats with 3-4 significant digits."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        size = abs(value)
        if size >= 1000:
            return f"{value:,.0f}"
        if size >= 100:
            return f"{value:.1f}"
        if size >= 1 or size == 0:
            return f"{value:.2f}"
        return f"{value:.3f}"
    return str(value)


@dataclass
class Table:
    """One markdown table of figures."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def add(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(list(cells))

    def markdown(self) -> str:
        lines = [
            f"**{self.title}**",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|",
        ]
        lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Goal:
    """A target from the issue: met when ``measured <= limit``."""

    name: str
    measured: float
    limit: float
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.measured <= self.limit

    def line(self, judged: bool = True) -> str:
        """``met``/``MISSED``; a quick run is too short to judge a goal, so it only reports."""
        mark = ("met" if self.met else "MISSED") if judged else "quick form, not judged"
        measured, limit = fmt(self.measured), fmt(self.limit)
        if measured == limit and not self.met:
            measured = f"{self.measured:.4f}"
        measured, limit = measured + self.unit, limit + self.unit
        return f"- {mark}: {self.name}: {measured} (goal <= {limit})"


@dataclass
class BenchResult:
    """What one benchmark measured: tables for people, figures for machines, goals, notes."""

    name: str
    title: str
    quick: bool
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def markdown(self) -> str:
        form = "quick" if self.quick else "full"
        parts = [f"### {self.title} ({form}, {self.seconds:.1f} s)"]
        parts += [table.markdown() for table in self.tables]
        if self.goals:
            lines = [goal.line(judged=not self.quick) for goal in self.goals]
            parts.append("Goals:\n" + "\n".join(lines))
        if self.notes:
            parts.append("Notes:\n" + "\n".join(f"- {note}" for note in self.notes))
        return "\n\n".join(parts) + "\n"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["goals"] = [{**asdict(goal), "met": goal.met} for goal in self.goals]
        return data


# -------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def ms(seconds: float) -> float:
    return seconds * 1000.0


def timed(call: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# ------------------------------------------------------------------- loopback emulator


@contextmanager
def loopback_emulator(config: EmulatorConfig) -> Iterator[RunningEmulator]:
    """The project's emulator on 127.0.0.1, in a background thread of this process."""
    with run_emulator(config, host=LOOPBACK) as emulator:
        if urlsplit(emulator.base_url).hostname != LOOPBACK:
            raise RuntimeError(f"the emulator is not on loopback: {emulator.base_url}")
        yield emulator


def nodelay_client(**options: Any) -> httpx.Client:
    """An ``httpx.Client`` whose connections set TCP_NODELAY."""
    return httpx.Client(transport=httpx.HTTPTransport(socket_options=NODELAY), **options)


def nodelay_async_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose connections set TCP_NODELAY."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(socket_options=NODELAY), **options)


def loopback_rtt_ms(base_url: str, rounds: int = 20) -> float:
    """Median round trip of ``GET /_emulator/faults`` (a small, constant answer), pooled."""
    url = base_url + "/_emulator/faults"
    with nodelay_client() as http:
        http.get(url)
        return ms(median([timed(lambda: http.get(url)) for _ in range(rounds)]))


# ------------------------------------------------------------- raw httpx reference flows


def headers() -> dict[str, str]:
    """The headers the package sends."""
    return {
        "authorization": f"Bearer {TOKEN}",
        "content-type": "application/json",
        "accept": "application/json",
    }


def submission_body(prompt: str = PROMPT, **fields: Any) -> bytes:
    """What the package POSTs for ``{"prompt": prompt, **fields}``: the fields, model,
    a fresh trace id and ``async: true``."""
    body = {"prompt": prompt, "model": "gpt-image-1", **fields}
    body["trace_id"] = f"bench-{uuid.uuid4().hex}"
    body["async"] = True
    return json.dumps(body).encode()


def _retrieve_body(task_id: str) -> bytes:
    return json.dumps({"action": "retrieve", "id": task_id}).encode()


def raw_generate(
    http: httpx.Client, base_url: str, schedule: PollSchedule, body: bytes | None = None
) -> dict[str, Any]:
    """Submit with ``async: true``, then poll ``/openai/tasks`` on ``schedule`` until finished."""
    answer = http.post(base_url + GENERATIONS, content=body or submission_body(), headers=headers())
    answer.raise_for_status()
    task_id = answer.json()["task_id"]
    polls = 0
    while True:
        wait = schedule.interval(polls)
        if wait > 0:
            time.sleep(wait)
        record = http.post(base_url + TASKS, content=_retrieve_body(task_id), headers=headers())
        record.raise_for_status()
        polls += 1
        found: dict[str, Any] = record.json()
        if found.get("finished_at") is not None:
            return found


async def araw_generate(
    http: httpx.AsyncClient, base_url: str, schedule: PollSchedule, body: bytes | None = None
) -> dict[str, Any]:
    """Async :func:`raw_generate`."""
    answer = await http.post(
        base_url + GENERATIONS, content=body or submission_body(), headers=headers()
    )
    answer.raise_for_status()
    task_id = answer.json()["task_id"]
    polls = 0
    while True:
        wait = schedule.interval(polls)
        if wait > 0:
            await asyncio.sleep(wait)
        record = await http.post(
            base_url + TASKS, content=_retrieve_body(task_id), headers=headers()
        )
        record.raise_for_status()
        polls += 1
        found: dict[str, Any] = record.json()
        if found.get("finished_at") is not None:
            return found


def tool_call(args: dict[str, Any], call_id: str | None = None) -> ToolCall:
    """A LangChain ``ToolCall`` for ``openai_generate_image`` (``invoke`` returns a ToolMessage).

    Each call gets a fresh id unless one is given, as a model's tool calls do: a repeated id
    is the same tool call, which attaches to its first job instead of making a new one."""
    call_id = call_id or f"call-{uuid.uuid4().hex[:16]}"
    return ToolCall(name="openai_generate_image", args=args, id=call_id, type="tool_call")


# ------------------------------------------------------------- emulator in a subprocess


@dataclass
class EmulatorProcess:
    """The emulator served by a child process (its own interpreter and GIL) on loopback."""

    base_url: str

    def stats(self) -> dict[str, Any]:
        with nodelay_client() as http:
            answer: dict[str, Any] = http.get(self.base_url + "/_emulator/stats").json()
            return answer

    def reset(self) -> None:
        with nodelay_client() as http:
            http.post(self.base_url + "/_emulator/reset").raise_for_status()


@contextmanager
def emulator_process(**config: float) -> Iterator[EmulatorProcess]:
    """Serve ``EmulatorConfig(**config)`` from ``python -m tests.benchmarks._common``; the
    child stops when its stdin closes."""
    command = [sys.executable, "-m", "tests.benchmarks._common", json.dumps(config)]
    child = subprocess.Popen(
        command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        yield EmulatorProcess(json.loads(line)["base_url"])
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


def _serve_child(argv: list[str]) -> None:
    with loopback_emulator(EmulatorConfig(**json.loads(argv[0]))) as emulator:
        print(json.dumps({"base_url": emulator.base_url}))
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    _serve_child(sys.argv[1:])
