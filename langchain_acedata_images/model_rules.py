"""The per-model rules: one table of what each model accepts, and the checks built on it.

:data:`MODEL_RULES` is the client's own reading of AceDataCloud's documents (sizes, qualities,
``n``, prompt length, feature support). The request models in :mod:`.models` apply it before
any request is sent, and their validation errors name the allowed values. The emulator keeps
an independent table; ``tests/contract/test_differential.py`` compares the two with the
published contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

_SIZE_RE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
GPT_IMAGE_2_MAX_SIDE = 3840
GPT_IMAGE_2_MAX_PIXELS = 8_294_400
#: Longest prompt any model accepts (per-model limits are in :data:`MODEL_RULES`).
MAX_PROMPT_CHARS = 32_000


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
    """What one model accepts; ``sizes=None`` means any ``WxH`` that ``custom_size`` allows.

    ``honours_n`` is false where a documented variant of the service silently reduces ``n``
    to 1 (the client then sends ``n`` single-image jobs); ``multipart_edits`` is false where
    the published multipart edit schema does not list the model (uploads then go as ``data:``
    URLs in a JSON body).
    """

    family: Literal["gpt-image", "dall-e", "nano-banana"]
    sizes: tuple[str, ...] | None
    allow_auto_size: bool
    qualities: tuple[str, ...]
    max_n: int = 10
    custom_size: Callable[[int, int], str | None] | None = None
    max_prompt: int = MAX_PROMPT_CHARS
    honours_n: bool = False
    multipart_edits: bool = True

    @property
    def is_gpt_image(self) -> bool:
        return self.family == "gpt-image"


_GPT_QUALITIES = ("auto", "high", "medium", "low")
_GPT_IMAGE_1_SIZES = ("1024x1024", "1536x1024", "1024x1536")
_GPT_IMAGE_1 = ModelRules("gpt-image", _GPT_IMAGE_1_SIZES, True, _GPT_QUALITIES)
_GPT_IMAGE_2 = ModelRules(
    "gpt-image", None, True, _GPT_QUALITIES, custom_size=_gpt_image_2_size_problem
)
# AceDataCloud documents no size list for nano-banana: accept presets, auto and any WxH.
_NANO_BANANA = ModelRules("nano-banana", None, True, _GPT_QUALITIES)

#: The one table of per-model rules (sizes, qualities, n, prompt length, feature support).
#: ``gpt-image-2:*`` are channels of gpt-image-2 and ``nano-banana-2-lite`` a nano-banana.
MODEL_RULES: dict[str, ModelRules] = {
    "gpt-image-1": _GPT_IMAGE_1,
    "gpt-image-1.5": _GPT_IMAGE_1,
    "gpt-image-2": _GPT_IMAGE_2,
    "gpt-image-2:reverse": _GPT_IMAGE_2,
    "gpt-image-2:official": _GPT_IMAGE_2,
    "dall-e-3": ModelRules(
        "dall-e",
        ("1024x1024", "1792x1024", "1024x1792"),
        False,
        ("auto", "hd", "standard"),
        max_n=1,
        max_prompt=4000,
        honours_n=True,
    ),
    "dall-e-2": ModelRules(
        "dall-e",
        ("256x256", "512x512", "1024x1024"),
        False,
        ("auto", "standard"),
        max_prompt=1000,
        honours_n=True,
    ),
    "nano-banana": _NANO_BANANA,
    "nano-banana-2-lite": replace(_NANO_BANANA, multipart_edits=False),
    "nano-banana-2": _NANO_BANANA,
    "nano-banana-pro": _NANO_BANANA,
}
#: Edits accept ``standard`` quality on gpt-image models too (API.md, edits).
EDIT_EXTRA_QUALITIES = ("standard",)


def join_values(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def models_where(
    predicate: Callable[[ModelRules], bool], among: tuple[str, ...] | None = None
) -> str:
    names = among if among is not None else tuple(MODEL_RULES)
    return join_values(
        [name for name in names if name in MODEL_RULES and predicate(MODEL_RULES[name])]
    )


def gpt_image_only(model: str, rules: ModelRules) -> bool:
    return rules.is_gpt_image


#: Arguments only some models accept: a tool offering none of those models hides them.
MODEL_SPECIFIC_FIELDS: dict[str, Callable[[str, ModelRules], bool]] = {
    "background": gpt_image_only,
    "moderation": gpt_image_only,
    "input_fidelity": gpt_image_only,
    "partial_images": gpt_image_only,
    "style": lambda model, rules: model == "dall-e-3",
}

#: What each model is good at, in the fewest words (the LLM reads these on every turn).
MODEL_NOTES: dict[str, str] = {
    "gpt-image-1": "versatile",
    "gpt-image-2": "newest, 4K",
    "dall-e-3": "artistic",
    "nano-banana": "fast",
    "nano-banana-pro": "best",
}


def model_description(models: tuple[str, ...], default: str) -> str:
    """The ``model`` field's description for the offered ``models``."""
    notes = [
        f"{name}{' (default)' if name == default else ''} {MODEL_NOTES[name]}"
        for name in models
        if name in MODEL_NOTES
    ]
    return "; ".join(notes) + "."
