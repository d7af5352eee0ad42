"""Streamed answers (``_stream.py``): events parsed by the SSE rules, whatever the framing.

Each stream goes through the real client (sync and async drivers), served by respx in
chunks, so line splitting, event assembly and the flow are checked together.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import ImageGenerationResult, ProgressEvent
from tests.conftest import FakeClock, make_client
from tests.helpers import GEN, TASKS

PARTIAL = {"type": "image_generation.partial_image", "b64_json": "cDA=", "partial_image_index": 0}
COMPLETED = {
    "type": "image_generation.completed",
    "b64_json": "ZmluYWw=",
    "size": "1024x1024",
    "created_at": 5,
    "task_id": "s1",
}


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in pieces of ``size`` bytes (for the sync and async clients)."""

    def __init__(self, body: bytes, size: int) -> None:
        self.pieces = [body[i : i + size] for i in range(0, len(body), size)]

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def _serve(api: respx.MockRouter, body: str, size: int = 1 << 20) -> respx.Route:
    headers = {"content-type": "text/event-stream"}
    return api.post(GEN).mock(
        side_effect=lambda request: httpx.Response(
            200, headers=headers, stream=Chunks(body.encode(), size)
        )
    )


async def _generate(
    clock: FakeClock, use_async: bool, events: list[ProgressEvent]
) -> ImageGenerationResult:
    client = make_client(clock)
    try:
        if use_async:
            result = await client.agenerate(
                prompt="fox", partial_images=1, on_progress=events.append
            )
        else:
            result = client.generate(prompt="fox", partial_images=1, on_progress=events.append)
    finally:
        await client.aclose()
        client.close()
    assert isinstance(result, ImageGenerationResult)
    return result


def _data(payload: dict[str, Any]) -> str:
    return json.dumps(payload)


def _assert_streamed(result: ImageGenerationResult, events: list[ProgressEvent]) -> None:
    """The answer came from the stream: the final image, one partial image before it."""
    assert [image.b64_json for image in result.images] == ["ZmluYWw="]
    assert result.task_id == "s1"
    assert result.size == "1024x1024"
    partial = [event for event in events if event.kind == "partial_image"]
    assert [(event.partial_image_index, event.b64_json) for event in partial] == [(0, "cDA=")]


USE_ASYNC = pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])


@USE_ASYNC
async def test_data_lines_of_one_event_are_joined_with_newlines(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    # JSON spread over several data: lines is one event (the newlines are JSON whitespace).
    completed = json.dumps(COMPLETED, indent=1).replace("\n", "\ndata: ")
    body = f"data: {_data(PARTIAL)}\n\ndata: {completed}\n\n"
    submit = _serve(api, body)
    tasks = api.post(TASKS)
    events: list[ProgressEvent] = []
    _assert_streamed(await _generate(clock, use_async, events), events)
    assert submit.call_count == 1
    assert not tasks.called  # answered by the stream, not recovered by trace_id


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"], ids=["CRLF", "CR", "LF"])
@pytest.mark.parametrize("size", [1, 2, 7, 1 << 20])
@USE_ASYNC
async def test_any_line_ending_and_any_chunking_gives_the_same_events(
    api: respx.MockRouter, clock: FakeClock, use_async: bool, newline: str, size: int
) -> None:
    lines = [
        ": keep-alive comment",
        "retry: 1000",
        "id: 7",
        "event: image_generation.partial_image",
        f"data:{_data(PARTIAL)}",  # no space after the colon
        "",
        ":",
        "",
        f"data: {_data(COMPLETED)}",
        "",
    ]
    _serve(api, newline.join(lines) + newline, size)
    events: list[ProgressEvent] = []
    _assert_streamed(await _generate(clock, use_async, events), events)


@USE_ASYNC
async def test_line_separators_inside_json_strings_do_not_split_a_line(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    # U+2028 and U+0085 are allowed raw in JSON strings; only CR and LF end an SSE line.
    completed = {**COMPLETED, "revised_prompt": "a fox\u2028on\u0085snow\x0cat dusk"}
    body = f"data: {_data(PARTIAL)}\n\ndata: {json.dumps(completed, ensure_ascii=False)}\n\n"
    submit = _serve(api, body, 5)
    tasks = api.post(TASKS)
    events: list[ProgressEvent] = []
    _assert_streamed(await _generate(clock, use_async, events), events)
    assert submit.call_count == 1
    assert not tasks.called


@USE_ASYNC
async def test_the_event_name_holds_for_one_event_and_events_without_data_are_dropped(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    untyped_partial = {key: value for key, value in PARTIAL.items() if key != "type"}
    body = (
        "event: ping\n\n"  # no data: nothing is dispatched
        f"event: image_generation.partial_image\ndata: {_data(untyped_partial)}\n\n"
        f"data: {_data({'task_id': 's1', 'b64_json': 'bm90IGFuIGltYWdl'})}\n\n"  # a "message"
        f"data: {_data(COMPLETED)}\n\n"
    )
    _serve(api, body, 3)
    events: list[ProgressEvent] = []
    _assert_streamed(await _generate(clock, use_async, events), events)


@USE_ASYNC
async def test_an_event_cut_off_before_its_blank_line_is_not_dispatched(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    # The stream ends inside the last event: it is discarded, and the job (which exists) is
    # found by trace_id instead of trusting a half-received answer.
    body = f"data: {_data(PARTIAL)}\n\ndata: {_data(COMPLETED)}\n"
    submit = _serve(api, body)
    record = {"id": "t9", "trace_id": "tr", "created_at": 1.0, "finished_at": 2.0}
    record["response"] = {"created": 1, "data": [{"url": "https://cdn.test/t9.png"}]}
    tasks = api.post(TASKS).respond(200, json=record)
    events: list[ProgressEvent] = []
    result = await _generate(clock, use_async, events)
    assert [image.url for image in result.images] == ["https://cdn.test/t9.png"]
    assert submit.call_count == 1
    assert tasks.called
