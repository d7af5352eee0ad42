"""The poller's sans-I/O core: ticks, batching, dialect fallback, Retry-After, deadlines."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from langchain_acedata_images.durations import DurationEstimate, DurationEstimator
from langchain_acedata_images.errors import (
    AuthenticationError,
    InvalidRequestError,
    MalformedAnswerError,
    RateLimitError,
    ServerError,
)
from langchain_acedata_images.poller import Check, Delivery, PollCadence, PollerCore

KEY = ("gpt-image-1", "auto", "1K")


def record(task_id: str, finished: bool = False, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": task_id, "created_at": 100.0, "started_at": 100.1, **extra}
    if finished:
        answer.update(finished_at=103.0, response={"data": [{"url": "https://cdn.test/x.png"}]})
    return answer


def batch(*records: dict[str, Any], count: int | None = None) -> dict[str, Any]:
    return {"items": list(records), "count": len(records) if count is None else count}


def core(**options: Any) -> PollerCore:
    return PollerCore(PollCadence(), DurationEstimator(), **options)


def kinds(deliveries: list[Delivery]) -> list[tuple[int, str]]:
    return [(d.waiter, d.kind) for d in deliveries]


def test_one_batch_checks_every_watched_job() -> None:
    poller = core()
    waiters = [poller.watch(f"t{i}", origin=0.0, deadline=600.0, now=0.0) for i in range(3)]
    assert poller.plan(0.1) is None  # nothing is due yet
    check = poller.plan(0.5)
    assert check is not None
    assert check.batch
    assert check.body == {"action": "retrieve_batch", "ids": ["t0", "t1", "t2"], "limit": 3}
    answer = batch(record("t0", finished=True), record("t1"), record("t2"))
    deliveries = poller.on_answer(check, answer, 0.51)
    assert kinds(deliveries) == [(waiters[0], "finished"), (waiters[1], "update"),
                                 (waiters[2], "update")]  # fmt: skip
    assert deliveries[0].record is not None
    assert deliveries[0].record.finished
    assert poller.task_ids() == {"t1", "t2"}


def test_one_job_watched_twice_is_asked_for_once_and_resolves_both() -> None:
    poller = core()
    first = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    second = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    assert check.task_ids == ("t1",)
    done = poller.on_answer(check, batch(record("t1", finished=True)), 0.5)
    assert kinds(done) == [(first, "finished"), (second, "finished")]
    assert poller.idle


def test_ticks_never_exceed_the_rate_budget_whatever_the_concurrency() -> None:
    poller = core()
    for i in range(500):
        poller.watch(f"t{i}", origin=0.0, deadline=600.0, now=0.0)
    sent: list[float] = []
    now = 0.0
    while now < 60.0:
        wake = poller.wake_at()
        assert wake is not None
        now = max(now, wake)
        check = poller.plan(now)
        if check is None:
            now += 0.001
            continue
        sent.append(now)
        assert len(check.task_ids) == 500
        poller.on_answer(check, batch(*(record(i) for i in check.task_ids)), now)
    assert len(sent) / 60.0 <= 2.0 + 4 / 60.0  # 2/s plus the initial burst
    assert min(b - a for a, b in pairwise(sent)) >= PollCadence().min_spacing - 1e-9


def test_batches_are_chunked_at_batch_size_oldest_due_first() -> None:
    poller = core(batch_size=2)
    for i in range(5):
        poller.watch(f"t{i}", origin=0.0, deadline=600.0, now=i * 0.01)
    check = poller.plan(1.0)
    assert check is not None
    assert check.task_ids == ("t0", "t1")
    poller.on_answer(check, batch(record("t0"), record("t1")), 1.0)
    check = poller.plan(2.0)
    assert check is not None
    assert check.task_ids == ("t2", "t3")


def test_a_server_that_caps_limit_makes_the_poller_chunk_below_it() -> None:
    poller = core()
    for i in range(30):
        poller.watch(f"t{i}", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    assert len(check.task_ids) == 30
    first_twelve = [record(task_id) for task_id in check.task_ids[:12]]
    poller.on_answer(check, batch(*first_twelve, count=30), 0.5)
    assert poller.batch_size == 12
    follow_up = poller.plan(0.75)
    assert follow_up is not None
    assert follow_up.batch  # the rest wait for the next batch, no per-job fallback
    assert set(check.task_ids[12:]) >= set(follow_up.task_ids) - set(check.task_ids[:12])
    assert len(follow_up.task_ids) == 12


@pytest.mark.parametrize(
    "failure",
    [
        InvalidRequestError("nope", status_code=400, code="api_not_implemented"),
        InvalidRequestError("unknown action", status_code=400, code="bad_request"),
        ServerError("not found", status_code=404),
        "no items",
    ],
)
def test_a_dialect_without_batch_retrieval_falls_back_to_retrieve(failure: Any) -> None:
    poller = core()
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    if failure == "no items":
        assert poller.on_answer(check, record("t1"), 0.5) == []
    else:
        assert poller.on_error(check, failure, 0.5) == []
    assert not poller.batch_supported
    singles = [poller.plan(0.5), poller.plan(0.5)]
    assert [c.body if c else None for c in singles] == [
        {"action": "retrieve", "id": "t1"},
        {"action": "retrieve", "id": "t1"},  # not yet answered: planned again
    ]
    first = singles[0]
    assert first is not None
    assert kinds(poller.on_answer(first, record("t1", finished=True), 0.6)) == [(1, "finished")]
    check = poller.plan(0.6)
    assert check is not None
    assert check.body == {"action": "retrieve", "id": "t2"}


def test_a_large_batch_refused_with_400_is_halved_before_giving_up_on_batches() -> None:
    poller = core()
    for i in range(40):
        poller.watch(f"t{i}", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    poller.on_error(check, InvalidRequestError("limit too big", status_code=400), 0.5)
    assert poller.batch_supported
    retry = poller.plan(0.5)
    assert retry is not None
    assert len(retry.task_ids) == 20


def test_a_job_left_out_of_a_complete_batch_answer_is_asked_for_alone() -> None:
    poller = core()
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    poller.on_answer(check, batch(record("t1"), record("someone-else", finished=True)), 0.5)
    single = poller.plan(0.5)
    assert single is not None
    assert single.body == {"action": "retrieve", "id": "t2"}
    assert poller.batch_supported


def test_a_retrieve_answered_with_another_tasks_record_fails_that_job_at_once() -> None:
    poller = core()
    waiter = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    other = poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    check = Check({"action": "retrieve", "id": "t1"}, ("t1",), batch=False)
    [delivery] = poller.on_answer(check, record("t9", finished=True), 0.5)
    assert (delivery.waiter, delivery.kind, delivery.record) == (waiter, "failed", None)
    assert isinstance(delivery.error, MalformedAnswerError)
    assert delivery.error.task_id == "t1"
    assert "t9" in delivery.error.message
    assert poller.task_ids() == {"t2"}  # the other waiter is not disturbed
    assert other in {w.id for w in poller._watches.values()}


def test_records_nobody_asked_for_never_pass_for_a_capped_batch() -> None:
    # A claimed count above the items would otherwise keep the job in batches until max_wait.
    poller = core()
    first = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    answer = batch(record("t1"), record("someone-else", finished=True), count=50)
    assert kinds(poller.on_answer(check, answer, 0.5)) == [(first, "update")]
    single = poller.plan(0.5)
    assert single is not None
    assert single.body == {"action": "retrieve", "id": "t2"}
    [failed] = poller.on_answer(single, record("someone-else", finished=True), 0.5)
    assert failed.kind == "failed"
    assert isinstance(failed.error, MalformedAnswerError)
    assert poller.task_ids() == {"t1"}


def test_retry_after_pauses_every_check() -> None:
    poller = core()
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    limited = RateLimitError("slow down", status_code=429, retry_after=7.0)
    assert poller.on_error(check, limited, 0.5) == []
    assert poller.plan(5.0) is None
    assert poller.wake_at() == pytest.approx(7.5)
    assert poller.plan(7.5) is not None


def test_transient_failures_are_counted_per_waiter_then_reported() -> None:
    poller = core(max_failures=2)
    waiter = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    error = ServerError("bad gateway", status_code=502)
    outcomes = []
    now = 0.0
    for _ in range(3):
        wake = poller.wake_at()
        assert wake is not None
        now = wake
        check = poller.plan(now)
        assert check is not None
        outcomes += poller.on_error(check, error, now)
    assert kinds(outcomes) == [(waiter, "failed")]
    assert outcomes[0].error is error


def test_a_success_resets_the_failure_count() -> None:
    poller = core(max_failures=1)
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    error = ServerError("bad gateway", status_code=502)
    for answer in (error, record("t1"), error, record("t1"), error):
        wake = poller.wake_at()
        assert wake is not None
        check = poller.plan(wake)
        assert check is not None
        if isinstance(answer, Exception):
            assert not any(d.final for d in poller.on_error(check, answer, wake))
        else:
            poller.on_answer(check, batch(answer), wake)
    assert not poller.idle


def test_a_non_transient_error_ends_the_waits_it_concerns_at_once() -> None:
    poller = core()
    waiter = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    denied = AuthenticationError("invalid token", status_code=401, code="invalid_token")
    assert kinds(poller.on_error(check, denied, 0.5)) == [(waiter, "failed")]


def test_each_waiter_keeps_its_own_deadline_with_a_last_check_at_it() -> None:
    poller = core()
    short = poller.watch("t1", origin=0.0, deadline=1.4, now=0.0)
    long = poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    ended: list[Delivery] = []
    checked: list[float] = []
    now = 0.0
    while not ended:
        wake = poller.wake_at()
        assert wake is not None
        now = wake
        ended += poller.expire(now)
        check = poller.plan(now)
        if check is not None:
            checked.append(now)
            answers = batch(*(record(task_id) for task_id in check.task_ids))
            ended += [d for d in poller.on_answer(check, answers, now) if d.final]
    assert kinds(ended) == [(short, "timeout")]
    assert checked == pytest.approx([0.5, 1.0, 1.4])  # the last check at the deadline
    assert poller.task_ids() == {"t2"}
    assert long not in [d.waiter for d in ended]


def test_a_deadline_during_a_retry_after_pause_times_out_without_a_check() -> None:
    poller = core()
    waiter = poller.watch("t1", origin=0.0, deadline=3.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    poller.on_error(check, RateLimitError("slow", status_code=429, retry_after=30.0), 0.5)
    assert poller.wake_at() == 3.0
    assert kinds(poller.expire(3.0)) == [(waiter, "timeout")]


def test_forgetting_one_waiter_leaves_the_others_watched() -> None:
    poller = core()
    gone = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    kept = poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    poller.forget(gone)
    check = poller.plan(0.5)
    assert check is not None
    assert check.task_ids == ("t2",)
    deliveries = poller.on_answer(check, batch(record("t1", finished=True), record("t2")), 0.5)
    assert kinds(deliveries) == [(kept, "update")]


def test_finished_jobs_teach_the_estimator_their_server_duration() -> None:
    estimator = DurationEstimator(min_samples=1)
    poller = PollerCore(PollCadence(), estimator)
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0, key=KEY)
    check = poller.plan(0.5)
    assert check is not None
    poller.on_answer(check, batch(record("t1", finished=True)), 0.5)
    assert estimator.estimate(KEY) == DurationEstimate(3.0, 3.0, 1)


def test_a_callback_record_resolves_its_waiter_and_relaxes_polling() -> None:
    poller = core()
    waiter = poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    poller.watch("t2", origin=0.0, deadline=600.0, now=0.0)
    from langchain_acedata_images.models import TaskRecord

    done = TaskRecord.model_validate(record("t1", finished=True))
    assert kinds(poller.deliver(done, 0.2)) == [(waiter, "finished")]
    assert poller.callbacks_seen
    check = poller.plan(10.0)
    assert check is not None
    poller.on_answer(check, batch(record("t2")), 10.0)
    wake = poller.wake_at()
    assert wake is not None
    assert wake - 10.0 == pytest.approx(PollCadence().interval(10.0) * 4)


def test_a_callback_hint_makes_its_job_due_now() -> None:
    poller = core()
    poller.watch("t1", origin=0.0, deadline=600.0, now=0.0)
    check = poller.plan(0.5)
    assert check is not None
    poller.on_answer(check, batch(record("t1")), 0.5)
    assert poller.hint("t1", 0.6)
    assert not poller.hint("unknown", 0.6)
    assert poller.plan(0.6) is not None


# ------------------------------------------------------------------------------ cadence


@pytest.mark.parametrize(("age", "interval"), [(0, 0.5), (10, 0.5), (30, 1.05), (100, 1.5)])
def test_cold_cadence_grows_with_age_within_bounds(age: float, interval: float) -> None:
    assert PollCadence().interval(age) == pytest.approx(interval)


def test_learned_checks_land_on_a_grid_ending_past_the_usual_finish() -> None:
    cadence = PollCadence()
    estimate = DurationEstimate(low=18.0, high=22.0, samples=10)
    high = 22.0 * 1.02 + 0.05
    checks, age = [], 0.0
    while age < high:
        age = cadence.next_check(age, estimate)
        checks.append(age)
    assert checks[0] == pytest.approx(9.0)  # lead_fraction x low before the range
    inside = [c for c in checks if c > 18.0]
    assert inside[-1] == pytest.approx(high)
    steps = {round(b - a, 6) for a, b in pairwise(inside)}
    assert steps == {round(cadence.interval(high) / 2, 6)}
    assert cadence.next_check(high, estimate) == pytest.approx(high + cadence.interval(high))


def test_cadence_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="min_interval"):
        PollCadence(min_interval=0)
    with pytest.raises(ValueError, match="max_rate"):
        PollCadence(max_rate=0)
    with pytest.raises(ValueError, match="batch_size"):
        PollerCore(batch_size=0)
