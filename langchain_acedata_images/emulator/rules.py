"""Server-side validation of image requests: the published OpenAPI documents plus API.md.

This is the emulator's own table of rules, written independently of the package's client models
so that each implementation checks the other (``tests/contract/test_differential.py`` compares
both with the contract). Unknown body fields are ignored and ``null`` counts as absent, as a
lenient real API would do. Each field has its own check; a violation raises ``RuleViolation``
whose message is the text of the 400 answer. What differs between documented variants is read
from the :class:`.Dialect`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from .dialect import Dialect

GENERATIONS = "images_generations"
"""Task type of a generation job."""

EDITS = "images_edits"
"""Task type of an edit job."""

MAX_N = 10
MAX_EDIT_IMAGES = 16
MAX_PARTIAL_IMAGES = 3
MAX_TRACE_ID_LENGTH = 256
MAX_PROMPT = 32_000
"""The longest prompt of any model (and of every model under ``prompt_limits=uniform``)."""

RENDER_MAX_SIDE = 8192
RENDER_MAX_PIXELS = 4096 * 4096
"""The emulator's own drawing limits for models that accept any size (nano-banana)."""

GPT_IMAGE_2_MAX_SIDE = 3840
GPT_IMAGE_2_MAX_PIXELS = 8_294_400
GPT_IMAGE_2_STEP = 16

OUTPUT_FORMATS = ("png", "jpeg", "webp")
RESPONSE_FORMATS = ("url", "b64_json")
BACKGROUNDS = ("transparent", "opaque", "auto")
MODERATIONS = ("auto", "low")
STYLES = ("vivid", "natural")
INPUT_FIDELITIES = ("high", "low")
GENERATION_QUALITIES = ("auto", "high", "medium", "low", "hd", "standard")
EDIT_QUALITIES = ("auto", "high", "medium", "low", "standard")

_SIZE_PATTERN = re.compile(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})")
_DATA_URL_PATTERN = re.compile(r"data:image/[a-zA-Z0-9.+-]+;base64,", re.IGNORECASE)
_COMPRESSIBLE_FORMATS = ("jpeg", "webp")
_TRANSPARENT_FORMATS = ("png", "webp")


class RuleViolation(ValueError):
    """A request broke one of the documented rules; the message explains which."""


