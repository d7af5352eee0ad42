"""Exactly-once keys: derived trace_ids, the look-up before submitting, matching by request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import (
    AceDataImagesClient,
    ImageGenerationResult,
    ImageTask,
    OpenAIGenerateImageTool,
    TaskRecord,
    TransportError,
)
from langchain_acedata_images._idempotency import (
    best_match,
    derive_trace_id,
    match,
    tool_call_key,
    with_arguments,
)
from langchain_acedata_images._lookups import CLOCK_SKEW
from tests.conftest import BASE_URL, FakeClock, make_client, task_answers

GEN = "/openai/images/generations"
EDITS = "/openai/images/edits"
TASKS = "/openai/tasks"
DONE = {"created": 1732500000, "data": [{"url": "https://cdn.test/1.png"}]}
BODY = {"prompt": "fox", "model": "gpt-image-1", "n": 1}


def body_of(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)  # type: ignore[no-any-return]


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def record(trace_id: str | None, request: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": "t-old", "trace_id": trace_id, "request": request, **fields}


# ------------------------------------------------------------------------------ pure parts


def test_derived_trace_ids_are_stable_and_namespaced() -> None:
    key = tool_call_key("openai_generate_image", "call-1", None)
    assert derive_trace_id(key) == derive_trace_id(key)
    assert derive_trace_id(key).startswith("lcai-")
    assert derive_trace_id(key) != derive_trace_id(key, "other-app")
    other_tool = tool_call_key("openai_edit_image", "call-1", None)
    assert derive_trace_id(other_tool) != derive_trace_id(key)
    thread = tool_call_key("openai_generate_image", "call-1", {"configurable": {"thread_id": 7}})
    assert derive_trace_id(thread) != derive_trace_id(key)
    assert key == "\x1fopenai_generate_image\x1fcall-1"  # keys of running jobs stay valid


def test_a_reused_call_id_in_another_langgraph_task_is_another_key() -> None:
    def in_task(ns: str) -> str:
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}
        return tool_call_key("openai_generate_image", "call_0", config)

    assert in_task("tools:a") == in_task("tools:a")  # a retry or resume runs the same task
    assert in_task("tools:a") != in_task("tools:b")  # another invocation, turn or user
    outside = tool_call_key("openai_generate_image", "call_0", {"configurable": {"thread_id": "t"}})
    assert in_task("tools:a") != outside


def test_match_prefers_our_trace_id_and_never_takes_another_callers_job() -> None:
    ours = "lcai-ours"
    server_id = TaskRecord.model_validate(record("gw-1", {**BODY, "trace_id": ours}))
    assert match(server_id, BODY, ours) == "ours"
    honoured = TaskRecord.model_validate(record(ours, {}))
    assert match(honoured, BODY, ours) == "ours"
    stripped = TaskRecord.model_validate(record("gw-2", dict(BODY)))
    assert match(stripped, BODY, ours) == "same"
    other = TaskRecord.model_validate(record("gw-3", {**BODY, "trace_id": "lcai-theirs"}))
    assert match(other, BODY, ours) == "other"
    changed = TaskRecord.model_validate(record("gw-4", {**BODY, "prompt": "cat"}))
    assert match(changed, BODY, ours) == "other"
    assert match(TaskRecord.model_validate(record("gw-5", {})), BODY, ours) == "other"


# --------------------------------------------------------------- the look-up before submit


def test_a_key_that_already_has_a_job_attaches_instead_of_submitting(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    trace_id = derive_trace_id("order-42")
    found = record("gw-1", {**BODY, "trace_id": trace_id, "async": True}, finished_at=5.0)
    found["response"] = DONE
    submit = api.post(GEN).respond(200, json={"task_id": "never"})
    scan = api.post(TASKS).respond(200, json={"items": [found], "count": 1})
    result = client.generate(BODY, idempotency_key="order-42")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-old"
    assert result.trace_id == trace_id
    assert submit.call_count == 0
    sent = body_of(scan.calls[0].request)  # first by trace_id: the server is not known yet
    assert sent["action"] == "retrieve_batch"
    assert sent["trace_ids"] == [trace_id]
    assert sent["created_at_min"] < 1e12


def test_a_new_key_is_submitted_once_with_its_derived_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    lookups = api.post(TASKS).respond(200, json={"items": [], "count": 0})
    result = client.generate(prompt="fox", idempotency_key="order-43")
    assert isinstance(result, ImageGenerationResult)
    assert body_of(submit.calls[0].request)["trace_id"] == derive_trace_id("order-43")
    # The cost on a client that does not know the server yet: by trace_id, then one scan page.
    assert lookups.call_count == 2


def test_once_trace_ids_are_known_to_be_kept_the_look_up_filters_by_it(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = True
    api.post(GEN).respond(200, json={"task_id": "t1"})
    lookups = api.post(TASKS).mock(
        side_effect=task_answers({}, {"id": "t1", "finished_at": 1.0, "response": DONE})
    )
    client.generate(prompt="fox", idempotency_key="k")
    first = body_of(lookups.calls[0].request)
    assert first["trace_ids"] == [derive_trace_id("k")]


def test_polls_teach_the_client_whether_trace_ids_are_kept(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    gateway = {"id": "t1", "trace_id": "gw-9", "finished_at": 1.0, "response": DONE}
    api.post(TASKS).mock(
        side_effect=lambda request: httpx.Response(
            200, json={**gateway, "request": {"trace_id": body_of(request).get("trace_id")}}
        )
    )
    assert client._trace_ids_honoured is None
    client.generate(prompt="fox", trace_id="lcai-mine")
    assert client._trace_ids_honoured is None  # the record's request echoed no trace: unknown
    client._trace_ids_honoured = None
    api.post(TASKS).respond(
        200, json={**gateway, "request": {"prompt": "fox", "trace_id": "lcai-mine2"}}
    )
    client.generate(prompt="fox", trace_id="lcai-mine2")
    assert client._trace_ids_honoured is False


def test_plain_calls_keep_fresh_ids_and_skip_the_look_up(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    lookups = api.post(TASKS).respond(200, json={})
    client.generate(prompt="fox")
    client.generate(prompt="fox")
    ids = {body_of(call.request)["trace_id"] for call in submit.calls}
    assert len(ids) == 2
    assert lookups.call_count == 0


def test_trace_id_and_key_together_are_refused(client: AceDataImagesClient) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.generate(prompt="fox", trace_id="x", idempotency_key="y")


def test_keyed_wait_false_attaches_to_a_running_job(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    trace_id = derive_trace_id("bg")
    running = record(trace_id, {}, started_at=1.0)
    submit = api.post(GEN).respond(200, json={"task_id": "never"})
    api.post(TASKS).respond(200, json={"items": [running], "count": 1})
    handle = client.generate(prompt="fox", idempotency_key="bg", wait=False)
    assert isinstance(handle, ImageTask)
    assert (handle.task_id, handle.status) == ("t-old", "running")
    assert submit.call_count == 0


# ----------------------------------------------- the scan (servers that ignore trace ids)

WALL = 1_800_000_000.0


def other_job(index: int) -> dict[str, Any]:
    job = record(f"gw-{index}", {**BODY, "prompt": f"someone else's {index}"}, finished_at=1.0)
    return {**job, "id": f"t-{index}"}


def scan_pages(*pages: list[dict[str, Any]]) -> Any:
    """A ``/openai/tasks`` side effect answering successive scan pages."""
    answers = iter(pages)
    return lambda request: httpx.Response(200, json={"items": next(answers, []), "count": 0})


def test_the_scan_pages_through_recent_tasks_until_it_finds_ours(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._wall_clock = lambda: WALL
    client._trace_ids_honoured = False
    trace_id = derive_trace_id("paged")
    ours = record("gw-ours", {**BODY, "trace_id": trace_id}, finished_at=5.0, response=DONE)
    submit = api.post(GEN).respond(200, json={"task_id": "never"})
    scan = api.post(TASKS).mock(side_effect=scan_pages([other_job(i) for i in range(100)], [ours]))
    result = client.generate(BODY, idempotency_key="paged")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-old"
    assert submit.call_count == 0
    pages = [body_of(call.request) for call in scan.calls]
    assert [(page["offset"], page["limit"]) for page in pages] == [(0, 100), (100, 100)]
    assert {page["created_at_min"] for page in pages} == {WALL - client.lookup_window}
    assert {page["type"] for page in pages} == {"images_generations"}


def test_without_our_trace_id_the_newest_job_with_the_same_request_is_ours(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = False
    alike = record("gw-same", dict(BODY), finished_at=5.0, response=DONE)
    older_alike = {**alike, "id": "t-older"}
    submit = api.post(GEN).respond(200, json={"task_id": "never"})
    scan = api.post(TASKS).mock(side_effect=scan_pages([other_job(1), alike, older_alike]))
    result = client.generate(BODY, idempotency_key="alike")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-old"
    # A short page may be a capped one: the scan reads on to an empty page.
    assert (submit.call_count, scan.call_count) == (0, 2)


def test_a_scan_that_finds_only_other_jobs_submits_once(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = False
    submit = api.post(GEN).respond(200, json=DONE)
    scan = api.post(TASKS).mock(
        side_effect=scan_pages(*([other_job(p * 100 + i) for i in range(100)] for p in range(7)))
    )
    client.generate(BODY, idempotency_key="new")
    assert submit.call_count == 1
    # No page limit: the window is read to its end (an empty page), however busy the account.
    offsets = [body_of(call.request)["offset"] for call in scan.calls]
    assert offsets == [0, 100, 200, 300, 400, 500, 600, 700]


def test_an_edit_is_looked_for_among_edits(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = False
    api.post(EDITS).respond(200, json=DONE)
    scan = api.post(TASKS).respond(200, json={"items": [], "count": 0})
    client.edit(prompt="make it blue", image="https://cdn.test/in.png", idempotency_key="e")
    assert body_of(scan.calls[0].request)["type"] == "images_edits"


def test_where_trace_ids_are_kept_the_look_up_covers_the_lookup_window(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._wall_clock = lambda: WALL
    client._trace_ids_honoured = True
    api.post(GEN).respond(200, json=DONE)
    lookups = api.post(TASKS).respond(200, json={"items": [], "count": 0})
    client.generate(prompt="fox", idempotency_key="window")
    sent = body_of(lookups.calls[0].request)
    assert sent["created_at_min"] == WALL - client.lookup_window
    assert sent["trace_ids"] == [derive_trace_id("window")]


def test_a_recovery_where_trace_ids_are_ignored_scans_from_the_submission_time(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    client._wall_clock = lambda: WALL
    client._trace_ids_honoured = False
    submit = api.post(GEN).respond(504, json=TIMEOUT_504)

    def tasks(request: httpx.Request) -> httpx.Response:
        sent = body_of(submit.calls[0].request)
        item = record("gw-7", sent, finished_at=9.0, response=DONE)
        return httpx.Response(200, json={"items": [item], "count": 1})

    lookups = api.post(TASKS).mock(side_effect=tasks)
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    sent = [body_of(call.request) for call in lookups.calls]
    # Known to ignore trace ids: no retrieve by trace_id, straight to the scan.
    assert {body["action"] for body in sent} == {"retrieve_batch"}
    assert sent[0]["created_at_min"] == WALL - CLOCK_SKEW


# ----------------------------------------------------- the documented 504 `timeout`


TIMEOUT_504 = {"error": {"code": "timeout", "message": "Timeout to generate the image"}}


def test_a_504_timeout_finds_the_job_by_its_stored_request_when_trace_ids_are_ignored(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(504, json={**TIMEOUT_504, "trace_id": "gw-7"})

    def tasks(request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        if body["action"] == "retrieve" and body.get("trace_id"):
            return httpx.Response(200, json={})  # the server knows only its own trace ids
        if body["action"] == "retrieve_batch":
            sent = body_of(submit.calls[0].request)
            item = record("gw-7", sent, finished_at=9.0, response=DONE)
            return httpx.Response(200, json={"items": [item], "count": 1})
        return httpx.Response(200, json={"id": "t-old", "finished_at": 9.0, "response": DONE})

    api.post(TASKS).mock(side_effect=tasks)
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-old"
    assert submit.call_count == 1


def test_a_504_timeout_with_no_job_found_is_reported_never_resent(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(504, json=TIMEOUT_504)
    api.post(TASKS).mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"items": [], "count": 0}
            if body_of(request)["action"] == "retrieve_batch"
            else {},
        )
    )
    with pytest.raises(TransportError, match="may still exist") as caught:
        client.generate(prompt="fox")
    assert caught.value.maybe_submitted is True
    assert caught.value.trace_id is not None
    assert submit.call_count == 1
    assert clock.now - 1000.0 >= client.retry_policy.settle_time  # it looked for a while


# ------------------------------------------------------------------------------ the tools


def expected_trace_id(request: httpx.Request, key: str) -> str:
    """The trace_id a tool call with ``key`` derives for the job this request submitted."""
    body = body_of(request)
    asked = {k: v for k, v in body.items() if k not in ("trace_id", "async", "stream")}
    return derive_trace_id(with_arguments(key, asked))


def test_a_tool_call_derives_its_trace_id_from_the_tool_call_its_arguments_and_thread(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    api.post(TASKS).respond(200, json={"items": [], "count": 0})
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    call = {"type": "tool_call", "id": "call-9", "name": tool.name, "args": {"prompt": "fox"}}
    thread = {"configurable": {"thread_id": "t-1"}}
    tool.invoke(call)
    tool.invoke(call)  # the same tool call again: same trace_id (the look-up found nothing)
    tool.invoke(call, config=thread)
    tool.invoke({"prompt": "fox"})  # no tool call: a fresh id
    tool.invoke({**call, "args": {"prompt": "cat"}})  # same id, other arguments: another job
    requests = [c.request for c in submit.calls]
    sent = [body_of(request)["trace_id"] for request in requests]
    assert sent[0] == expected_trace_id(requests[0], tool_call_key(tool.name, "call-9", None))
    assert sent[1] == sent[0]
    key = tool_call_key(tool.name, "call-9", thread)
    assert sent[2] == expected_trace_id(requests[2], key)
    assert len({sent[0], *sent[2:]}) == 4


async def test_exactly_once_can_be_turned_off_and_works_async(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    lookups = api.post(TASKS).respond(200, json={"items": [], "count": 0})
    call = {
        "type": "tool_call",
        "id": "c",
        "name": "openai_generate_image",
        "args": {"prompt": "x"},
    }
    keyed = OpenAIGenerateImageTool(client=make_client(clock))
    await keyed.ainvoke(call)
    assert lookups.call_count == 2  # by trace_id, then one scan page
    first = submit.calls[0].request
    key = tool_call_key(keyed.name, "c", None)
    assert body_of(first)["trace_id"] == expected_trace_id(first, key)
    plain = OpenAIGenerateImageTool(client=make_client(clock), exactly_once=False)
    await plain.ainvoke(call)
    assert lookups.call_count == 2
    assert (
        body_of(submit.calls[1].request)["trace_id"] != body_of(submit.calls[0].request)["trace_id"]
    )


# ------------------------------------------- "same" means equal parameters, not a subset


def test_a_stored_request_asking_more_is_another_job_not_ours() -> None:
    ours = "lcai-ours"
    asked = {"prompt": "fox", "model": "gpt-image-1", "output_format": "png"}
    bigger = TaskRecord.model_validate(
        record("gw-1", {**asked, "size": "1536x1024", "n": 3, "async": True})
    )
    assert match(bigger, asked, ours) == "other"
    smaller = TaskRecord.model_validate(record("gw-2", {"prompt": "fox", "model": "gpt-image-1"}))
    assert match(smaller, {**asked, "output_format": "webp"}, ours) == "other"


def test_defaults_spelled_out_nulls_and_transport_fields_do_not_make_a_difference() -> None:
    ours = "lcai-ours"
    asked = {"prompt": "fox", "model": "gpt-image-1"}
    # The server wrote its defaults into the stored request, and our transport fields.
    spelled = {**asked, "n": 1, "quality": "auto", "style": None, "async": True, "stream": False}
    assert match(TaskRecord.model_validate(record("gw-1", spelled)), asked, ours) == "same"
    # We sent a default the stored request leaves out.
    sent_default = {**asked, "response_format": "url", "callback_url": "https://me.test/cb"}
    assert match(TaskRecord.model_validate(record("gw-2", asked)), sent_default, ours) == "same"
    # A non-default value is a parameter like any other.
    assert match(TaskRecord.model_validate(record("gw-3", {**asked, "n": 2})), asked, ours) == (
        "other"
    )


def test_of_several_tasks_carrying_our_trace_id_the_earliest_created_is_ours() -> None:
    ours = "lcai-ours"
    late = TaskRecord.model_validate({**record(ours, {}), "id": "t-b", "created_at": 20.0})
    early = TaskRecord.model_validate({**record(ours, {}), "id": "t-a", "created_at": 10.0})
    found, is_ours = best_match([late, early], BODY, ours)
    assert (found, is_ours) == (early, True)


# ----------------------------------- the scan is bounded by its time window, not by pages


def test_a_scan_ends_when_the_server_ignores_the_window_and_lists_older_tasks(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._wall_clock = lambda: WALL
    client._trace_ids_honoured = False
    old = [{**other_job(i), "created_at": WALL - 2 * client.lookup_window} for i in range(100)]
    api.post(GEN).respond(200, json=DONE)
    scan = api.post(TASKS).mock(
        side_effect=scan_pages([other_job(1000 + i) for i in range(100)], old, old)
    )
    client.generate(BODY, idempotency_key="window")
    assert scan.call_count == 2  # the second page is all older than the window: the end


@pytest.mark.parametrize(("count", "pages_read"), [(0, 2), (100, 1)])
def test_a_scan_ends_when_the_server_repeats_its_page_or_reaches_its_count(
    api: respx.MockRouter, client: AceDataImagesClient, count: int, pages_read: int
) -> None:
    client._trace_ids_honoured = False
    page = [other_job(i) for i in range(100)]
    api.post(GEN).respond(200, json=DONE)
    # count 0: no count given, and the server ignores offset (the same page again).
    scan = api.post(TASKS).respond(200, json={"items": page, "count": count})
    client.generate(BODY, idempotency_key="paged")
    assert scan.call_count == pages_read


def test_a_page_showing_that_trace_ids_are_kept_ends_the_scan(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    kept = record("lcai-from-another-run", {**BODY, "trace_id": "lcai-from-another-run"})
    api.post(GEN).respond(200, json=DONE)
    lookups = api.post(TASKS).mock(side_effect=scan_pages([], [kept, *map(other_job, range(99))]))
    client.generate(BODY, idempotency_key="learn")
    assert client._trace_ids_honoured is True
    assert lookups.call_count == 2  # by trace_id (nothing), one scan page, no more


def test_only_this_packages_trace_ids_teach_whether_they_are_kept(
    client: AceDataImagesClient,
) -> None:
    foreign = TaskRecord.model_validate(record("gw-1", {**BODY, "trace_id": "theirs-7"}))
    client._learn_trace_ids([foreign])
    assert client._trace_ids_honoured is None
    replaced = TaskRecord.model_validate(record("gw-2", {**BODY, "trace_id": "lcai-x"}))
    client._learn_trace_ids([replaced])
    assert client._trace_ids_honoured is False


# -------------------------------------------- concurrent runs of one keyed call (processes)


def keyed_tasks(trace_id: str, *tasks: tuple[str, float]) -> list[dict[str, Any]]:
    return [
        {**record(trace_id, {}), "id": task_id, "created_at": created} for task_id, created in tasks
    ]


def test_a_run_that_finds_an_earlier_duplicate_reports_the_first_job(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = True
    trace_id = derive_trace_id("twice")
    # Another process submitted t-first a moment before our t-mine.
    both = keyed_tasks(trace_id, ("t-mine", 20.0), ("t-first", 10.0))
    finished = {"id": "t-first", "finished_at": 30.0, "response": DONE}
    submit = api.post(GEN).respond(200, json={"task_id": "t-mine"})
    api.post(TASKS).mock(
        side_effect=[
            httpx.Response(200, json={"items": [], "count": 0}),  # before submitting: none
            httpx.Response(200, json={"items": both, "count": 2}),  # after: two
            httpx.Response(200, json={"items": [finished], "count": 1}),  # the poll
        ]
    )
    result = client.generate(BODY, idempotency_key="twice")
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 1
    assert result.task_id == "t-first"
    assert result.note is not None
    assert "also submitted" in result.note
    assert "t-mine" in result.note


def test_the_first_run_keeps_its_job_and_says_a_duplicate_was_billed(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = True
    trace_id = derive_trace_id("first")
    both = keyed_tasks(trace_id, ("t-mine", 10.0), ("t-late", 20.0))
    api.post(GEN).respond(200, json=DONE | {"task_id": "t-mine"})
    api.post(TASKS).mock(
        side_effect=[
            httpx.Response(200, json={"items": [], "count": 0}),
            httpx.Response(200, json={"items": both, "count": 2}),
        ]
    )
    result = client.generate(BODY, idempotency_key="first")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-mine"
    assert result.note is not None
    assert "t-late" in result.note


def test_a_failed_duplicate_check_keeps_the_submitted_job(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = True
    api.post(GEN).respond(200, json=DONE | {"task_id": "t-mine"})
    api.post(TASKS).mock(
        side_effect=[httpx.Response(200, json={"items": [], "count": 0})]
        + [httpx.Response(503)] * 3
    )
    result = client.generate(BODY, idempotency_key="check fails")
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t-mine"
    assert result.note is None
