"""The drivers perform only the steps they know and refuse anything else."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import httpx
import pytest

from langchain_acedata_images._drivers import UnknownStepError, async_drive, sync_drive
from langchain_acedata_images._steps import Sleep


def flow_yielding(step: object) -> Generator[Any, Any, str]:
    yield Sleep(0)
    yield step
    return "unreachable"


class NotAStep:
    pass


def test_the_sync_driver_rejects_an_unknown_step() -> None:
    with httpx.Client() as client, pytest.raises(UnknownStepError, match="NotAStep"):
        sync_drive(flow_yielding(NotAStep()), client, lambda _: None)


async def test_the_async_driver_rejects_an_unknown_step() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(UnknownStepError, match="NotAStep"):
            await async_drive(flow_yielding(NotAStep()), client, asyncio.sleep)


def test_a_flow_cannot_swallow_the_unknown_step_error() -> None:
    def stubborn() -> Generator[Any, Any, str]:
        try:
            yield NotAStep()
        except UnknownStepError:
            return "swallowed"
        return "no"

    with httpx.Client() as client, pytest.raises(UnknownStepError):
        sync_drive(stubborn(), client, lambda _: None)
