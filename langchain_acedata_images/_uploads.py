"""How an edit's images travel: JSON with URLs, or a multipart upload of their bytes.

JSON with URLs stays the default when every image is a URL (``http(s)`` or ``data:``) and there
is no mask. Bytes (files, paths, base64-only images named by a handle) and masks go as
``multipart/form-data`` the way the OpenAI SDK sends them (``image`` for one file, ``image[]``
for several, ``mask``, every other field a form field), which is what the published contract
documents. Older deployments only read JSON: when one refuses the multipart body with a 4xx
(nothing was created), the edit is sent once more as JSON with ``data:`` URLs, and the other
way round for models the multipart schema does not list. Handles are resolved by a flow: the
client's cache first, else one ``retrieve`` of the task.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ._base import BaseImagesClient
from ._image_inputs import ImageFile, LoadedImage, decode_data_url, image_file, load_image_source
from ._lookups import lookup_flow
from ._steps import Flow
from .errors import ImageInputError
from .handles import HandleCache, ImageHandle, image_in_record
from .models import EditImageInput, GeneratedImage

Encoding = Literal["json", "multipart"]
#: The published limit of a mask file.
MAX_MASK_BYTES = 4 * 2**20
#: Largest image the service takes in an edit (GPT image models: 50 MB each).
MAX_UPLOAD_BYTES = 50 * 2**20
#: Statuses that prove a body was refused before any job was created.
REFUSED_STATUSES = frozenset({400, 404, 405, 415, 422})


@dataclass(frozen=True)
class EditUpload:
    """An edit's images (URLs or bytes) and mask, and the encoding they are sent in."""

    images: tuple[str | ImageFile, ...]
    mask: ImageFile | None
    encoding: Encoding
    single: bool = False
    """``image`` was one entry, not a list (kept in JSON bodies and form field names)."""

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON body, or the form fields of a multipart body."""
        fields = {name: value for name, value in body.items() if name not in ("image", "mask")}
        if self.encoding == "multipart":
            return fields
        urls = [entry if isinstance(entry, str) else entry.data_url for entry in self.images]
        return {"image": urls[0] if self.single else urls, **fields}

    def files(self) -> list[tuple[str, tuple[str, bytes, str]]] | None:
        """The multipart files (``None`` for JSON)."""
        if self.encoding != "multipart":
            return None
        # As the OpenAI SDK names them: ``image`` for one file, ``image[]`` for a list.
        name = "image" if self.single else "image[]"
        files = [
            (name, (entry.filename, entry.data, entry.mime_type))
            for entry in self.images
            if isinstance(entry, ImageFile)
        ]
        if self.mask is not None:
            files.append(("mask", (self.mask.filename, self.mask.data, self.mask.mime_type)))
        return files

    def alternative(self) -> EditUpload | None:
        """The other encoding, when it can carry this edit (JSON cannot carry a mask, and
        multipart cannot carry an ``http(s)`` URL without downloading it)."""
        if self.encoding == "multipart":
            return None if self.mask is not None else replace(self, encoding="json")
        if not all(isinstance(entry, ImageFile) or _is_data_url(entry) for entry in self.images):
            return None
        files = tuple(_as_file(entry) for entry in self.images)
        return replace(self, images=files, encoding="multipart")


def plan_upload(
    request: EditImageInput, images: Sequence[str | ImageFile], mask: ImageFile | None
) -> EditUpload:
    """Pick the encoding: URLs only → JSON; bytes or a mask → multipart where it is listed."""
    single = isinstance(request.image, str)
    if mask is not None:
        _check_mask(mask, images)
    urls = [entry for entry in images if isinstance(entry, str) and not _is_data_url(entry)]
    uploads = [entry for entry in images if isinstance(entry, ImageFile)]
    if mask is None and (urls or not uploads):
        # URLs only, or URLs mixed with bytes: JSON carries both without downloading any URL.
        return EditUpload(tuple(images), None, "json", single)
    if urls:
        raise ImageInputError(
            "a mask needs every image as an upload (file, data: URL or image reference), "
            "not an http(s) URL"
        )
    files = tuple(_as_file(entry) for entry in images)
    rules = request.rules
    prefer_json = rules is not None and not rules.multipart_edits and mask is None
    return EditUpload(files, mask, "json" if prefer_json else "multipart", single)


def _is_data_url(entry: str) -> bool:
    return entry[:5].lower() == "data:"


def _as_file(entry: str | ImageFile) -> ImageFile:
    return entry if isinstance(entry, ImageFile) else decode_data_url(entry)


def _check_mask(mask: ImageFile, images: Sequence[str | ImageFile]) -> None:
    if mask.mime_type != "image/png":
        raise ImageInputError(f"the mask must be a PNG image, not {mask.mime_type}")
    if len(mask.data) > MAX_MASK_BYTES:
        raise ImageInputError(f"the mask must be at most 4 MiB, not {len(mask.data):,} bytes")
    first = images[0] if images else None
    first_size = first.png_size if isinstance(first, ImageFile) else None
    if first_size and mask.png_size and first_size != mask.png_size:
        raise ImageInputError(
            f"the mask is {mask.png_size[0]}x{mask.png_size[1]} but the first image is "
            f"{first_size[0]}x{first_size[1]}; they must be the same size"
        )


def resolve_flow(
    base: BaseImagesClient, entries: Sequence[LoadedImage], cache: HandleCache
) -> Flow[list[str | ImageFile]]:
    """Every handle replaced by its image (a URL, or bytes from base64)."""
    resolved: list[str | ImageFile] = []
    for entry in entries:
        if not isinstance(entry, ImageHandle):
            resolved.append(entry)
            continue
        image = cache.get(entry)
        if image is None:
            if entry.local:
                raise ImageInputError(
                    f"image {entry} is no longer available in this process; pass its URL or "
                    "saved path, or generate it again"
                )
            record = yield from lookup_flow(base, entry.task_id, None)
            if record is None:
                raise ImageInputError(f"image {entry} names an unknown task")
            image = image_in_record(record, entry)
            cache.put(entry, image)
        resolved.append(_payload(entry, image))
    return resolved


def resolve_upload_flow(
    base: BaseImagesClient,
    request: Any,
    images: Sequence[LoadedImage],
    mask: LoadedImage | None,
    cache: HandleCache,
) -> Flow[EditUpload]:
    """The edit's images and mask resolved (handles looked up), and the encoding chosen."""
    assert isinstance(request, EditImageInput)
    resolved = yield from resolve_flow(base, images, cache)
    mask_file: ImageFile | None = None
    if mask is not None:
        (entry,) = yield from resolve_flow(base, [mask], cache)
        if isinstance(entry, str) and not _is_data_url(entry):
            raise ImageInputError(
                "the mask must be uploaded (a file, data: URL or image reference to a base64 "
                "image), not an http(s) URL"
            )
        mask_file = _as_file(entry)
    return plan_upload(request, resolved, mask_file)


