"""Deterministic placeholder pictures for the emulator, drawn with Pillow.

A picture is a four-colour gradient whose colours derive from a hash of the prompt and the image
index, with the prompt (wrapped, truncated) and the size drawn on it. Equal inputs give equal
bytes, so tests can compare results. Every step stays fast at 4K: the gradient is drawn at 2x2
pixels and resized, PNG uses ``compress_level=1`` and WebP ``method=0``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
"""Content type of each output format."""

FILE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
"""File name extension of each output format."""

DEFAULT_QUALITY = 90
"""JPEG/WebP quality used when the request carries no ``output_compression``."""

_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_TINT_STRENGTH = 0.3
_MAX_CAPTION_LINES = 6
_EDIT_CAPTION_LINES = 3  # the band above an edited picture stays small
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Picture:
    """What to draw: the prompt, the pixel size, and how to encode it."""

    prompt: str
    width: int
    height: int
    index: int = 0
    output_format: str = "png"
    quality: int | None = None
    transparent: bool = False


@dataclass(frozen=True)
class RenderedImage:
    """An encoded image and its content type."""

    data: bytes
    mime_type: str


@lru_cache(maxsize=16)
def render_picture(picture: Picture) -> RenderedImage:
    """Draw the picture for a generation request (cached: retries often repeat a request)."""
    canvas = _gradient(picture)
    if picture.transparent:
        canvas = _cut_out(canvas)
    _draw_caption(canvas, picture)
    return _encode(canvas, picture)


def render_edit(picture: Picture, sources: Sequence[Image.Image]) -> RenderedImage:
    """Draw an edit result: the new prompt in a band on top, the first source below it.

    The source keeps its own caption (the earlier prompt) and is only shrunk and tinted, so
    both prompts stay readable; further sources are inset as references.
    """
    canvas = _gradient(picture)
    if picture.transparent:
        canvas = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    # The new prompt above, the size label below, the source between them.
    top = min(_caption_height(picture, _EDIT_CAPTION_LINES), picture.height // 2)
    bottom = min(_label_height(picture), picture.height // 4)
    area = (picture.width, max(1, picture.height - top - bottom))
    base = ImageOps.contain(sources[0].convert("RGBA"), area)
    tint = _gradient(replace(picture, width=base.width, height=base.height))
    tint.putalpha(base.getchannel("A"))
    canvas.alpha_composite(
        Image.blend(base, tint, _TINT_STRENGTH),
        ((area[0] - base.width) // 2, top + (area[1] - base.height) // 2),
    )
    if not picture.transparent:
        canvas = _flatten(canvas)
    _inset_references(canvas, sources[1:])
    _draw_caption(canvas, picture, max_lines=_EDIT_CAPTION_LINES)
    return _encode(canvas, picture)


def render_partial(final: RenderedImage, picture: Picture, step: int, steps: int) -> RenderedImage:
    """Return a low-resolution preview of ``final``: step 0 of ``steps`` is the smallest."""
    # Previews halve in size per remaining step, so encoding them costs little even at 4K.
    with Image.open(io.BytesIO(final.data)) as image:
        preview: Image.Image = image.reduce(2 ** (steps - step))
    return _encode(preview, picture)


def decode_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an input image, raising ``ValueError`` if it is not one or is too large."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ValueError(f"image is {width}x{height}, larger than {max_pixels} pixels")
            image.load()
            decoded: Image.Image = image.copy()
            return decoded
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError("not a decodable PNG, JPEG, WebP or GIF image") from exc


def _palette(picture: Picture) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(f"{picture.index}\x00{picture.prompt}".encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 12, 3)]


def _gradient(picture: Picture) -> Image.Image:
    corners = Image.new("RGBA", (2, 2))
    corners.putdata([(*colour, 255) for colour in _palette(picture)])
    # Bilinear upscaling of four pixels is a smooth gradient at a tiny fraction of the cost of
    # computing one per pixel.
    return corners.resize((picture.width, picture.height), Image.Resampling.BILINEAR)


def _cut_out(canvas: Image.Image) -> Image.Image:
    """Keep an ellipse of the gradient and make the rest of the background transparent."""
    mask = Image.new("L", canvas.size, 0)
    inset_x, inset_y = canvas.width // 10, canvas.height // 10
    ImageDraw.Draw(mask).ellipse(
        (inset_x, inset_y, canvas.width - inset_x, canvas.height - inset_y), fill=255
    )
    canvas.putalpha(mask)
    return canvas


def _flatten(canvas: Image.Image) -> Image.Image:
    background = Image.new("RGBA", canvas.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, canvas)


def _inset_references(canvas: Image.Image, references: Sequence[Image.Image]) -> None:
    side = max(1, min(canvas.width, canvas.height) // 6)
    margin = max(1, side // 8)
    x = canvas.width - margin - side
    for reference in references:
        if x < 0:
            break
        thumbnail = ImageOps.fit(reference.convert("RGBA"), (side, side))
        canvas.alpha_composite(thumbnail, (x, canvas.height - margin - side))
        x -= side + margin


def _caption_style(picture: Picture) -> tuple[_Font, int]:
    """The caption's font and margin for a picture of this size."""
    short_side = min(picture.width, picture.height)
    return _font(max(10, short_side // 18)), max(4, short_side // 24)


def _caption_height(picture: Picture, max_lines: int) -> int:
    """Pixels from the top edge to just below the caption's last line."""
    font, margin = _caption_style(picture)
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    lines = _wrap(draw, picture.prompt, font, picture.width - 2 * margin, max_lines)
    bottom = draw.multiline_textbbox((margin, margin), "\n".join(lines) or " ", font=font)[3]
    return int(bottom) + margin


def _label_height(picture: Picture) -> int:
    """Pixels from the bottom edge to just above the size label."""
    short_side = min(picture.width, picture.height)
    return max(8, short_side // 24) + 2 * _caption_style(picture)[1]


def _draw_caption(
    canvas: Image.Image, picture: Picture, *, max_lines: int = _MAX_CAPTION_LINES
) -> None:
    short_side = min(picture.width, picture.height)
    draw = ImageDraw.Draw(canvas)
    font, margin = _caption_style(picture)
    label_font = _font(max(8, short_side // 24))
    fill, stroke_fill = (255, 255, 255, 255), (0, 0, 0, 255)
    stroke = max(1, short_side // 400)
    lines = _wrap(draw, picture.prompt, font, picture.width - 2 * margin, max_lines)
    draw.multiline_text(
        (margin, margin),
        "\n".join(lines),
        font=font,
        fill=fill,
        stroke_width=stroke,
        stroke_fill=stroke_fill,
    )
    label = f"{picture.width}x{picture.height}  #{picture.index + 1}"
    draw.text(
        (margin, picture.height - margin),
        label,
        font=label_font,
        anchor="ld",
        fill=fill,
        stroke_width=stroke,
        stroke_fill=stroke_fill,
    )


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: _Font,
    max_width: int,
    max_lines: int = _MAX_CAPTION_LINES,
) -> list[str]:
    """Greedy word wrap; words wider than a line are split; extra lines end in an ellipsis."""
    lines: list[str] = []
    current = ""
    # At most max_lines lines are shown, so a longer prompt (even one "word" of
    # 32,000 characters, as CJK or emoji text is) is cut before it is measured.
    text = text[: (max_lines + 1) * max(1, max_width)]
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if draw.textlength(candidate, font=font) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while draw.textlength(current, font=font) > max_width and len(current) > 1:
            if len(lines) > max_lines:
                break
            cut = _longest_fitting_prefix(draw, current, font, max_width)
            lines.append(current[:cut])
            current = current[cut:]
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 1)] + "\u2026"
    return lines


def _longest_fitting_prefix(
    draw: ImageDraw.ImageDraw, word: str, font: _Font, max_width: int
) -> int:
    low, high = 1, max(1, min(len(word), max_width))  # a visible glyph is >= 1 pixel wide
    while low < high:
        middle = (low + high + 1) // 2
        if draw.textlength(word[:middle], font=font) <= max_width:
            low = middle
        else:
            high = middle - 1
    return low


@lru_cache(maxsize=32)
def _font(size: int) -> _Font:
    return ImageFont.load_default(size=size)


def _encode(canvas: Image.Image, picture: Picture) -> RenderedImage:
    output_format = picture.output_format
    keep_alpha = picture.transparent and output_format in ("png", "webp")
    image = canvas.convert("RGBA" if keep_alpha else "RGB")
    quality = DEFAULT_QUALITY if picture.quality is None else picture.quality
    options: dict[str, int] = {
        "png": {"compress_level": 1},
        "jpeg": {"quality": quality},
        "webp": {"quality": quality, "method": 0},
    }[output_format]
    buffer = io.BytesIO()
    image.save(buffer, format=_PIL_FORMATS[output_format], **options)
    return RenderedImage(data=buffer.getvalue(), mime_type=MIME_TYPES[output_format])
