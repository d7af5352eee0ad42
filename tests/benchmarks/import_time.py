"""6. Import time of the package against ``langchain_core.tools``, which it builds on.

Each measurement is a fresh interpreter timing an import statement with ``perf_counter``; the
statements alternate, after one untimed warm-up each (bytecode caches), and the median is
reported. ``langchain_core.tools`` loads its contents lazily: ``import langchain_core.tools``
loads almost nothing, while ``from langchain_core.tools import BaseTool`` -- the least any
LangChain tool package imports -- loads LangChain's runnables, callbacks and tracers. Both are
baselines. One ``python -X importtime`` run per statement then shows which modules the package
adds on top of ``BaseTool`` (imported first), grouped by top-level package.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

from ._common import REPO_ROOT, BenchResult, Goal, Table, median, ms

PACKAGE = "import langchain_acedata_images"
MODULE = "import langchain_core.tools"
BASETOOL = "from langchain_core.tools import BaseTool"
#: The package as in an install without the ``cli`` extra: httpx imports its own CLI (rich,
#: click, pygments) whenever those are importable.
NO_CLI = "import langchain_acedata_images  # rich, click hidden"
#: The package imported once BaseTool is loaded: what importing ``BaseTool`` first in the
#: package's ``__init__`` would give (measured at about 50 ms less than the package alone).
ORDERED = "from langchain_core.tools import BaseTool; import langchain_acedata_images"
STATEMENTS = (PACKAGE, NO_CLI, ORDERED, MODULE, BASETOOL)
_SOURCE = {
    NO_CLI: "sys.modules['rich'] = sys.modules['click'] = None; import langchain_acedata_images"
}
GOAL_RATIO = 1.2
_TIMER = "import sys, time; t = time.perf_counter(); {0}; print(time.perf_counter() - t)"


def import_seconds(statement: str) -> float:
    """Seconds an import statement takes in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMER.format(_SOURCE.get(statement, statement))],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def import_profile(statement: str) -> dict[str, int]:
    """Module name -> self time in microseconds, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=REPO_ROOT,
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


def _added_by_package(top: int) -> list[tuple[str, int, float]]:
    """Top-level packages the package imports once ``BaseTool`` is loaded: modules, self ms.

    The package is imported after ``BaseTool`` in one interpreter, so LangChain modules that
    both need are not charged to it whichever imports them first."""
    baseline = import_profile(BASETOOL)
    package = import_profile(ORDERED)
    groups: dict[str, list[int]] = defaultdict(list)
    for name, self_us in package.items():
        if name not in baseline:
            groups[name.split(".")[0]].append(self_us)
    ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))
    return [(name, len(times), sum(times) / 1000) for name, times in ranked[:top]]


def run(quick: bool) -> BenchResult:
    runs = 5 if quick else 15
    result = BenchResult("import_time", "6. Import time of langchain_acedata_images", quick)
    for statement in STATEMENTS:
        import_seconds(statement)
    samples: dict[str, list[float]] = {statement: [] for statement in STATEMENTS}
    for _ in range(runs):
        for statement in STATEMENTS:
            samples[statement].append(import_seconds(statement))
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
    added = _added_by_package(top=10)
    breakdown = Table(
        "What the package imports once BaseTool is loaded (one -X importtime run, self times)",
        ["top-level package", "modules", "self ms"],
    )
    for name, count, total in added:
        breakdown.add(name, count, total)
    result.tables += [table, breakdown]
    for baseline in (MODULE, BASETOOL):
        ratio = medians[PACKAGE] / medians[baseline]
        result.goals.append(Goal(f"`{PACKAGE}` ÷ `{baseline}`", ratio, GOAL_RATIO, "×"))
    result.notes += [
        f"`{MODULE}` is lazy (its names load on first access), so the ratio to it mostly "
        f"measures LangChain's own `BaseTool` import; `{BASETOOL}` is the meaningful baseline",
        "`# rich, click hidden`: the package imported with `sys.modules['rich'] = "
        "sys.modules['click'] = None`, as without the `cli` extra (httpx then skips its CLI)",
        f"`{ORDERED}`: the same modules as the package alone, in another order",
    ]
    result.figures = {
        "samples_s": samples,
        "median_ms": {statement: ms(value) for statement, value in medians.items()},
        "ratio_to_module": medians[PACKAGE] / medians[MODULE],
        "ratio_to_basetool": medians[PACKAGE] / medians[BASETOOL],
        "added_by_package_ms": {name: total for name, _, total in added},
    }
    return result
