"""5. Memory: what handling a 3840x2160 base64 PNG answer costs, relative to its size.

Each case runs the client in a fresh child process (``python -m tests.benchmarks.memory``), so
neither the emulator nor earlier cases share its allocations or its RSS high-water mark. The
child warms up with a small image, then makes the 3840x2160 ``b64_json`` call twice: first for
the RSS high-water-mark growth (``ru_maxrss``), then under ``tracemalloc`` for the peak of
traced Python allocations. The payload is the HTTP body of the answer carrying the image.

The emulator's placeholder pictures are smooth gradients that compress to a few hundred KB,
far from a real 4K PNG; for the main cases the benchmark has the emulator serve a 3840x2160 PNG
of random pixels (about 25 MB, 33 MB as base64) instead. The emulator's own picture is one
extra row.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_acedata_images import AceDataImagesClient, OpenAIGenerateImageTool, PollSchedule
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator

from ._common import (
    REPO_ROOT,
    TOKEN,
    BenchResult,
    Goal,
    Table,
    loopback_emulator,
    tool_call,
)

GOAL_RATIO = 3.0
WIDTH, HEIGHT = 3840, 2160
NOISE_PROMPT = "memory benchmark: random pixels"
NATIVE_PROMPT = "memory benchmark: the emulator's own picture"
SCHEDULE = PollSchedule(first_delay=0.02, factor=1.5, max_interval=0.2)
MODES = ("client.generate", "client.agenerate", "tool.invoke")

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


def _reset_rss_peak() -> None:
    """Reset the peak-RSS mark to the current RSS (Linux; elsewhere a no-op)."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
    except OSError:
        pass


def _rss_peak() -> int | None:
    """Peak RSS in bytes: ``VmHWM`` on Linux (resettable, and not inherited from the parent the
    way ``ru_maxrss`` is across fork/exec), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _arguments(prompt: str, size: str) -> dict[str, Any]:
    return {"prompt": prompt, "model": "gpt-image-2", "size": size, "response_format": "b64_json"}


def _b64_length(outcome: Any) -> int:
    result = getattr(outcome, "artifact", outcome)
    return len(result.images[0].b64_json)


def _measured(call: Callable[[dict[str, Any]], Any], prompt: str) -> dict[str, Any]:
    """Warm up, then the RSS growth of one call and the traced peak of another.

    Memory still held when the call returns is measured before and after ``gc.collect()``:
    objects in reference cycles wait for the collector."""
    call(_arguments("memory benchmark: warm-up", "1024x1024"))
    gc.collect()
    _reset_rss_peak()
    rss_before = _rss_peak()
    outcome = call(_arguments(prompt, f"{WIDTH}x{HEIGHT}"))
    rss_after = _rss_peak()
    b64_chars = _b64_length(outcome)
    del outcome
    gc.collect()
    tracemalloc.start()
    floor = tracemalloc.get_traced_memory()[0]
    outcome = call(_arguments(prompt, f"{WIDTH}x{HEIGHT}"))
    held, peak = tracemalloc.get_traced_memory()
    gc.collect()
    held_after_gc = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert _b64_length(outcome) == b64_chars
    return {
        "b64_chars": b64_chars,
        "traced_peak": peak - floor,
        "held": held - floor,
        "held_after_gc": held_after_gc - floor,
        "rss_growth": None if rss_before is None or rss_after is None else rss_after - rss_before,
    }


def _child(base_url: str, mode: str, prompt: str) -> dict[str, Any]:
    client = AceDataImagesClient(TOKEN, base_url=base_url, poll_schedule=SCHEDULE)
    if mode == "client.generate":
        figures = _measured(lambda args: client.generate(**args), prompt)
    elif mode == "tool.invoke":
        tool = OpenAIGenerateImageTool(client=client)
        figures = _measured(lambda args: tool.invoke(tool_call(args)), prompt)
    else:
        loop = asyncio.new_event_loop()
        figures = _measured(lambda args: loop.run_until_complete(client.agenerate(**args)), prompt)
        loop.run_until_complete(client.aclose())
        loop.close()
    client.close()
    return figures


# ----------------------------------------------------------------------- parent process


def noise_png() -> bytes:
    """A 3840x2160 RGB PNG of random pixels: it does not compress, like a photo-real image."""
    from PIL import Image

    picture = Image.frombytes("RGB", (WIDTH, HEIGHT), os.urandom(WIDTH * HEIGHT * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@contextmanager
def _serving_noise(png: bytes) -> Iterator[None]:
    """Have the emulator's renderer return ``png`` for pictures of ``NOISE_PROMPT``."""
    from langchain_acedata_images.emulator import images

    draw = images.render_picture

    def render(picture: images.Picture) -> images.RenderedImage:
        if picture.prompt == NOISE_PROMPT:
            return images.RenderedImage(png, "image/png")
        return draw(picture)

    images.render_picture = render  # type: ignore[assignment]
    try:
        yield
    finally:
        images.render_picture = draw


