"""Request models: every API parameter is declared once, here.

The tool's args schema, the request body and the CLI options are all derived from
:class:`GenerateImageInput` / :class:`EditImageInput`; they apply the per-model rules of
:mod:`.model_rules` so that bad input is rejected before any HTTP request. The result models
live in :mod:`.results` and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ._hosts import host_refusal
from ._llm_schema import LLMArgs
from .model_rules import (
    EDIT_EXTRA_QUALITIES,
    MAX_PROMPT_CHARS,
    MODEL_RULES,
    MODEL_SPECIFIC_FIELDS,
    ModelRules,
    gpt_image_only,
    join_values,
    model_description,
    models_where,
    parse_size,
)

# The result models live in .results; re-exported from here, where they were first declared.
from .results import TASK_ID_SEPARATOR as TASK_ID_SEPARATOR
from .results import GeneratedImage as GeneratedImage
from .results import ImageGenerationResult as ImageGenerationResult
from .results import ImageTask as ImageTask
from .results import TaskList as TaskList
from .results import TaskRecord as TaskRecord
from .results import TaskStatus as TaskStatus

ImageModel = Literal[
    "gpt-image-1",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2:reverse",
    "gpt-image-2:official",
    "dall-e-3",
    "dall-e-2",
    "nano-banana",
    "nano-banana-2-lite",
    "nano-banana-2",
    "nano-banana-pro",
]
KNOWN_MODELS: tuple[str, ...] = get_args(ImageModel)
DEFAULT_MODEL: ImageModel = "gpt-image-1"

Quality = Literal["auto", "high", "medium", "low", "hd", "standard"]
EditQuality = Literal["auto", "high", "medium", "low", "standard"]
OutputFormat = Literal["png", "jpeg", "webp"]
ResponseFormat = Literal["url", "b64_json"]
TaskType = Literal["images", "images_generations", "images_edits"]

#: Validation context key that lets the programmatic client send models released after
#: this package (no per-model rules are applied to them). The tool never sets it.
ALLOW_UNKNOWN_MODELS = "allow_unknown_models"
#: Validation context key that refuses a ``callback_url`` on loopback, link-local, private
#: or local-name hosts. The LLM-facing tools set it (unless the developer allows private
#: callbacks); the programmatic client does not: its caller chose the URL.
PUBLIC_CALLBACKS_ONLY = "public_callbacks_only"


def _reject_boolean(value: Any, info: ValidationInfo) -> Any:
    """JSON true/false are not numbers (pydantic's lax mode would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be an integer, not {str(value).lower()}")
    return value


MODEL_DESCRIPTION = model_description(KNOWN_MODELS, DEFAULT_MODEL)
SIZE_DESCRIPTION = "WIDTHxHEIGHT or auto (default), e.g. 1536x1024; 2K/4K cost 1.5x."


class _ImageRequestBase(LLMArgs):
    """Fields and rules shared by generation and edit requests.

    Descriptions are what the LLM reads on every turn (see :mod:`._llm_schema`): what helps
    it choose, in few words. Per-model limits live in :data:`MODEL_RULES` and reach the LLM
    through validation errors, which name the allowed values.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    #: Optional enums every model takes some value of (strict mode picks one, not null);
    #: ``n`` stays nullable: how many images to pay for is not the LLM's pick to force.
    choice_fields = frozenset({"model", "quality", "output_format", "response_format"})
    #: The models a tool offers (``None``: all); set on narrowed subclasses, named in errors.
    offered_models: ClassVar[tuple[str, ...] | None] = None
    #: The model used when the LLM gives none (the first offered one on narrowed subclasses).
    default_model: ClassVar[str] = DEFAULT_MODEL

    prompt: str = Field(
        min_length=1,
        max_length=MAX_PROMPT_CHARS,
        description="Subject, style, lighting, composition.",
    )
    n: int | None = Field(default=None, ge=1, le=10, description="1-10, default 1.")
    model: ImageModel = Field(default=DEFAULT_MODEL, description=MODEL_DESCRIPTION)
    background: Literal["transparent", "opaque", "auto"] | None = None
    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Webhook for the result; answers at once.",
    )
    output_format: OutputFormat = "png"
    response_format: ResponseFormat = "url"
    output_compression: int | None = Field(
        default=None, ge=0, le=100, description="0-100, jpeg/webp."
    )
    # Declared here for the rules and the flows; each request model narrows them.
    size: str | None = None
    quality: str = "auto"

    @classmethod
    def _fill_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        offered = cls.offered_models
        if offered is None or "model" in cls.pinned_values:
            return data
        model = data.get("model")
        if model is None:
            return {**data, "model": cls.default_model}
        if model not in offered:
            raise ValueError(f"model must be one of {join_values(offered)} (got {model!r})")
        return data

    @classmethod
    def _narrow_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        schema = super()._narrow_schema(schema)
        offered = cls.offered_models
        properties = schema["properties"]
        if offered is None or "model" not in properties:
            return schema
        properties["model"]["enum"] = list(offered)
        properties["model"]["description"] = model_description(offered, cls.default_model)
        if "quality" in properties:
            allowed = {q for name in offered for q in cls._allowed_qualities(MODEL_RULES[name])}
            enum = properties["quality"]
            enum["enum"] = [quality for quality in enum["enum"] if quality in allowed]
        return schema

    @field_validator("model", mode="wrap")
    @classmethod
    def _forward_compatible_model(
        cls, value: Any, handler: Callable[[Any], Any], info: ValidationInfo
    ) -> Any:
        # The schema shown to the LLM lists the known models; the Python client may opt in
        # to newer model names, which the server then validates.
        if (
            isinstance(value, str)
            and value.strip()
            and value not in KNOWN_MODELS
            and info.context
            and info.context.get(ALLOW_UNKNOWN_MODELS)
        ):
            return value.strip()
        return handler(value)

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Whitespace, NUL and other control or format characters describe nothing, yet a
        # prompt made only of them would be accepted and billed.
        if not any(char.isprintable() and not char.isspace() for char in value):
            raise ValueError(
                "prompt must contain visible text, not only whitespace or control characters"
            )
        return value

    @field_validator("n", "output_compression", mode="before")
    @classmethod
    def _integer_not_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        return _reject_boolean(value, info)

    @field_validator("callback_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or re.search(r"\s", value)
        ):
            raise ValueError(
                "callback_url must be an absolute http(s) URL such as 'https://example.com/webhook'"
            )
        if info.context and info.context.get(PUBLIC_CALLBACKS_ONLY):
            refusal = host_refusal(parts.hostname or "")
            if refusal:
                raise ValueError(
                    f"callback_url must point to a public host, not {refusal}; use a public "
                    "https URL or leave callback_url out"
                )
        return value

    @property
    def rules(self) -> ModelRules | None:
        """The per-model rules, or ``None`` for a model this package does not know."""
        return MODEL_RULES.get(self.model)

    @classmethod
    def _allowed_qualities(cls, rules: ModelRules) -> tuple[str, ...]:
        return rules.qualities

    def _size_problem(self, size: str, rules: ModelRules) -> str | None:
        if size == "auto":
            if rules.allow_auto_size:
                return None
            presets = join_values(rules.sizes or ())
            return f"size 'auto' is not supported by {self.model}; use one of {presets}"
        dims = parse_size(size)
        if dims is None:
            return f"size must be 'auto' or 'WIDTHxHEIGHT' like '1024x1024', got {size!r}"
        if rules.sizes is not None and size not in rules.sizes:
            allowed = list(rules.sizes) + (["auto"] if rules.allow_auto_size else [])
            return (
                f"size {size} is not supported by {self.model}; use one of {join_values(allowed)}"
            )
        if rules.custom_size is not None:
            problem = rules.custom_size(*dims)
            if problem:
                return f"size {size} is not valid for {self.model}: {problem}"
        return None

    def _problems(self) -> list[str]:
        """Every rule this request breaks, as actionable sentences."""
        rules = self.rules
        problems = self._rule_problems(rules) if rules is not None else []
        if self.background == "transparent" and self.output_format not in ("png", "webp"):
            problems.append(
                "background 'transparent' needs output_format 'png' or 'webp'"
                f" (got '{self.output_format}')"
            )
        if self.output_compression is not None and self.output_format not in ("jpeg", "webp"):
            problems.append(
                "output_compression only applies to output_format 'jpeg' or 'webp'; "
                "set output_format or remove output_compression"
            )
        return problems

    def _rule_problems(self, rules: ModelRules) -> list[str]:
        """What this model's rules refuse: prompt length, size, quality, n, gpt-only fields."""
        problems: list[str] = []
        if len(self.prompt) > rules.max_prompt:
            problems.append(
                f"prompt is {len(self.prompt):,} characters; {self.model} accepts at most "
                f"{rules.max_prompt:,}: shorten it, or use a gpt-image or nano-banana model "
                f"(up to {MAX_PROMPT_CHARS:,})"
            )
        if self.size is not None and (problem := self._size_problem(self.size, rules)):
            problems.append(problem)
        qualities = self._allowed_qualities(rules)
        if self.quality not in qualities:
            problems.append(
                f"quality '{self.quality}' is not supported by {self.model}; use one of "
                f"{join_values(qualities)}"
            )
        if self.n is not None and self.n > rules.max_n:
            problems.append(
                f"{self.model} generates at most {rules.max_n} image per request; set n=1"
            )
        gpt_only = self._gpt_only_fields_set()
        if gpt_only and not rules.is_gpt_image:
            one = len(gpt_only) == 1
            gpt = models_where(lambda r: r.is_gpt_image, self.offered_models)
            problems.append(
                f"{join_values(gpt_only)} only work{'s' if one else ''} with gpt-image models "
                f"({gpt or 'none offered'}); remove {'it' if one else 'them'} or change "
                "the model"
            )
        return problems

    def _gpt_only_fields_set(self) -> list[str]:
        """The gpt-image-only fields this request sets (``partial_images=0`` asks for none)."""
        return [
            name
            for name, value in self
            if MODEL_SPECIFIC_FIELDS.get(name) is gpt_image_only
            and value is not None
            and not (name == "partial_images" and value == 0)
        ]

    @property
    def partial_images_requested(self) -> int:
        """How many partial images to stream (only generations can ask for them)."""
        return 0

    @model_validator(mode="after")
    def _check_model_rules(self) -> _ImageRequestBase:
        problems = self._problems()
        if problems:
            # One problem per line, so the tool can list them all to the LLM at once.
            raise ValueError("\n".join(problems))
        return self

    def to_body(self) -> dict[str, Any]:
        """The JSON body for the API: the prompt, the model and only the fields that were set."""
        body = self.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        body["model"] = self.model
        return body


class GenerateImageInput(_ImageRequestBase):
    """Arguments of ``openai_generate_image`` (the seed's 13 parameters).

    ``size`` defaults to *unset*: it is then omitted from the request and the server applies
    its default (``auto`` for gpt-image models, as the seed's text says). We do not send the
    seed table's ``1024x1024`` because an omitted size is the only default valid for every
    model (dall-e models reject ``auto``) and it lets the API keep choosing the best size.
    """

    size: str | None = Field(default=None, max_length=11, description=SIZE_DESCRIPTION)
    style: Literal["vivid", "natural"] | None = None
    quality: Quality = "auto"
    moderation: Literal["auto", "low"] | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3, description="0-3 previews.")

    @field_validator("partial_images", mode="before")
    @classmethod
    def _partial_images_not_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        return _reject_boolean(value, info)

    @property
    def partial_images_requested(self) -> int:
        return self.partial_images or 0

    def _problems(self) -> list[str]:
        problems = super()._problems()
        if self.style is not None and self.rules is not None and self.model != "dall-e-3":
            problems.append(
                f"style only works with dall-e-3 (model is {self.model}); remove style or set "
                "model='dall-e-3'"
            )
        return problems


