"""The generate tool: schema, content/artifact, error texts, standard LangChain tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_acedata_images import (
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    OpenAIGenerateImageTool,
    TaskTimeoutError,
    TransportError,
)
from langchain_acedata_images._text import MAX_SUMMARY_BYTES, result_summary, tool_error_text
from langchain_acedata_images.models import GeneratedImage
from langchain_acedata_images.progress import PROGRESS_EVENT
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client, task_answers
from tests.helpers import GEN, TASKS, generate_call


@pytest.fixture
def tool(clock: FakeClock) -> OpenAIGenerateImageTool:
    return OpenAIGenerateImageTool(client=make_client(clock))


class TestGenerateToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIGenerateImageTool]:
        return OpenAIGenerateImageTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"prompt": "A serene mountain landscape at sunset", "size": "1536x1024"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"ACEDATACLOUD_API_TOKEN": TOKEN, "ACEDATACLOUD_API_BASE_URL": "http://env.test"},
            {},
            {"api_token": TOKEN, "base_url": "http://env.test"},
        )


def test_tool_is_declarative(tool: OpenAIGenerateImageTool) -> None:
    assert tool.name == "openai_generate_image"
    assert tool.args_schema is GenerateImageInput
    assert tool.response_format == "content_and_artifact"
    assert tool.description.startswith("Create images from a text prompt.")
    # developer-only settings never reach the LLM schema
    assert not {"client", "api_token", "max_wait", "wait"} & set(tool.args)


def test_tool_call_returns_compact_content_and_full_artifact(
    api: respx.MockRouter, tool: OpenAIGenerateImageTool
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(
        200,
        json={
            "id": "t1",
            "finished_at": 2.0,
            "response": {"data": [{"url": "https://cdn.test/a.png", "revised_prompt": "A fox."}]},
        },
    )
    message = tool.invoke(generate_call({"prompt": "a fox", "size": "1536x1024"}))
    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    assert "https://cdn.test/a.png" in message.content
    assert "Revised prompt: A fox." in message.content
    assert "task_id=t1" in message.content
    assert isinstance(message.artifact, ImageGenerationResult)
    assert message.artifact.size == "1536x1024"


async def test_async_tool_call(api: respx.MockRouter, tool: OpenAIGenerateImageTool) -> None:
    route = api.post(GEN).respond(200, json={"data": [{"b64_json": "QUJD" * 5000}]})
    message = await tool.ainvoke(
        generate_call({"prompt": "a fox", "n": 3, "response_format": "b64_json"})
    )
    assert message.content.count("img:") == 3  # a reference the LLM can pass back
    assert "QUJD" not in message.content
    assert len(message.artifact.images) == 3
    assert "3 images via 3 single-image jobs" in message.artifact.note
    assert len(route.calls) == 3
    assert "n" not in json.loads(route.calls.last.request.content)
    await tool.client.aclose()  # type: ignore[union-attr]


def test_plain_invoke_returns_content_only(
    api: respx.MockRouter, tool: OpenAIGenerateImageTool
) -> None:
    api.post(GEN).respond(200, json={"data": [{"url": "https://cdn.test/a.png"}]})
    assert tool.invoke({"prompt": "a fox"}).startswith("Generated 1 image")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"prompt": "x", "model": "dall-e-2", "size": "1792x1024"},
         "size 1792x1024 is not supported by dall-e-2; use one of 256x256, 512x512, 1024x1024"),
        ({"prompt": "x", "style": "vivid"}, "style only works with dall-e-3"),
        ({"prompt": "x", "model": "gpt-image-2", "size": "1000x1000"}, "multiples of 16"),
        ({"prompt": "x", "n": "ten"}, "- n: Input should be a valid integer"),
        ({"prompt": "x", "quality": "ultra"}, "- quality: Input should be 'auto', 'high'"),
        ({"size": "auto"}, "- prompt: Field required"),
    ],
)  # fmt: skip
def test_invalid_arguments_become_actionable_text_and_send_nothing(
    api: respx.MockRouter, tool: OpenAIGenerateImageTool, args: dict[str, Any], fragment: str
) -> None:
    message = tool.invoke(generate_call(args))
    assert message.status == "error"
    assert fragment in message.content
    assert "call the tool again" in message.content
    assert not api.calls


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (401, {"error": {"code": "invalid_token", "message": "bad"}}, "tell the user"),
        (403, {"error": {"code": "used_up", "message": "x"}}, "balance is used up; do not retry"),
        (403, {"error": {"message": "unsafe"}}, "Rephrase the prompt"),
        (400, {"error": {"code": "bad_request", "message": "size bad"}}, "size bad. Fix them"),
        (429, {"error": {"code": "too_many_requests"}}, "rate limiting"),
    ],
)
def test_api_errors_become_tool_error_messages(
    api: respx.MockRouter,
    tool: OpenAIGenerateImageTool,
    status: int,
    body: dict[str, Any],
    fragment: str,
) -> None:
    api.post(GEN).respond(status, json=body)
    message = tool.invoke(generate_call({"prompt": "a fox"}))
    assert message.status == "error"
    assert fragment in message.content


def test_errors_can_be_raised_instead(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIGenerateImageTool(client=make_client(clock), handle_tool_error=False)
    api.post(GEN).respond(401, json={"error": {"code": "invalid_token", "message": "bad"}})
    with pytest.raises(Exception, match="Changing the arguments will not help"):
        tool.invoke({"prompt": "a fox"})


def test_wait_false_returns_task_handle(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIGenerateImageTool(client=make_client(clock), wait=False)
    api.post(GEN).respond(200, json={"task_id": "t5"})
    message = tool.invoke(generate_call({"prompt": "a fox"}))
    assert isinstance(message.artifact, ImageTask)
    assert "task_id=t5" in message.content
    assert "openai_get_task" in message.content


def test_progress_events_reach_callbacks(
    api: respx.MockRouter, tool: OpenAIGenerateImageTool
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(
        side_effect=task_answers(
            {"id": "t1", "started_at": 1},
            {"id": "t1", "finished_at": 2, "response": {"data": [{"url": "https://c/1.png"}]}},
        )
    )
    seen: list[tuple[str, dict[str, Any]]] = []

    class Recorder(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            seen.append((name, data))

    tool.invoke(generate_call({"prompt": "a fox"}), config={"callbacks": [Recorder()]})
    assert [name for name, _ in seen] == [PROGRESS_EVENT] * 4
    assert [data["kind"] for _, data in seen] == ["submitted", "poll", "poll", "finished"]
    assert seen[0][1]["tool"] == "openai_generate_image"


def _result(n: int, url_length: int) -> ImageGenerationResult:
    images = [
        GeneratedImage(url="https://cdn.test/" + "x" * url_length + f"/{i}.png",
                       b64_json="A" * 10_000, revised_prompt="very long prompt " * 200)
        for i in range(n)
    ]  # fmt: skip
    return ImageGenerationResult(
        images=images, model="gpt-image-2", size="3840x2160", elapsed=42.0, task_id="t" * 40,
        trace_id="lcai-x",
    )  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 5, 10])
@pytest.mark.parametrize("url_length", [20, 200, 600])
def test_content_stays_under_one_kilobyte(n: int, url_length: int) -> None:
    text = result_summary(_result(n, url_length))
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    assert "AAAA" not in text
    if url_length == 20:
        assert text.count("https://") == n  # every URL fits when URLs are short
    else:
        assert "more in the artifact" in text or text.count("https://") == n


def test_error_texts_name_ids_and_next_step() -> None:
    timeout = TaskTimeoutError("slow", waited=600, task_id="t1", trace_id="tr")
    assert "task_id=t1" in tool_error_text(timeout)
    assert "openai_get_task" in tool_error_text(timeout)
    lost = TransportError("lost", maybe_submitted=True, trace_id="tr")
    assert "trace_id=tr" in tool_error_text(lost)


def test_tool_repr_and_dump_hide_the_token(tool: OpenAIGenerateImageTool) -> None:
    explicit = OpenAIGenerateImageTool(api_token=TOKEN, base_url=BASE_URL)
    for candidate in (tool, explicit):
        assert TOKEN not in repr(candidate)
        assert TOKEN not in str(candidate)
        assert TOKEN not in json.dumps(candidate.model_dump(), default=str)
