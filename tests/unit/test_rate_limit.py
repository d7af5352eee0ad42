"""A 429 pauses every submission of the client, not only the one that got it."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import respx

from langchain_acedata_images import AceDataImagesClient, RateLimitError
from tests.conftest import FakeClock, make_client
from tests.helpers import GEN

DONE = {"created": 1732500000, "data": [{"url": "https://cdn.test/1.png"}]}
LIMITED_SHORT = httpx.Response(
    429, json={"error": {"code": "too_many_requests"}}, headers={"retry-after": "0.3"}
)


def test_a_pause_holds_back_the_next_submission(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        return httpx.Response(200, json=DONE)

    api.post(GEN).mock(side_effect=answer)
    client._pause_submissions(4.0)
    client.generate(prompt="fox")
    assert sent_at[0] >= 1000.0 + 4.0
    assert clock.sleeps[0] >= 4.0


async def test_one_429_pauses_the_other_concurrent_submissions(api: respx.MockRouter) -> None:
    answers = iter([LIMITED_SHORT])
    sent: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((json.loads(request.content)["prompt"], time.monotonic()))
        return next(answers, httpx.Response(200, json=DONE))

    api.post(GEN).mock(side_effect=answer)
    async with make_client() as client:  # real time: the pause must hold other tasks back

        async def after_the_429(prompt: str) -> None:
            while client._paused_until == 0.0:
                await asyncio.sleep(0.001)
            await client.agenerate(prompt=prompt)

        await asyncio.gather(
            client.agenerate(prompt="first"), after_the_429("second"), after_the_429("third")
        )
    assert [prompt for prompt, _ in sent[:1]] == ["first"]
    assert len(sent) == 4
    # No submission went out during the 0.3 s the server asked for.
    assert all(at >= sent[0][1] + 0.3 for _, at in sent[1:])


def test_a_pause_past_the_deadline_fails_without_sending(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    client._pause_submissions(30.0)
    with pytest.raises(RateLimitError, match="nothing was submitted"):
        client.generate(prompt="fox", max_wait=10)
    assert submit.call_count == 0
