"""Input images of edits: uploaded files, ``data:`` URLs, the emulator's own files, loopback URLs.

The emulator never fetches from the internet: an edit naming a remote URL gets a 400 telling the
caller to send a ``data:`` URL or upload the file. A multipart ``mask`` must be a PNG of at most
4 MB with the first image's size (the edits document).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from ipaddress import ip_address
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from PIL import Image

from . import images, rules
from .state import EmulatorState

MAX_MASK_BYTES = 4 * 2**20
"""Largest mask the edits document allows."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LOOPBACK_NAMES = frozenset({"localhost", "testserver"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (callbacks and image fetches stay on it)."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class SourceLoader:
    """Reads and decodes the inputs of one edit; ``ValueError`` messages become 400 texts."""

    def __init__(self, state: EmulatorState, http: httpx.AsyncClient, own_host: str) -> None:
        self.state = state
        self.http = http
        self.own_host = own_host
        self.limit = state.config.max_image_bytes

    async def load(self, job: rules.ImageJob) -> list[Image.Image]:
        """Every input image, decoded; the mask checked against the first."""
        sources: list[Image.Image] = []
        inputs: Sequence[str | rules.Upload] = job.uploads or job.images
        for position, item in enumerate(inputs):
            try:
                data = item.data if isinstance(item, rules.Upload) else await self._fetch(item)
                if len(data) > self.limit:
                    raise ValueError(f"the image is larger than {self.limit} bytes")
                sources.append(await _decode(data))
            except ValueError as exc:
                raise ValueError(f"image[{position}]: {exc}") from None
        if job.mask is not None:
            await self._check_mask(job.mask, sources[0])
        return sources

    async def _check_mask(self, mask: rules.Upload | str, first: Image.Image) -> None:
        if isinstance(mask, str):
            try:
                mask = rules.Upload("mask", "", await self._fetch(mask))
            except ValueError as exc:
                raise ValueError(f"mask: {exc}") from None
        if len(mask.data) > MAX_MASK_BYTES:
            raise ValueError(f"mask: a mask must be at most {MAX_MASK_BYTES} bytes")
        if not mask.data.startswith(_PNG_SIGNATURE):
            raise ValueError("mask: the mask must be a PNG image")
        try:
            picture = await _decode(mask.data)
        except ValueError as exc:
            raise ValueError(f"mask: {exc}") from None
        if picture.size != first.size:
            raise ValueError(
                f"mask: the mask is {picture.width}x{picture.height} but the first image is "
                f"{first.width}x{first.height}; they must have the same size"
            )

    async def _fetch(self, url: str) -> bytes:
        if rules.is_data_url(url):
            try:
                return base64.b64decode(url.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("the data: URL is not valid base64") from None
        parts = urlsplit(url)
        if parts.path.startswith("/files/") and parts.netloc == self.own_host:
            stored = self.state.file(parts.path.removeprefix("/files/"))
            if stored is None:
                raise ValueError("no such file on this emulator")
            return stored.data
        if not is_loopback(parts.hostname or ""):
            raise ValueError(
                "the emulator fetches input images only from itself or loopback hosts; "
                "pass a data: URL or upload the file instead"
            )
        try:
            async with self.http.stream("GET", url) as response:
                response.raise_for_status()
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.limit:
                        raise ValueError(f"the image is larger than {self.limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise ValueError(f"could not fetch it: {exc!r}") from None


async def _decode(data: bytes) -> Image.Image:
    return await anyio.to_thread.run_sync(images.decode_image, data, rules.RENDER_MAX_PIXELS)


__all__ = ["MAX_MASK_BYTES", "SourceLoader", "is_loopback"]
