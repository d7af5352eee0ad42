"""Checks of the command line's own options, made before any request is sent.

The argparse ``type=`` functions turn a bad value into one line naming the option and what it
takes; :func:`writable_directory` and :func:`local_images` check the file system. Each raises
:class:`argparse.ArgumentTypeError` or :class:`._cli_connection.UsageError`, so a bad option
costs nothing: no job is submitted, so none is billed.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from ._cli_connection import UsageError
from ._image_inputs import local_path_of
from .errors import ImageInputError


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: Suffixes a ``--name`` may end with; the saved file gets the suffix of the image's type.
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
# Room for "-10.webp" within the 255 bytes most file systems allow for a name.
_MAX_NAME_BYTES = 240


def max_wait_seconds(value: str) -> float:
    """``--max-wait``: a finite number of seconds above 0."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"takes a number of seconds above 0, like 120 (got {value!r})"
        )
    return seconds


def file_stem(value: str) -> str:
    """``--name``: a plain file name (no folder, no ``..``); a trailing image suffix is dropped."""
    name = value.strip()
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    if (
        name in ("", ".", "..")
        or any(sep in name for sep in separators)
        or any(ord(char) < 32 or ord(char) == 127 for char in name)
        or len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES
    ):
        raise argparse.ArgumentTypeError(
            f"takes a plain file name without a folder, like fox (got {value!r}); "
            "choose the folder with --out"
        )
    return name


def http_url(value: str) -> str:
    """``--base-url``: an absolute http(s) URL."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"takes an http(s) URL like http://127.0.0.1:8000 (got {value!r})"
        )
    return value.strip()


def writable_directory(out: str) -> Path:
    """``--out``, created if missing, where a file can be written; else a :class:`UsageError`."""
    path = Path(out).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(
            f"--out {out}: images cannot be saved there ({exc.strerror or exc}); "
            "choose another folder. Nothing was sent."
        ) from None
    return path


def local_images(option: str, entries: Sequence[str]) -> list[str]:
    """``--image``/``--mask`` entries with local files made absolute (from the working
    directory, as a person means them); a missing file is a :class:`UsageError`."""
    resolved = []
    for entry in entries:
        try:
            path = local_path_of(entry)
        except ImageInputError as exc:
            raise UsageError(f"{option} {entry}: {exc.message}. Nothing was sent.") from None
        if path is None:
            resolved.append(entry)
            continue
        absolute = Path.cwd() / path
        if not absolute.is_file():
            raise UsageError(f"{option} {entry}: no such file ({absolute}). Nothing was sent.")
        resolved.append(str(absolute))
    return resolved


def image_dimensions(path: str) -> tuple[int, int] | None:
    """Width and height of a local image file, read from its header; ``None`` when unknown."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ModuleNotFoundError:  # the CLI without the "cli" extra: the size is left to the API
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return int(width), int(height)


__all__ = [
    "file_stem",
    "http_url",
    "image_dimensions",
    "local_images",
    "max_wait_seconds",
    "writable_directory",
]
