"""Result models and answer parsing: hostile answers are coerced, dropped or a clear error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import respx
from pydantic import ValidationError

from langchain_acedata_images import (
    MalformedAnswerError,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
    TaskFailedError,
    TransportError,
)
from langchain_acedata_images._results import (
    build_result,
    parse_images,
    parse_task_list,
    parse_task_record,
    task_id_of,
)
from langchain_acedata_images.results import (
    ImageGenerationResult,
    TaskList,
    TaskRecord,
    lenient_object,
    lenient_text,
    lenient_timestamp,
)
from tests.conftest import FakeClock, make_client
from tests.helpers import GEN, TASKS, tool_call

URL = "https://cdn.test/a.png"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1732500000, 1732500000.0),
        (1732500000.5, 1732500000.5),
        ("1732500000", 1732500000.0),
        (" 1732500000 ", 1732500000.0),
        (1732500000123, 1732500000.123),  # milliseconds
        ("2024-11-25T02:00:00Z", 1732500000.0),
        ("2024-11-25T02:00:00+00:00", 1732500000.0),
        ("2024-11-25T02:00:00", 1732500000.0),  # naive: UTC
        (float("inf"), None),
        (float("-inf"), None),
        (float("nan"), None),
        ("Infinity", None),
        ("NaN", None),
        (10**400, None),
        (1e300, None),
        (True, None),
        ("yesterday", None),
        ([1], None),
        ({"t": 1}, None),
        (None, None),
    ],
)
def test_lenient_timestamp(value: Any, expected: float | None) -> None:
    result = lenient_timestamp(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_lenient_text_and_object() -> None:
    assert lenient_text("abc") == "abc"
    assert lenient_text(42) == "42"
    assert lenient_text(True) is None
    assert lenient_text(4.5) is None
    assert lenient_text({"a": 1}) is None
    assert lenient_object({"a": 1}) == {"a": 1}
    assert lenient_object('{"a": 1}') == {"a": 1}
    assert lenient_object("[1]") is None
    assert lenient_object("not json") is None
    assert lenient_object([1]) is None


@pytest.mark.parametrize(
    "created", [float("inf"), float("nan"), "Infinity", 10**400, "soon", [1], {"x": 1}]
)
def test_a_decorative_created_is_dropped_not_fatal(created: Any) -> None:
    result = ImageGenerationResult(
        images=[{"url": URL}], model="gpt-image-1", elapsed=1.0, created=created
    )
    assert result.created is None


def test_created_as_iso_string_or_milliseconds_is_read() -> None:
    iso = ImageGenerationResult(
        images=[{"url": URL}], model="m", elapsed=0, created="2024-11-25T02:00:00Z"
    )
    millis = ImageGenerationResult(images=[{"url": URL}], model="m", elapsed=0, created=1.7e12)
    assert (iso.created, millis.created) == (1732500000, 1700000000)


def test_task_record_coerces_descriptive_fields() -> None:
    record = TaskRecord.model_validate(
        {
            "id": 12345,
            "trace_id": ["not", "an", "id"],
            "type": {"odd": True},
            "request": '{"prompt": "fox"}',
            "response": "garbage",
            "created_at": "2024-11-25T02:00:00Z",
            "started_at": float("nan"),
            "finished_at": None,
            "elapsed": "Infinity",
        }
    )
    assert record.id == "12345"
    assert (record.trace_id, record.type, record.response) == (None, None, None)
    assert record.request == {"prompt": "fox"}
    assert record.created_at == pytest.approx(1732500000.0)
    assert (record.started_at, record.elapsed) == (None, None)
    assert record.status == "queued"


@pytest.mark.parametrize("finished_at", ["2024-11-25T02:00:00Z", 1732500000, "1732500000", 0])
def test_finished_at_in_any_time_form_finishes(finished_at: Any) -> None:
    assert TaskRecord.model_validate({"finished_at": finished_at}).finished


@pytest.mark.parametrize("finished_at", [None, False, ""])
def test_unset_finished_at_means_running(finished_at: Any) -> None:
    assert not TaskRecord.model_validate({"finished_at": finished_at}).finished


@pytest.mark.parametrize("finished_at", ["soon", float("inf"), {"at": 1}, [1]])
def test_finished_at_that_is_set_but_no_time_is_malformed(finished_at: Any) -> None:
    answer = {"id": "t1", "trace_id": "tr1", "finished_at": finished_at}
    with pytest.raises(MalformedAnswerError) as caught:
        parse_task_record(answer, task_id="asked", trace_id="mine")
    error = caught.value
    assert (error.task_id, error.trace_id, error.maybe_submitted) == ("t1", "tr1", True)
    assert "finished_at" in error.message
    assert isinstance(error, TransportError)


def test_a_look_up_by_task_id_answered_with_another_task_is_malformed() -> None:
    answer = {"id": "t9\n" + "x" * 500, "finished_at": 5}
    with pytest.raises(MalformedAnswerError) as caught:
        parse_task_record(answer, task_id="t1", trace_id="tr1")
    error = caught.value
    assert (error.task_id, error.trace_id, error.maybe_submitted) == ("t1", "tr1", True)
    assert "task t1" in error.message
    assert len(error.message) < 200  # the foreign id is capped
    assert parse_task_record({"finished_at": 5}, task_id="t1") is not None  # no id: no lie
    assert parse_task_record(answer, trace_id="tr1") is not None  # by trace_id: no task id


def test_parse_task_record_empty_and_non_objects() -> None:
    assert parse_task_record({}) is None
    assert parse_task_record(None) is None
    for answer in ([1, 2], "text", 3):
        with pytest.raises(MalformedAnswerError) as caught:
            parse_task_record(answer, task_id="t9", trace_id="tr9")
        assert (caught.value.task_id, caught.value.trace_id) == ("t9", "tr9")
    record = parse_task_record({"id": "t1", "finished_at": 5})
    assert record is not None
    assert record.finished


def test_parse_task_list_drops_unreadable_items() -> None:
    tasks = parse_task_list(
        {
            "items": [{"id": "a"}, "junk", {"id": "b", "finished_at": "never"}, {"id": "c"}],
            "count": "7",
        }
    )
    assert [item.id for item in tasks.items] == ["a", "c"]
    assert tasks.count == 7
    assert parse_task_list([1]).items == []
    assert parse_task_list({"items": {"id": "a"}, "count": -3}) == TaskList()
    assert parse_task_list({"items": [], "count": float("inf")}).count == 0
    assert parse_task_list({"items": [], "count": True}).count == 0
    assert parse_task_list({"items": [], "count": 2.0}).count == 2


def test_task_id_of() -> None:
    assert task_id_of("t1") == "t1"
    assert task_id_of(7) == "7"
    assert task_id_of("") is None
    assert task_id_of({"id": 1}) is None


def images(data: Any) -> list[Any]:
    return parse_images(data, mime_type="image/png", task_id="t1", trace_id="tr1")


def test_parse_images_keeps_usable_entries_and_drops_the_rest() -> None:
    kept = images(
        [
            {"url": f"  {URL}  ", "revised_prompt": 5},
            {"url": 12},
            {"b64_json": "   "},
            "https://cdn.test/b.png",
            7,
            {"b64_json": "iVBORw0KGgo="},
        ]
    )
    assert [(i.url, i.b64_json, i.revised_prompt) for i in kept] == [
        (URL, None, None),
        ("https://cdn.test/b.png", None, None),
        (None, "iVBORw0KGgo=", None),
    ]
    assert {i.mime_type for i in kept} == {"image/png"}
    single = images({"url": URL})
    assert [i.url for i in single] == [URL]


@pytest.mark.parametrize("data", [None, []])
def test_no_data_is_a_failed_job(data: Any) -> None:
    with pytest.raises(TaskFailedError) as caught:
        images(data)
    assert (caught.value.task_id, caught.value.trace_id) == ("t1", "tr1")


@pytest.mark.parametrize("data", [[{"url": 1}], [{}], ["   "], "", 42, [None, [URL]]])
def test_data_without_a_usable_image_is_malformed_not_failed(data: Any) -> None:
    with pytest.raises(MalformedAnswerError) as caught:
        images(data)
    assert (caught.value.task_id, caught.value.trace_id) == ("t1", "tr1")
    assert caught.value.maybe_submitted


def result_of(answer: dict[str, Any]) -> ImageGenerationResult:
    return build_result(
        answer,
        model="gpt-image-1",
        size="1024x1024",
        output_format="png",
        mime_type="image/png",
        task_id="t-job",
        trace_id="tr-job",
        elapsed=2.5,
    )


def test_build_result_from_a_hostile_answer() -> None:
    result = result_of(
        {
            "data": [{"url": URL}],
            "created": float("inf"),
            "size": 1024,
            "task_id": {"nested": True},
        }
    )
    assert (result.task_id, result.trace_id, result.created) == ("t-job", "tr-job", None)
    assert result.size == "1024"
    assert result.urls == [URL]


def test_build_result_keeps_the_servers_task_id_and_size() -> None:
    result = result_of({"data": [{"url": URL}], "created": 5, "size": "auto", "task_id": 99})
    assert (result.task_id, result.size, result.created) == ("99", "auto", 5)
    assert result.model == "gpt-image-1"
    assert result.raw["task_id"] == 99
    assert math.isclose(result.elapsed, 2.5)


def test_build_result_falls_back_to_the_requested_size() -> None:
    assert result_of({"data": [{"url": URL}], "size": None}).size == "1024x1024"
    assert result_of({"data": [{"url": URL}], "size": ["big"]}).size == "1024x1024"


def test_odd_model_and_format_labels_never_fail() -> None:
    result = ImageGenerationResult(
        images=[{"url": URL}], model={"x": 1}, output_format=None, elapsed=0
    )
    assert (result.model, result.output_format) == ("unknown", "png")


# ------------------------------------------------- through the tools (what the LLM reads)


def accepted_then(record: str, api: respx.MockRouter) -> None:
    """A submission the server accepts, then ``record`` (raw JSON text) for every poll."""
    api.post(GEN).respond(200, json={"task_id": "t-paid", "trace_id": "srv"})
    api.post(TASKS).respond(200, content=record.encode(), headers={"content-type": "x/json"})


HOSTILE_RECORDS = {
    "finished_at as a word": '{"id": "t-paid", "finished_at": "done"}',
    "finished_at infinite": '{"id": "t-paid", "finished_at": Infinity}',
    "data of numbers": '{"id": "t-paid", "finished_at": 5, "response": {"data": [1, 2]}}',
    "data of url-less objects": '{"id": "t-paid", "finished_at": 5, "response": {"data": [{}]}}',
    "data as text": '{"id": "t-paid", "finished_at": 5, "response": {"data": "https"}}',
    "record as a list": '["t-paid"]',
    "record as a number": "42",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_RECORDS))
@pytest.mark.parametrize("use_async", [False, True])
async def test_an_unusable_answer_after_acceptance_says_look_it_up(
    api: respx.MockRouter, clock: FakeClock, name: str, use_async: bool
) -> None:
    accepted_then(HOSTILE_RECORDS[name], api)
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    the_call = tool_call("openai_generate_image", {"prompt": "a fox"})
    message = await tool.ainvoke(the_call) if use_async else tool.invoke(the_call)
    text = message.content
    assert message.status == "error"
    assert "Invalid arguments" not in text
    assert "accepted" in text
    assert "Do not submit" in text
    assert "openai_get_task with task_id=t-paid" in text
    assert api.routes[1].call_count == 1  # one paid submission, never repeated


@pytest.mark.parametrize(
    "created", ["Infinity", "NaN", "1" + "0" * 400, '"2024-11-25T02:00:00Z"', '"never"', "[1]"]
)
def test_decorative_junk_after_acceptance_still_gives_the_images(
    api: respx.MockRouter, clock: FakeClock, created: str
) -> None:
    record = (
        '{"id": "t-paid", "trace_id": {"not": "a string"},'
        ' "created_at": "2024-11-25T02:00:00Z", "started_at": "soon",'
        ' "finished_at": 1732500030, "elapsed": NaN,'
        f' "response": {{"data": [{{"url": "{URL}", "revised_prompt": 7}}],'
        f' "created": {created}}}}}'
    )
    accepted_then(record, api)
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    message = tool.invoke(tool_call("openai_generate_image", {"prompt": "a fox"}))
    assert message.status != "error"
    assert URL in message.content
    assert message.artifact.task_id == "t-paid"
    assert message.artifact.created in (None, 1732500000)


def test_get_task_of_a_malformed_record_is_not_invalid_arguments(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(TASKS).respond(200, json=["not", "a", "record"])
    tool = OpenAIGetTaskTool(client=make_client(clock), max_wait=0)
    message = tool.invoke(tool_call("openai_get_task", {"task_id": "t-7"}))
    assert message.status == "error"
    assert "Invalid arguments" not in message.content
    assert "openai_get_task with task_id=t-7" in message.content


def test_list_tasks_skips_unreadable_records(api: respx.MockRouter, clock: FakeClock) -> None:
    api.post(TASKS).respond(
        200,
        json={
            "items": [
                {"id": "good", "created_at": "2024-11-25T02:00:00Z"},
                {"id": "bad", "finished_at": "later"},
                "junk",
            ],
            "count": "Infinity",
        },
    )
    tool = OpenAIListTasksTool(client=make_client(clock))
    message = tool.invoke(tool_call("openai_list_tasks", {}))
    assert message.status != "error"
    assert message.content.splitlines()[1].startswith("good ? queued 2024-11-25 02:00:00Z")
    assert [item.id for item in message.artifact.items] == ["good"]


def test_a_submission_answer_with_a_hostile_task_id_is_malformed(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": {"$gt": ""}})
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    message = tool.invoke(tool_call("openai_generate_image", {"prompt": "a fox"}))
    assert "accepted the image job" in message.content
    assert "openai_get_task with trace_id=lcai-" in message.content


def test_a_stream_event_that_is_not_an_object_is_recovered_by_trace_id(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    stream = b'event: image_generation.completed\ndata: ["not", "an", "object"]\n\n'
    api.post(GEN).respond(200, content=stream, headers={"content-type": "text/event-stream"})
    api.post(TASKS).respond(
        200, json={"id": "t-s", "finished_at": 5, "response": {"data": [{"url": URL}]}}
    )
    client = make_client(clock)
    result = client.generate(prompt="fox", partial_images=1)
    assert isinstance(result, ImageGenerationResult)
    assert result.urls == [URL]
    assert result.task_id == "t-s"


# ----------------------------------------------------- settings that bound the untrusted


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_non_finite_or_negative_waits_are_refused(bad: float, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="max_wait must be a finite number"):
        make_client(max_wait=bad)
    client = make_client(clock)
    with pytest.raises(ValueError, match="max_wait must be a finite number"):
        client.generate(prompt="fox", max_wait=bad)
    with pytest.raises(ValidationError, match=r"finite number|greater than or equal"):
        OpenAIGenerateImageTool(client=client, max_wait=bad)
    with pytest.raises(ValidationError, match=r"finite number|greater than or equal"):
        OpenAIGetTaskTool(client=client, max_wait=bad)


def test_a_private_callback_url_from_the_llm_is_refused_before_any_request(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t1"})
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    args = {"prompt": "fox", "callback_url": "http://169.254.169.254/latest/meta-data/"}
    message = tool.invoke(tool_call("openai_generate_image", args))
    assert message.content.startswith("Invalid arguments:\n- callback_url: callback_url must")
    assert "a link-local address (169.254.169.254)" in message.content
    assert route.call_count == 0
    # The developer's opt-in (tool setting) lets it through.
    allowed = OpenAIGenerateImageTool(client=make_client(clock), allow_private_callback_urls=True)
    answer = allowed.invoke(tool_call("openai_generate_image", args))
    assert "task_id=t1" in answer.content
    assert route.call_count == 1


def test_the_toolkit_passes_its_safety_settings_on() -> None:
    from langchain_acedata_images import AceDataImagesToolkit

    toolkit = AceDataImagesToolkit(
        api_token="sk-x",
        allow_private_callback_urls=True,
        allow_private_downloads=True,
        max_downloads=3,
    )
    generate, edit, *_ = toolkit.get_tools()
    assert generate.allow_private_callback_urls  # type: ignore[attr-defined]
    assert edit.allow_private_callback_urls  # type: ignore[attr-defined]
    assert toolkit.client is not None
    assert (toolkit.client.allow_private_downloads, toolkit.client.max_downloads) == (True, 3)
    assert generate.client is toolkit.client  # type: ignore[attr-defined]
    default = AceDataImagesToolkit(api_token="sk-x")
    assert default.client is not None
    assert (default.client.allow_private_downloads, default.client.max_downloads) == (False, 16)


def test_a_callback_url_pinned_by_the_developer_is_not_judged(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t1"})
    pinned = {"callback_url": "http://10.0.0.5/hook"}
    tool = OpenAIGenerateImageTool(client=make_client(clock), pinned_args=pinned)
    message = tool.invoke(tool_call("openai_generate_image", {"prompt": "fox"}))
    assert "task_id=t1" in message.content
    assert json.loads(route.calls.last.request.content)["callback_url"] == "http://10.0.0.5/hook"