_URL_LIST = {"type": "array", "items": {"type": "string"}}


class EditImageInput(_ImageRequestBase):
    """Arguments of ``openai_edit_image``: the generation fields plus the image(s) to edit."""

    # A mask is an image the LLM rarely has: programs send it; the LLM's schema stays short.
    developer_only_fields: ClassVar[frozenset[str]] = frozenset({"mask"})

    # Shown to the LLM as a list (one shape is shorter and clearer); a single URL still validates.
    image: Annotated[str | list[str], WithJsonSchema(_URL_LIST)] = Field(
        description="1-16 URLs, img:... refs or paths; first is edited, rest are references.",
    )
    mask: str | None = Field(
        default=None,
        min_length=1,
        description="PNG like image, first image's size; transparent = edited.",
    )
    size: str | None = Field(
        default=None, max_length=11, description="WIDTHxHEIGHT or auto (default)."
    )
    quality: EditQuality = "auto"
    input_fidelity: Literal["high", "low"] | None = Field(
        default=None, description="high keeps faces, logos."
    )

    @field_validator("image")
    @classmethod
    def _one_to_sixteen_images(cls, value: str | list[str]) -> str | list[str]:
        images = [value] if isinstance(value, str) else value
        if not 1 <= len(images) <= 16:
            raise ValueError(f"image takes 1 to 16 images, got {len(images)}")
        if any(not item.strip() for item in images):
            raise ValueError("image entries must be non-empty URLs")
        return value

    @classmethod
    def _allowed_qualities(cls, rules: ModelRules) -> tuple[str, ...]:
        if rules.is_gpt_image:
            return rules.qualities + EDIT_EXTRA_QUALITIES
        return tuple(q for q in rules.qualities if q != "hd")


