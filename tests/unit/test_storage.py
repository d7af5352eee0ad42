"""Saving images: base64, the download request, type sniffing, naming, safe atomic files.

Scenarios over real HTTP (lying lengths, content types, schemes, redirects, confinement to
public hosts, error statuses, partial failures) live in ``tests/reliability/test_downloads.py``
only; this module keeps what needs no server or inspects the request itself.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from PIL import Image

from langchain_acedata_images import AceDataImagesClient, ImageGenerationResult, storage
from langchain_acedata_images.errors import AceDataImagesError
from langchain_acedata_images.models import GeneratedImage
from langchain_acedata_images.storage import (
    GIF,
    JPEG,
    MAX_IMAGE_BYTES,
    PNG,
    WEBP,
    ImageDownloadError,
    asave_images,
    redact_url,
    safe_id,
    save_images,
    sniff,
)
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client

CDN = "https://cdn.test"
SIGNED = f"{CDN}/img/1.png?X-Amz-Signature=SECRET-SIG&X-Amz-Credential=KEY"
HTML = b"<!doctype html><html><body>not an image</body></html>"


def image_bytes(fmt: str = "PNG", color: str = "red", size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


PNG_BYTES = image_bytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_result(
    *images: GeneratedImage, task_id: str | None = "task-1", trace_id: str | None = "tr-1"
) -> ImageGenerationResult:
    return ImageGenerationResult(
        images=list(images), task_id=task_id, trace_id=trace_id, model="gpt-image-1", elapsed=1.0
    )


def files_in(directory: Path) -> list[str]:
    """Every entry (hidden temporaries included) of ``directory``."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


