"""6. Import time of the package against ``langchain_core.tools``, which it builds on.

Each measurement is a fresh interpreter timing an import statement with ``perf_counter``; the
statements alternate, after one untimed warm-up each, and the median is reported. The children
write their bytecode to a private cache (``PYTHONPYCACHEPREFIX``) even where the environment sets
``PYTHONDONTWRITEBYTECODE``: an installed package imports from bytecode, and a source checkout
would otherwise be recompiled on every run while site-packages is not.

``langchain_core.tools`` loads its contents lazily: ``import langchain_core.tools`` loads almost
nothing, while ``from langchain_core.tools import BaseTool`` -- the least any LangChain tool
package imports -- loads LangChain's runnables, callbacks and tracers. The package is lazy the same
way; importing one tool loads the tool's modules and httpx, whose share is measured on its own.
One ``python -X importtime`` run then shows which modules the tool adds on top of ``BaseTool``,
grouped by top-level package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import defaultdict

from ._common import REPO_ROOT, BenchResult, Goal, Table, median, ms

PACKAGE = "import langchain_acedata_images"
TOOL = "from langchain_acedata_images import OpenAIGenerateImageTool"
#: The tool as in an install without the ``cli`` extra: httpx imports its own CLI (rich,
#: click, pygments) whenever those are importable, and the dev dependencies bring them.
TOOL_NO_CLI = f"{TOOL}  # rich, click hidden"
HTTPX = "from langchain_core.tools import BaseTool; import httpx"
MODULE = "import langchain_core.tools"
BASETOOL = "from langchain_core.tools import BaseTool"
STATEMENTS = (PACKAGE, TOOL, TOOL_NO_CLI, HTTPX, MODULE, BASETOOL)
_SOURCE = {TOOL_NO_CLI: f"sys.modules['rich'] = sys.modules['click'] = None; {TOOL}"}
GOAL_RATIO = 1.1
_TIMER = "import sys, time; t = time.perf_counter(); {0}; print(time.perf_counter() - t)"


def _child_env(bytecode_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": bytecode_dir}


def import_seconds(statement: str, bytecode_dir: str) -> float:
    """Seconds an import statement takes in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMER.format(_SOURCE.get(statement, statement))],
        cwd=REPO_ROOT,
        env=_child_env(bytecode_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def import_profile(statement: str, bytecode_dir: str) -> dict[str, int]:
    """Module name -> self time in microseconds, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=REPO_ROOT,
        env=_child_env(bytecode_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    selves: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        selves[name.strip()] = int(self_us)
    return selves


def _added_by_tool(top: int, bytecode_dir: str) -> list[tuple[str, int, float]]:
    """Top-level packages the tool imports once ``BaseTool`` is loaded: modules, self ms.

    The tool is imported after ``BaseTool`` in one interpreter, so LangChain modules that both
    need are not charged to it whichever imports them first."""
    baseline = import_profile(BASETOOL, bytecode_dir)
    package = import_profile(f"{BASETOOL}; {TOOL}", bytecode_dir)
    groups: dict[str, list[int]] = defaultdict(list)
    for name, self_us in package.items():
        if name not in baseline:
            groups[name.split(".")[0]].append(self_us)
    ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))
    return [(name, len(times), sum(times) / 1000) for name, times in ranked[:top]]


def run(quick: bool) -> BenchResult:
    runs = 5 if quick else 15
    result = BenchResult("import_time", "6. Import time of langchain_acedata_images", quick)
    samples: dict[str, list[float]] = {statement: [] for statement in STATEMENTS}
    with tempfile.TemporaryDirectory(prefix="import-time-pyc-") as bytecode_dir:
        for statement in STATEMENTS:
            import_seconds(statement, bytecode_dir)  # warm-up: writes the bytecode
        for _ in range(runs):
            for statement in STATEMENTS:
                samples[statement].append(import_seconds(statement, bytecode_dir))
        added = _added_by_tool(top=10, bytecode_dir=bytecode_dir)
    medians = {statement: median(values) for statement, values in samples.items()}
    table = Table(
        f"Fresh-interpreter import, {runs} runs each",
        ["statement", "median ms", "min ms", "max ms", "÷ BaseTool import"],
    )
    for statement, values in samples.items():
        table.add(
            f"`{statement}`",
            ms(medians[statement]),
            ms(min(values)),
            ms(max(values)),
            medians[statement] / medians[BASETOOL],
        )
    breakdown = Table(
        "What the tool imports once BaseTool is loaded (one -X importtime run, self times)",
        ["top-level package", "modules", "self ms"],
    )
    for name, count, total in added:
        breakdown.add(name, count, total)
    result.tables += [table, breakdown]
    for statement, baseline in ((PACKAGE, MODULE), (PACKAGE, BASETOOL), (TOOL, BASETOOL)):
        ratio = medians[statement] / medians[baseline]
        result.goals.append(Goal(f"`{statement}` ÷ `{baseline}`", ratio, GOAL_RATIO, "×"))
    result.notes += [
        f"`{MODULE}` is lazy (its names load on first access); `{BASETOOL}` is the meaningful "
        "baseline",
        f"`{PACKAGE}` loads its names on first access, as langchain_core does; `{TOOL}` loads "
        "the tool, its client and httpx",
        f"`{HTTPX}`: httpx's own share on top of BaseTool; `# rich, click hidden`: the tool "
        "imported with `sys.modules['rich'] = sys.modules['click'] = None`, as without the "
        "`cli` extra and the dev dependencies (httpx then skips its CLI)",
    ]
    result.figures = {
        "samples_s": samples,
        "median_ms": {statement: ms(value) for statement, value in medians.items()},
        "ratio_to_module": medians[PACKAGE] / medians[MODULE],
        "ratio_to_basetool": medians[PACKAGE] / medians[BASETOOL],
        "tool_ratio_to_basetool": medians[TOOL] / medians[BASETOOL],
        "tool_without_cli_ratio_to_basetool": medians[TOOL_NO_CLI] / medians[BASETOOL],
        "httpx_ratio_to_basetool": medians[HTTPX] / medians[BASETOOL],
        "added_by_tool_ms": {name: total for name, _, total in added},
    }
    return result
