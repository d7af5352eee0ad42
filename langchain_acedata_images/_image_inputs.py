"""Image inputs of edits: URLs, image handles, and bytes to upload.

An entry is an ``http(s)`` or ``data:`` URL, an image handle (``img:<task_id>:<index>``, see
:mod:`.handles`), or a local file. Local files are read only when the caller opts in
(``allow_local_files``) or when they lie in a trusted directory (the ``save_dir`` this package
saved its own images to); they are sniffed by their magic bytes (PNG, JPEG, WebP, GIF), capped
in size and optionally confined to one directory. Read files become :class:`ImageFile` objects,
which the client uploads (multipart) or inlines as ``data:`` URLs. Everything but the file read
is pure; the async variant runs that read in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .errors import ImageInputError
from .handles import ImageHandle
from .storage import sniff

#: Largest local image that is inlined as a ``data:`` URL (20 MiB).
MAX_LOCAL_IMAGE_BYTES = 20 * 1024 * 1024
#: MIME types that may be read from local files.
SUPPORTED_LOCAL_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")

_REMOTE_RE = re.compile(r"^(https?://|data:)", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_ACCEPTED = "only http(s) URLs, data: URLs and image references are accepted"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ImageFile:
    """Image bytes to upload, with their sniffed MIME type and a file name for the form."""

    data: bytes = field(repr=False)
    mime_type: str
    filename: str = "image.png"

    def __repr__(self) -> str:
        return f"ImageFile({self.filename!r}, {self.mime_type}, {len(self.data)} bytes)"

    @property
    def data_url(self) -> str:
        """The image as a ``data:`` URL (for services that take inline images in JSON)."""
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    @property
    def png_size(self) -> tuple[int, int] | None:
        """``(width, height)`` from a PNG's header, ``None`` for other types."""
        if self.mime_type != "image/png" or len(self.data) < 24:
            return None
        return int.from_bytes(self.data[16:20], "big"), int.from_bytes(self.data[20:24], "big")


