"""Request bodies: JSON objects, and ``multipart/form-data`` edits as the OpenAI SDK sends them.

A multipart edit becomes the same mapping a JSON edit is: form fields are typed as the JSON
schema says (``n`` an integer, ``async`` a boolean, ...), files become :class:`.Upload` values
under ``image`` (from ``image``, ``image[]`` and ``image[<i>]`` parts) and ``mask``. The task
record stores the body as sent, with file parts described instead of their bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .rules import MAX_EDIT_IMAGES, Upload

INTEGER_FIELDS = frozenset({"n", "output_compression", "partial_images"})
BOOLEAN_FIELDS = frozenset({"async", "stream"})
_TRUE_WORDS = {"true": True, "1": True, "false": False, "0": False}
_MAX_FORM_FIELDS = 64


class BodyError(ValueError):
    """The body cannot be read as a request (the message is the 400 text)."""


@dataclass(frozen=True)
class Body:
    """A request body as the rules read it, and as the task record stores it."""

    fields: dict[str, Any]
    stored: dict[str, Any]
    multipart: bool = False


def is_multipart(request: Request) -> bool:
    """Whether the request declares a ``multipart/form-data`` body."""
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "multipart/form-data"


def parse_json(raw: bytes) -> Body:
    """A JSON object body; anything else is a :class:`BodyError`."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise BodyError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BodyError("the body must be a JSON object")
    return Body(body, dict(body))


async def parse_multipart(request: Request, max_part_bytes: int) -> Body:
    """A multipart edit: text fields typed, ``image``/``image[]`` and ``mask`` files kept."""
    try:
        form = await request.form(max_files=MAX_EDIT_IMAGES + 1, max_fields=_MAX_FORM_FIELDS)
    except Exception as exc:  # python-multipart raises several types on a broken body
        raise BodyError(f"the multipart body could not be read: {exc}") from None
    fields: dict[str, Any] = {}
    images: list[Any] = []
    try:
        for key, value in form.multi_items():
            name = "image" if key == "image[]" or key.startswith("image[") else key
            item = await _part(value, max_part_bytes) if isinstance(value, UploadFile) else value
            if name == "image":
                images.append(item)
            elif name in fields:
                raise BodyError(f"{name} was sent more than once")
            else:
                fields[name] = _typed(name, item) if isinstance(item, str) else item
    finally:
        await form.close()
    if images:
        fields["image"] = images
    stored = {key: _stored(value) for key, value in fields.items()}
    return Body(fields, stored, multipart=True)


async def _part(upload: UploadFile, limit: int) -> Upload:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise BodyError(f"the file {upload.filename!r} is larger than {limit} bytes")
    return Upload(upload.filename or "", upload.content_type or "", data)


def _typed(name: str, text: str) -> Any:
    """A form field as the JSON schema types it; left as text when it is not that type."""
    if name in INTEGER_FIELDS and text.strip().lstrip("-").isdigit():
        return int(text)
    if name in BOOLEAN_FIELDS and text.strip().lower() in _TRUE_WORDS:
        return _TRUE_WORDS[text.strip().lower()]
    return text


def _stored(value: Any) -> Any:
    if isinstance(value, Upload):
        return value.describe()
    if isinstance(value, list):
        return [_stored(item) for item in value]
    return value


__all__ = ["Body", "BodyError", "is_multipart", "parse_json", "parse_multipart"]
