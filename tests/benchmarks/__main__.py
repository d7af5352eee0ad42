"""Run the benchmarks: ``python -m tests.benchmarks [--quick] [--write] [--only NAME ...]``.

Each benchmark prints a markdown table as it finishes; ``--write`` also stores every figure in
``tests/benchmarks/latest.json``. Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from . import (
    concurrency,
    definition_size,
    import_time,
    llm_size,
    mcp_side_by_side,
    memory,
    overhead,
    polling,
    rate_limit,
)
from ._common import BenchResult

BENCHMARKS: dict[str, Callable[[bool], BenchResult]] = {
    "overhead": overhead.run,
    "concurrency": concurrency.run,
    "polling": polling.run,
    "llm_size": llm_size.run,
    "memory": memory.run,
    "import_time": import_time.run,
    "definition_size": definition_size.run,
    "rate_limit": rate_limit.run,
    "mcp_side_by_side": mcp_side_by_side.run,
}
LATEST = Path(__file__).with_name("latest.json")


def run_benchmark(name: str, quick: bool) -> BenchResult:
    """Run one benchmark and record how long it took."""
    start = time.perf_counter()
    result = BENCHMARKS[name](quick)
    result.seconds = time.perf_counter() - start
    return result


def _environment() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short form (seconds, not minutes)")
    parser.add_argument("--write", action="store_true", help=f"write results to {LATEST.name}")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)

    environment = _environment()
    form = "quick" if args.quick else "full"
    print(f"## Benchmarks ({form}) — Python {environment['python']}, {environment['cpus']} CPUs\n")
    results = []
    for name in args.only or list(BENCHMARKS):
        result = run_benchmark(name, args.quick)
        results.append(result)
        print(result.markdown(), flush=True)

    goals = [goal for result in results for goal in result.goals]
    missed = [goal for goal in goals if not goal.met]
    if args.quick:
        print(f"## Summary: {len(goals)} goals reported; the full form judges them")
    else:
        print(f"## Summary: {len(goals) - len(missed)} of {len(goals)} goals met")
        for goal in missed:
            print(goal.line())
    if args.write:
        document = {
            "form": form,
            "environment": environment,
            "results": {result.name: result.to_json() for result in results},
        }
        LATEST.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {LATEST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
