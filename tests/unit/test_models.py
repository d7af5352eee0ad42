"""Per-model validation rules and request bodies (no HTTP involved)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from langchain_acedata_images import EditImageInput, GenerateImageInput, TaskQuery
from langchain_acedata_images.model_rules import MODEL_RULES
from langchain_acedata_images.models import ALLOW_UNKNOWN_MODELS, TaskRecord

VALID: list[dict[str, Any]] = [
    {"prompt": "fox"},
    {"prompt": "fox", "size": "auto"},
    {"prompt": "fox", "model": "gpt-image-1", "size": "1536x1024", "quality": "high"},
    {"prompt": "fox", "model": "gpt-image-1.5", "size": "1024x1536", "quality": "low"},
    {"prompt": "fox", "model": "gpt-image-2", "size": "3840x2160"},
    {"prompt": "fox", "model": "gpt-image-2", "size": "2160x3840"},
    {"prompt": "fox", "model": "gpt-image-2", "size": "2880x2880"},
    {"prompt": "fox", "model": "gpt-image-2", "size": "16x16"},
    {"prompt": "fox", "model": "gpt-image-2", "size": "auto"},
    {"prompt": "fox", "model": "dall-e-3", "size": "1792x1024", "style": "vivid", "quality": "hd"},
    {"prompt": "fox", "model": "dall-e-3", "size": "1024x1792", "style": "natural", "n": 1},
    {"prompt": "fox", "model": "dall-e-3", "quality": "standard"},
    {"prompt": "fox", "model": "dall-e-2", "size": "256x256", "n": 10, "quality": "standard"},
    {"prompt": "fox", "model": "dall-e-2", "size": "512x512"},
    {"prompt": "fox", "model": "nano-banana", "size": "2048x1152"},
    {"prompt": "fox", "model": "nano-banana-2", "size": "auto"},
    {"prompt": "fox", "model": "nano-banana-pro", "size": "1000x700"},
    {"prompt": "fox", "background": "transparent", "output_format": "png"},
    {"prompt": "fox", "background": "transparent", "output_format": "webp"},
    {"prompt": "fox", "background": "opaque", "moderation": "low", "partial_images": 3},
    {"prompt": "fox", "output_format": "jpeg", "output_compression": 0},
    {"prompt": "fox", "output_format": "webp", "output_compression": 100},
    {"prompt": "fox", "model": "dall-e-2", "partial_images": 0},
    {"prompt": "fox", "response_format": "b64_json", "n": 4},
    {"prompt": "fox", "callback_url": "https://example.com/hook?x=1"},
    {"prompt": "fox", "callback_url": "http://127.0.0.1:8080/cb"},
]

# (arguments, a fragment the message must contain: names the allowed values or the fix)
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"prompt": ""}, "at least 1 character"),
    ({"prompt": "   "}, "at least 1 character"),
    ({}, "prompt"),
    ({"prompt": "fox", "n": 0}, "greater than or equal to 1"),
    ({"prompt": "fox", "n": 11}, "less than or equal to 10"),
    ({"prompt": "fox", "model": "dall-e-3", "n": 2}, "set n=1"),
    ({"prompt": "fox", "model": "gpt-5-image"}, "'gpt-image-1'"),
    ({"prompt": "fox", "model": "dall-e-2", "size": "1792x1024"}, "256x256, 512x512, 1024x1024"),
    ({"prompt": "fox", "model": "dall-e-2", "size": "auto"}, "256x256, 512x512, 1024x1024"),
    (
        {"prompt": "fox", "model": "dall-e-3", "size": "1536x1024"},
        "1024x1024, 1792x1024, 1024x1792",
    ),
    ({"prompt": "fox", "model": "gpt-image-1", "size": "1792x1024"}, "1024x1536, auto"),
    ({"prompt": "fox", "model": "gpt-image-1.5", "size": "2048x2048"}, "1536x1024"),
    ({"prompt": "fox", "model": "gpt-image-2", "size": "1000x1000"}, "multiples of 16"),
    ({"prompt": "fox", "model": "gpt-image-2", "size": "4096x1024"}, "longer side must be <= 3840"),
    ({"prompt": "fox", "model": "gpt-image-2", "size": "3840x3840"}, "8,294,400"),
    ({"prompt": "fox", "size": "big"}, "'WIDTHxHEIGHT'"),
    ({"prompt": "fox", "model": "nano-banana", "size": "1024*1024"}, "'WIDTHxHEIGHT'"),
    ({"prompt": "fox", "size": "0x1024"}, "'WIDTHxHEIGHT'"),
    ({"prompt": "fox", "style": "vivid"}, "set model='dall-e-3'"),
    ({"prompt": "fox", "model": "dall-e-2", "style": "natural"}, "only works with dall-e-3"),
    ({"prompt": "fox", "style": "anime"}, "'vivid' or 'natural'"),
    ({"prompt": "fox", "quality": "hd"}, "auto, high, medium, low"),
    ({"prompt": "fox", "model": "dall-e-2", "quality": "hd"}, "auto, standard"),
    ({"prompt": "fox", "quality": "standard"}, "auto, high, medium, low"),
    ({"prompt": "fox", "model": "dall-e-3", "quality": "high"}, "auto, hd, standard"),
    ({"prompt": "fox", "model": "dall-e-3", "background": "opaque"}, "only works with gpt-image"),
    ({"prompt": "fox", "model": "dall-e-2", "moderation": "low"}, "only works with gpt-image"),
    ({"prompt": "fox", "model": "nano-banana", "partial_images": 2}, "only works with gpt-image"),
    (
        {"prompt": "fox", "model": "dall-e-3", "moderation": "low", "background": "auto"},
        "background, moderation only work with gpt-image",
    ),
    ({"prompt": "fox", "background": "transparent", "output_format": "jpeg"}, "'png' or 'webp'"),
    ({"prompt": "fox", "output_compression": 50}, "'jpeg' or 'webp'"),
    ({"prompt": "fox", "output_format": "png", "output_compression": 50}, "'jpeg' or 'webp'"),
    ({"prompt": "fox", "output_format": "jpeg", "output_compression": 101}, "less than or equal"),
    ({"prompt": "fox", "output_format": "jpeg", "output_compression": -1}, "greater than"),
    ({"prompt": "fox", "output_format": "gif"}, "'png', 'jpeg' or 'webp'"),
    ({"prompt": "fox", "partial_images": 4}, "less than or equal to 3"),
    ({"prompt": "fox", "response_format": "json"}, "'url' or 'b64_json'"),
    ({"prompt": "fox", "callback_url": "ftp://example.com/x"}, "absolute http(s) URL"),
    ({"prompt": "fox", "callback_url": "/relative/hook"}, "absolute http(s) URL"),
    ({"prompt": "fox", "callback_url": "javascript:alert(1)"}, "absolute http(s) URL"),
    ({"prompt": "fox", "seed": 3}, "Extra inputs are not permitted"),
    ({"prompt": "fox", "n": "many"}, "valid integer"),
]


@pytest.mark.parametrize("arguments", VALID)
def test_valid_arguments_are_accepted(arguments: dict[str, Any]) -> None:
    GenerateImageInput(**arguments)


@pytest.mark.parametrize(("arguments", "fragment"), INVALID)
def test_invalid_arguments_are_rejected_with_actionable_message(
    arguments: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        GenerateImageInput(**arguments)
    assert fragment in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        GenerateImageInput(
            prompt="fox", model="dall-e-2", size="2048x2048", style="vivid", background="opaque"
        )
    message = str(caught.value)
    assert "size 2048x2048" in message
    assert "style only works" in message
    assert "background only works" in message


def test_every_known_model_has_rules() -> None:
    schema_models = GenerateImageInput.model_json_schema()["properties"]["model"]["enum"]
    assert sorted(schema_models) == sorted(MODEL_RULES)


def test_tool_schema_keeps_every_parameter_with_an_enum_or_a_description() -> None:
    properties = GenerateImageInput.model_json_schema()["properties"]
    assert set(properties) == {
        "prompt", "n", "size", "model", "style", "quality", "background", "moderation",
        "callback_url", "output_format", "partial_images", "response_format",
        "output_compression",
    }  # fmt: skip
    for name, schema in properties.items():
        options = schema.get("anyOf", [schema])
        assert schema.get("description") or any("enum" in option for option in options), name
    assert "gpt-image-1 (default)" in properties["model"]["description"]
    assert "WIDTHxHEIGHT or auto (default)" in properties["size"]["description"]


def test_body_contains_only_fields_that_were_set() -> None:
    assert GenerateImageInput(prompt="fox").to_body() == {"prompt": "fox", "model": "gpt-image-1"}
    body = GenerateImageInput(
        prompt="fox", model="dall-e-3", size="1792x1024", style="natural", quality="auto"
    ).to_body()
    assert body == {
        "prompt": "fox",
        "model": "dall-e-3",
        "size": "1792x1024",
        "style": "natural",
        "quality": "auto",
    }


def test_size_default_is_omitted_so_the_server_chooses() -> None:
    """Documented decision: no size → omitted (server default 'auto'), valid for every model."""
    for model in MODEL_RULES:
        request = GenerateImageInput(prompt="fox", model=model)  # type: ignore[arg-type]
        assert "size" not in request.to_body()


def test_unknown_models_are_allowed_only_with_the_client_context() -> None:
    with pytest.raises(ValidationError):
        GenerateImageInput.model_validate({"prompt": "fox", "model": "gpt-image-3"})
    request = GenerateImageInput.model_validate(
        {"prompt": "fox", "model": "gpt-image-3", "size": "999x333", "style": "vivid"},
        context={ALLOW_UNKNOWN_MODELS: True},
    )
    assert request.to_body()["model"] == "gpt-image-3"
    assert request.rules is None


def test_edit_input_rules() -> None:
    EditImageInput(prompt="add a hat", image="https://x/a.png", quality="standard")
    EditImageInput(prompt="mix", image=[f"https://x/{i}.png" for i in range(16)])
    with pytest.raises(ValidationError, match="1 to 16 images"):
        EditImageInput(prompt="mix", image=[f"https://x/{i}.png" for i in range(17)])
    with pytest.raises(ValidationError, match="1 to 16 images"):
        EditImageInput(prompt="mix", image=[])
    with pytest.raises(ValidationError, match="input_fidelity only works with gpt-image"):
        EditImageInput(prompt="x", image="https://x/a.png", model="dall-e-2", input_fidelity="high")


def test_task_query_body() -> None:
    query = TaskQuery(trace_ids=["a"], type="images_edits", limit=5)
    assert query.to_body() == {
        "action": "retrieve_batch",
        "trace_ids": ["a"],
        "type": "images_edits",
        "limit": 5,
    }


@pytest.mark.parametrize(
    ("record", "status"),
    [
        ({"id": "t"}, "queued"),
        ({"id": "t", "started_at": 1.0}, "running"),
        ({"id": "t", "finished_at": 2.0, "response": {"data": [{"url": "u"}]}}, "succeeded"),
        ({"id": "t", "finished_at": 2.0, "response": {"success": False}}, "failed"),
        ({"id": "t", "finished_at": 2.0, "response": {"error": {"code": "x"}}}, "failed"),
    ],
)
def test_task_record_status(record: dict[str, Any], status: str) -> None:
    assert TaskRecord.model_validate(record).status == status


# ------------------------------------------------------------------ input edges (issue 11.7)


@pytest.mark.parametrize(
    "prompt",
    ["\x00", "\x00\x00\x00", "\x1b\x07\x7f", "\u200b\u200e\u202e", " \t\x00\n\x1c\x1d ", "\ufeff"],
)
@pytest.mark.parametrize("schema", [GenerateImageInput, EditImageInput])
def test_a_prompt_without_a_visible_character_is_rejected(schema: type[Any], prompt: str) -> None:
    extra = {"image": "https://example.com/a.png"} if schema is EditImageInput else {}
    with pytest.raises(ValidationError, match="prompt must contain visible text"):
        schema(prompt=prompt, **extra)


@pytest.mark.parametrize("prompt", ["\x00fox\x00", "狐", "🦊", "\u202efox", "x"])
def test_a_prompt_with_any_visible_character_is_kept_as_given(prompt: str) -> None:
    assert GenerateImageInput(prompt=prompt).prompt == prompt


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
@pytest.mark.parametrize("field", ["created_at_min", "created_at_max"])
def test_task_query_rejects_non_finite_times(field: str, bad: Any) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        TaskQuery(**{field: bad})


def test_task_query_time_window_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match=r"created_at_min \(20\) must not be after"):
        TaskQuery(created_at_min=20, created_at_max=10)
    assert TaskQuery(created_at_min=10, created_at_max=10).to_body()["created_at_min"] == 10


PRIVATE_CALLBACKS = [
    "http://127.0.0.1:8080/cb",
    "http://localhost/cb",
    "http://api.localhost/cb",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://[::1]:9000/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://0.0.0.0:8000/hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
    "http://127.1/hook",
    "http://224.0.0.1/hook",
    "http://printer.local/hook",
]


@pytest.mark.parametrize("url", PRIVATE_CALLBACKS)
def test_private_callback_hosts_are_refused_with_the_public_only_context(url: str) -> None:
    from langchain_acedata_images.models import PUBLIC_CALLBACKS_ONLY

    with pytest.raises(ValidationError, match="callback_url must point to a public host"):
        GenerateImageInput.model_validate(
            {"prompt": "fox", "callback_url": url}, context={PUBLIC_CALLBACKS_ONLY: True}
        )
    # Without the context (the programmatic client), the caller's URL is taken as given.
    assert GenerateImageInput(prompt="fox", callback_url=url).callback_url == url


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/cb", "http://8.8.8.8/cb", "https://[2001:4860::8888]/x"]
)
def test_public_callback_hosts_pass_the_public_only_context(url: str) -> None:
    from langchain_acedata_images.models import PUBLIC_CALLBACKS_ONLY

    request = GenerateImageInput.model_validate(
        {"prompt": "fox", "callback_url": url}, context={PUBLIC_CALLBACKS_ONLY: True}
    )
    assert request.callback_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.test/a b",
        "https://hooks.test/\tx",
        "https://hooks.test/a\nb",
        "https ://x.test",
    ],
)
def test_whitespace_inside_a_callback_url_is_rejected(url: str) -> None:
    with pytest.raises(ValidationError, match="callback_url must be an absolute http"):
        GenerateImageInput(prompt="fox", callback_url=url)


def test_surrounding_whitespace_of_a_callback_url_is_stripped() -> None:
    request = GenerateImageInput(prompt="fox", callback_url="  https://hooks.test/cb \n")
    assert request.callback_url == "https://hooks.test/cb"


@pytest.mark.parametrize("image", [[""], ["https://a.test/x.png", "  "], "   "])
def test_blank_image_entries_are_rejected(image: Any) -> None:
    with pytest.raises(ValidationError, match=r"image entries must be non-empty|at least 1 char"):
        EditImageInput(prompt="fox", image=image)


# -------------------------------------------------- rule messages and edges (issue 11.9)


def problems_of(schema: type[Any], **arguments: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        schema(**arguments)
    return [str(e["msg"]).removeprefix("Value error, ") for e in caught.value.errors()]


@pytest.mark.parametrize("size", ["1000x1024", "1024x1000"])
def test_gpt_image_2_needs_both_sides_multiples_of_16(size: str) -> None:
    (message,) = problems_of(GenerateImageInput, prompt="fox", model="gpt-image-2", size=size)
    assert message == (
        f"size {size} is not valid for gpt-image-2: both sides must be multiples of 16 "
        "(e.g. 1024x1536, 2048x1152, 3840x2160)"
    )


@pytest.mark.parametrize("field", ["n", "output_compression"])
def test_booleans_are_not_integers(field: str) -> None:
    extra = {"output_format": "jpeg"} if field == "output_compression" else {}
    (message,) = problems_of(GenerateImageInput, prompt="fox", **{field: True}, **extra)
    assert message == f"{field} must be an integer, not true"


def test_sizes_offered_for_a_model_without_auto_leave_auto_out() -> None:
    (message,) = problems_of(GenerateImageInput, prompt="fox", model="dall-e-2", size="1792x1024")
    assert message == (
        "size 1792x1024 is not supported by dall-e-2; use one of 256x256, 512x512, 1024x1024"
    )
    (offered,) = problems_of(GenerateImageInput, prompt="fox", model="gpt-image-1", size="2x2")
    assert offered.endswith("use one of 1024x1024, 1536x1024, 1024x1536, auto")


def test_gpt_only_fields_are_named_and_the_gpt_models_listed() -> None:
    (one,) = problems_of(GenerateImageInput, prompt="fox", model="dall-e-2", partial_images=2)
    gpt_models = ", ".join(name for name, rules in MODEL_RULES.items() if rules.is_gpt_image)
    assert "gpt-image-1, gpt-image-1.5, gpt-image-2" in gpt_models
    assert one == (
        f"partial_images only works with gpt-image models ({gpt_models}); "
        "remove it or change the model"
    )
    (many,) = problems_of(
        GenerateImageInput, prompt="fox", model="dall-e-3", background="opaque", moderation="low"
    )
    assert many.startswith("background, moderation only work with gpt-image models (")
    assert many.endswith("); remove them or change the model")


def test_format_dependent_messages() -> None:
    (transparent,) = problems_of(
        GenerateImageInput, prompt="fox", background="transparent", output_format="jpeg"
    )
    assert (
        transparent == "background 'transparent' needs output_format 'png' or 'webp' (got 'jpeg')"
    )
    (compression,) = problems_of(GenerateImageInput, prompt="fox", output_compression=50)
    assert compression == (
        "output_compression only applies to output_format 'jpeg' or 'webp'; "
        "set output_format or remove output_compression"
    )


def test_fields_set_to_none_stay_out_of_the_body() -> None:
    body = GenerateImageInput(prompt="fox", style=None, n=None, callback_url=None).to_body()
    assert body == {"prompt": "fox", "model": "gpt-image-1"}


@pytest.mark.parametrize(
    ("model", "allowed"), [("dall-e-3", "auto, standard"), ("dall-e-2", "auto, standard")]
)
def test_edits_of_dall_e_models_offer_their_qualities_without_hd(model: str, allowed: str) -> None:
    (message,) = problems_of(
        EditImageInput, prompt="fox", image="https://a.test/x.png", model=model, quality="high"
    )
    assert message == f"quality 'high' is not supported by {model}; use one of {allowed}"
    edit = EditImageInput(
        prompt="fox", image="https://a.test/x.png", model=model, quality="standard"
    )
    assert edit.quality == "standard"
