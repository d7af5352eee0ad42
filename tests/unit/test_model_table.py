"""The model table under every documented dialect: 11 models, prompt limits, task records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from langchain_acedata_images import EditImageInput, GenerateImageInput, TaskQuery
from langchain_acedata_images.models import (
    ALLOW_UNKNOWN_MODELS,
    KNOWN_MODELS,
    MODEL_RULES,
    ImageTask,
    TaskList,
    TaskRecord,
)

#: The contract fixture, derived from AceDataCloud's published OpenAPI documents.
CONTRACT = Path(__file__).parents[1] / "contract" / "acedata_images.openapi.json"
DOCUMENTED = (
    "dall-e-2",
    "dall-e-3",
    "gpt-image-1",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2:reverse",
    "gpt-image-2:official",
    "nano-banana",
    "nano-banana-2-lite",
    "nano-banana-2",
    "nano-banana-pro",
)


def test_the_eleven_documented_models_are_known_and_have_rules() -> None:
    assert sorted(KNOWN_MODELS) == sorted(DOCUMENTED)
    assert sorted(MODEL_RULES) == sorted(DOCUMENTED)
    schema = GenerateImageInput.model_json_schema()["properties"]["model"]
    (choices,) = [option["enum"] for option in schema.get("anyOf", [schema]) if "enum" in option]
    assert sorted(choices) == sorted(DOCUMENTED)


def test_the_model_enum_matches_the_published_documents() -> None:
    document = json.loads(CONTRACT.read_text(encoding="utf-8"))
    for path in ("/openai/images/generations", "/openai/images/edits"):
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert sorted(schema["schema"]["properties"]["model"]["enum"]) == sorted(KNOWN_MODELS)


@pytest.mark.parametrize("channel", ["gpt-image-2:reverse", "gpt-image-2:official"])
def test_gpt_image_2_channels_follow_gpt_image_2(channel: str) -> None:
    assert MODEL_RULES[channel] == MODEL_RULES["gpt-image-2"]
    GenerateImageInput(prompt="fox", model=channel, size="2048x1152", background="opaque")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="multiples of 16"):
        GenerateImageInput(prompt="fox", model=channel, size="1000x1000")  # type: ignore[arg-type]


def test_nano_banana_2_lite_follows_nano_banana() -> None:
    lite = MODEL_RULES["nano-banana-2-lite"]
    assert lite.family == "nano-banana"
    assert (lite.sizes, lite.qualities, lite.max_prompt) == (
        MODEL_RULES["nano-banana"].sizes,
        MODEL_RULES["nano-banana"].qualities,
        MODEL_RULES["nano-banana"].max_prompt,
    )
    assert not lite.multipart_edits  # the published multipart enum lacks it
    with pytest.raises(ValidationError, match="background only works with gpt-image"):
        GenerateImageInput(prompt="fox", model="nano-banana-2-lite", background="opaque")


@pytest.mark.parametrize(
    ("model", "limit"),
    [("dall-e-2", 1000), ("dall-e-3", 4000), ("gpt-image-1", 32000), ("nano-banana-2-lite", 32000)],
)
@pytest.mark.parametrize("kind", [GenerateImageInput, EditImageInput])
def test_prompt_length_is_checked_per_model(model: str, limit: int, kind: type[Any]) -> None:
    extra = {"image": "https://x/a.png"} if kind is EditImageInput else {}
    kind(prompt="p" * limit, model=model, **extra)
    with pytest.raises(ValidationError) as caught:
        kind(prompt="p" * (limit + 1), model=model, **extra)
    assert f"{limit:,}" in str(caught.value) or f"at most {limit} characters" in str(caught.value)


def test_prompt_limit_message_names_the_limit_and_the_way_out() -> None:
    with pytest.raises(ValidationError) as caught:
        GenerateImageInput(prompt="p" * 1001, model="dall-e-2")
    message = str(caught.value)
    assert "prompt is 1,001 characters; dall-e-2 accepts at most 1,000" in message
    assert "32,000" in message


def test_unknown_models_pass_through_the_programmatic_client_only() -> None:
    with pytest.raises(ValidationError):
        GenerateImageInput.model_validate({"prompt": "fox", "model": "gpt-image-3"})
    request = GenerateImageInput.model_validate(
        {"prompt": "p" * 32000, "model": "gpt-image-3"}, context={ALLOW_UNKNOWN_MODELS: True}
    )
    assert request.to_body()["model"] == "gpt-image-3"


def test_edits_accept_dall_e_models() -> None:
    EditImageInput(prompt="x", image="https://x/a.png", model="dall-e-2", quality="standard")
    EditImageInput(prompt="x", image="https://x/a.png", model="dall-e-3")


def test_task_query_filters_by_application_and_user() -> None:
    body = TaskQuery(type="images", application_id="app-1", user_id="user-9").to_body()
    assert body == {
        "action": "retrieve_batch",
        "type": "images",
        "application_id": "app-1",
        "user_id": "user-9",
    }
    with pytest.raises(ValidationError):
        TaskQuery(application_id="")


VARIANT_B_RECORD = {
    "_id": "66f0c0ffee",
    "id": "task-1",
    "trace_id": "gateway-trace",
    "type": "images",
    "application_id": "app",
    "user_id": 42,
    "credential_id": "cred",
    "duration": "12.5",
    "request": {"prompt": "fox", "model": "gpt-image-2"},
    "response": {"created": 1, "data": [{"b64_json": "aGk="}]},
    "created_at": 1.0,
    "finished_at": 3.0,
}


def test_task_records_with_extra_fields_and_type_images_parse() -> None:
    record = TaskRecord.model_validate(VARIANT_B_RECORD)
    assert (record.id, record.type, record.status) == ("task-1", "images", "succeeded")
    assert record.model_extra == {
        "_id": "66f0c0ffee",
        "application_id": "app",
        "user_id": 42,
        "credential_id": "cred",
        "duration": "12.5",
    }
    listed = TaskList.model_validate({"items": [VARIANT_B_RECORD], "count": 1})
    assert listed.items[0].id == "task-1"


def test_a_record_with_only_a_database_id_still_names_its_task() -> None:
    assert TaskRecord.model_validate({"_id": "abc"}).id == "abc"
    assert TaskRecord.model_validate({"_id": 7}).id is None


def test_task_ids_of_a_fanned_out_call() -> None:
    assert ImageTask(task_id="a,b,c").task_ids == ["a", "b", "c"]
    assert ImageTask(task_id="a").task_ids == ["a"]
    assert ImageTask().task_ids == []