@dataclass(frozen=True)
class Upload:
    """A file of a multipart edit (``image``/``image[]``/``mask``)."""

    filename: str
    content_type: str
    data: bytes = b""

    def describe(self) -> dict[str, Any]:
        """What a task record stores instead of the bytes."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "bytes": len(self.data),
        }


@dataclass(frozen=True)
class ModelRules:
    """What one model accepts."""

    family: str
    """``gpt-image``, ``dall-e`` or ``nano-banana``: n reduction and response format follow it."""
    presets: tuple[str, ...] | None
    """Allowed ``WxH`` sizes, or ``None`` when ``check_size`` decides."""
    auto_size: bool
    max_n: int
    qualities: frozenset[str]
    max_prompt: int = MAX_PROMPT
    styles: tuple[str, ...] = ()
    check_size: Callable[[int, int], str | None] | None = None
    """Returns why a free-form size is refused, or ``None`` to accept it."""

    @property
    def gpt_image(self) -> bool:
        """gpt-image models alone take ``background``, ``moderation``, ``input_fidelity`` and
        ``partial_images``."""
        return self.family == "gpt-image"


def _gpt_image_2_size(width: int, height: int) -> str | None:
    if width % GPT_IMAGE_2_STEP or height % GPT_IMAGE_2_STEP:
        return f"both sides must be multiples of {GPT_IMAGE_2_STEP}"
    if max(width, height) > GPT_IMAGE_2_MAX_SIDE:
        return f"the longer side must be at most {GPT_IMAGE_2_MAX_SIDE}"
    if width * height > GPT_IMAGE_2_MAX_PIXELS:
        return f"width x height must be at most {GPT_IMAGE_2_MAX_PIXELS:,} pixels"
    return None


def _renderable_size(width: int, height: int) -> str | None:
    if max(width, height) > RENDER_MAX_SIDE or width * height > RENDER_MAX_PIXELS:
        return (
            f"the emulator draws at most {RENDER_MAX_SIDE} pixels per side and "
            f"{RENDER_MAX_PIXELS:,} pixels in all"
        )
    return None


_BASIC_QUALITIES = frozenset({"auto", "high", "medium", "low"})
_GPT_IMAGE_PRESETS = ("1024x1024", "1536x1024", "1024x1536")
_GPT_IMAGE_1 = ModelRules("gpt-image", _GPT_IMAGE_PRESETS, True, MAX_N, _BASIC_QUALITIES)
_GPT_IMAGE_2 = ModelRules(
    "gpt-image", None, True, MAX_N, _BASIC_QUALITIES, check_size=_gpt_image_2_size
)
_NANO_BANANA = ModelRules(
    "nano-banana", None, True, MAX_N, _BASIC_QUALITIES, check_size=_renderable_size
)

# Qualities per the field descriptions: dall-e-3 'hd'/'standard', dall-e-2 'standard' only,
# plus 'auto', the field's documented default, which every model must take when sent.
MODELS: Mapping[str, ModelRules] = {
    "gpt-image-1": _GPT_IMAGE_1,
    "gpt-image-1.5": _GPT_IMAGE_1,
    "gpt-image-2": _GPT_IMAGE_2,
    "dall-e-3": ModelRules(
        "dall-e",
        ("1024x1024", "1792x1024", "1024x1792"),
        False,
        1,
        frozenset({"auto", "hd", "standard"}),
        max_prompt=4_000,
        styles=STYLES,
    ),
    "dall-e-2": ModelRules(
        "dall-e",
        ("256x256", "512x512", "1024x1024"),
        False,
        MAX_N,
        frozenset({"auto", "standard"}),
        max_prompt=1_000,
    ),
    "nano-banana": _NANO_BANANA,
    "nano-banana-2": _NANO_BANANA,
    "nano-banana-pro": _NANO_BANANA,
    # Added by the OpenAPI documents (variant B); ':reverse' is gpt-image-2 itself.
    "gpt-image-2:reverse": _GPT_IMAGE_2,
    "gpt-image-2:official": _GPT_IMAGE_2,
    "nano-banana-2-lite": _NANO_BANANA,
}
"""Every model the API documents, with its rules."""

SEED_MODELS = tuple(MODELS)[:8]
"""The 8 models of the seed notes (variant A)."""

UNKNOWN_MODEL_RULES = ModelRules(
    "gpt-image",
    None,
    True,
    MAX_N,
    frozenset(GENERATION_QUALITIES),
    check_size=_renderable_size,
)
"""Rules of a model name the emulator does not know, under ``unknown_models=accept``."""

DEFAULT_MODEL = "gpt-image-1"
FALLBACK_SIZE = "1024x1024"
"""Default size of models without ``auto``."""


@dataclass(frozen=True)
class ImageJob:
    """A validated generation or edit request, with defaults filled in."""

    kind: str
    prompt: str
    model: str
    n: int
    """Images delivered (``n_policy=one`` may make it smaller than asked)."""
    size: tuple[int, int] | None
    """``None`` means ``auto``: the emulator picks the size."""
    output_format: str
    response_format: str
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    moderation: str | None = None
    output_compression: int | None = None
    partial_images: int = 0
    stream: bool = False
    asynchronous: bool = False
    callback_url: str | None = None
    trace_id: str | None = None
    """The trace id the task gets (server-made under ``trace_id=ignored``)."""
    images: tuple[str, ...] = ()
    uploads: tuple[Upload, ...] = ()
    mask: Upload | str | None = None
    """A multipart file, or a URL sent in a JSON edit."""
    input_fidelity: str | None = None

    @property
    def transparent(self) -> bool:
        """Whether the picture gets a transparent background."""
        return self.background == "transparent"

    @property
    def size_label(self) -> str:
        """The size as the API spells it."""
        return "auto" if self.size is None else f"{self.size[0]}x{self.size[1]}"


@dataclass(frozen=True)
class _Request:
    """What every field check may read: the body, the job kind, the model and the dialect."""

    body: Mapping[str, Any]
    kind: str
    model: str
    rules: ModelRules
    dialect: Dialect


def validate_generation(body: Mapping[str, Any], dialect: Dialect | None = None) -> ImageJob:
    """Check a ``/openai/images/generations`` body and return the job it asks for."""
    return validate(body, GENERATIONS, dialect or Dialect())


def validate_edit(body: Mapping[str, Any], dialect: Dialect | None = None) -> ImageJob:
    """Check a ``/openai/images/edits`` body (JSON, or multipart as a dict) likewise."""
    return validate(body, EDITS, dialect or Dialect())


def validate(body: Mapping[str, Any], kind: str, dialect: Dialect) -> ImageJob:
    """Run every field check; the first violation ends it with a 400 message."""
    model, rules = _model(body, kind, dialect)
    request = _Request(body, kind, model, rules, dialect)
    values: dict[str, Any] = {"kind": kind, "model": model}
    for check in FIELD_CHECKS if kind == GENERATIONS else FIELD_CHECKS + EDIT_CHECKS:
        values.update(check(request, values))
    return ImageJob(**values)


def is_data_url(url: str) -> bool:
    """Whether ``url`` is a ``data:image/...;base64,`` URL."""
    return _DATA_URL_PATTERN.match(url) is not None


def model_names(kind: str, dialect: Dialect) -> tuple[str, ...]:
    """The models a dialect knows for a job kind."""
    names = SEED_MODELS if dialect.models == "seed" else tuple(MODELS)
    if kind == EDITS and dialect.edit_models == "seed":
        names = tuple(name for name in names if MODELS[name].family != "dall-e")
    return names


def _model(body: Mapping[str, Any], kind: str, dialect: Dialect) -> tuple[str, ModelRules]:
    model = _string(body, "model")
    if model is None or not model.strip():
        if kind == GENERATIONS and dialect.model_required:
            raise RuleViolation("model is required")
        model = DEFAULT_MODEL if kind == GENERATIONS else dialect.edit_default_model
    known = model_names(kind, dialect)
    if model in known:
        return model, MODELS[model]
    if dialect.unknown_models == "accept" and model not in MODELS:
        return model, UNKNOWN_MODEL_RULES
    raise RuleViolation(f"model must be one of {', '.join(known)}, not {model!r}")


_Values = dict[str, Any]


def _check_prompt(request: _Request, values: _Values) -> _Values:
    prompt = _string(request.body, "prompt")
    if prompt is None or not prompt.strip():
        raise RuleViolation("prompt is required and must not be empty")
    limit = request.rules.max_prompt if request.dialect.prompt_limits == "per_model" else MAX_PROMPT
    if len(prompt) > limit:
        raise RuleViolation(f"prompt must be at most {limit:,} characters for {request.model}")
    return {"prompt": prompt}


def _check_n(request: _Request, values: _Values) -> _Values:
    n = _integer(request.body, "n", 1, MAX_N)
    if n is not None and n > request.rules.max_n:
        raise RuleViolation(f"n must be {request.rules.max_n} for model {request.model}")
    asked = n or 1
    reduced = request.dialect.n_policy == "one" and request.rules.family != "dall-e"
    return {"n": 1 if reduced else asked}


def _check_response_format(request: _Request, values: _Values) -> _Values:
    asked = _choice(request.body, "response_format", RESPONSE_FORMATS)
    n = _integer(request.body, "n", 1, MAX_N) or 1
    if asked == "b64_json" and n > 1 and request.dialect.b64_json_multi == "rejected":
        raise RuleViolation("response_format b64_json supports only n=1; use url for n>1")
    always_b64 = request.dialect.gpt_image_response_format == "b64_json" and request.rules.gpt_image
    return {"response_format": "b64_json" if always_b64 else asked or "url"}


def _check_output(request: _Request, values: _Values) -> _Values:
    output_format = _choice(request.body, "output_format", OUTPUT_FORMATS) or "png"
    compression = _integer(request.body, "output_compression", 0, 100)
    if compression is not None and output_format not in _COMPRESSIBLE_FORMATS:
        raise RuleViolation(
            f"output_compression applies only to jpeg and webp, not to {output_format}"
        )
    return {"output_format": output_format, "output_compression": compression}


def _check_quality(request: _Request, values: _Values) -> _Values:
    allowed = GENERATION_QUALITIES if request.kind == GENERATIONS else EDIT_QUALITIES
    quality = _choice(request.body, "quality", allowed)
    # The edits document lists 'standard' beside the gpt-image qualities; take it there too.
    model_qualities = request.rules.qualities | (
        {"standard"} if request.kind == EDITS and request.rules.gpt_image else frozenset()
    )
    if quality is not None and quality not in model_qualities:
        raise RuleViolation(
            f"quality {quality!r} is not supported by {request.model}; use one of "
            f"{', '.join(sorted(model_qualities))}"
        )
    return {"quality": quality}


def _check_style(request: _Request, values: _Values) -> _Values:
    style = _choice(request.body, "style", STYLES)
    if style is not None and style not in request.rules.styles:
        raise RuleViolation("style is only supported by dall-e-3")
    return {"style": style}


def _check_gpt_image_fields(request: _Request, values: _Values) -> _Values:
    body = request.body
    found = {
        "background": _choice(body, "background", BACKGROUNDS),
        "moderation": _choice(body, "moderation", MODERATIONS),
        "partial_images": _integer(body, "partial_images", 0, MAX_PARTIAL_IMAGES) or None,
    }
    if request.kind == EDITS:
        found["input_fidelity"] = _choice(body, "input_fidelity", INPUT_FIDELITIES)
    if not request.rules.gpt_image:
        for field, value in found.items():
            if value is not None:
                raise RuleViolation(
                    f"{field} is only supported by gpt-image models, not {request.model}"
                )
    if found["background"] == "transparent" and values["output_format"] not in _TRANSPARENT_FORMATS:
        raise RuleViolation("background 'transparent' needs output_format png or webp")
    return {**found, "partial_images": found["partial_images"] or 0}


def _check_delivery(request: _Request, values: _Values) -> _Values:
    stream = _boolean(request.body, "stream")
    asynchronous = _boolean(request.body, "async")
    callback_url = _string(request.body, "callback_url")
    if callback_url is not None and not _is_http_url(callback_url):
        raise RuleViolation("callback_url must be an absolute http or https URL")
    if stream and (asynchronous or callback_url is not None):
        raise RuleViolation("stream cannot be combined with async or callback_url")
    return {
        "stream": stream and request.dialect.stream == "sse",
        "asynchronous": asynchronous,
        "callback_url": callback_url,
    }


def _check_trace_id(request: _Request, values: _Values) -> _Values:
    trace_id = _string(request.body, "trace_id")
    if trace_id is not None and not 0 < len(trace_id) <= MAX_TRACE_ID_LENGTH:
        raise RuleViolation(f"trace_id must have 1 to {MAX_TRACE_ID_LENGTH} characters")
    # Under trace_id=ignored the task's id is made by the server (see tasks.py).
    return {"trace_id": trace_id if request.dialect.trace_id == "honoured" else None}


def _preset(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


def _check_size(request: _Request, values: _Values) -> _Values:
    rules, model = request.rules, request.model
    size = _string(request.body, "size") or "auto"
    if size == "auto":
        # 'auto' is the field's documented default ("or leaving it blank"), and AceDataCloud's
        # own MCP server sends it with every model: a model without free sizes takes its own
        # default then, like an absent size.
        return {"size": None if rules.auto_size else _preset(FALLBACK_SIZE)}
    match = _SIZE_PATTERN.fullmatch(size)
    if match is None:
        raise RuleViolation(f"size must be 'auto' or WIDTHxHEIGHT such as 1024x1024, not {size!r}")
    if rules.presets is not None and size not in rules.presets:
        allowed = (*rules.presets, "auto")
        raise RuleViolation(
            f"size {size!r} is not supported by {model}; use one of {', '.join(allowed)}"
        )
    width, height = int(match[1]), int(match[2])
    reason = rules.check_size(width, height) if rules.check_size else None
    if reason is not None:
        raise RuleViolation(f"size {size!r} is not supported by {model}: {reason}")
    return {"size": (width, height)}


def _check_images(request: _Request, values: _Values) -> _Values:
    value = request.body.get("image")
    items = [value] if isinstance(value, (str, Upload)) else value
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_EDIT_IMAGES:
        raise RuleViolation(
            f"image must be one URL or file, or a list of 1 to {MAX_EDIT_IMAGES} of them"
        )
    if all(isinstance(item, Upload) for item in items):
        return {"uploads": tuple(items)}
    for position, url in enumerate(items):
        if not isinstance(url, str) or not (_is_http_url(url) or is_data_url(url)):
            raise RuleViolation(
                f"image[{position}] must be an http(s) URL or a data:image/...;base64, URL"
            )
    return {"images": tuple(items)}


def _check_mask(request: _Request, values: _Values) -> _Values:
    # Multipart sends a file (the edits document); AceDataCloud's own SDK sends a URL in JSON.
    mask = request.body.get("mask")
    url = isinstance(mask, str) and (_is_http_url(mask) or is_data_url(mask))
    if mask is not None and not isinstance(mask, Upload) and not url:
        raise RuleViolation("mask must be a PNG file, or an http(s) or data:image URL")
    return {"mask": mask}


FIELD_CHECKS: tuple[Callable[[_Request, _Values], _Values], ...] = (
    _check_prompt,
    _check_n,
    _check_response_format,
    _check_output,
    _check_quality,
    _check_style,
    _check_gpt_image_fields,
    _check_delivery,
    _check_trace_id,
    _check_size,
)
"""The checks of every image request, in the order their errors are reported."""

EDIT_CHECKS: tuple[Callable[[_Request, _Values], _Values], ...] = (_check_images, _check_mask)
"""The checks edits add."""


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:  # e.g. an unclosed IPv6 bracket: a 400, not a crash
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _string(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise RuleViolation(f"{field} must be a string")
    return value


def _choice(body: Mapping[str, Any], field: str, choices: tuple[str, ...]) -> str | None:
    value = _string(body, field)
    if value is not None and value not in choices:
        raise RuleViolation(f"{field} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _integer(body: Mapping[str, Any], field: str, low: int, high: int) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    # JSON true/false arrive as bool, which Python counts as int.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleViolation(f"{field} must be an integer from {low} to {high}")
    return value


def _boolean(body: Mapping[str, Any], field: str) -> bool:
    value = body.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RuleViolation(f"{field} must be true or false")
    return value


def with_trace_id(job: ImageJob, trace_id: str) -> ImageJob:
    """The job with the trace id the task was given."""
    return replace(job, trace_id=trace_id)
