"""The quick form of every benchmark (``python -m tests.benchmarks --quick``), as tests.

Each test prints its benchmark's tables and checks only that the figures exist and make sense;
performance goals are measured and reported, never asserted here. Run with
``pytest -m benchmark tests/benchmarks``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from tests.benchmarks.__main__ import BENCHMARKS, run_benchmark
from tests.benchmarks._common import BenchResult
from tests.benchmarks.import_time import BASETOOL, PACKAGE, TOOL

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(120)]


def _numbers(value: Any) -> list[float]:
    """Every number nested in ``value``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    return []


def _check_overhead(figures: dict[str, Any]) -> None:
    for block in ("sync", "async"):
        # Jobs finish before their answer: every path makes the submission and one check,
        # and each keyed tool call two look-ups besides (before submitting, and the check
        # for a concurrent run's duplicate after it).
        assert figures[block]["lookups_per_keyed_call"] == 2
        for path in figures[block]["paths"].values():
            assert figures["job_ms"] < path["p50_ms"] <= path["p90_ms"] <= path["p99_ms"]
            assert path["requests_per_call"] == 2


def _check_concurrency(figures: dict[str, Any]) -> None:
    count, latency = figures["count"], figures["latency_s"]
    assert all(single >= latency for single in figures["single_s"].values())
    runs = [value for value in figures.values() if isinstance(value, dict) and "wall_s" in value]
    assert len(runs) == 4
    for run in runs:
        assert run["ok"] == count
        assert run["wall_s"] >= latency
        assert run["requests"] >= count + 1  # the submissions and at least one status check


def _check_polling(figures: dict[str, Any]) -> None:
    lateness = figures["simulated_lateness_p50_s"]
    assert set(lateness) >= {"poller, cold", "poller, learned"}
    for by_length in lateness.values():
        assert all(value >= 0 for values in by_length.values() for value in values)
    for by_strategy in figures["simulated_rate"].values():
        for by_count in by_strategy.values():
            assert all(rate > 0 for rates in by_count.values() for rate in rates)
    for runs in figures["emulator"].values():
        assert runs["cold_p50_s"]
        assert runs["learned_p50_s"]
        for name, requests in runs.items():
            if name.startswith("requests_") and int(name[9:]) > 1:
                # one batch per tick, not one request per job and tick
                assert 1 <= max(requests) < int(name[9:])


def _check_llm_size(figures: dict[str, Any]) -> None:
    for fmt, by_size in figures["bytes"].items():
        for by_n in by_size.values():
            for sizes in by_n.values():
                assert sizes["tool_bytes"] > 0
                assert sizes["raw_bytes"] > 0
                if fmt == "b64_json":  # the base64 stays out of the model's context
                    assert sizes["tool_bytes"] * 100 < sizes["raw_bytes"]


def _check_memory(figures: dict[str, Any]) -> None:
    for case in figures.values():
        assert case["b64_chars"] > 0
        # The result holds the base64 string, so the peak is at least the payload.
        assert case["traced_peak"] >= case["b64_chars"]
        assert case["held_after_gc"] >= case["b64_chars"]


def _check_import_time(figures: dict[str, Any]) -> None:
    medians = figures["median_ms"]
    assert all(value > 0 for value in medians.values())
    # The package is lazy; its tool builds on BaseTool, which it must import.
    assert medians[PACKAGE] < medians[BASETOOL] < medians[TOOL]


def _check_definition_size(figures: dict[str, Any]) -> None:
    totals = figures["totals"]
    assert totals["AGENT_PROFILE"] < totals["default"] < totals["before (issue 12)"]
    assert totals["default"] < totals["default, strict=True"]
    for name, sizes in figures["default"].items():
        assert figures["profile"][name]["default"] <= sizes["default"] < sizes["strict"]


def _check_rate_limit(figures: dict[str, Any]) -> None:
    for name in ("shared pause", "own 429s only"):
        run = figures[name]
        assert run["failures"] == 0
        assert run["duplicates"] == 0
        assert all(count == figures["jobs"] for count in run["submissions"])
        assert min(run["walls_s"]) >= figures["ideal_s"] * 0.9  # the limit holds


def _check_mcp_side_by_side(figures: dict[str, Any]) -> None:
    ours = figures["ours"]
    for job, run in ours.items():
        if isinstance(run, dict) and "tool_calls" in run:
            assert run["image"], job
            assert run["tool_calls"] == 1
            assert 0 < run["content_bytes"] < 1000
    assert ours["bad_input"] == {"requests": 0, "tasks": 0}
    assert ours["ambiguous_paid_jobs"] == 1


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "overhead": _check_overhead,
    "concurrency": _check_concurrency,
    "polling": _check_polling,
    "llm_size": _check_llm_size,
    "memory": _check_memory,
    "import_time": _check_import_time,
    "definition_size": _check_definition_size,
    "rate_limit": _check_rate_limit,
    "mcp_side_by_side": _check_mcp_side_by_side,
}


def test_every_benchmark_has_a_check() -> None:
    assert set(CHECKS) == set(BENCHMARKS)


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_quick_benchmark(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    result: BenchResult = run_benchmark(name, quick=True)
    report = result.markdown()
    with capsys.disabled():
        print("\n" + report)

    assert "MISSED" not in report  # too short a run to judge a goal: it only reports
    assert result.quick
    assert result.tables
    for table in result.tables:
        assert table.rows
        assert all(len(row) == len(table.columns) for row in table.rows)
    assert result.goals
    for goal in result.goals:
        assert math.isfinite(goal.measured)
        if "extra" not in goal.name:  # a difference of two timings may dip below zero
            assert goal.measured >= 0
    assert all(math.isfinite(number) for number in _numbers(result.figures))
    json.dumps(result.to_json())  # what --write stores
    CHECKS[name](result.figures)
