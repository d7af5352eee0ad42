"""Pool life cycle: ``aclose()`` closes every pool, and a pool whose event loop ends closes
itself (the 1,000-call fd/thread checks are in ``test_hygiene.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_acedata_images.emulator import (
    RunningEmulator,
)
from tests.emulator_fixtures import emulator_client

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("error::ResourceWarning")]


async def test_closing_closes_every_pool(emulator: RunningEmulator) -> None:
    client = emulator_client(emulator.base_url)
    await client.agenerate(prompt="a")
    await asyncio.to_thread(client.generate, prompt="b")
    sync_pool, async_pool = client.http_client, client.http_async_client
    await client.aclose()
    assert sync_pool.is_closed
    assert async_pool.is_closed


def test_pools_are_closed_when_their_loop_ends(emulator: RunningEmulator) -> None:
    client = emulator_client(emulator.base_url)
    pools: list[Any] = []

    async def call() -> None:
        await client.agenerate(prompt="x")
        pools.append(client.http_async_client)

    for _ in range(3):
        asyncio.run(call())  # no aclose(): asyncio.run's shutdown closes the pool
    assert all(pool.is_closed for pool in pools)
    assert len({id(pool) for pool in pools}) == 3
    client.close()
