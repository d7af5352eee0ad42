"""Tool definitions: their size (pinned), every parameter kept, and every provider's conversion.

A definition is paid on every LLM turn, measured as ``json.dumps(convert_to_openai_tool(tool))``.
Each provider converter must keep all parameters and keep optional ones optional (or, in
OpenAI's strict mode, where every field is required, nullable or a free choice among values
every call accepts); a call made of the converted schema's nulls must validate and mean
"the default".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import respx
from langchain_anthropic.chat_models import convert_to_anthropic_tool
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_google_genai._function_utils import convert_to_genai_function_declarations
from langchain_openai import ChatOpenAI
from pydantic import Field

from langchain_acedata_images import (
    AGENT_PROFILE,
    AceDataImagesToolkit,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
)
from langchain_acedata_images._llm_schema import LLMArgs
from tests.conftest import BASE_URL, TOKEN, no_earlier_jobs

#: Bytes of ``json.dumps(convert_to_openai_tool(tool))``: the limits of issue 12.
LIMITS = {
    "openai_generate_image": 2000,
    "openai_edit_image": 2000,
    "openai_get_task": 600,
    "openai_list_tasks": 1000,
}
TOOLKIT_LIMIT = 5000
STRICT_TOOLKIT_LIMIT = 5800
PROFILE_TOOLKIT_LIMIT = 4000
#: Values the LLM must give; everything else is optional.
REQUIRED = {"prompt": "a red fox in snow", "image": ["https://cdn.test/fox.png"]}
#: openai_get_task takes exactly one of its two optional ids.
ONE_OF = {"openai_get_task": {"task_id": "t-1"}}
#: Optional fields a strict-mode LLM must give a value of: enums only (it picks one).
CHOICE_FIELDS = {"model", "quality", "output_format", "response_format", "type"}


def definition_bytes(tool: BaseTool, *, strict: bool | None = None) -> int:
    return len(json.dumps(convert_to_openai_tool(tool, strict=strict)))


def _tools(**options: Any) -> list[BaseTool]:
    return AceDataImagesToolkit(api_token=TOKEN, base_url=BASE_URL, **options).get_tools()


@pytest.fixture(params=["default", "agent_profile"])
def tools(request: pytest.FixtureRequest) -> list[BaseTool]:
    return _tools(**AGENT_PROFILE) if request.param == "agent_profile" else _tools()


def _args_model(tool: BaseTool) -> type[LLMArgs]:
    schema = tool.args_schema
    assert isinstance(schema, type)
    assert issubclass(schema, LLMArgs)
    return schema


def _llm_fields(tool: BaseTool) -> set[str]:
    model = _args_model(tool)
    return set(model.model_fields) - model.hidden_fields - model.developer_only_fields


def _required(tool: BaseTool) -> set[str]:
    return {name for name, field in _args_model(tool).model_fields.items() if field.is_required()}


def _nullable(tool: BaseTool) -> set[str]:
    return _llm_fields(tool) - _required(tool) - _args_model(tool).choice_fields


def _enum_or_description(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", [])]
    return bool(schema.get("description")) or any("enum" in option for option in options)


# ---------------------------------------------------------------------------------- sizes


def test_each_definition_stays_within_its_limit() -> None:
    sizes = {tool.name: definition_bytes(tool) for tool in _tools()}
    assert set(sizes) == set(LIMITS)
    for name, size in sizes.items():
        assert size <= LIMITS[name], f"{name}: {size} bytes > {LIMITS[name]}"
    assert sum(sizes.values()) <= TOOLKIT_LIMIT, sizes


def test_strict_and_profile_toolkits_stay_within_their_limits() -> None:
    strict = sum(definition_bytes(tool, strict=True) for tool in _tools())
    assert strict <= STRICT_TOOLKIT_LIMIT
    profile = sum(definition_bytes(tool) for tool in _tools(**AGENT_PROFILE))
    assert profile <= PROFILE_TOOLKIT_LIMIT
    assert profile < sum(definition_bytes(tool) for tool in _tools())


def test_generate_keeps_all_13_parameters_each_with_an_enum_or_a_description() -> None:
    generate = _tools()[0]
    properties = convert_to_openai_tool(generate)["function"]["parameters"]["properties"]
    assert len(properties) == 13
    assert not _args_model(generate).developer_only_fields
    for name, schema in properties.items():
        assert _enum_or_description(schema), name
    for tool in _tools():
        schema = convert_to_openai_tool(tool)["function"]["parameters"]
        assert set(schema["properties"]) == _llm_fields(tool), tool.name
        for name, field in schema["properties"].items():
            assert _enum_or_description(field), (tool.name, name)


def test_definitions_carry_no_titles_defaults_or_limits() -> None:
    text = json.dumps([convert_to_openai_tool(tool) for tool in _tools()])
    for keyword in ('"title"', '"default"', '"maxLength"', '"minimum"', '"maximum"', '"$defs"'):
        assert keyword not in text


def test_the_full_pydantic_schema_is_still_available() -> None:
    from pydantic.json_schema import GenerateJsonSchema

    from langchain_acedata_images import GenerateImageInput

    full = GenerateImageInput.model_json_schema(schema_generator=GenerateJsonSchema)
    assert full["properties"]["n"]["anyOf"][0]["maximum"] == 10
    assert full["properties"]["model"]["default"] == "gpt-image-1"


def test_the_schema_is_the_same_on_a_pydantic_without_union_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pydantic < 2.12 has no ``union_format`` (the floor is 2.9): anyOf is all it writes."""
    from langchain_acedata_images import GenerateImageInput, _llm_schema

    expected = GenerateImageInput.model_json_schema()
    monkeypatch.setattr(_llm_schema, "_HAS_UNION_FORMAT", False)
    assert GenerateImageInput.model_json_schema() == expected
    assert GenerateImageInput.model_json_schema(union_format="any_of") == expected
    with pytest.raises(
        TypeError, match=r"union_format='primitive_type_array' needs pydantic>=2\.12"
    ):
        GenerateImageInput.model_json_schema(union_format="primitive_type_array")


