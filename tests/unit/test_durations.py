"""Learned durations: grouping, server-side measurement, bounded memory."""

from __future__ import annotations

import pytest

from langchain_acedata_images.durations import (
    DurationEstimate,
    DurationEstimator,
    duration_key,
    server_duration,
    size_class,
)
from langchain_acedata_images.models import GenerateImageInput, TaskRecord


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256x256", "S"),
        ("1024x1024", "1K"),
        ("1792x1024", "1K"),
        ("2048x2048", "2K"),
        ("3840x2160", "4K"),
        ("auto", "auto"),
        (None, "auto"),
        ("big", "auto"),
    ],
)
def test_size_class(size: str | None, expected: str) -> None:
    assert size_class(size) == expected


def test_duration_key_from_a_request_model_or_mapping() -> None:
    request = GenerateImageInput(
        prompt="fox", model="gpt-image-2", quality="high", size="2048x2048"
    )
    assert duration_key(request) == ("gpt-image-2", "high", "2K")
    assert duration_key({"model": "dall-e-2"}) == ("dall-e-2", "auto", "auto")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"created_at": 100.0, "finished_at": 112.5}, 12.5),
        ({"elapsed": 7.0}, 7.0),
        ({"created_at": 100.0, "finished_at": 99.0}, None),  # clocks disagree: not a duration
        ({"created_at": 0.0, "finished_at": 1e12}, None),
        ({}, None),
    ],
)
def test_server_duration(fields: dict[str, float], expected: float | None) -> None:
    assert server_duration(TaskRecord(**fields)) == expected


def test_estimates_need_min_samples_and_use_the_recent_window() -> None:
    estimator = DurationEstimator(window=5, min_samples=3, low=0, high=100)
    key = ("m", "auto", "1K")
    estimator.observe(key, 10.0)
    estimator.observe(key, 12.0)
    assert estimator.estimate(key) is None
    estimator.observe(key, 11.0)
    assert estimator.estimate(key) == DurationEstimate(10.0, 12.0, 3)
    for seconds in (30.0, 31.0, 32.0, 33.0, 34.0):
        estimator.observe(key, seconds)
    assert estimator.estimate(key) == DurationEstimate(30.0, 34.0, 5)


def test_groups_are_bounded_least_recently_used_first() -> None:
    estimator = DurationEstimator(min_samples=1, max_keys=2)
    for name in ("a", "b", "c"):
        estimator.observe((name, "auto", "1K"), 1.0)
    assert set(estimator.snapshot()) == {("b", "auto", "1K"), ("c", "auto", "1K")}


def test_nonsense_durations_are_ignored() -> None:
    estimator = DurationEstimator(min_samples=1)
    estimator.observe(("m", "auto", "1K"), -1.0)
    estimator.observe(("m", "auto", "1K"), float("inf"))
    assert estimator.snapshot() == {}
