"""The poll schedule and the retry policy (``polling.py``): bounds, growth, caps, edges."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest

from langchain_acedata_images import PollSchedule, RetryPolicy

INF = float("inf")
NAN = float("nan")


@pytest.mark.parametrize(
    "options",
    [
        {"first_delay": 0},
        {"max_interval": 0},
        {"factor": 1},
        {"first_delay": 0, "max_interval": 0, "factor": 1},
    ],
)
def test_schedule_bounds_are_inclusive(options: dict[str, float]) -> None:
    PollSchedule(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"first_delay": -0.01},
        {"max_interval": -1},
        {"factor": 0.99},
        {"first_delay": NAN},
        {"first_delay": INF},
        {"factor": INF},
        {"factor": NAN},
        {"max_interval": INF},
        {"max_interval": NAN},
    ],
)
def test_schedule_rejects_negative_shrinking_or_non_finite_values(
    options: dict[str, float],
) -> None:
    with pytest.raises(
        ValueError, match=r"finite first_delay >= 0, max_interval >= 0, factor >= 1"
    ):
        PollSchedule(**options)


def test_intervals_grow_by_factor_up_to_the_cap() -> None:
    schedule = PollSchedule(first_delay=1.0, factor=2.0, max_interval=5.0)
    assert [schedule.interval(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_zero_first_delay_polls_at_once_and_factor_one_never_grows() -> None:
    assert PollSchedule(0.0, 3.0, 10.0).interval(7) == 0.0
    assert PollSchedule(2.0, 1.0, 10.0).interval(50) == 2.0
    assert PollSchedule(2.0, 1.5, 0.0).interval(0) == 0.0


def test_the_exponent_stops_at_64_so_huge_poll_counts_never_overflow() -> None:
    schedule = PollSchedule(first_delay=1.0, factor=1.01, max_interval=1e9)
    assert schedule.interval(10**9) == pytest.approx(1.01**64)
    assert schedule.interval(64) == schedule.interval(65)
    assert schedule.interval(63) < schedule.interval(64)
    assert PollSchedule(1.0, 1000.0, 30.0).interval(10**9) == 30.0


@pytest.mark.parametrize(
    ("polls", "remaining", "retry_after", "wait"),
    [
        (0, 100.0, None, 1.0),
        (2, 100.0, None, 4.0),
        (0, 100.0, 9.0, 9.0),  # Retry-After lengthens the wait
        (2, 100.0, 0.5, 4.0),  # ... but never shortens it
        (0, 0.25, 9.0, 0.25),  # no wait runs past the deadline
        (2, 3.0, None, 3.0),
        (0, -1.0, None, 0.0),  # past the deadline: poll once more now
    ],
)
def test_next_wait(polls: int, remaining: float, retry_after: float | None, wait: float) -> None:
    schedule = PollSchedule(first_delay=1.0, factor=2.0, max_interval=5.0)
    assert schedule.next_wait(polls, remaining=remaining, retry_after=retry_after) == wait


def test_times_include_the_horizon_itself() -> None:
    assert PollSchedule(1.0, 1.0, 10.0).times(3.0) == [1.0, 2.0, 3.0]
    assert PollSchedule(1.0, 2.0, 3.0).times(10.0) == [1.0, 3.0, 6.0, 9.0]
    assert PollSchedule(1.0, 2.0, 3.0).times(0.5) == []
    assert PollSchedule(0.5, 2.0, 1.0).times(3.0) == [0.5, 1.5, 2.5]  # a cap of 1 s is fine


@pytest.mark.parametrize(
    "schedule", [PollSchedule(0.0, 2.0, 5.0), PollSchedule(1.0, 2.0, 0.0), PollSchedule(0, 1, 0)]
)
def test_times_refuse_a_schedule_that_polls_continuously(schedule: PollSchedule) -> None:
    with pytest.raises(ValueError, match="needs positive waits"):
        schedule.times(10.0)


def test_retry_delays_double_up_to_the_cap_and_honour_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(3, retry_after=1.0) == 2.0
    assert policy.delay(1, retry_after=None) == 0.5


def test_retry_exponent_stops_at_32() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=1e12, jitter=0.0)
    assert policy.delay(10**6) == 2.0**32
    assert policy.delay(33) == policy.delay(34)


def _draws(*values: float) -> Callable[[], float]:
    """A random source that returns ``values`` in turn."""
    return iter(values).__next__


def test_jitter_takes_a_random_share_of_up_to_jitter_off_each_backoff() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=0.5, random=_draws(0.0, 0.5, 1.0))
    assert [policy.delay(3) for _ in range(3)] == [4.0, 3.0, 2.0]
    full = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=1.0, random=_draws(0.25, 0.999))
    assert [full.delay(10), full.delay(1)] == [6.0, pytest.approx(0.001)]


def test_default_delays_are_spread_and_never_above_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    for attempt in (1, 4, 10):
        backoff = min(0.5 * 2 ** (attempt - 1), 8.0)
        delays = {policy.delay(attempt) for _ in range(200)}
        assert len(delays) > 100  # not one deterministic value
        assert all(backoff / 2 <= delay <= backoff for delay in delays)


def test_jitter_never_shortens_retry_after_nor_lets_a_bad_source_stretch_a_wait() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=1.0, random=_draws(0.9, -5.0, 7.0))
    assert policy.delay(1, retry_after=30.0) == 30.0
    assert policy.delay(4) == 8.0  # a draw below 0 counts as 0: never above the cap
    assert policy.delay(4) == 0.0  # above 1 counts as 1


def test_copies_of_a_policy_do_not_replay_one_another_s_jitter() -> None:
    # Tools are copied and pickled (LangChain, LangGraph): each copy must draw afresh.
    policy = RetryPolicy()
    pickled, copied = pickle.loads(pickle.dumps(policy)), copy.deepcopy(policy)
    assert pickled == copied == policy
    assert [pickled.delay(4) for _ in range(5)] != [copied.delay(4) for _ in range(5)]


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (
        policy.max_retries,
        policy.base_delay,
        policy.max_delay,
        policy.settle_time,
        policy.jitter,
    ) == (2, 0.5, 8.0, 30.0, 0.5)
    assert policy.dedupes_trace_ids is False  # never resend an unconfirmed job by default
    schedule = PollSchedule()
    assert (schedule.first_delay, schedule.factor, schedule.max_interval) == (1.25, 1.35, 30.0)


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": -1},
        {"base_delay": -0.1},
        {"max_delay": NAN},
        {"settle_time": INF},
        {"settle_time": -1},
        {"jitter": -0.1},
        {"jitter": 1.5},
        {"jitter": NAN},
    ],
)
def test_retry_policy_rejects_negative_or_non_finite_values(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy needs"):
        RetryPolicy(**options)  # type: ignore[arg-type]


def test_retry_policy_accepts_zero() -> None:
    RetryPolicy(max_retries=0, base_delay=0, max_delay=0, settle_time=0, jitter=0)
