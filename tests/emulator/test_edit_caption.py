"""Emulator edits: the new prompt gets its own band, the source (with its caption) sits below."""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from langchain_acedata_images.emulator.images import (
    Picture,
    _caption_height,
    _label_height,
    render_edit,
)

EDIT = Picture("Make the fox's fur bright blue", 1536, 1024)


def _edit_of(source: Image.Image, picture: Picture = EDIT) -> Image.Image:
    return Image.open(io.BytesIO(render_edit(picture, [source]).data)).convert("RGB")


def _rows(image: Image.Image, top: int, bottom: int) -> Image.Image:
    return image.crop((0, top, image.width, bottom))


def test_the_new_caption_band_is_untouched_by_the_source() -> None:
    black = _edit_of(Image.new("RGB", (1536, 1024), (0, 0, 0)))
    white = _edit_of(Image.new("RGB", (1536, 1024), (255, 255, 255)))
    top = _caption_height(EDIT, 3)
    bottom = EDIT.height - _label_height(EDIT)
    assert 0 < top < bottom < EDIT.height
    # The band holding the new prompt and the label strip do not show the source at all ...
    assert ImageChops.difference(_rows(black, 0, top), _rows(white, 0, top)).getbbox() is None
    strip = ImageChops.difference(_rows(black, bottom, 1024), _rows(white, bottom, 1024))
    assert strip.getbbox() is None
    # ... while the source shows between them.
    assert ImageChops.difference(_rows(black, top, bottom), _rows(white, top, bottom)).getbbox()


def test_tiny_and_huge_edits_render() -> None:
    source = Image.new("RGB", (64, 64), (10, 20, 30))
    for width, height in ((16, 16), (64, 1024), (3840, 2160)):
        picture = Picture("a long prompt " * 40, width, height, output_format="webp")
        assert _edit_of(source, picture).size == (width, height)
