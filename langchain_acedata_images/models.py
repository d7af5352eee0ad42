"""Request and result models: every API parameter is declared once, here.

The tool's args schema, the request body and the CLI options are all derived from
:class:`GenerateImageInput` / :class:`EditImageInput`; the per-model rules live in the single
:data:`MODEL_RULES` table so that bad input is rejected before any HTTP request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

ImageModel = Literal[
    "gpt-image-1",
    "gpt-image-1.5",
    "gpt-image-2",
    "dall-e-3",
    "dall-e-2",
    "nano-banana",
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

_SIZE_RE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
GPT_IMAGE_2_MAX_SIDE = 3840
GPT_IMAGE_2_MAX_PIXELS = 8_294_400


def parse_size(size: str) -> tuple[int, int] | None:
    """Return ``(width, height)`` for ``'WxH'``, or ``None`` for ``'auto'``/malformed."""
    match = _SIZE_RE.match(size)
    return (int(match[1]), int(match[2])) if match else None


def _gpt_image_2_size_problem(width: int, height: int) -> str | None:
    if width % 16 or height % 16:
        return "both sides must be multiples of 16 (e.g. 1024x1536, 2048x1152, 3840x2160)"
    if max(width, height) > GPT_IMAGE_2_MAX_SIDE:
        return f"the longer side must be <= {GPT_IMAGE_2_MAX_SIDE}"
    if width * height > GPT_IMAGE_2_MAX_PIXELS:
        return f"width x height must be <= {GPT_IMAGE_2_MAX_PIXELS:,} pixels"
    return None


@dataclass(frozen=True)
class ModelRules:
    """What one model accepts; ``sizes=None`` means any ``WxH`` that ``custom_size`` allows."""

    family: Literal["gpt-image", "dall-e", "nano-banana"]
    sizes: tuple[str, ...] | None
    allow_auto_size: bool
    qualities: tuple[str, ...]
    max_n: int = 10
    custom_size: Callable[[int, int], str | None] | None = None

    @property
    def is_gpt_image(self) -> bool:
        return self.family == "gpt-image"


_GPT_QUALITIES = ("auto", "high", "medium", "low")
_GPT_IMAGE_1_SIZES = ("1024x1024", "1536x1024", "1024x1536")

#: The one table of per-model rules (sizes, qualities, n, feature support).
MODEL_RULES: dict[str, ModelRules] = {
    "gpt-image-1": ModelRules("gpt-image", _GPT_IMAGE_1_SIZES, True, _GPT_QUALITIES),
    "gpt-image-1.5": ModelRules("gpt-image", _GPT_IMAGE_1_SIZES, True, _GPT_QUALITIES),
    "gpt-image-2": ModelRules(
        "gpt-image", None, True, _GPT_QUALITIES, custom_size=_gpt_image_2_size_problem
    ),
    "dall-e-3": ModelRules(
        "dall-e", ("1024x1024", "1792x1024", "1024x1792"), False, ("auto", "hd", "standard"), 1
    ),
    "dall-e-2": ModelRules(
        "dall-e", ("256x256", "512x512", "1024x1024"), False, ("auto", "standard")
    ),
    # AceDataCloud documents no size list for nano-banana: accept presets, auto and any WxH.
    "nano-banana": ModelRules("nano-banana", None, True, _GPT_QUALITIES),
    "nano-banana-2": ModelRules("nano-banana", None, True, _GPT_QUALITIES),
    "nano-banana-pro": ModelRules("nano-banana", None, True, _GPT_QUALITIES),
}
#: Edits accept ``standard`` quality on gpt-image models too (API.md, edits).
EDIT_EXTRA_QUALITIES = ("standard",)


def _reject_boolean(value: Any, info: ValidationInfo) -> Any:
    """JSON true/false are not numbers (pydantic's lax mode would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be an integer, not {str(value).lower()}")
    return value


def _join(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def _models_where(predicate: Callable[[ModelRules], bool]) -> str:
    return _join([name for name, rules in MODEL_RULES.items() if predicate(rules)])


class _ImageRequestBase(BaseModel):
    """Fields and rules shared by generation and edit requests."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    prompt: str = Field(
        min_length=1,
        max_length=32000,
        description=(
            "A text description of the desired image(s). Be descriptive about the subject, "
            "style, lighting, and composition. Example: 'A serene mountain landscape at sunset "
            "with golden light'"
        ),
    )
    n: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="Number of images to generate (1-10). Default is 1.",
    )
    model: ImageModel = Field(
        default=DEFAULT_MODEL,
        description=(
            "The image model to use. Options: 'gpt-image-1' (default, versatile), "
            "'gpt-image-1.5', 'gpt-image-2', 'dall-e-3', 'dall-e-2', 'nano-banana', "
            "'nano-banana-2', 'nano-banana-pro'."
        ),
    )
    background: Literal["transparent", "opaque", "auto"] | None = Field(
        default=None,
        description=(
            "Background type for gpt-image models. 'transparent' removes the background, "
            "'opaque' keeps it, 'auto' decides automatically."
        ),
    )
    callback_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Optional webhook URL. When provided, the API returns a task_id immediately and "
            "POSTs the result to this URL when generation completes."
        ),
    )
    output_format: OutputFormat = Field(
        default="png",
        description="Output file format. Options: 'png' (default), 'jpeg', 'webp'.",
    )
    response_format: ResponseFormat = Field(
        default="url",
        description=(
            "How to return the image. 'url' (default) returns a URL, 'b64_json' returns "
            "base64-encoded image data."
        ),
    )
    output_compression: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description=("Compression level (0-100%) for jpeg/webp output formats. Default is 100."),
    )

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
        # Pydantic strips Unicode whitespace only; the API's strip() also drops \x1c-\x1f.
        if not value.strip():
            raise ValueError("prompt must contain text, not only whitespace or separators")
        return value

    @field_validator("n", "output_compression", mode="before")
    @classmethod
    def _integer_not_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        return _reject_boolean(value, info)

    @field_validator("callback_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
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
        return value

    @property
    def rules(self) -> ModelRules | None:
        """The per-model rules, or ``None`` for a model this package does not know."""
        return MODEL_RULES.get(self.model)

    def _allowed_qualities(self, rules: ModelRules) -> tuple[str, ...]:
        return rules.qualities

    def _size_problem(self, size: str, rules: ModelRules) -> str | None:
        if size == "auto":
            if rules.allow_auto_size:
                return None
            presets = _join(rules.sizes or ())
            return f"size 'auto' is not supported by {self.model}; use one of {presets}"
        dims = parse_size(size)
        if dims is None:
            return f"size must be 'auto' or 'WIDTHxHEIGHT' like '1024x1024', got {size!r}"
        if rules.sizes is not None and size not in rules.sizes:
            allowed = list(rules.sizes) + (["auto"] if rules.allow_auto_size else [])
            return f"size {size} is not supported by {self.model}; use one of {_join(allowed)}"
        if rules.custom_size is not None:
            problem = rules.custom_size(*dims)
            if problem:
                return f"size {size} is not valid for {self.model}: {problem}"
        return None

    def _problems(self) -> list[str]:
        """Every rule this request breaks, as actionable sentences."""
        rules = self.rules
        problems: list[str] = []
        size: str | None = getattr(self, "size", None)
        if rules is not None:
            if size is not None and (problem := self._size_problem(size, rules)):
                problems.append(problem)
            quality: str | None = getattr(self, "quality", None)
            qualities = self._allowed_qualities(rules)
            if quality is not None and quality not in qualities:
                problems.append(
                    f"quality '{quality}' is not supported by {self.model}; use one of "
                    f"{_join(qualities)}"
                )
            if self.n is not None and self.n > rules.max_n:
                problems.append(
                    f"{self.model} generates at most {rules.max_n} image per request; set n=1"
                )
            if not rules.is_gpt_image:
                gpt_only = [
                    name
                    for name in ("background", "moderation", "input_fidelity")
                    if getattr(self, name, None) is not None
                ]
                if getattr(self, "partial_images", None):
                    gpt_only.append("partial_images")
                if gpt_only:
                    one = len(gpt_only) == 1
                    problems.append(
                        f"{_join(gpt_only)} only work{'s' if one else ''} with gpt-image models "
                        f"({_models_where(lambda r: r.is_gpt_image)}); remove "
                        f"{'it' if one else 'them'} or change the model"
                    )
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

    size: str | None = Field(
        default=None,
        max_length=11,
        description=(
            "Image dimensions as 'WIDTHxHEIGHT' or 'auto' (default). gpt-image-2 accepts any "
            "custom dimensions matching the format (multiples of 16, longer side ≤ 3840, total "
            "pixels ≤ 8,294,400). Common presets — 1K: '1024x1024', '1536x1024', '1024x1536', "
            "'1792x1024', '1024x1792'; 2K (1.5× rate): '2048x2048', '2048x1536', '1536x2048', "
            "'2048x1152', '1152x2048'; 4K (1.5× rate): '2880x2880', '3264x2448', '2448x3264', "
            "'3840x2160', '2160x3840'. dall-e-2: '256x256', '512x512', '1024x1024'. dall-e-3: "
            "'1024x1024', '1792x1024', '1024x1792'."
        ),
    )
    style: Literal["vivid", "natural"] | None = Field(
        default=None,
        description=(
            "Image style for dall-e-3. 'vivid' generates hyper-real and dramatic images, "
            "'natural' produces more natural, less hyper-real looking images."
        ),
    )
    quality: Quality = Field(
        default="auto",
        description=(
            "Image quality. Options: 'auto' (default), 'high', 'medium', 'low', 'hd' (dall-e-3 "
            "high detail), 'standard' (dall-e-3 standard)."
        ),
    )
    moderation: Literal["auto", "low"] | None = Field(
        default=None,
        description=(
            "Content moderation level. 'auto' uses default moderation, 'low' applies less "
            "strict filtering."
        ),
    )
    partial_images: int | None = Field(
        default=None,
        ge=0,
        le=3,
        description=(
            "Number of partial images to emit during streaming (0-3). 0 returns the final "
            "image in one event."
        ),
    )

    @field_validator("partial_images", mode="before")
    @classmethod
    def _partial_images_not_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        return _reject_boolean(value, info)

    def _problems(self) -> list[str]:
        problems = super()._problems()
        if self.style is not None and self.rules is not None and self.model != "dall-e-3":
            problems.append(
                f"style only works with dall-e-3 (model is {self.model}); remove style or set "
                "model='dall-e-3'"
            )
        return problems


class EditImageInput(_ImageRequestBase):
    """Arguments of ``openai_edit_image``: the generation fields plus the image(s) to edit."""

    image: str | list[str] = Field(
        description=(
            "The image to edit: one URL, or a list of 1-16 URLs where the first is the base "
            "image and the others are references. data: URLs are accepted; local file paths "
            "only when the tool allows local files."
        ),
    )
    size: str | None = Field(
        default=None,
        max_length=11,
        description=(
            "Output dimensions as 'WIDTHxHEIGHT' or 'auto' (default, keeps the input's aspect)."
        ),
    )
    quality: EditQuality = Field(
        default="auto",
        description="Image quality: 'auto' (default), 'high', 'medium', 'low' or 'standard'.",
    )
    input_fidelity: Literal["high", "low"] | None = Field(
        default=None,
        description=(
            "How closely to preserve the input's details (faces, logos): 'high' or 'low'. "
            "gpt-image models only."
        ),
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

    def _allowed_qualities(self, rules: ModelRules) -> tuple[str, ...]:
        if rules.is_gpt_image:
            return rules.qualities + EDIT_EXTRA_QUALITIES
        return tuple(q for q in rules.qualities if q != "hd")


class GetTaskInput(BaseModel):
    """Arguments of ``openai_get_task``: exactly one of ``task_id`` / ``trace_id``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    task_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The task id of an image job."
    )
    trace_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The trace id of an image job (when the task id is unknown).",
    )

    @model_validator(mode="after")
    def _exactly_one_id(self) -> GetTaskInput:
        if (self.task_id is None) == (self.trace_id is None):
            raise ValueError("pass exactly one of task_id or trace_id")
        return self