def _payload(handle: ImageHandle, image: GeneratedImage) -> str | ImageFile:
    if image.b64_json:
        try:
            data = base64.b64decode(image.b64_json, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImageInputError(f"image {handle} holds invalid base64 data") from exc
        return image_file(data, name=handle.task_id, max_bytes=MAX_UPLOAD_BYTES)
    assert image.url is not None  # image_in_record guarantees one of them
    return image.url


def loaded_inputs(images: Any) -> list[LoadedImage]:
    """The programmatic ``image`` argument (one source or a list) as checked entries."""
    entries = images if isinstance(images, (list, tuple)) else [images]
    return [load_image_source(entry, max_bytes=MAX_UPLOAD_BYTES) for entry in entries]


def labels(entries: Sequence[LoadedImage]) -> list[str]:
    """What the request model records for each entry (uploads by file name)."""
    return [
        entry
        if isinstance(entry, str)
        else str(entry)
        if isinstance(entry, ImageHandle)
        else f"upload:{entry.filename}"
        for entry in entries
    ]


__all__ = [
    "MAX_MASK_BYTES",
    "REFUSED_STATUSES",
    "EditUpload",
    "labels",
    "loaded_inputs",
    "plan_upload",
    "resolve_flow",
    "resolve_upload_flow",
]