# ------------------------------------------------------------------- provider conversions


def _null_call(tool: BaseTool, properties: dict[str, Any]) -> dict[str, Any]:
    """A strict call: nullable arguments null (one id for openai_get_task), choice fields
    their first value, required ones given."""
    call: dict[str, Any] = {}
    for name, schema in properties.items():
        if name in _required(tool):
            call[name] = REQUIRED[name]
        elif name in _nullable(tool):
            call[name] = None
        else:
            call[name] = (schema.get("enum") if isinstance(schema, dict) else schema.enum)[0]
    return call | ONE_OF.get(tool.name, {})


def test_openai_strict_makes_every_field_required_and_optional_ones_nullable(
    tools: list[BaseTool],
) -> None:
    for tool in tools:
        function = convert_to_openai_tool(tool, strict=True)["function"]
        parameters = function["parameters"]
        jsonschema.Draft202012Validator.check_schema(parameters)
        assert function["strict"] is True
        assert parameters["additionalProperties"] is False
        assert set(parameters["required"]) == set(parameters["properties"]) == _llm_fields(tool)
        for name in _nullable(tool):  # strict-mode nulls where no value fits every call
            assert {"type": "null"} in parameters["properties"][name]["anyOf"], name
        nulls = _null_call(tool, parameters["properties"])
        jsonschema.validate(nulls, parameters)
        _args_model(tool).model_validate(nulls)


def test_strict_forces_no_number_on_the_llm_only_a_pick_among_enum_values(
    tools: list[BaseTool],
) -> None:
    # n is a cost choice: null (= 1, or the tool's default) must be open to a strict LLM.
    for tool in tools:
        properties = convert_to_openai_tool(tool, strict=True)["function"]["parameters"][
            "properties"
        ]
        plain = {
            name
            for name, schema in properties.items()
            if name not in _required(tool) and {"type": "null"} not in schema.get("anyOf", [])
        }
        assert plain <= CHOICE_FIELDS, (tool.name, plain)
        assert all("enum" in properties[name] for name in plain), tool.name
        for name in {"n", "offset", "limit"} & properties.keys():
            assert {"type": "null"} in properties[name]["anyOf"], (tool.name, name)


def test_chat_openai_bind_tools_strict_sends_the_same_definitions(tools: list[BaseTool]) -> None:
    model = ChatOpenAI(model="gpt-4.1", api_key="sk-test")  # type: ignore[arg-type]
    bound: Any = model.bind_tools(tools, strict=True)
    sent = bound.kwargs["tools"]
    assert sent == [convert_to_openai_tool(tool, strict=True) for tool in tools]


def test_openai_non_strict_keeps_optional_fields_optional(tools: list[BaseTool]) -> None:
    for tool in tools:
        parameters = convert_to_openai_tool(tool)["function"]["parameters"]
        jsonschema.Draft202012Validator.check_schema(parameters)
        assert set(parameters.get("required", [])) == _required(tool)
        jsonschema.validate({k: v for k, v in REQUIRED.items() if k in _required(tool)}, parameters)