#: What the client accepts as one edit image: a URL or handle, or bytes to upload.
ImageSource = str | bytes | bytearray | os.PathLike[str] | IO[bytes] | ImageFile | ImageHandle
#: One entry after loading: a URL to send as is, a handle to resolve, or bytes to upload.
LoadedImage = str | ImageHandle | ImageFile


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of PNG, JPEG, WebP or GIF data from its first bytes, else ``None``."""
    kind = sniff(head)
    return kind.mime_type if kind else None


def _size_text(size: int) -> str:
    return f"{size / 2**20:g} MiB" if size >= 2**20 else f"{size:,} bytes"


def _clip(entry: str, limit: int = 80) -> str:
    return entry if len(entry) <= limit else entry[: limit - 1] + "…"


def local_path_of(entry: str) -> Path | None:
    """The file an entry names (a path or a ``file://`` URL); ``None`` for http(s)/data: URLs.

    Raises :class:`ImageInputError` for other URL schemes (``ftp://``, ``s3://``, …).
    """
    if _REMOTE_RE.match(entry) or entry.startswith("img:"):
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
    trusted_dirs: Sequence[str | os.PathLike[str]] = (),
) -> list[str | Path | ImageHandle]:
    """Check every entry without reading anything: URLs stay strings, handles and files parsed.

    With ``root`` set, relative paths are resolved against it and every file must lie inside
    it (symlinks are resolved first). Files inside one of ``trusted_dirs`` (where this package
    saved images) are accepted even without ``allow_local_files``.
    """
    entries = [images] if isinstance(images, str) else list(images)
    planned: list[str | Path | ImageHandle] = []
    for entry in entries:
        handle = ImageHandle.parse(entry)
        if handle is not None:
            planned.append(handle)
            continue
        path = local_path_of(entry)
        if path is None:
            planned.append(entry)
            continue
        trusted = _inside_any(path, trusted_dirs)
        if trusted is not None:
            planned.append(trusted)
            continue
        if not allow_local_files:
            raise ImageInputError(
                f"image {_clip(entry)!r} looks like a local file path, but local files are not "
                f"enabled for this tool: {_ACCEPTED}. Pass the image's public URL or the "
                "reference an earlier tool result printed (a saved path or 'img:…') instead."
            )
        planned.append(_confined(path, root, entry))
    return planned


def _inside_any(path: Path, directories: Sequence[str | os.PathLike[str]]) -> Path | None:
    """``path`` resolved, if it lies inside one of ``directories``; else ``None``.

    A relative path is read as the caller means it (from the working directory, like the
    paths results print), else as relative to the directory itself.
    """
    path = path.expanduser()
    for directory in directories:
        base = Path(directory).expanduser().resolve()
        for resolved in (path.resolve(), (base / path).resolve()):
            if resolved.is_relative_to(base):
                return resolved
    return None


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


def read_image_file(path: Path, *, max_bytes: int = MAX_LOCAL_IMAGE_BYTES) -> ImageFile:
    """Read one local image (PNG, JPEG, WebP or GIF, at most ``max_bytes``)."""
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
    return image_file(data, name=path.name, max_bytes=max_bytes, shown=f"local image {shown!r}")


def read_image_as_data_url(path: Path, *, max_bytes: int = MAX_LOCAL_IMAGE_BYTES) -> str:
    """Read one local image and return it as a ``data:image/<type>;base64,`` URL."""
    return read_image_file(path, max_bytes=max_bytes).data_url


def image_file(
    data: bytes,
    *,
    name: str | None = None,
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
    shown: str = "image data",
) -> ImageFile:
    """Check ``data`` is a PNG, JPEG, WebP or GIF image of at most ``max_bytes``."""
    if len(data) > max_bytes:
        raise ImageInputError(
            f"{shown} is larger than {_size_text(max_bytes)}; use a smaller image"
        )
    mime_type = sniff_image_type(data[:16])
    if mime_type is None:
        raise ImageInputError(f"{shown} is not a PNG, JPEG, WebP or GIF image")
    extension = mime_type.split("/")[1].replace("jpeg", "jpg")
    stem = Path(name).stem if name else "image"
    return ImageFile(
        bytes(data), mime_type, f"{_SAFE_NAME.sub('_', stem)[:40] or 'image'}.{extension}"
    )


def decode_data_url(url: str, *, max_bytes: int = MAX_LOCAL_IMAGE_BYTES) -> ImageFile:
    """The image inside a base64 ``data:`` URL."""
    header, _, payload = url.partition(",")
    if not header.lower().endswith(";base64"):
        raise ImageInputError("data: URLs of images must be base64-encoded (';base64,')")
    compact = "".join(payload.split())
    if len(compact) // 4 * 3 > max_bytes + 2:
        raise ImageInputError(f"a data: URL image is larger than {_size_text(max_bytes)}")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageInputError(f"a data: URL is not valid base64 ({exc})") from exc
    return image_file(data, max_bytes=max_bytes, shown="a data: URL image")


def load_image_source(
    source: ImageSource, *, max_bytes: int = MAX_LOCAL_IMAGE_BYTES
) -> LoadedImage:
    """One programmatic edit input, checked: a URL or handle, or bytes to upload.

    ``bytes``, file objects and :class:`os.PathLike` paths are read (an explicit request to
    upload them); plain strings must be ``http(s)``/``data:`` URLs or handles, never paths.
    """
    if isinstance(source, (ImageFile, ImageHandle)):
        return source
    if isinstance(source, str):
        handle = ImageHandle.parse(source)
        if handle is not None:
            return handle
        if not _REMOTE_RE.match(source):
            raise ImageInputError(
                f"image {_clip(source)!r} is not an http(s) URL, data: URL or image handle; "
                "pass a pathlib.Path (or bytes) to upload a local file"
            )
        return source
    if isinstance(source, (bytes, bytearray)):
        return image_file(bytes(source), max_bytes=max_bytes)
    if isinstance(source, os.PathLike):
        return read_image_file(Path(source), max_bytes=max_bytes)
    data = source.read(max_bytes + 1)
    if not isinstance(data, bytes):
        raise ImageInputError("image file objects must be opened in binary mode ('rb')")
    name = getattr(source, "name", None)
    return image_file(data, name=name if isinstance(name, str) else None, max_bytes=max_bytes)


def _load(planned: list[str | Path | ImageHandle], max_bytes: int) -> list[LoadedImage]:
    return [
        read_image_file(entry, max_bytes=max_bytes) if isinstance(entry, Path) else entry
        for entry in planned
    ]


def load_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool = False,
    root: str | os.PathLike[str] | None = None,
    trusted_dirs: Sequence[str | os.PathLike[str]] = (),
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
) -> list[LoadedImage]:
    """The tool's image entries, checked and with permitted local files read."""
    planned = plan_image_inputs(
        images, allow_local_files=allow_local_files, root=root, trusted_dirs=trusted_dirs
    )
    return _load(planned, max_bytes)


async def aload_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool = False,
    root: str | os.PathLike[str] | None = None,
    trusted_dirs: Sequence[str | os.PathLike[str]] = (),
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
) -> list[LoadedImage]:
    """Async :func:`load_image_inputs`: file reads run in a worker thread."""
    planned = plan_image_inputs(
        images, allow_local_files=allow_local_files, root=root, trusted_dirs=trusted_dirs
    )
    if not any(isinstance(entry, Path) for entry in planned):
        return _load(planned, max_bytes)
    return await asyncio.to_thread(_load, planned, max_bytes)


def _materialize(planned: list[str | Path | ImageHandle], max_bytes: int) -> list[str]:
    resolved: list[str] = []
    for entry in planned:
        if isinstance(entry, ImageHandle):
            raise ImageInputError(f"image handle {entry} needs the client to resolve it")
        resolved.append(
            entry if isinstance(entry, str) else read_image_as_data_url(entry, max_bytes=max_bytes)
        )
    return resolved


def _same_shape(images: str | Sequence[str], resolved: list[str]) -> str | list[str]:
    return resolved[0] if isinstance(images, str) else resolved


def resolve_image_inputs(
    images: str | Sequence[str],
    *,
    allow_local_files: bool = False,
    root: str | os.PathLike[str] | None = None,
    max_bytes: int = MAX_LOCAL_IMAGE_BYTES,
) -> str | list[str]:
    """Entries as URLs: URLs unchanged, permitted local files as ``data:`` URLs.

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
    "ImageFile",
    "ImageInputError",
    "ImageSource",
    "LoadedImage",
    "aload_image_inputs",
    "aresolve_image_inputs",
    "decode_data_url",
    "image_file",
    "load_image_inputs",
    "load_image_source",
    "local_path_of",
    "plan_image_inputs",
    "read_image_as_data_url",
    "read_image_file",
    "resolve_image_inputs",
    "sniff_image_type",
]
