"""3. Polling: how late a finished job is noticed, and how many status requests that costs.

*Lateness* = the moment the result is returned − the moment the job finished. Compared side
by side:

- **before**: each job polled on its own with the old default ``PollSchedule(1.25, ×1.35,
  cap 30)`` — what the client did before the poller (one ``retrieve`` per job per poll);
- **fixed 3 s / 5 s**: per-job polling every 3 s / 5 s (AceDataCloud's SDK polls every 3 s);
- **poller, cold**: the client-wide poller with ``PollCadence()`` and nothing learned yet;
- **poller, learned**: the same once the client has seen a few jobs of the kind.

Simulated (``_poll_sim``: the real sans-I/O ``PollerCore`` on a simulated clock, so 180 s
jobs cost nothing): jobs of each length (±10 %) side by side, arriving over a minute; and
bursts of 1, 64 and 500 concurrent jobs for the request rate. Checked on the emulator (a child
process, ``latency = length``) through one real client for the short lengths and the request
rate. Every figure is the median (min–max) over repeated runs.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from langchain_acedata_images import PollSchedule
from langchain_acedata_images.durations import DurationEstimator

from . import _poll_emulator as emulated
from ._common import BenchResult, Goal, Table
from ._poll_sim import Job, Outcome, PollerSim, cold, jittered, learned, per_job

LENGTHS = (1.0, 3.0, 8.0, 20.0, 60.0, 180.0)
CONCURRENCY = (1, 64, 500)
RTT = 0.003  # a loopback round trip; the emulator runs measure the real one
BEFORE = "before: per-job PollSchedule(1.25, ×1.35, cap 30)"
FIXED_3 = "fixed 3 s per job"
FIXED_5 = "fixed 5 s per job"
COLD = "poller, cold"
LEARNED = "poller, learned"
PER_JOB = {
    BEFORE: PollSchedule(1.25, 1.35, 30.0),
    FIXED_3: PollSchedule(3.0, 1.0, 3.0),
    FIXED_5: PollSchedule(5.0, 1.0, 5.0),
}
STRATEGIES = (*PER_JOB, COLD, LEARNED)

NOTES = [
    "status req/s counts /openai/tasks requests only, over the span from the first "
    "submission to the last result; submissions are the same for every strategy",
    "the poller sends one retrieve_batch per tick naming every job it waits for; ticks are "
    "rationed to 2/s on average (bursts of 4, ≥ 0.25 s apart), whatever the concurrency",
    "learned: the client keeps the last 24 server-measured durations per (model, quality, "
    "size class) and checks densely between their 10th and 90th percentiles",
    "cold, the two goals meet head-on for short jobs: one check per 0.5 s (2/s) notices a "
    "job 0.25 s late on average, so the cold emulator figure is reported (with its "
    "simulation) but the lateness goal is checked on the learned client, which is what a "
    "client is after its first few jobs of a kind",
]


def goal_for(length: float) -> float:
    """The issue's lateness goal (p50) for jobs of ``length`` seconds."""
    return 0.3 if length <= 5 else 0.6 if length <= 30 else 1.0


