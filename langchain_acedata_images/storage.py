"""Saving generated images to disk: decode or download, verify, write atomically.

:func:`save_images` and :func:`asave_images` share every decision (URL and header checks,
the size cap, type sniffing, file naming, writing); only the HTTP and file I/O differ.
Downloads never carry the API token, are streamed under a byte cap and must be PNG, JPEG,
WebP or GIF by their magic number. File names come from the task id, never from the prompt
or the URL, and an existing file is never overwritten.

Where downloads may go: http(s) only, and never to loopback, link-local, private, multicast
or local-name hosts unless ``allow_private_hosts`` is set or the host is one of
``trusted_origins`` (the client passes the API's own, so its emulator works). Every redirect
hop's URL is checked before it is requested, and the built-in download client also checks
every address a name resolves to and connects to that checked address (:mod:`._netguard`).
Through the environment's proxy (``proxy_from_env``) only host names can be checked. At most
``max_images`` images (16) of one answer are saved; the others keep their URLs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from ._hosts import Origin, host_refusal, origin_of
from ._netguard import RefusedDestinationError, download_async_client, download_client
from .errors import ImageDownloadError
from .results import GeneratedImage, ImageGenerationResult

logger = logging.getLogger(__name__)

#: Default cap on one image's size in bytes (decoded base64 or downloaded body).
MAX_IMAGE_BYTES = 50 * 1024 * 1024
#: Per-operation download timeouts; the read timeout applies to each chunk.
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Wall-clock limit of one download, so a slow trickle under the read timeout still ends.
DOWNLOAD_DEADLINE = 300.0
#: Default cap on the images saved from one answer (the rest keep their URLs).
MAX_DOWNLOADS = 16
#: Redirect hops followed per image, each one checked like the first URL.
MAX_REDIRECTS = 5

_ALLOWED_SCHEMES = frozenset({"http", "https"})
# Types a CDN may label any file with; the bytes then decide.
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_DOWNLOAD_HEADERS = {"accept": "image/png, image/jpeg, image/webp, image/gif;q=0.9, */*;q=0.1"}
_SNIFF_BYTES = 12  # enough for every signature below (WebP needs 12)
_MAX_ID_CHARS = 64
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_NAME_ATTEMPTS = 5


# ------------------------------------------------------------------------ pure logic


@dataclass(frozen=True)
class ImageKind:
    """A sniffed image type: its MIME type and the file extension it is saved with."""

    mime_type: str
    extension: str


PNG = ImageKind("image/png", "png")
JPEG = ImageKind("image/jpeg", "jpg")
WEBP = ImageKind("image/webp", "webp")
GIF = ImageKind("image/gif", "gif")


def sniff(data: bytes) -> ImageKind | None:
    """The image type given by ``data``'s magic number, or ``None`` if it is no known image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    return None


