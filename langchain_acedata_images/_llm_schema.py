"""The JSON schema an LLM reads on every turn: compact, and valid for every provider.

Pydantic's schema of an argument model is written for validators: titles, ``default``,
length limits and an ``anyOf [..., {"type": "null"}]`` around every optional field. A tool
definition pays for each of those bytes on every turn, and providers accept different
subsets of JSON Schema. :class:`CompactJsonSchema` keeps what every converter understands
(OpenAI incl. ``strict=True``, Anthropic, Google GenAI) and an LLM needs:

- ``type``, ``enum``, ``items``, ``anyOf`` and ``description``; limits are stated in the
  descriptions and enforced by validation, whose errors name the allowed values;
- no ``default`` (strict OpenAI and Azure reject it; descriptions say what the default is);
- every optional field is nullable, because strict mode makes every field required: a
  ``null`` then means "use the default". :class:`LLMArgs` validates it that way.

Nullable comes in two forms, because no single one is accepted everywhere:

- ``args_schema.model_json_schema()`` writes ``anyOf [X, {"type": "null"}]``. It is what
  langchain-google-genai reads (``convert_to_genai_function_declarations`` takes a tool's
  ``args_schema``), and its converter raises on a list of types.
- ``tool_call_schema`` (:func:`llm_form`) writes ``"type": [X, "null"]`` (and ``null`` in an
  ``enum``), 15-21 bytes less per field. It is what ``convert_to_openai_tool`` reads, so
  OpenAI (also ``strict=True``), Anthropic and the other providers converting through it.

``tests/unit/test_llm_schema.py`` converts every tool with all three converters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.json_schema import (
    DEFAULT_REF_TEMPLATE,
    GenerateJsonSchema,
    JsonSchemaMode,
    JsonSchemaValue,
)
from pydantic_core import CoreSchema

#: Keywords every provider's converter accepts (with ``description`` on properties only).
_KEPT = ("anyOf", "enum", "items", "type")
_NULL: dict[str, Any] = {"type": "null"}


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` reduced to the kept keywords, recursively."""
    kept: dict[str, Any] = {}
    for key in _KEPT:
        if key not in schema:
            continue
        value = schema[key]
        if key == "anyOf":
            value = [_bare(option) for option in value]
        elif key == "items":
            value = _bare(value)
        kept[key] = value
    return kept


def compact_property(schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """One property as the LLM sees it: kept keywords, description, nullable unless required."""
    compact = _bare(schema)
    options = compact.get("anyOf", [])
    if not required and _NULL not in options:
        compact = {"anyOf": [*options, _NULL]} if options else {"anyOf": [compact, _NULL]}
    if schema.get("description"):
        compact["description"] = schema["description"]
    return compact


def type_list_nulls(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf [X, null]`` properties rewritten as ``"type": [X, "null"]`` where X has a type."""
    properties = {}
    for name, value in schema["properties"].items():
        options = value.get("anyOf", [])
        if len(options) == 2 and options[1] == _NULL and isinstance(options[0].get("type"), str):
            option = options[0]
            value = {**option, "type": [option["type"], "null"]} | {
                key: item for key, item in value.items() if key != "anyOf"
            }
            if "enum" in option:
                value["enum"] = [*option["enum"], None]
        properties[name] = value
    return {**schema, "properties": properties}


def compact_object(schema: dict[str, Any]) -> dict[str, Any]:
    """An object schema with compact properties (no title, description or ``$defs``)."""
    required = list(schema.get("required", []))
    properties = {
        name: compact_property(value, required=name in required)
        for name, value in schema.get("properties", {}).items()
    }
    compact: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        compact["required"] = required
    if "title" in schema:
        compact["title"] = schema["title"]
    return compact


class CompactJsonSchema(GenerateJsonSchema):
    """Pydantic's schema generator, reduced to what an LLM and every provider need."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        return compact_object(super().generate(schema, mode))


LLMArgsT = TypeVar("LLMArgsT", bound="LLMArgs")


class LLMArgs(BaseModel):
    """Base of the tools' argument models: compact schema, ``null`` means "the default".

    ``model_json_schema()`` is the compact form by default (pass ``schema_generator`` for
    pydantic's full one). ``None`` for an optional field is dropped before validation, so it
    behaves exactly like leaving the field out (defaults apply; nothing extra is sent).

    Subclasses made by :func:`~._narrowing.narrowed_args` hide fields from the schema
    (:attr:`hidden_fields`) and add :attr:`pinned_values` to every call; an LLM that sends a
    hidden field is told to leave it out.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Fields left out of the LLM's schema and refused from it (set on narrowed subclasses).
    hidden_fields: ClassVar[frozenset[str]] = frozenset()
    #: Fields for programs only: left out of the LLM's schema, still accepted when given.
    developer_only_fields: ClassVar[frozenset[str]] = frozenset()
    #: Values the application fixed: added to every call (hidden from the schema).
    pinned_values: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: How optional fields say "nullable"; ``"type_list"`` on :func:`llm_form` classes.
    null_form: ClassVar[Literal["any_of", "type_list"]] = "any_of"

    @model_validator(mode="before")
    @classmethod
    def _from_llm(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = cls._without_nulls(data)
        for name in sorted(cls.hidden_fields & given.keys()):
            raise ValueError(cls._hidden_reason(name))
        # A value pinned to None hides the argument and keeps its default.
        return cls._fill_defaults(cls._without_nulls({**given, **cls.pinned_values}))

    @classmethod
    def _without_nulls(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value
            for key, value in data.items()
            if not (value is None and key in cls.model_fields and not cls._required(key))
        }

    @classmethod
    def _hidden_reason(cls, name: str) -> str:
        """Why the LLM may not send ``name`` (it is not in its schema)."""
        if name in cls.pinned_values:
            return f"{name} is set by the application; leave it out"
        return f"{name} is not available with this tool; leave it out"

    @classmethod
    def _fill_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Hook for defaults that depend on the tool's configuration."""
        return data

    @classmethod
    def _required(cls, name: str) -> bool:
        return cls.model_fields[name].is_required()

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = CompactJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        """The compact LLM-facing schema (pydantic's full one with another generator)."""
        schema = super().model_json_schema(
            by_alias, ref_template, schema_generator, mode, union_format=union_format
        )
        if schema_generator is CompactJsonSchema:
            schema = cls._narrow_schema(schema)
            if cls.null_form == "type_list":
                schema = type_list_nulls(schema)
        return schema

    @classmethod
    def _narrow_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        """Drop hidden and developer-only fields; subclasses may also shrink enums."""
        properties = schema["properties"]
        for name in cls.hidden_fields | cls.developer_only_fields:
            properties.pop(name, None)
        if "required" in schema:
            schema["required"] = [name for name in schema["required"] if name in properties]
        return schema


@functools.cache
def llm_form(model: type[LLMArgsT]) -> type[LLMArgsT]:
    """``model`` with the type-list nullable form: what a tool's ``tool_call_schema`` is.

    Same fields and validation; cached, so a tool's definition is built once per model.
    """
    namespace = {"null_form": "type_list", "__module__": model.__module__, "__doc__": model.__doc__}
    return type(model.__name__, (model,), namespace)


__all__ = [
    "CompactJsonSchema",
    "LLMArgs",
    "compact_object",
    "compact_property",
    "llm_form",
    "type_list_nulls",
]
