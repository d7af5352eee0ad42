"""The JSON schema an LLM reads on every turn: compact, and valid for every provider.

Pydantic's schema of an argument model is written for validators: titles, ``default``,
length limits and an ``anyOf [..., {"type": "null"}]`` around every optional field. A tool
definition pays for each of those bytes on every turn, and providers accept different
subsets of JSON Schema. :class:`CompactJsonSchema` keeps what every converter understands
(OpenAI incl. ``strict=True``, Anthropic, Google GenAI) and an LLM needs:

- ``type``, ``enum``, ``items``, ``anyOf`` and ``description``; limits are stated in the
  descriptions and enforced by validation, whose errors name the allowed values;
- no ``default`` (strict OpenAI and Azure reject it; descriptions say what the default is);
- ``null`` only where a strict-mode LLM needs it. Strict mode makes every field required, so
  an optional field where no value fits every call (``style`` with a model other than
  dall-e-3, a webhook URL, a time filter) is ``anyOf [X, {"type": "null"}]`` and ``null``
  means "the default". So is every optional non-enum field (``n``, ``offset``, ``limit``):
  a number forced on a strict-mode LLM would be a cost choice. Optional enums that every
  call accepts some value of (:attr:`LLMArgs.choice_fields`: model, quality, output format,
  ...) are plain: strict mode picks a value. Validation accepts ``null`` for every optional
  field either way.

``anyOf`` is the only nullable form all three converters accept: OpenAI takes
``"type": [X, "null"]`` too, but Gemini's converter (also behind its ``bind_tools``, which
goes through ``convert_to_openai_tool``) rejects a list of types and ``null`` in an enum.
``tests/unit/test_llm_schema.py`` converts every tool with all of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import VERSION as PYDANTIC_VERSION
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
#: pydantic 2.12 added ``union_format``; older ones always write ``anyOf`` (its default).
_HAS_UNION_FORMAT = "union_format" in inspect.signature(BaseModel.model_json_schema).parameters


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
    #: Optional enums every call accepts some value of: not nullable in the schema, so a
    #: strict-mode LLM picks a value (see the module docstring); ``null`` still validates.
    choice_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _from_llm(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = cls._without_nulls(data)
        hidden = sorted(cls.hidden_fields & given.keys())
        if hidden:  # one line per field, like the rule errors
            raise ValueError("\n".join(cls._hidden_reason(name) for name in hidden))
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
        """The compact LLM-facing schema (pydantic's full one with another generator).

        ``union_format="primitive_type_array"`` needs pydantic 2.12 or later.
        """
        if _HAS_UNION_FORMAT:
            schema = super().model_json_schema(
                by_alias, ref_template, schema_generator, mode, union_format=union_format
            )
        elif union_format == "any_of":
            schema = super().model_json_schema(by_alias, ref_template, schema_generator, mode)
        else:
            raise TypeError(
                f"union_format={union_format!r} needs pydantic>=2.12; this is pydantic "
                f"{PYDANTIC_VERSION}, which writes unions as anyOf only (union_format='any_of')"
            )
        if schema_generator is CompactJsonSchema:
            schema = cls._narrow_schema(cls._unwrap_choices(schema))
        return schema

    @classmethod
    def _unwrap_choices(cls, schema: dict[str, Any]) -> dict[str, Any]:
        """:attr:`choice_fields` without their ``null`` option."""
        for name in cls.choice_fields & schema["properties"].keys():
            value = schema["properties"][name]
            options = value.get("anyOf", [])
            if len(options) == 2 and options[1] == _NULL:
                rest = {key: item for key, item in value.items() if key != "anyOf"}
                schema["properties"][name] = {**options[0], **rest}
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


__all__ = ["CompactJsonSchema", "LLMArgs", "compact_object", "compact_property"]