def spread(values: Sequence[float]) -> str:
    """``median (min–max)``, two decimals."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _strategy(name: str, durations: Sequence[float]) -> Callable[[list[Job]], Outcome]:
    if name in PER_JOB:
        return lambda jobs: per_job(PER_JOB[name], jobs, RTT)
    estimator = learned(durations) if name == LEARNED else cold()
    return PollerSim(estimator=estimator, rtt=RTT).run


# ---------------------------------------------------------------------- simulated


def _side_by_side(runs: int, per_length: int) -> dict[str, dict[float, list[float]]]:
    """p50 lateness per strategy and length, one value per run."""
    found: dict[str, dict[float, list[float]]] = {n: {d: [] for d in LENGTHS} for n in STRATEGIES}
    for seed in range(runs):
        rng = random.Random(seed)
        jobs = [
            Job(rng.uniform(0, 60), seconds)
            for length in LENGTHS
            for seconds in jittered(length, per_length, rng)
        ]
        history = {length: jittered(length, 24, rng) for length in LENGTHS}
        keyed = [Job(j.start, j.duration, _key(j.duration)) for j in jobs]
        for name in STRATEGIES:
            if name == LEARNED:
                estimator = DurationEstimator()
                for length, seconds in history.items():
                    for value in seconds:
                        estimator.observe(_key(length), value)
                outcome = PollerSim(estimator=estimator, rtt=RTT).run(keyed)
            else:
                outcome = _strategy(name, ())(jobs)
            for length in LENGTHS:
                mine = [late for job, late in zip(jobs, outcome.lateness, strict=True)
                        if _key(job.duration) == _key(length)]  # fmt: skip
                found[name][length].append(statistics.median(mine))
    return found


def _key(seconds: float) -> tuple[str, str, str]:
    """One duration group per nominal length (the lengths are far apart)."""
    nominal = min(LENGTHS, key=lambda length: abs(length - seconds))
    return ("model", "auto", f"{nominal:g}s")


def _bursts(length: float, runs: int) -> dict[str, dict[int, list[Outcome]]]:
    found: dict[str, dict[int, list[Outcome]]] = {
        n: {c: [] for c in CONCURRENCY} for n in STRATEGIES
    }
    for seed in range(runs):
        rng = random.Random(1000 + seed)
        history = jittered(length, 24, rng)
        for count in CONCURRENCY:
            jobs = [Job(rng.uniform(0, 0.5), seconds) for seconds in jittered(length, count, rng)]
            for name in STRATEGIES:
                found[name][count].append(_strategy(name, history)(jobs))
    return found


def _lateness_table(found: dict[str, dict[float, list[float]]], runs: int) -> Table:
    table = Table(
        f"Simulated lateness p50 (s) by job length, jobs side by side: median (min–max) of "
        f"{runs} runs",
        ["strategy", *(f"{length:g} s" for length in LENGTHS)],
    )
    for name in STRATEGIES:
        table.add(name, *(spread(found[name][length]) for length in LENGTHS))
    table.add("goal (p50 ≤)", *(f"{goal_for(length):g}" for length in LENGTHS))
    return table


def _rate_table(length: float, found: dict[str, dict[int, list[Outcome]]], runs: int) -> Table:
    columns = ["strategy"]
    for count in CONCURRENCY:
        columns += [f"{count} jobs: status req/s", f"{count} jobs: lateness p50 s"]
    table = Table(
        f"Simulated status requests/s and lateness, {length:g} s jobs (±10 %) submitted within "
        f"0.5 s: median (min–max) of {runs} runs",
        columns,
    )
    for name in STRATEGIES:
        cells: list[Any] = [name]
        for count in CONCURRENCY:
            outcomes = found[name][count]
            cells += [
                spread([o.rate for o in outcomes]),
                spread([statistics.median(o.lateness) for o in outcomes]),
            ]
        table.add(*cells)
    return table


# ---------------------------------------------------------------------- on the emulator


def _simulated_like(length: float, runs: int, jobs: int, stagger: float, warm: bool) -> float:
    """The simulation of an emulator lateness run: p50 over all its jobs."""
    late: list[float] = []
    for seed in range(runs):
        rng = random.Random(seed)
        batch = [Job(rng.uniform(0, stagger), length) for _ in range(jobs)]
        estimator = learned([length] * 4) if warm else cold()
        late += PollerSim(estimator=estimator, rtt=RTT).run(batch).lateness
    return statistics.median(late)


def _emulator(quick: bool, result: BenchResult) -> dict[str, Any]:
    repeats, jobs, stagger = (2, 6, 1.0) if quick else (3, 8, 2.0)
    plans = {1.0: (64,)} if quick else {1.0: (), 3.0: CONCURRENCY, 8.0: ()}
    lateness = Table(
        f"Emulator: lateness p50 (s) through one client, {jobs} jobs submitted over {stagger:g} s, "
        f"per run: median (min–max) of {repeats} runs, and the simulation of the same runs",
        ["length", "cold", "cold, simulated", "learned", "learned, simulated",
         "learned range (s)", "goal (p50 ≤)"],
    )  # fmt: skip
    rates = Table(
        f"Emulator: status requests/s through one client, jobs submitted within 0.5 s, poller "
        f"cold: median (min–max) of {repeats} runs",
        ["job length", "concurrent jobs", "status req/s", "status requests", "lateness p50 s",
         "span s"],
    )  # fmt: skip
    figures: dict[str, Any] = {}
    for length, concurrency in plans.items():
        runs = emulated.measure(length, repeats, jobs, stagger, concurrency)
        cold_p50 = [statistics.median(run.lateness) for run in runs.cold]
        warm_p50 = [statistics.median(run.lateness) for run in runs.learned]
        ranges = "; ".join(f"{e.low:.2f}–{e.high:.2f}" for e in runs.estimates.values())
        lateness.add(
            f"{length:g} s",
            spread(cold_p50),
            round(_simulated_like(length, repeats, jobs, stagger, warm=False), 2),
            spread(warm_p50),
            round(_simulated_like(length, repeats, jobs, stagger, warm=True), 2),
            ranges,
            goal_for(length),
        )
        pooled = statistics.median([late for run in runs.learned for late in run.lateness])
        result.goals.append(
            Goal(f"emulator, {length:g} s jobs, poller learned: lateness p50", pooled,
                 goal_for(length), " s")
        )  # fmt: skip
        figures[f"{length:g}s"] = {"cold_p50_s": cold_p50, "learned_p50_s": warm_p50}
        figures[f"{length:g}s"].update(_burst_rows(runs, rates, result))
    result.tables += [lateness, rates]
    return figures


def _burst_rows(runs: emulated.LengthRuns, rates: Table, result: BenchResult) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for count, found in runs.bursts.items():
        per_second = [run.rate for run in found]
        rates.add(
            f"{runs.length:g} s",
            count,
            spread(per_second),
            spread([float(run.status_requests) for run in found]),
            spread([statistics.median(run.lateness) for run in found]),
            spread([run.span for run in found]),
        )
        figures[f"rate_{count}"] = per_second
        figures[f"requests_{count}"] = [run.status_requests for run in found]
        if count > 1:
            name = f"emulator, {count} concurrent {runs.length:g} s jobs: status requests/s"
            result.goals.append(Goal(name, max(per_second), 2.0))
    return figures


# ---------------------------------------------------------------------- the benchmark


def run(quick: bool) -> BenchResult:
    result = BenchResult("polling", "3. Polling: lateness and status request rate", quick)
    runs = 3 if quick else 7
    side = _side_by_side(runs, per_length=20 if quick else 40)
    bursts = {length: _bursts(length, runs) for length in (3.0, 20.0)}
    _simulated_results(result, side, bursts, runs)
    emulator = _emulator(quick, result)
    result.notes += NOTES
    result.figures = {
        "simulated_lateness_p50_s": {
            name: {f"{length:g}s": values for length, values in by_length.items()}
            for name, by_length in side.items()
        },
        "simulated_rate": {
            f"{length:g}s": {
                name: {str(count): [o.rate for o in outcomes] for count, outcomes in rows.items()}
                for name, rows in found.items()
            }
            for length, found in bursts.items()
        },
        "emulator": emulator,
    }
    return result


def _simulated_results(
    result: BenchResult,
    side: dict[str, dict[float, list[float]]],
    bursts: dict[float, dict[str, dict[int, list[Outcome]]]],
    runs: int,
) -> None:
    result.tables.append(_lateness_table(side, runs))
    for length in LENGTHS:
        for name in (COLD, LEARNED):
            late = statistics.median(side[name][length])
            label = f"simulated, {length:g} s jobs, {name}: lateness p50 (median of runs)"
            result.goals.append(Goal(label, late, goal_for(length), " s"))
    for length, found in bursts.items():
        result.tables.append(_rate_table(length, found, runs))
        for name in (COLD, LEARNED):
            for count in (64, 500):
                rate = max(o.rate for o in found[name][count])
                label = f"simulated, {count} × {length:g} s jobs, {name}: status req/s"
                result.goals.append(Goal(label, rate, 2.0))
