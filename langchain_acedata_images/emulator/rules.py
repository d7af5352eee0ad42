"""Server-side validation of image requests, as documented in API.md.

This is the emulator's own table of rules, written independently of the package's client models
so that each implementation checks the other. Unknown body fields are ignored and ``null`` counts
as absent, as a lenient real API would do. A violation raises ``RuleViolation`` whose message is
the text of the 400 answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

GENERATIONS = "images_generations"
"""Task type of a generation job."""

EDITS = "images_edits"
"""Task type of an edit job."""

MAX_N = 10
MAX_EDIT_IMAGES = 16
MAX_PARTIAL_IMAGES = 3
MAX_TRACE_ID_LENGTH = 256

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
class ModelRules:
    """What one model accepts."""

    presets: tuple[str, ...] | None
    """Allowed ``WxH`` sizes, or ``None`` when ``check_size`` decides."""
    auto_size: bool
    max_n: int
    qualities: frozenset[str]
    gpt_image: bool
    """gpt-image models alone take ``background``, ``moderation`` and ``partial_images``."""
    styles: tuple[str, ...] = ()
    check_size: Callable[[int, int], str | None] | None = None
    """Returns why a free-form size is refused, or ``None`` to accept it."""


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

MODELS: Mapping[str, ModelRules] = {
    "gpt-image-1": ModelRules(_GPT_IMAGE_PRESETS, True, MAX_N, _BASIC_QUALITIES, True),
    "gpt-image-1.5": ModelRules(_GPT_IMAGE_PRESETS, True, MAX_N, _BASIC_QUALITIES, True),
    "gpt-image-2": ModelRules(
        None, True, MAX_N, _BASIC_QUALITIES, True, check_size=_gpt_image_2_size
    ),
    "dall-e-3": ModelRules(
        ("1024x1024", "1792x1024", "1024x1792"),
        False,
        1,
        _BASIC_QUALITIES | {"hd", "standard"},
        False,
        styles=STYLES,
    ),
    "dall-e-2": ModelRules(
        ("256x256", "512x512", "1024x1024"), False, MAX_N, _BASIC_QUALITIES | {"standard"}, False
    ),
    **{
        name: ModelRules(None, True, MAX_N, _BASIC_QUALITIES, False, check_size=_renderable_size)
        for name in ("nano-banana", "nano-banana-2", "nano-banana-pro")
    },
}
"""Every model the API knows, with its rules."""

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
    images: tuple[str, ...] = ()
    input_fidelity: str | None = None

    @property
    def transparent(self) -> bool:
        """Whether the picture gets a transparent background."""
        return self.background == "transparent"

    @property
    def size_label(self) -> str:
        """The size as the API spells it."""
        return "auto" if self.size is None else f"{self.size[0]}x{self.size[1]}"


def validate_generation(body: Mapping[str, Any]) -> ImageJob:
    """Check a ``/openai/images/generations`` body and return the job it asks for."""
    return _validate(body, GENERATIONS, GENERATION_QUALITIES)


def validate_edit(body: Mapping[str, Any]) -> ImageJob:
    """Check a ``/openai/images/edits`` body and return the job it asks for."""
    return _validate(body, EDITS, EDIT_QUALITIES)


def is_data_url(url: str) -> bool:
    """Whether ``url`` is a ``data:image/...;base64,`` URL."""
    return _DATA_URL_PATTERN.match(url) is not None


def _validate(body: Mapping[str, Any], kind: str, quality_values: tuple[str, ...]) -> ImageJob:
    prompt = _string(body, "prompt")
    if prompt is None or not prompt.strip():
        raise RuleViolation("prompt is required and must not be empty")
    model = _choice(body, "model", tuple(MODELS)) or DEFAULT_MODEL
    rules = MODELS[model]

    n = _integer(body, "n", 1, MAX_N)
    if n is not None and n > rules.max_n:
        raise RuleViolation(f"n must be {rules.max_n} for model {model}")

    output_format = _choice(body, "output_format", OUTPUT_FORMATS) or "png"
    compression = _integer(body, "output_compression", 0, 100)
    if compression is not None and output_format not in _COMPRESSIBLE_FORMATS:
        raise RuleViolation(
            f"output_compression applies only to jpeg and webp, not to {output_format}"
        )

    quality = _choice(body, "quality", quality_values)
    # API.md: edits also take 'standard' (on gpt-image models, as the client allows).
    model_qualities = rules.qualities | (
        {"standard"} if kind == EDITS and rules.gpt_image else frozenset()
    )
    if quality is not None and quality not in model_qualities:
        owners = [name for name, other in MODELS.items() if quality in other.qualities]
        raise RuleViolation(f"quality {quality!r} is only supported by {', '.join(owners)}")

    style = _choice(body, "style", STYLES)
    if style is not None and style not in rules.styles:
        raise RuleViolation("style is only supported by dall-e-3")

    background = _choice(body, "background", BACKGROUNDS)
    moderation = _choice(body, "moderation", MODERATIONS)
    partial_images = _integer(body, "partial_images", 0, MAX_PARTIAL_IMAGES) or 0
    if not rules.gpt_image:
        for field, value in (
            ("background", background),
            ("moderation", moderation),
            ("partial_images", partial_images or None),
        ):
            if value is not None:
                raise RuleViolation(f"{field} is only supported by gpt-image models, not {model}")
    if background == "transparent" and output_format not in _TRANSPARENT_FORMATS:
        raise RuleViolation("background 'transparent' needs output_format png or webp")

    stream = _boolean(body, "stream")
    asynchronous = _boolean(body, "async")
    callback_url = _callback_url(body)
    if stream and (asynchronous or callback_url is not None):
        raise RuleViolation("stream cannot be combined with async or callback_url")

    trace_id = _string(body, "trace_id")
    if trace_id is not None and not 0 < len(trace_id) <= MAX_TRACE_ID_LENGTH:
        raise RuleViolation(f"trace_id must have 1 to {MAX_TRACE_ID_LENGTH} characters")

    return ImageJob(
        kind=kind,
        prompt=prompt,
        model=model,
        n=n or 1,
        size=_size(body, model, rules),
        output_format=output_format,
        response_format=_choice(body, "response_format", RESPONSE_FORMATS) or "url",
        quality=quality,
        style=style,
        background=background,
        moderation=moderation,
        output_compression=compression,
        partial_images=partial_images,
        stream=stream,
        asynchronous=asynchronous,
        callback_url=callback_url,
        trace_id=trace_id,
        images=_edit_images(body) if kind == EDITS else (),
        input_fidelity=_choice(body, "input_fidelity", INPUT_FIDELITIES) if kind == EDITS else None,
    )


def _size(body: Mapping[str, Any], model: str, rules: ModelRules) -> tuple[int, int] | None:
    size = _string(body, "size") or ("auto" if rules.auto_size else FALLBACK_SIZE)
    if size == "auto":
        if not rules.auto_size:
            raise RuleViolation(f"size 'auto' is not supported by {model}; use {FALLBACK_SIZE}")
        return None
    match = _SIZE_PATTERN.fullmatch(size)
    if match is None:
        raise RuleViolation(f"size must be 'auto' or WIDTHxHEIGHT such as 1024x1024, not {size!r}")
    width, height = int(match[1]), int(match[2])
    if rules.presets is not None and size not in rules.presets:
        allowed = rules.presets + (("auto",) if rules.auto_size else ())
        raise RuleViolation(
            f"size {size!r} is not supported by {model}; use one of {', '.join(allowed)}"
        )
    reason = rules.check_size(width, height) if rules.check_size else None
    if reason is not None:
        raise RuleViolation(f"size {size!r} is not supported by {model}: {reason}")
    return width, height


def _callback_url(body: Mapping[str, Any]) -> str | None:
    url = _string(body, "callback_url")
    if url is not None and not _is_http_url(url):
        raise RuleViolation("callback_url must be an absolute http or https URL")
    return url


def _edit_images(body: Mapping[str, Any]) -> tuple[str, ...]:
    value = body.get("image")
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, list) or not 1 <= len(urls) <= MAX_EDIT_IMAGES:
        raise RuleViolation(f"image must be one URL or a list of 1 to {MAX_EDIT_IMAGES} URLs")
    for position, url in enumerate(urls):
        if not isinstance(url, str) or not (_is_http_url(url) or is_data_url(url)):
            raise RuleViolation(
                f"image[{position}] must be an http(s) URL or a data:image/...;base64, URL"
            )
    return tuple(urls)


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