def redact_url(url: str) -> str:
    """``url`` without credentials, query or fragment (signed URLs carry tokens there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def safe_id(value: str | None) -> str:
    """``value`` reduced to ``[A-Za-z0-9_-]`` (at most 64 chars), or ``'image'``."""
    cleaned = _UNSAFE_ID_CHARS.sub("_", value or "")[:_MAX_ID_CHARS].strip("_-")
    return cleaned or "image"


def _filename(stem: str, index: int, kind: ImageKind) -> str:
    return f"{stem}-{index}-{uuid.uuid4().hex[:8]}.{kind.extension}"


@dataclass(frozen=True)
class _Plan:
    """What one save call needs to know besides the I/O."""

    result: ImageGenerationResult
    directory: Path
    stem: str
    max_bytes: int
    max_images: int = MAX_DOWNLOADS
    allow_private_hosts: bool = False
    trusted: frozenset[Origin] = frozenset()
    proxy_from_env: bool = True

    def error(self, message: str, *, status_code: int | None = None) -> ImageDownloadError:
        return ImageDownloadError(
            message,
            status_code=status_code,
            task_id=self.result.task_id,
            trace_id=self.result.trace_id,
            result=self.result,
        )


def _plan(
    result: ImageGenerationResult,
    target: str | os.PathLike[str],
    max_bytes: int,
    max_images: int = MAX_DOWNLOADS,
    allow_private_hosts: bool = False,
    trusted_origins: Iterable[str] = (),
    proxy_from_env: bool = True,
) -> _Plan:
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    if max_images < 0:
        raise ValueError(f"max_images must be >= 0, got {max_images}")
    directory = Path(os.fspath(target)).expanduser().absolute()
    stem = safe_id(result.task_id or result.trace_id)
    trusted = frozenset(o for url in trusted_origins if (o := origin_of(url)) is not None)
    return _Plan(
        result, directory, stem, max_bytes, max_images, allow_private_hosts, trusted, proxy_from_env
    )


def _check_url(plan: _Plan, index: int, url: str) -> None:
    """Only absolute http(s) URLs to public (or trusted) hosts are fetched.

    No ``file:``, ``ftp:``, ``data:`` or other schemes; no loopback, link-local, private,
    multicast or local-name hosts as written in the URL (names are checked again, by their
    resolved addresses, when the built-in client connects).
    """
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in _ALLOWED_SCHEMES:
        kind = f"{scheme}:" if scheme else "scheme-less"
        raise plan.error(
            f"image {index}: refusing to download a {kind} URL; only http(s) URLs are fetched"
        )
    if not host:
        raise plan.error(f"image {index}: refusing to download a URL without a host")
    if plan.allow_private_hosts or origin_of(url) in plan.trusted:
        return
    refusal = host_refusal(host)
    if refusal is not None:
        raise plan.error(_refused(index, url, refusal))


def _refused(index: int, url: str, reason: str) -> str:
    return (
        f"image {index}: refusing to download {redact_url(url)}: the host is {reason}; "
        "only public hosts are fetched (allow_private_downloads=True on the client allows "
        "private ones)"
    )


def _next_hop(plan: _Plan, index: int, response: httpx.Response, hops: int) -> str | None:
    """The URL a redirect leads to (checked like the first one), or ``None`` if no redirect."""
    if response.next_request is None:
        return None
    if hops >= MAX_REDIRECTS:
        raise plan.error(f"image {index}: more than {MAX_REDIRECTS} redirects; download aborted")
    url = str(response.next_request.url)
    _check_url(plan, index, url)
    return url


def _decode_b64(plan: _Plan, index: int, data: str) -> tuple[bytes, ImageKind]:
    """Decode and verify a base64 image (a ``data:`` URL prefix is tolerated)."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    compact = "".join(data.split())
    # Reject before decoding: 4 base64 characters hold 3 bytes.
    if len(compact) // 4 * 3 > plan.max_bytes + 2:
        raise plan.error(f"image {index}: base64 data exceeds the {plan.max_bytes}-byte limit")
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise plan.error(f"image {index}: b64_json is not valid base64 ({exc})") from exc
    return decoded, _verify(plan, index, decoded, "b64_json")


def _verify(plan: _Plan, index: int, data: bytes, source: str) -> ImageKind:
    kind = sniff(data)
    if kind is None:
        raise plan.error(
            f"image {index}: {source} is not a PNG, JPEG, WebP or GIF image "
            f"(starts with {data[:8]!r})"
        )
    return kind