def _answer_bytes(emulator: RunningEmulator, prompt: str) -> int:
    """Size of the ``/openai/tasks`` answer that carried the image, as the emulator sends it."""
    task = next(t for t in reversed(emulator.state.tasks()) if t.job.prompt == prompt)
    body = json.dumps(task.record(), ensure_ascii=False, separators=(",", ":"))
    return len(body.encode())


def _run_child(base_url: str, mode: str, prompt: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.benchmarks.memory", base_url, mode, prompt]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {mode} failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(quick: bool) -> BenchResult:
    result = BenchResult("memory", "5. Memory while handling a 3840x2160 b64 PNG", quick)
    png = noise_png()
    cases = [(mode, NOISE_PROMPT) for mode in MODES] + [("client.generate", NATIVE_PROMPT)]
    if quick:
        cases = [cases[0], cases[-1]]
    measured: dict[str, dict[str, Any]] = {}
    config = EmulatorConfig(latency=0.0, queue_delay=0.0)
    with _serving_noise(png), loopback_emulator(config) as emulator:
        for mode, prompt in cases:
            figures = _run_child(emulator.base_url, mode, prompt)
            figures["answer_bytes"] = _answer_bytes(emulator, prompt)
            picture = "random-pixel PNG" if prompt == NOISE_PROMPT else "emulator's PNG"
            measured[f"{mode}, {picture}"] = figures

    table = Table(
        "Peak memory per answer size",
        [
            "case",
            "PNG MB",
            "answer MB",
            "traced peak MB",
            "peak ÷ answer",
            "RSS growth MB",
            "RSS ÷ answer",
            "held after call ÷ answer",
            "held after gc ÷ answer",
        ],
    )
    for name, figures in measured.items():
        answer = figures["answer_bytes"]
        rss = figures["rss_growth"]
        figures["peak_ratio"] = figures["traced_peak"] / answer
        table.add(
            name,
            figures["b64_chars"] * 3 / 4 / 1e6,
            answer / 1e6,
            figures["traced_peak"] / 1e6,
            f"{figures['peak_ratio']:.3f}",
            None if rss is None else rss / 1e6,
            None if rss is None else rss / answer,
            figures["held"] / answer,
            figures["held_after_gc"] / answer,
        )
        if "random-pixel" in name:
            result.goals.append(
                Goal(f"{name}: traced peak ÷ answer", figures["peak_ratio"], GOAL_RATIO, "×")
            )
    result.tables.append(table)
    result.notes += [
        "answer = the HTTP body of the `/openai/tasks` answer that carried the image; held = "
        "traced memory still allocated when the call returned, with the result alive (it keeps "
        "the base64 string), before and after gc.collect()",
        "RSS growth = rise of the peak RSS during the call (Linux VmHWM, reset before the call)",
    ]
    result.figures = measured
    return result


if __name__ == "__main__":
    print(json.dumps(_child(*sys.argv[1:4])))