class GetTaskInput(LLMArgs):
    """Arguments of ``openai_get_task``: exactly one of ``task_id`` / ``trace_id``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    # 1,000: a call delivered by several jobs has a comma-joined task id (10 x 64 + 9).
    task_id: str | None = Field(default=None, min_length=1, max_length=1000, description="Job id.")
    trace_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="If task_id is unknown."
    )

    @model_validator(mode="after")
    def _exactly_one_id(self) -> GetTaskInput:
        if (self.task_id is None) == (self.trace_id is None):
            raise ValueError("pass exactly one of task_id or trace_id")
        return self


class TaskQuery(LLMArgs):
    """Filters of ``retrieve_batch`` on ``/openai/tasks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Account-level filters (documented variant B): for programs, not worth the LLM's bytes.
    developer_only_fields: ClassVar[frozenset[str]] = frozenset({"application_id", "user_id"})

    #: Always some valid value (``images`` = all types); offset and limit stay nullable.
    choice_fields = frozenset({"type"})

    ids: list[str] | None = Field(default=None, max_length=100, description="Task ids.")
    trace_ids: list[str] | None = Field(default=None, max_length=100, description="Trace ids.")
    type: TaskType | None = Field(default=None, description="images = all.")
    offset: int | None = Field(default=None, ge=0, description="Jobs to skip.")
    limit: int | None = Field(default=None, ge=1, le=100, description="1-100, default 12.")
    created_at_min: float | None = Field(
        default=None, allow_inf_nan=False, description="Unix seconds."
    )
    created_at_max: float | None = Field(
        default=None, allow_inf_nan=False, description="Unix seconds."
    )
    application_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="This application's tasks."
    )
    user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="This user's tasks."
    )

    @model_validator(mode="after")
    def _window_in_order(self) -> TaskQuery:
        low, high = self.created_at_min, self.created_at_max
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"created_at_min ({low:g}) must not be after created_at_max ({high:g})"
            )
        return self

    def to_body(self) -> dict[str, Any]:
        return {"action": "retrieve_batch", **self.model_dump(exclude_none=True)}