class TaskQuery(BaseModel):
    """Filters of ``retrieve_batch`` on ``/openai/tasks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ids: list[str] | None = Field(default=None, max_length=100, description="Task ids to fetch.")
    trace_ids: list[str] | None = Field(
        default=None, max_length=100, description="Trace ids to fetch."
    )
    type: TaskType | None = Field(
        default=None,
        description="'images' (all), 'images_generations' or 'images_edits'.",
    )
    offset: int | None = Field(default=None, ge=0, description="Skip this many tasks.")
    limit: int | None = Field(
        default=None, ge=1, le=100, description="At most this many tasks (API default 12)."
    )
    created_at_min: float | None = Field(
        default=None, description="Only tasks created at or after this unix time (seconds)."
    )
    created_at_max: float | None = Field(
        default=None, description="Only tasks created at or before this unix time (seconds)."
    )

    def to_body(self) -> dict[str, Any]:
        return {"action": "retrieve_batch", **self.model_dump(exclude_none=True)}


# --------------------------------------------------------------------------- results


class GeneratedImage(BaseModel):
    """One image of a result: a URL or base64 data, and the saved path once stored."""

    url: str | None = None
    b64_json: str | None = Field(default=None, repr=False)
    revised_prompt: str | None = None
    path: str | None = None
    mime_type: str | None = None


class TaskStatus(BaseModel):
    """Shared identity of a server-side job."""

    task_id: str | None = None
    trace_id: str | None = None


class ImageTask(TaskStatus):
    """Handle of a job that was submitted but not waited for (``wait=False`` / callback)."""

    status: Literal["submitted", "queued", "running", "succeeded", "failed"] = "submitted"
    callback_url: str | None = None


class ImageGenerationResult(TaskStatus):
    """A finished generation or edit."""

    images: list[GeneratedImage]
    model: str
    size: str | None = None
    output_format: str = "png"
    created: int | None = None
    elapsed: float = Field(description="Seconds from submission to result, measured locally.")
    raw: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @property
    def urls(self) -> list[str]:
        return [image.url for image in self.images if image.url]

    @property
    def paths(self) -> list[str]:
        return [image.path for image in self.images if image.path]


class TaskRecord(BaseModel):
    """A task as ``/openai/tasks`` returns it; extra fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    trace_id: str | None = None
    type: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    elapsed: float | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def failed(self) -> bool:
        response = self.response or {}
        return self.finished and (
            response.get("error") is not None or response.get("success") is False
        )

    @property
    def status(self) -> Literal["queued", "running", "succeeded", "failed"]:
        if self.failed:
            return "failed"
        if self.finished:
            return "succeeded"
        return "running" if self.started_at is not None else "queued"


class TaskList(BaseModel):
    """Answer of ``retrieve_batch``."""

    items: list[TaskRecord] = Field(default_factory=list)
    count: int = 0