def _check_headers(plan: _Plan, index: int, response: httpx.Response) -> None:
    """Reject an answer by status, type and declared length before reading its body."""
    where = redact_url(str(response.url))
    if not response.is_success:
        raise plan.error(
            f"image {index}: downloading {where} failed with HTTP {response.status_code} "
            f"{response.reason_phrase}".rstrip(),
            status_code=response.status_code,
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (content_type.startswith("image/") or content_type in _GENERIC_TYPES):
        raise plan.error(
            f"image {index}: {where} answered with content-type {content_type!r}, not an image",
            status_code=response.status_code,
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > plan.max_bytes:
        raise plan.error(
            f"image {index}: {where} is {int(declared)} bytes, over the "
            f"{plan.max_bytes}-byte limit",
            status_code=response.status_code,
        )


class _Accumulator:
    """Collects a body's chunks; raises as soon as the cap, the deadline or the type fails."""

    def __init__(self, plan: _Plan, index: int, where: str) -> None:
        self._plan = plan
        self._index = index
        self._where = where
        self._buffer = bytearray()
        self._sniffed = False
        self._deadline = time.monotonic() + DOWNLOAD_DEADLINE

    def add(self, chunk: bytes) -> None:
        # The actual bytes count, whatever Content-Length claimed (or if it was absent).
        if len(self._buffer) + len(chunk) > self._plan.max_bytes:
            raise self._plan.error(
                f"image {self._index}: {self._where} sent more than the "
                f"{self._plan.max_bytes}-byte limit; download aborted"
            )
        if time.monotonic() > self._deadline:
            raise self._plan.error(
                f"image {self._index}: downloading {self._where} took over "
                f"{DOWNLOAD_DEADLINE:.0f}s; download aborted"
            )
        self._buffer += chunk
        # Stop a non-image body early instead of fetching all of it.
        if not self._sniffed and len(self._buffer) >= _SNIFF_BYTES:
            self._sniffed = True
            _verify(self._plan, self._index, bytes(self._buffer[:_SNIFF_BYTES]), self._where)

    def finish(self) -> tuple[bytes, ImageKind]:
        data = bytes(self._buffer)
        return data, _verify(self._plan, self._index, data, self._where)


def _download_request(client: httpx.Client | httpx.AsyncClient, url: str) -> httpx.Request:
    request = client.build_request("GET", url, headers=_DOWNLOAD_HEADERS, timeout=DOWNLOAD_TIMEOUT)
    # Download hosts are third parties: never forward the API token, even if a caller's
    # client carries it as a default header.
    request.headers.pop("authorization", None)
    return request


def _source(plan: _Plan, index: int, image: GeneratedImage) -> tuple[Literal["b64", "url"], str]:
    """Where an image's bytes come from; base64 wins as it needs no request."""
    if image.b64_json:
        return "b64", image.b64_json
    if image.url:
        _check_url(plan, index, image.url)
        return "url", image.url
    raise plan.error(f"image {index} has neither a URL nor base64 data")


def _transport_error(plan: _Plan, index: int, url: str, exc: Exception) -> ImageDownloadError:
    refused = exc.__cause__ or exc.__context__
    if isinstance(refused, RefusedDestinationError):
        return plan.error(_refused(index, url, str(refused)))
    # The exception's text may quote the full signed URL: only its type is reported.
    return plan.error(f"image {index}: downloading {redact_url(url)} failed: {type(exc).__name__}")


def _capped(plan: _Plan) -> list[GeneratedImage]:
    """The images this save handles; the rest keep their URLs / base64, unsaved."""
    images = plan.result.images
    if len(images) > plan.max_images:
        logger.warning(
            "saving %d of %d images of %s (max_images=%d)",
            plan.max_images,
            len(images),
            plan.stem,
            plan.max_images,
        )
    return images[: plan.max_images]


def _sync_client(plan: _Plan) -> httpx.Client:
    try:  # no client timeout: every request carries DOWNLOAD_TIMEOUT
        return download_client(plan.trusted, plan.allow_private_hosts, plan.proxy_from_env)
    except (ImportError, ValueError) as exc:  # proxy variables that name no usable proxy
        raise _unusable_proxy(plan, exc) from None


def _async_client(plan: _Plan) -> httpx.AsyncClient:
    try:
        return download_async_client(plan.trusted, plan.allow_private_hosts, plan.proxy_from_env)
    except (ImportError, ValueError) as exc:
        raise _unusable_proxy(plan, exc) from None


def _unusable_proxy(plan: _Plan, exc: Exception) -> ImageDownloadError:
    # httpx's message may quote the proxy URL with its password: the type only.
    return plan.error(
        f"the proxy environment variables name a proxy that cannot be used ({type(exc).__name__})"
        "; fix them, or set download_proxy_from_env=False"
    )


# ---------------------------------------------------------------------------- file I/O


def _prepare_directory(plan: _Plan) -> Path:
    try:
        plan.directory.mkdir(parents=True, exist_ok=True)
        return plan.directory.resolve(strict=True)
    except OSError as exc:
        raise plan.error(f"cannot create the directory {plan.directory}: {exc}") from exc


def _write(plan: _Plan, directory: Path, index: int, kind: ImageKind, data: bytes) -> Path:
    """Write ``data`` to a fresh file in ``directory``; the file appears complete or not at all.

    The final name is reserved with ``O_EXCL`` (so no existing file is ever replaced), the
    bytes go to a temporary file beside it, and ``os.replace`` swaps it over the reservation.
    """
    for _ in range(_NAME_ATTEMPTS):
        final = directory / _filename(plan.stem, index, kind)
        if not final.resolve().is_relative_to(directory):
            raise plan.error(f"image {index}: refusing to write outside {directory}")
        try:
            final.open("xb").close()
        except FileExistsError:
            continue
        except OSError as exc:
            raise plan.error(f"image {index}: cannot write to {directory}: {exc}") from exc
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with temporary.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise plan.error(f"image {index}: cannot write {final}: {exc}") from exc
            raise
        return final
    raise plan.error(f"image {index}: no free file name in {directory}")


def _remove(paths: Iterable[Path]) -> None:
    """Undo the files of a save that failed part-way (best effort)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove %s after a failed save", path)


def _saved(image: GeneratedImage, path: Path, kind: ImageKind) -> GeneratedImage:
    logger.debug("saved image to %s (%s)", path, kind.mime_type)
    return image.model_copy(update={"path": str(path), "mime_type": kind.mime_type})


# --------------------------------------------------------------------------- sync API


def save_images(
    result: ImageGenerationResult,
    target: str | os.PathLike[str],
    *,
    http_client: httpx.Client | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_images: int = MAX_DOWNLOADS,
    allow_private_hosts: bool = False,
    trusted_origins: Iterable[str] = (),
    proxy_from_env: bool = True,
) -> ImageGenerationResult:
    """Write the images of ``result`` into directory ``target``; return a copy with paths.

    Base64 images are decoded; URL images are downloaded with ``http_client`` as given, or
    with a short-lived guarded client (public addresses and ``trusted_origins`` only; the
    environment's proxy if ``proxy_from_env``, see above) when ``None``. At most
    ``max_images`` are saved. All or nothing: on :class:`ImageDownloadError` no file is left.
    """
    plan = _plan(
        result, target, max_bytes, max_images, allow_private_hosts, trusted_origins, proxy_from_env
    )
    directory = _prepare_directory(plan)
    client = http_client
    written: list[Path] = []
    images: list[GeneratedImage] = []
    try:
        for index, image in enumerate(_capped(plan)):
            source, value = _source(plan, index, image)
            if source == "b64":
                data, kind = _decode_b64(plan, index, value)
            else:
                if client is None:
                    client = _sync_client(plan)
                data, kind = _download(client, plan, index, value)
            path = _write(plan, directory, index, kind, data)
            written.append(path)
            images.append(_saved(image, path, kind))
    except BaseException:
        _remove(written)
        raise
    finally:
        if client is not None and http_client is None:
            client.close()
    return result.model_copy(update={"images": images + result.images[len(images) :]})


def _fetch(client: httpx.Client, plan: _Plan, index: int, url: str) -> httpx.Response:
    """The final answer for ``url``, following redirects one checked hop at a time."""
    for hops in range(MAX_REDIRECTS + 1):
        try:
            request = _download_request(client, url)
            response = client.send(request, stream=True, auth=None, follow_redirects=False)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _transport_error(plan, index, url, exc) from exc
        try:
            next_url = _next_hop(plan, index, response, hops)
        except BaseException:
            response.close()
            raise
        if next_url is None:
            return response
        response.close()
        url = next_url
    raise AssertionError("unreachable: _next_hop stops after MAX_REDIRECTS")  # pragma: no cover


def _download(client: httpx.Client, plan: _Plan, index: int, url: str) -> tuple[bytes, ImageKind]:
    response = _fetch(client, plan, index, url)
    try:
        _check_headers(plan, index, response)
        accumulator = _Accumulator(plan, index, redact_url(str(response.url)))
        for chunk in response.iter_bytes():
            accumulator.add(chunk)
        return accumulator.finish()
    except httpx.HTTPError as exc:
        raise _transport_error(plan, index, url, exc) from exc
    finally:
        response.close()


# -------------------------------------------------------------------------- async API


async def asave_images(
    result: ImageGenerationResult,
    target: str | os.PathLike[str],
    *,
    http_client: httpx.AsyncClient | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_images: int = MAX_DOWNLOADS,
    allow_private_hosts: bool = False,
    trusted_origins: Iterable[str] = (),
    proxy_from_env: bool = True,
) -> ImageGenerationResult:
    """Async :func:`save_images`: downloads with ``httpx.AsyncClient``, writes in a thread."""
    plan = _plan(
        result, target, max_bytes, max_images, allow_private_hosts, trusted_origins, proxy_from_env
    )
    directory = await asyncio.to_thread(_prepare_directory, plan)
    client = http_client
    written: list[Path] = []
    images: list[GeneratedImage] = []
    try:
        for index, image in enumerate(_capped(plan)):
            source, value = _source(plan, index, image)
            if source == "b64":
                # Decoding up to max_bytes is CPU work: keep it off the event loop.
                data, kind = await asyncio.to_thread(_decode_b64, plan, index, value)
            else:
                if client is None:
                    client = _async_client(plan)
                data, kind = await _adownload(client, plan, index, value)
            path = await _awrite(plan, directory, index, kind, data)
            written.append(path)
            images.append(_saved(image, path, kind))
    except BaseException:
        _remove(written)
        raise
    finally:
        if client is not None and http_client is None:
            await client.aclose()
    return result.model_copy(update={"images": images + result.images[len(images) :]})


async def _awrite(plan: _Plan, directory: Path, index: int, kind: ImageKind, data: bytes) -> Path:
    """:func:`_write` in a thread; a file finished after cancellation is removed."""
    task = asyncio.ensure_future(asyncio.to_thread(_write, plan, directory, index, kind, data))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # The thread cannot be stopped: undo its file once it is done.
        task.add_done_callback(_discard_written)
        raise


def _discard_written(task: asyncio.Future[Path]) -> None:
    if not task.cancelled() and task.exception() is None:
        _remove([task.result()])


async def _afetch(client: httpx.AsyncClient, plan: _Plan, index: int, url: str) -> httpx.Response:
    """Async :func:`_fetch`."""
    for hops in range(MAX_REDIRECTS + 1):
        try:
            request = _download_request(client, url)
            response = await client.send(request, stream=True, auth=None, follow_redirects=False)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _transport_error(plan, index, url, exc) from exc
        try:
            next_url = _next_hop(plan, index, response, hops)
        except BaseException:
            await response.aclose()
            raise
        if next_url is None:
            return response
        await response.aclose()
        url = next_url
    raise AssertionError("unreachable: _next_hop stops after MAX_REDIRECTS")  # pragma: no cover


async def _adownload(
    client: httpx.AsyncClient, plan: _Plan, index: int, url: str
) -> tuple[bytes, ImageKind]:
    response = await _afetch(client, plan, index, url)
    try:
        _check_headers(plan, index, response)
        accumulator = _Accumulator(plan, index, redact_url(str(response.url)))
        async for chunk in response.aiter_bytes():
            accumulator.add(chunk)
        return accumulator.finish()
    except httpx.HTTPError as exc:
        raise _transport_error(plan, index, url, exc) from exc
    finally:
        await response.aclose()


__all__ = [
    "DOWNLOAD_DEADLINE",
    "DOWNLOAD_TIMEOUT",
    "MAX_DOWNLOADS",
    "MAX_IMAGE_BYTES",
    "MAX_REDIRECTS",
    "ImageDownloadError",
    "ImageKind",
    "asave_images",
    "redact_url",
    "safe_id",
    "save_images",
    "sniff",
]
