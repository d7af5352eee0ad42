"""Which documented variant of the API the emulator plays (API.md, "Documented variants").

AceDataCloud's published OpenAPI documents and its documentation pages of different dates
disagree. Each field of :class:`Dialect` is one row of that table; the default plays the *union*:
it accepts every input some document allows (11 models, JSON and multipart edits, ``/v1``
aliases, ``application_id``/``user_id`` filters) and answers as the seed notes describe. Two
presets play each variant whole:

>>> Dialect.preset("b").trace_id
'ignored'

Every field can be set by constructor, by environment variable ``ACEDATA_EMULATOR_<FIELD>``
(e.g. ``ACEDATA_EMULATOR_N_POLICY=one``) and by CLI flag ``--<field-with-dashes>``; the preset by
``ACEDATA_EMULATOR_DIALECT`` / ``--dialect`` (``union``, ``a``/``variant_a``, ``b``/``variant_b``),
individual settings winning over the preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, get_args

Models = Literal["seed", "documented"]
UnknownModels = Literal["reject", "accept"]
NPolicy = Literal["honoured", "one"]
GptImageResponseFormat = Literal["honoured", "b64_json"]
B64JsonMulti = Literal["allowed", "rejected"]
PromptLimits = Literal["uniform", "per_model"]
EditModels = Literal["seed", "documented"]
Errors = Literal["seed", "documented"]
ErrorTraceId = Literal["always", "seed"]
TaskRecords = Literal["seed", "documented"]
Callbacks = Literal["flat", "nested"]
BatchFilters = Literal["seed", "documented"]
Stream = Literal["sse", "ignored"]
TraceId = Literal["honoured", "ignored"]
ListingOrder = Literal["newest_first", "oldest_first"]

PRESET_ALIASES = {"union": "union", "a": "a", "variant_a": "a", "b": "b", "variant_b": "b"}
"""Accepted preset names and the preset each stands for."""


@dataclass(frozen=True)
class Dialect:
    """One setting per row of the documented-variants table; defaults play the union."""

    models: Models = "documented"
    """``seed``: the 8 models of the seed; ``documented``: the 11 of the OpenAPI enum."""
    unknown_models: UnknownModels = "reject"
    """``reject``: 400 naming the models; ``accept``: run them with gpt-image-1's rules."""
    model_required: bool = False
    """Generations without ``model`` get 400 (B) instead of gpt-image-1 (A)."""
    edit_default_model: str = "gpt-image-1"
    """The model of an edit sent without one (the edits document says ``dall-e-3``)."""
    n_policy: NPolicy = "honoured"
    """``one``: ``n`` > 1 is silently reduced to 1 on gpt-image and nano-banana models."""
    gpt_image_response_format: GptImageResponseFormat = "honoured"
    """``b64_json``: gpt-image models always answer base64, whatever was asked."""
    b64_json_multi: B64JsonMulti = "allowed"
    """``rejected``: ``response_format=b64_json`` with ``n`` > 1 gets 400."""
    prompt_limits: PromptLimits = "uniform"
    """``uniform``: 32,000 characters; ``per_model``: dall-e-2 1,000, dall-e-3 4,000."""
    multipart_edits: bool = True
    """Edits also accept ``multipart/form-data`` uploads (``image``/``image[]``, ``mask``)."""
    edit_models: EditModels = "documented"
    """``seed``: edits take gpt-image and nano-banana models only; ``documented``: also dall-e."""
    v1_aliases: bool = True
    """``/v1/images/generations`` and ``/v1/images/edits`` answer like ``/openai/images/...``."""
    errors: Errors = "seed"
    """``documented``: ``forbidden``/``api_error``/``timeout`` codes, ``api_not_implemented``
    for unknown API paths and always a server-made ``trace_id``."""
    error_trace_id: ErrorTraceId = "always"
    """Under ``errors=seed``: ``always``: every error body carries a ``trace_id``, as the
    published ``ErrorBody`` requires (the client's when it sent one and ``trace_id`` is
    ``honoured``, else server-made); ``seed``: the client's when it sent one, else none."""
    task_records: TaskRecords = "seed"
    """``documented``: records also carry ``_id``, ``application_id``, ``user_id``,
    ``credential_id``, ``duration``, and gpt-image-2 jobs have ``type: images``."""
    callbacks: Callbacks = "flat"
    """``nested``: ``{"success", "task_id", "trace_id", "data": <sync answer>}``."""
    batch_filters: BatchFilters = "documented"
    """``documented``: ``retrieve_batch`` also filters ``application_id`` and ``user_id``."""
    stream: Stream = "sse"
    """``ignored``: ``stream: true`` is ignored and the answer is plain JSON."""
    trace_id: TraceId = "honoured"
    """``ignored``: the client's ``trace_id`` is stored in ``request`` only; the task gets a
    server-made one, so ``retrieve`` by the client's id finds nothing."""
    listing_order: ListingOrder = "newest_first"
    """The order of ``retrieve_batch`` items (the documents do not say; newest first as seen)."""
    max_page_size: int = 0
    """Largest ``limit`` a ``retrieve_batch`` page honours; a larger one is silently reduced
    to it (0: no cap)."""

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        for name in BOOLEAN_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        if not isinstance(self.edit_default_model, str) or not self.edit_default_model:
            raise ValueError("edit_default_model must be a model name")
        for name in INTEGER_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0")

    @classmethod
    def preset(cls, name: str, **changes: Any) -> Dialect:
        """``union`` (default), ``a``/``variant_a`` or ``b``/``variant_b``, then ``changes``."""
        key = PRESET_ALIASES.get(name.strip().lower())
        if key is None:
            raise ValueError(f"dialect must be one of {', '.join(PRESET_ALIASES)}, not {name!r}")
        return replace(_PRESETS[key], **changes)

    def patched(self, changes: Mapping[str, Any]) -> Dialect:
        """A copy with JSON-shaped ``changes`` applied (``preset`` first, if given)."""
        changes = dict(changes)
        base = Dialect.preset(str(changes.pop("preset"))) if "preset" in changes else self
        unknown = sorted(set(changes) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"unknown dialect settings: {', '.join(unknown)}")
        return replace(base, **{name: parse(name, value) for name, value in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready object (the shape ``patched`` accepts)."""
        return asdict(self)


FIELD_NAMES: tuple[str, ...] = tuple(item.name for item in fields(Dialect))
BOOLEAN_FIELDS = frozenset({"model_required", "multipart_edits", "v1_aliases"})
INTEGER_FIELDS = frozenset({"max_page_size"})
_CHOICES: dict[str, tuple[str, ...]] = {
    "models": get_args(Models),
    "unknown_models": get_args(UnknownModels),
    "n_policy": get_args(NPolicy),
    "gpt_image_response_format": get_args(GptImageResponseFormat),
    "b64_json_multi": get_args(B64JsonMulti),
    "prompt_limits": get_args(PromptLimits),
    "edit_models": get_args(EditModels),
    "errors": get_args(Errors),
    "error_trace_id": get_args(ErrorTraceId),
    "task_records": get_args(TaskRecords),
    "callbacks": get_args(Callbacks),
    "batch_filters": get_args(BatchFilters),
    "stream": get_args(Stream),
    "trace_id": get_args(TraceId),
    "listing_order": get_args(ListingOrder),
}
CHOICES: Mapping[str, tuple[str, ...]] = _CHOICES
"""Field name -> allowed values, for the fields that are a choice."""

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def parse(name: str, value: Any) -> Any:
    """One setting from JSON or text (env, CLI): booleans accept true/false words."""
    if name in BOOLEAN_FIELDS:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE_WORDS | _FALSE_WORDS:
            return word in _TRUE_WORDS
        raise ValueError(f"{name} must be true or false, not {value!r}")
    if name in INTEGER_FIELDS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {value!r}")
    return value.strip()


_PRESETS = {
    "union": Dialect(),
    "a": Dialect(
        models="seed",
        multipart_edits=False,
        edit_models="seed",
        v1_aliases=False,
        batch_filters="seed",
        error_trace_id="seed",
    ),
    "b": Dialect(
        model_required=True,
        edit_default_model="dall-e-3",
        n_policy="one",
        gpt_image_response_format="b64_json",
        b64_json_multi="rejected",
        prompt_limits="per_model",
        errors="documented",
        task_records="documented",
        callbacks="nested",
        stream="ignored",
        trace_id="ignored",
    ),
}


__all__ = ["CHOICES", "FIELD_NAMES", "INTEGER_FIELDS", "PRESET_ALIASES", "Dialect", "parse"]
