"""Image handles: short references to images, so an LLM can pass base64 results back.

Some services answer gpt-image jobs with base64 only. The LLM must never read base64, yet it
has to name such an image to edit it: each image of a result gets a handle
``img:<task_id>:<index>`` (the task and the image's position in its ``data``). A handle is
stateless: any process resolves it again with one ``retrieve`` of the task. The client keeps
a small bounded cache of recent images so that the common generate → edit chain skips even
that round trip. Images of an answer that named no task get a cache-only handle
``img:local-<hex>:<index>`` that lives as long as the client.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .errors import ImageInputError
from .models import GeneratedImage, TaskRecord

HANDLE_PREFIX = "img:"
#: Task ids that may appear in a handle (server ids are untrusted text shown to the LLM).
_TASK_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HANDLE_RE = re.compile(r"^img:([A-Za-z0-9_.-]{1,128}):([0-9]{1,2})$")
_LOCAL_PREFIX = "local-"
#: Default bound of the handle cache: entries and base64 characters kept.
CACHE_ENTRIES = 64
CACHE_CHARS = 128 * 2**20


@dataclass(frozen=True)
class ImageHandle:
    """The ``index``-th image of task ``task_id``; ``str(handle)`` is what the LLM sees."""

    task_id: str
    index: int

    def __str__(self) -> str:
        return f"{HANDLE_PREFIX}{self.task_id}:{self.index}"

    @property
    def local(self) -> bool:
        """True for a cache-only handle (its answer named no task)."""
        return self.task_id.startswith(_LOCAL_PREFIX)

    @classmethod
    def parse(cls, text: str) -> ImageHandle | None:
        """The handle ``text`` names; ``None`` when it is not a handle at all.

        Raises :class:`ImageInputError` for text that starts like a handle but is malformed.
        """
        if not text.startswith(HANDLE_PREFIX):
            return None
        match = _HANDLE_RE.match(text.strip())
        if match is None:
            raise ImageInputError(
                f"{text[:80]!r} is not a valid image reference; copy it exactly as an earlier "
                "tool result printed it (like 'img:<task_id>:0')"
            )
        return cls(match[1], int(match[2]))


def is_handle(text: str) -> bool:
    """Whether ``text`` looks like an image handle (it may still be malformed)."""
    return text.startswith(HANDLE_PREFIX)


def handles_for(task_id: str | None, count: int) -> list[ImageHandle]:
    """Handles of the ``count`` images of one answer (cache-only if the task id is unusable)."""
    stem = (
        task_id
        if task_id and _TASK_ID_RE.match(task_id)
        else f"{_LOCAL_PREFIX}{uuid.uuid4().hex[:12]}"
    )
    return [ImageHandle(stem, index) for index in range(count)]


def image_in_record(record: TaskRecord, handle: ImageHandle) -> GeneratedImage:
    """The image a handle names, from its task's record (URL or base64)."""
    response = record.response or {}
    data = response.get("data")
    items = data if isinstance(data, list) else []
    if not record.finished or record.failed:
        state = "failed" if record.failed else "not finished"
        raise ImageInputError(f"image {handle} cannot be used: its task is {state}")
    if handle.index >= len(items) or not isinstance(items[handle.index], dict):
        raise ImageInputError(
            f"image {handle} does not exist: its task has {len(items)} image(s), numbered from 0"
        )
    item: dict[str, Any] = items[handle.index]
    url, b64 = item.get("url"), item.get("b64_json")
    if not (isinstance(url, str) and url) and not (isinstance(b64, str) and b64):
        raise ImageInputError(f"image {handle} has neither a URL nor image data")
    return GeneratedImage(
        url=url if isinstance(url, str) and url else None,
        b64_json=b64 if isinstance(b64, str) and b64 else None,
    )


class HandleCache:
    """A thread-safe LRU of recent images by handle, bounded by entries and base64 size."""

    def __init__(self, max_entries: int = CACHE_ENTRIES, max_chars: int = CACHE_CHARS) -> None:
        self._items: OrderedDict[str, GeneratedImage] = OrderedDict()
        self._chars = 0
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, handle: ImageHandle, image: GeneratedImage) -> None:
        """Remember ``image`` (only its URL, base64 and MIME type) under ``handle``."""
        kept = GeneratedImage(url=image.url, b64_json=image.b64_json, mime_type=image.mime_type)
        size = len(kept.b64_json or "")
        if size > self._max_chars:
            return
        key = str(handle)
        with self._lock:
            old = self._items.pop(key, None)
            self._chars -= len(old.b64_json or "") if old else 0
            self._items[key] = kept
            self._chars += size
            while len(self._items) > self._max_entries or self._chars > self._max_chars:
                _, dropped = self._items.popitem(last=False)
                self._chars -= len(dropped.b64_json or "")

    def get(self, handle: ImageHandle) -> GeneratedImage | None:
        with self._lock:
            image = self._items.get(str(handle))
            if image is not None:
                self._items.move_to_end(str(handle))
            return image


__all__ = [
    "HANDLE_PREFIX",
    "HandleCache",
    "ImageHandle",
    "handles_for",
    "image_in_record",
    "is_handle",
]
