"""Developer-pinned arguments and restricted models: out of the LLM's schema, rules still apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from langchain_acedata_images import (
    AGENT_PROFILE,
    AceDataImagesToolkit,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
)
from tests.conftest import BASE_URL, TOKEN, no_earlier_jobs
from tests.helpers import EDITS, GEN


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        no_earlier_jobs(router)
        router.post(GEN).respond(200, json={"data": [{"url": "https://cdn.test/a.png"}]})
        router.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/b.png"}]})
        yield router


def generate(**options: Any) -> OpenAIGenerateImageTool:
    return OpenAIGenerateImageTool(api_token=TOKEN, base_url=BASE_URL, **options)


def properties(tool: BaseTool) -> dict[str, Any]:
    return dict(convert_to_openai_tool(tool)["function"]["parameters"]["properties"])


def run(tool: BaseTool, args: dict[str, Any]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def last_body(api: respx.MockRouter) -> dict[str, Any]:
    return dict(json.loads(api.calls.last.request.content))


# ------------------------------------------------------------------------ pinned arguments


def test_pinned_arguments_leave_the_schema_and_go_with_every_call(api: respx.MockRouter) -> None:
    tool = generate(pinned_args={"response_format": "url", "partial_images": 0, "quality": "low"})
    assert not {"response_format", "partial_images", "quality"} & set(properties(tool))
    assert len(properties(tool)) == 10
    assert run(tool, {"prompt": "a fox"}).status == "success"
    body = last_body(api)
    assert (body["response_format"], body["partial_images"], body["quality"]) == ("url", 0, "low")


def test_a_pin_to_none_hides_the_argument_and_keeps_the_default(api: respx.MockRouter) -> None:
    tool = generate(pinned_args={"callback_url": None, "moderation": None})
    assert not {"callback_url", "moderation"} & set(properties(tool))
    assert run(tool, {"prompt": "a fox"}).status == "success"
    assert not {"callback_url", "moderation"} & set(last_body(api))


def test_the_llm_cannot_override_a_pinned_argument(api: respx.MockRouter) -> None:
    tool = generate(pinned_args={"callback_url": "https://hooks.example.com/private"})
    message = run(tool, {"prompt": "a fox", "callback_url": "https://evil.example.com/"})
    assert message.status == "error"
    assert "callback_url is set by the application; leave it out" in message.content
    assert "hooks.example.com" not in message.content  # the pinned value is not revealed
    assert not api.calls
    # strict mode's null for a hidden field is not sent by a strict schema, but is harmless
    assert run(tool, {"prompt": "a fox", "callback_url": None}).status == "success"


@pytest.mark.parametrize(
    ("pinned", "message"),
    [
        ({"bogus": 1}, "has no argument 'bogus'; pinnable: n, model"),
        ({"prompt": "x"}, "'prompt' is the LLM's to give and cannot be pinned"),
        ({"partial_images": 7}, "less than or equal to 3"),
        ({"model": "dall-e-3", "background": "opaque"}, "background only works with gpt-image"),
        ({"model": "dall-e-3", "size": "1536x1024"}, "use one of 1024x1024, 1792x1024"),
        ({"output_compression": 50}, "output_compression only applies to output_format"),
    ],
)
def test_pinned_values_are_checked_when_the_tool_is_built(
    pinned: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        generate(pinned_args=pinned)


def test_edit_pins_follow_the_edit_arguments(api: respx.MockRouter) -> None:
    tool = OpenAIEditImageTool(
        api_token=TOKEN, base_url=BASE_URL, pinned_args={"input_fidelity": "high"}
    )
    assert "input_fidelity" not in properties(tool)
    assert run(tool, {"prompt": "bluer", "image": "https://cdn.test/a.png"}).status == "success"
    assert last_body(api)["input_fidelity"] == "high"


# ------------------------------------------------------------------------- offered models


def test_restricted_models_shrink_the_enum_and_the_rules_follow() -> None:
    tool = generate(models=("nano-banana", "dall-e-3"))
    props = properties(tool)
    assert props["model"]["enum"] == ["nano-banana", "dall-e-3"]
    assert "nano-banana (default)" in props["model"]["description"]
    assert "gpt-image" not in props["model"]["description"]
    # no gpt-image model offered: its arguments leave the schema; dall-e-3 keeps style
    assert not {"background", "moderation", "partial_images"} & set(props)
    assert "style" in props
    assert props["quality"]["enum"] == ["auto", "high", "medium", "low", "hd", "standard"]
    assert generate(models=("gpt-image-1",)).args_schema.model_fields  # type: ignore[union-attr]
    assert "style" not in properties(generate(models=("gpt-image-1", "nano-banana")))
    gpt_only = properties(generate(models=("gpt-image-1",)))
    assert gpt_only["quality"]["enum"] == ["auto", "high", "medium", "low"]


def test_the_first_offered_model_is_the_default_unless_gpt_image_1_is_offered(
    api: respx.MockRouter,
) -> None:
    run(generate(models=("nano-banana-pro", "gpt-image-2")), {"prompt": "a fox", "model": None})
    assert last_body(api)["model"] == "nano-banana-pro"
    run(generate(models=("nano-banana-pro", "gpt-image-1")), {"prompt": "a fox"})
    assert last_body(api)["model"] == "gpt-image-1"


def test_errors_name_only_the_offered_models(api: respx.MockRouter) -> None:
    tool = generate(models=("gpt-image-2", "nano-banana"))
    message = run(tool, {"prompt": "a fox", "model": "dall-e-3"})
    assert message.status == "error"
    assert "model must be one of gpt-image-2, nano-banana" in message.content
    assert "gpt-image-1" not in message.content
    message = run(tool, {"prompt": "a fox", "model": "nano-banana", "background": "opaque"})
    assert "background only works with gpt-image models (gpt-image-2)" in message.content
    message = run(tool, {"prompt": "a fox", "style": "vivid"})
    assert "style is not available with this tool" in message.content
    assert not api.calls


def test_a_pinned_model_is_the_only_offered_one() -> None:
    tool = generate(pinned_args={"model": "dall-e-3"})
    props = properties(tool)
    assert "model" not in props
    assert "style" in props
    assert not {"background", "moderation", "partial_images"} & set(props)
    with pytest.raises(ValidationError, match="pinned model 'dall-e-3' is not among models"):
        generate(pinned_args={"model": "dall-e-3"}, models=("gpt-image-1",))


def test_unknown_offered_models_are_refused() -> None:
    with pytest.raises(ValidationError, match="models must name at least one of gpt-image-1"):
        generate(models=("midjourney",))
    with pytest.raises(ValidationError, match="models must name"):
        generate(models=())


# ------------------------------------------------------------------------------- toolkit


def test_the_toolkit_hands_each_job_tool_the_pins_it_has() -> None:
    toolkit = AceDataImagesToolkit(
        api_token=TOKEN,
        pinned_args={"partial_images": 0, "input_fidelity": "high", "response_format": "url"},
        models=("gpt-image-1", "gpt-image-2"),
    )
    gen, edit, *_ = toolkit.get_tools()
    assert gen.pinned_args == {"partial_images": 0, "response_format": "url"}  # type: ignore[attr-defined]
    assert edit.pinned_args == {"input_fidelity": "high", "response_format": "url"}  # type: ignore[attr-defined]
    assert gen.models == edit.models == ("gpt-image-1", "gpt-image-2")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="no tool has bogus"):
        AceDataImagesToolkit(api_token=TOKEN, pinned_args={"bogus": 1})


def test_the_agent_profile_works_end_to_end(api: respx.MockRouter) -> None:
    gen, edit, *_ = AceDataImagesToolkit(
        api_token=TOKEN, base_url=BASE_URL, **AGENT_PROFILE
    ).get_tools()
    hidden = {"callback_url", "partial_images", "response_format", "moderation", "style"}
    assert not hidden & set(properties(gen))
    assert run(gen, {"prompt": "a fox", "model": "gpt-image-2", "size": "2048x1152"}).status == (
        "success"
    )
    body = last_body(api)
    assert body["model"] == "gpt-image-2"
    assert not hidden & set(body)
    assert run(edit, {"prompt": "bluer", "image": "https://cdn.test/a.png"}).status == "success"