class Recorder:
    """A MockTransport handler that records every request it answers."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def serve(
    content: bytes = PNG_BYTES, status: int = 200, content_type: str = "image/png"
) -> Recorder:
    headers = {"content-type": content_type}
    return Recorder(lambda request: httpx.Response(status, content=content, headers=headers))


async def save_with(
    use_async: bool,
    result: ImageGenerationResult,
    target: Path,
    handler: Recorder,
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
    **client_options: Any,
) -> ImageGenerationResult:
    """Run the sync or the async saver against ``handler``."""
    transport = httpx.MockTransport(handler)
    if use_async:
        async with httpx.AsyncClient(transport=transport, **client_options) as aclient:
            return await asave_images(result, target, http_client=aclient, max_bytes=max_bytes)
    with httpx.Client(transport=transport, **client_options) as client:
        return save_images(result, target, http_client=client, max_bytes=max_bytes)


class Chunks:
    """A long body of ``size``-byte chunks after a ``first`` one (a PNG header); counts reads."""

    def __init__(self, size: int = 100, limit: int = 10_000, first: bytes = PNG_BYTES[:16]):
        self.size = size
        self.limit = limit
        self.first = first
        self.sent = 0

    def _chunk(self) -> bytes:
        self.sent += 1
        return (self.first if self.sent == 1 else b"") + b"\0" * self.size

    def sync(self) -> Iterator[bytes]:
        while self.sent < self.limit:
            yield self._chunk()

    async def asynchronous(self) -> AsyncIterator[bytes]:
        while self.sent < self.limit:
            yield self._chunk()

    def handler(self, use_async: bool, **headers: str) -> Recorder:
        headers.setdefault("content-type", "image/png")

        def answer(request: httpx.Request) -> httpx.Response:
            body = self.asynchronous() if use_async else self.sync()
            return httpx.Response(200, content=body, headers=headers)

        return Recorder(answer)


both = pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])


# ---------------------------------------------------------------------------- base64


def test_b64_image_is_decoded_written_and_opens(tmp_path: Path) -> None:
    original = make_result(GeneratedImage(b64_json=b64(PNG_BYTES), revised_prompt="a fox"))
    target = tmp_path / "deep" / "er"
    saved = save_images(original, target)
    image = saved.images[0]
    assert image.path is not None
    path = Path(image.path)
    assert path.is_absolute()
    assert path.parent == target.resolve()
    assert path.suffix == ".png"
    assert image.mime_type == "image/png"
    assert image.revised_prompt == "a fox"
    assert path.read_bytes() == PNG_BYTES
    with Image.open(path) as opened:
        assert opened.size == (4, 4)
    # A new result; the input is untouched.
    assert saved is not original
    assert original.images[0].path is None
    assert original.images[0].mime_type is None
    assert saved.paths == [str(path)]


def test_extension_and_mime_come_from_the_bytes_not_output_format(tmp_path: Path) -> None:
    result = make_result(GeneratedImage(b64_json=b64(image_bytes("JPEG")), mime_type="image/png"))
    assert result.output_format == "png"
    image = save_images(result, tmp_path).images[0]
    assert image.path is not None
    assert image.path.endswith(".jpg")
    assert image.mime_type == "image/jpeg"


def test_data_url_and_line_wrapped_base64_are_accepted(tmp_path: Path) -> None:
    wrapped = "\n".join(re.findall(".{1,20}", b64(PNG_BYTES)))
    result = make_result(
        GeneratedImage(b64_json=f"data:image/png;base64,{b64(PNG_BYTES)}"),
        GeneratedImage(b64_json=wrapped),
    )
    saved = save_images(result, tmp_path)
    assert [Path(p).read_bytes() for p in saved.paths] == [PNG_BYTES, PNG_BYTES]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not base64!!", "not valid base64"),
        ("aGk", "not valid base64"),
        (b64(HTML), "not a PNG, JPEG, WebP or GIF"),
    ],
)
def test_bad_b64_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, payload: str, message: str
) -> None:
    result = make_result(GeneratedImage(b64_json=payload))
    with pytest.raises(ImageDownloadError, match=message) as caught:
        save_images(result, tmp_path)
    assert isinstance(caught.value, AceDataImagesError)
    assert caught.value.task_id == "task-1"
    assert caught.value.trace_id == "tr-1"
    assert caught.value.result is result
    assert files_in(tmp_path) == []


def test_b64_over_the_cap_is_rejected_before_decoding(tmp_path: Path) -> None:
    result = make_result(GeneratedImage(b64_json=b64(PNG_BYTES)))
    with pytest.raises(ImageDownloadError, match="exceeds the 10-byte limit"):
        save_images(result, tmp_path, max_bytes=10)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("fmt", "kind"), [("PNG", PNG), ("JPEG", JPEG), ("WEBP", WEBP), ("GIF", GIF)]
)
def test_sniff_recognises_the_four_formats(fmt: str, kind: storage.ImageKind) -> None:
    assert sniff(image_bytes(fmt)) == kind


@pytest.mark.parametrize(
    "data", [b"", b"\x89PN", HTML, b"RIFF\0\0\0\0WAVE", b"<svg xmlns='...'/>", b"%PDF-1.7"]
)
def test_sniff_rejects_everything_else(data: bytes) -> None:
    assert sniff(data) is None


# ------------------------------------------------------------------------- downloads


@both
async def test_url_image_is_streamed_and_saved(tmp_path: Path, use_async: bool) -> None:
    handler = serve(content=image_bytes("WEBP"), content_type="image/webp")
    saved = await save_with(use_async, make_result(GeneratedImage(url=SIGNED)), tmp_path, handler)
    image = saved.images[0]
    assert image.path is not None
    assert image.path.endswith(".webp")
    assert image.mime_type == "image/webp"
    assert image.url == SIGNED
    assert Path(image.path).read_bytes() == image_bytes("WEBP")
    (request,) = handler.requests
    assert request.method == "GET"
    assert str(request.url) == SIGNED
    assert "authorization" not in request.headers
    assert request.extensions["timeout"]["read"] == storage.DOWNLOAD_TIMEOUT.read


@both
async def test_short_lived_client_when_none_is_given(
    tmp_path: Path, use_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[httpx.Client | httpx.AsyncClient] = []

    class Client(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            made.append(self)

    class AsyncClient(httpx.AsyncClient):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            made.append(self)

    monkeypatch.setattr(httpx, "Client", Client)
    monkeypatch.setattr(httpx, "AsyncClient", AsyncClient)
    with respx.mock(assert_all_called=True) as router:
        router.get(SIGNED).respond(200, content=PNG_BYTES, headers={"content-type": "image/png"})
        result = make_result(GeneratedImage(url=SIGNED))
        if use_async:
            saved = await asave_images(result, tmp_path)
        else:
            saved = save_images(result, tmp_path)
    assert Path(saved.paths[0]).read_bytes() == PNG_BYTES
    (client,) = made
    assert client.is_closed
    # Base64-only results need no client at all.
    made.clear()
    save_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), tmp_path)
    await asave_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), tmp_path)
    assert made == []


@both
async def test_non_image_body_is_rejected_at_its_first_bytes(
    tmp_path: Path, use_async: bool
) -> None:
    # A body that is not an image from its first chunk on: reading stops there.
    body = Chunks(first=HTML)
    handler = body.handler(use_async, **{"content-type": "application/octet-stream"})
    with pytest.raises(ImageDownloadError, match="not a PNG"):
        await save_with(use_async, make_result(GeneratedImage(url=SIGNED)), tmp_path, handler)
    assert body.sent == 1


@both
async def test_transport_errors_never_quote_the_signed_url(
    tmp_path: Path, use_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(ImageDownloadError, match="ConnectError") as caught:
        await save_with(
            use_async, make_result(GeneratedImage(url=SIGNED)), tmp_path, Recorder(answer)
        )
    assert "https://cdn.test/img/1.png" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert "SECRET-SIG" not in text
        assert "X-Amz" not in text


# ---------------------------------------------------------------------- file safety


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("task-1_A", "task-1_A"),
        ("../../etc/passwd", "etc_passwd"),
        ("/abs/path", "abs_path"),
        ("--rf", "rf"),
        ("", "image"),
        (None, "image"),
        ("../..", "image"),
        ("ü" * 10, "image"),
        ("x" * 200, "x" * 64),
    ],
)
def test_safe_id(value: str | None, expected: str) -> None:
    assert safe_id(value) == expected


def test_name_comes_from_ids_never_from_url_or_prompt(tmp_path: Path) -> None:
    handler = serve()
    url = f"{CDN}/..%2F..%2Fshell.php?name=../../x.sh"
    result = make_result(GeneratedImage(url=url, revised_prompt="rm -rf"), task_id=None)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        saved = save_images(result, tmp_path, http_client=client)
    name = Path(saved.paths[0]).name
    assert re.fullmatch(r"tr-1-0-[0-9a-f]{8}\.png", name)
    untitled = make_result(GeneratedImage(b64_json=b64(PNG_BYTES)), task_id=None, trace_id=None)
    assert Path(save_images(untitled, tmp_path).paths[0]).name.startswith("image-0-")


def test_saving_twice_never_overwrites(tmp_path: Path) -> None:
    result = make_result(
        GeneratedImage(b64_json=b64(PNG_BYTES)), GeneratedImage(b64_json=b64(image_bytes("GIF")))
    )
    first = save_images(result, tmp_path).paths
    second = save_images(result, tmp_path).paths
    assert len(set(first + second)) == 4
    assert len(files_in(tmp_path)) == 4
    assert all(Path(p).exists() for p in first + second)


def test_an_existing_file_with_the_chosen_name_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = uuid.UUID("12345678123456781234567812345678")
    monkeypatch.setattr(uuid, "uuid4", lambda: fixed)
    existing = tmp_path / "task-1-0-12345678.png"
    existing.write_bytes(b"precious")
    with pytest.raises(ImageDownloadError, match="no free file name"):
        save_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), tmp_path)
    assert existing.read_bytes() == b"precious"
    assert files_in(tmp_path) == [existing.name]


def test_a_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ImageDownloadError, match="No space left"):
        save_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), tmp_path)
    assert files_in(tmp_path) == []


def test_the_written_file_is_complete_when_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, bytes]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        # Just before the swap the final name holds only the empty reservation.
        seen.append((Path(src).name, Path(dst).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = save_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), tmp_path).paths[0]
    ((temporary, reserved),) = seen
    assert temporary.startswith(".")
    assert temporary.endswith(".part")
    assert reserved == b""
    assert Path(path).read_bytes() == PNG_BYTES
    assert files_in(tmp_path) == [Path(path).name]


async def test_cancelled_async_save_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_write = storage._write

    def slow_write(*args: Any) -> Path:
        entered.set()
        release.wait(5)
        return real_write(*args)

    monkeypatch.setattr(storage, "_write", slow_write)
    result = make_result(GeneratedImage(b64_json=b64(PNG_BYTES)))
    task = asyncio.ensure_future(asave_images(result, tmp_path))
    while not entered.is_set():
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    # The writer thread finishes after the cancellation; its file is then removed.
    for _ in range(200):
        await asyncio.sleep(0.005)
        if files_in(tmp_path) == []:
            break
    assert files_in(tmp_path) == []


def test_target_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ImageDownloadError, match="cannot create the directory"):
        save_images(make_result(GeneratedImage(b64_json=b64(PNG_BYTES))), target)


def test_image_without_data_and_bad_max_bytes(tmp_path: Path) -> None:
    with pytest.raises(ImageDownloadError, match="neither a URL nor base64"):
        save_images(make_result(GeneratedImage()), tmp_path)
    with pytest.raises(ValueError, match="max_bytes"):
        save_images(make_result(), tmp_path, max_bytes=0)
    assert save_images(make_result(), tmp_path / "empty").images == []


def test_redact_url() -> None:
    assert redact_url(SIGNED) == "https://cdn.test/img/1.png"
    assert redact_url("https://user:pw@cdn.test:8443/a.png#frag") == "https://cdn.test:8443/a.png"


# ------------------------------------------------------------------ through the client


GEN_URL = f"{BASE_URL}/openai/images/generations"


@pytest.fixture
def mocked() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@both
async def test_generate_with_save_dir_sets_paths(
    mocked: respx.MockRouter, clock: FakeClock, tmp_path: Path, use_async: bool
) -> None:
    answer = {
        "created": 1,
        "task_id": "t-42",
        "data": [{"url": SIGNED}, {"url": f"{CDN}/img/2.jpg"}],
    }
    api = mocked.post(GEN_URL).respond(200, json=answer)
    first = mocked.get(SIGNED).respond(
        200, content=PNG_BYTES, headers={"content-type": "image/png"}
    )
    second = mocked.get(f"{CDN}/img/2.jpg").respond(
        200, content=image_bytes("JPEG"), headers={"content-type": "image/jpeg"}
    )
    target = tmp_path / "images"
    client: AceDataImagesClient = make_client(clock)
    if use_async:
        async with client:
            result = await client.agenerate(prompt="a fox", model="dall-e-2", n=2, save_dir=target)
    else:
        with client:
            result = client.generate(prompt="a fox", model="dall-e-2", n=2, save_dir=target)
    assert isinstance(result, ImageGenerationResult)
    assert [Path(p).parent for p in result.paths] == [target.resolve()] * 2
    assert [Path(p).suffix for p in result.paths] == [".png", ".jpg"]
    assert [i.mime_type for i in result.images] == ["image/png", "image/jpeg"]
    assert all(Path(p).name.startswith("t-42-") for p in result.paths)
    assert json.loads(api.calls.last.request.content)["prompt"] == "a fox"
    assert api.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    for route in (first, second):
        assert route.call_count == 1
        assert "authorization" not in route.calls.last.request.headers


def test_generate_b64_with_client_save_dir(
    mocked: respx.MockRouter, clock: FakeClock, tmp_path: Path
) -> None:
    mocked.post(GEN_URL).respond(200, json={"data": [{"b64_json": b64(image_bytes("WEBP"))}]})
    with make_client(clock, save_dir=tmp_path) as client:
        result = client.generate(prompt="a fox", output_format="webp")
    assert isinstance(result, ImageGenerationResult)
    (path,) = result.paths
    assert path.endswith(".webp")
    with Image.open(path) as opened:
        assert opened.format == "WEBP"


def test_generate_surfaces_download_errors_with_ids(
    mocked: respx.MockRouter, clock: FakeClock, tmp_path: Path
) -> None:
    mocked.post(GEN_URL).respond(200, json={"task_id": "t-7", "data": [{"url": SIGNED}]})
    mocked.get(SIGNED).respond(403, text="expired")
    with make_client(clock) as client, pytest.raises(ImageDownloadError) as caught:
        client.generate(prompt="a fox", save_dir=tmp_path)
    assert caught.value.status_code == 403
    assert caught.value.task_id == "t-7"
    assert caught.value.result is not None
    assert caught.value.result.urls == [SIGNED]
    assert "SECRET-SIG" not in str(caught.value)
    assert files_in(tmp_path) == []