def test_anthropic_conversion_keeps_every_parameter(tools: list[BaseTool]) -> None:
    for tool in tools:
        converted = convert_to_anthropic_tool(tool)
        schema = converted["input_schema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        assert converted["name"] == tool.name
        assert converted["description"] == tool.description
        assert set(schema["properties"]) == _llm_fields(tool)
        assert set(schema.get("required", [])) == _required(tool)
        nulls = _null_call(tool, schema["properties"])
        jsonschema.validate(nulls, schema)
        _args_model(tool).model_validate(nulls)


def _openai_dicts(tools: list[BaseTool]) -> list[Any]:
    """What ``ChatGoogleGenerativeAI.bind_tools`` keeps and converts for each request."""
    bound: Any = ChatGoogleGenerativeAI(model="gemini-2.5-flash", google_api_key="test").bind_tools(
        tools
    )
    assert bound.kwargs["tools"] == [convert_to_openai_tool(tool) for tool in tools]
    return list(bound.kwargs["tools"])


@pytest.mark.parametrize("form", ["tools", "bind_tools"])
def test_google_genai_conversion_keeps_every_parameter(tools: list[BaseTool], form: str) -> None:
    given: list[Any] = list(tools) if form == "tools" else _openai_dicts(tools)
    converted: Any = convert_to_genai_function_declarations(given)
    # langchain-google-genai 4 returns a list of tools, 3 (at langchain-core's floor) one tool.
    declarations = (
        converted[0] if isinstance(converted, list) else converted
    ).function_declarations
    assert declarations is not None
    assert [declaration.name for declaration in declarations] == [tool.name for tool in tools]
    for tool, declaration in zip(tools, declarations, strict=True):
        parameters = declaration.parameters
        assert parameters is not None
        assert parameters.properties is not None
        assert declaration.description == tool.description
        assert set(parameters.properties) == _llm_fields(tool)
        assert set(parameters.required or []) == _required(tool)
        for name, schema in parameters.properties.items():
            assert schema.type is not None or schema.any_of, (tool.name, name)
            if name in _nullable(tool):
                assert schema.nullable, (tool.name, name)
        nulls = _null_call(tool, parameters.properties)
        _args_model(tool).model_validate(nulls)


# ---------------------------------------------------------------- null means the default


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        no_earlier_jobs(router)
        router.post("/openai/images/generations").respond(200, json={"data": [{"url": "u"}]})
        router.post("/openai/images/edits").respond(200, json={"data": [{"url": "u"}]})
        yield router


def _sent_body(api: respx.MockRouter, tool: BaseTool, args: dict[str, Any]) -> dict[str, Any]:
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert message.status == "success", message.content
    body = json.loads(api.calls.last.request.content)
    body.pop("trace_id", None)
    return dict(body)


@pytest.mark.parametrize("tool_cls", [OpenAIGenerateImageTool, OpenAIEditImageTool])
def test_a_call_of_nulls_sends_what_a_call_without_them_sends(
    api: respx.MockRouter, tool_cls: type[BaseTool]
) -> None:
    tool = tool_cls(api_token=TOKEN, base_url=BASE_URL)  # type: ignore[call-arg]
    properties = convert_to_openai_tool(tool, strict=True)["function"]["parameters"]["properties"]
    nulls = {name: None for name in properties if name in _nullable(tool)}
    required = {name: REQUIRED[name] for name in _required(tool)}
    nulls |= required
    assert _sent_body(api, tool, nulls) == _sent_body(api, tool, required)


def test_null_paging_of_a_task_listing_sends_the_defaults(api: respx.MockRouter) -> None:
    route = api.post("/openai/tasks").respond(200, json={"items": [], "count": 0})
    tool = _tools()[3]
    assert tool.name == "openai_list_tasks"
    for args in ({"offset": None, "limit": None, "type": "images"}, {"type": "images"}):
        message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
        assert message.status == "success", message.content
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert first == second


def test_tool_call_schema_is_the_args_model_in_its_compact_form() -> None:
    generate = _tools()[0]
    assert generate.tool_call_schema is _args_model(generate)
    properties = _args_model(generate).model_json_schema()["properties"]
    assert properties["model"]["type"] == "string"  # a choice: strict mode picks a model
    assert properties["style"]["anyOf"][-1] == {"type": "null"}  # null: no style fits all
    assert _args_model(generate).model_validate({"prompt": "x", "model": None}).model == (
        "gpt-image-1"
    )


def test_developer_only_fields_leave_the_schema_but_still_validate() -> None:
    class Query(LLMArgs):
        developer_only_fields = frozenset({"owner"})
        name: str | None = Field(default=None, description="Name.")
        owner: str | None = None

    assert set(Query.model_json_schema()["properties"]) == {"name"}
    assert Query.model_validate({"owner": "me"}).owner == "me"
