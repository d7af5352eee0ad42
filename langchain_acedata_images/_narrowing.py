"""Argument models for tools whose application fixed some arguments or restricted the models.

:func:`narrowed_args` derives a subclass of a request model that

- hides the pinned arguments from the LLM's schema and adds their values to every call;
- offers only the chosen models (the ``model`` enum shrinks, the default becomes the first
  offered model unless the package default is offered, and errors name only those models);
- hides the arguments no offered model accepts (``style`` without dall-e-3, ``background``
  and the other gpt-image arguments without a gpt-image model) and shrinks ``quality``.

Validation is the request model's own, so pinned values meet the same per-model rules; they
are checked once when the tool is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar, cast

from pydantic import ValidationError

from .model_rules import MODEL_RULES, MODEL_SPECIFIC_FIELDS
from .models import DEFAULT_MODEL, KNOWN_MODELS, _ImageRequestBase

RequestT = TypeVar("RequestT", bound=_ImageRequestBase)

#: Stand-ins for the arguments only the LLM gives, to check pinned values at construction.
_PROBE = {"prompt": "probe", "image": "https://example.com/probe.png"}
_CACHE: dict[tuple[type, str, tuple[str, ...] | None], type[_ImageRequestBase]] = {}


def _check_pins(base: type[_ImageRequestBase], pinned: Mapping[str, Any]) -> None:
    fields = base.model_fields
    pinnable = [name for name, field in fields.items() if not field.is_required()]
    for name in pinned:
        if name not in fields:
            raise ValueError(
                f"pinned_args: {base.__name__} has no argument {name!r}; "
                f"pinnable: {', '.join(pinnable)}"
            )
        if fields[name].is_required():
            raise ValueError(f"pinned_args: {name!r} is the LLM's to give and cannot be pinned")


def _offered(pinned: Mapping[str, Any], models: Sequence[str] | None) -> tuple[str, ...] | None:
    if models is not None:
        unknown = [name for name in models if name not in KNOWN_MODELS]
        if unknown or not models:
            raise ValueError(
                f"models must name at least one of {', '.join(KNOWN_MODELS)}; "
                f"got {', '.join(unknown) or 'none'}"
            )
    if "model" in pinned:
        if models is not None and pinned["model"] not in models:
            raise ValueError(f"pinned model {pinned['model']!r} is not among models {models}")
        return (pinned["model"],)
    return tuple(dict.fromkeys(models)) if models is not None else None


def _unsupported(base: type[_ImageRequestBase], offered: tuple[str, ...]) -> set[str]:
    """Model-specific arguments that none of the offered models accepts."""
    return {
        name
        for name, works in MODEL_SPECIFIC_FIELDS.items()
        if name in base.model_fields
        and not any(works(model, MODEL_RULES[model]) for model in offered)
    }


def narrowed_args(
    base: type[RequestT], pinned: Mapping[str, Any], models: Sequence[str] | None = None
) -> type[RequestT]:
    """``base`` with ``pinned`` arguments fixed and only ``models`` offered (cached)."""
    _check_pins(base, pinned)
    offered = _offered(pinned, models)
    key = (base, json.dumps(dict(pinned), sort_keys=True, default=str), offered)
    if key not in _CACHE:
        hidden = set(pinned) | (_unsupported(base, offered) if offered else set())
        default = DEFAULT_MODEL if not offered or DEFAULT_MODEL in offered else offered[0]
        namespace = {
            "__module__": base.__module__,
            "__doc__": base.__doc__,
            "hidden_fields": frozenset(hidden),
            "pinned_values": MappingProxyType(dict(pinned)),
            "offered_models": offered,
            "default_model": default,
        }
        narrowed = cast("type[RequestT]", type(base.__name__, (base,), namespace))
        try:
            narrowed.model_validate({k: v for k, v in _PROBE.items() if k in base.model_fields})
        except ValidationError as error:
            problems = "; ".join(
                str(item.get("ctx", {}).get("error", item["msg"])) for item in error.errors()
            )
            raise ValueError(f"pinned_args/models do not validate: {problems}") from None
        _CACHE[key] = narrowed
    return cast("type[RequestT]", _CACHE[key])


__all__ = ["narrowed_args"]
