"""Image inputs of edits: pass URLs through, turn permitted local files into ``data:`` URLs.

The API accepts ``http(s)`` URLs and ``data:`` URLs. Local files are read only when the caller
opts in (``allow_local_files``), are sniffed by their magic bytes (PNG, JPEG, WebP, GIF), capped
in size and optionally confined to one directory. Everything but the file read is pure; the
async variant runs that read in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .errors import ImageInputError
from .storage import sniff

#: Largest local image that is inlined as a ``data:`` URL (20 MiB).
MAX_LOCAL_IMAGE_BYTES = 20 * 1024 * 1024
#: MIME types that may be read from local files.
SUPPORTED_LOCAL_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")

_REMOTE_RE = re.compile(r"^(https?://|data:)", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_ACCEPTED = "only http(s) URLs and data: URLs are accepted"


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of PNG, JPEG, WebP or GIF data from its first bytes, else ``None``."""
    kind = sniff(head)
    return kind.mime_type if kind else None


def _clip(entry: str, limit: int = 80) -> str:
    return entry if len(entry) <= limit else entry[: limit - 1] + "…"


def local_path_of(entry: str) -> Path | None:
    """The file an entry names (a path or a ``file://`` URL); ``None`` for http(s)/data: URLs.

    Raises :class:`ImageInputError` for other URL schemes (``ftp://``, ``s3://``, …).
    """
    if _REMOTE_RE.match(entry):
        return None
    if entry[:7].lower() == "file://":
        parts = urlsplit(entry)
        if parts.netloc not in ("", "localhost"):
            raise ImageInputError(f"file URL {_clip(entry)!r} names another host; {_ACCEPTED}")
        return Path(url2pathname(parts.path))
    scheme = _SCHEME_RE.match(entry)
    if scheme:
        raise ImageInputError(
            f"image {_clip(entry)!r} uses the unsupported scheme {scheme[1]!r}; {_ACCEPTED}"
        )
    return Path(entry).expanduser()


def plan_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool,
    root: str | os.PathLike[str] | None = None,
) -> list[str | Path]:
    """Check every entry without reading anything: URLs stay strings, files become paths.

    With ``root`` set, relative paths are resolved against it and every file must lie inside
    it (symlinks are resolved first).
    """
    entries = [images] if isinstance(images, str) else list(images)
    planned: list[str | Path] = []
    for entry in entries:
        path = local_path_of(entry)
        if path is None:
            planned.append(entry)
            continue
        if not allow_local_files:
            raise ImageInputError(
                f"image {_clip(entry)!r} looks like a local file path, but local files are not "
                f"enabled for this tool: {_ACCEPTED}. Pass the image's public URL (for example "
                "one returned by openai_generate_image) instead."
            )
        planned.append(_confined(path, root, entry))
    return planned


def _confined(path: Path, root: str | os.PathLike[str] | None, entry: str) -> Path:
    if root is None:
        return path
    base = Path(root).expanduser().resolve()
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base):
        raise ImageInputError(
            f"image {_clip(entry)!r} is outside the directory local images may be read from"
        )
    return resolved


def read_image_as_data_url(path: Path, *, max_bytes: int = MAX_LOCAL_IMAGE_BYTES) -> str:
    """Read one local image and return it as a ``data:image/<type>;base64,`` URL."""
    shown = _clip(str(path))
    try:
        if not path.is_file():
            raise ImageInputError(f"local image {shown!r} does not exist or is not a file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ImageInputError(
            f"local image {shown!r} cannot be read ({exc.strerror or exc})"
        ) from exc
    if len(data) > max_bytes:
        raise ImageInputError(
            f"local image {shown!r} is larger than {max_bytes // (1024 * 1024)} MiB; "
            "use a smaller image or a URL"
        )
    mime_type = sniff_image_type(data[:16])
    if mime_type is None:
        raise ImageInputError(f"local file {shown!r} is not a PNG, JPEG, WebP or GIF image")
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def _materialize(planned: list[str | Path], max_bytes: int) -> list[str]:
    return [
        entry if isinstance(entry, str) else read_image_as_data_url(entry, max_bytes=max_bytes)
        for entry in planned
    ]


def _same_shape(images: str | Sequence[str], resolved: list[str]) -> str | list[str]:
    return resolved[0] if isinstance(images, str) else resolved


def resolve_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool = False,
    root: str | os.PathLike[str] | None = None,
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
) -> str | list[str]:
    """Entries the API accepts: URLs unchanged, permitted local files as ``data:`` URLs.

    Returns a string for a string input and a list for a list input.
    """
    planned = plan_image_inputs(images, allow_local_files=allow_local_files, root=root)
    return _same_shape(images, _materialize(planned, max_bytes))


async def aresolve_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool = False,
    root: str | os.PathLike[str] | None = None,
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
) -> str | list[str]:
    """Async :func:`resolve_image_inputs`: file reads run in a worker thread."""
    planned = plan_image_inputs(images, allow_local_files=allow_local_files, root=root)
    if all(isinstance(entry, str) for entry in planned):
        return _same_shape(images, [str(entry) for entry in planned])
    resolved = await asyncio.to_thread(_materialize, planned, max_bytes)
    return _same_shape(images, resolved)


__all__ = [
    "MAX_LOCAL_IMAGE_BYTES",
    "SUPPORTED_LOCAL_TYPES",
    "ImageInputError",
    "aresolve_image_inputs",
    "local_path_of",
    "plan_image_inputs",
    "read_image_as_data_url",
    "resolve_image_inputs",
    "sniff_image_type",
]
