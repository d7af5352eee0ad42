"""Downloads and callbacks: what is fetched, how much, what is kept, and where it is written.

Images are served over real loopback HTTP by a tiny raw server that can lie: a small
``Content-Length`` over an endless chunked body, no length at all, a gzip bomb, a wrong
content type, redirects to other schemes, a trickle. Every save runs through both
:func:`save_images` and :func:`asave_images`.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import re
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pydantic import ValidationError

from langchain_acedata_images import (
    EditImageInput,
    GeneratedImage,
    GenerateImageInput,
    ImageGenerationResult,
    storage,
)
from langchain_acedata_images.storage import ImageDownloadError, asave_images, save_images

pytestmark = pytest.mark.integration

CAP = 256 * 1024
HUGE = 64 * 1024 * 1024
CHUNK = 64 * 1024


def png_bytes(size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png_bytes()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------- the server


@dataclass
class Served:
    """What the server saw and did for one path."""

    requests: list[dict[str, str]] = field(default_factory=list)
    bytes_sent: int = 0
    aborted: bool = False


Route = Callable[["_Handler", Served], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        served = self.server.served.setdefault(path, Served())
        served.requests.append({k.lower(): v for k, v in self.headers.items()})
        route = self.server.routes.get(path)
        self.close_connection = True
        if route is None:
            self.head(404, {"Content-Type": "text/plain", "Content-Length": "0"})
            return
        try:
            route(self, served)
        except (BrokenPipeError, ConnectionResetError):
            served.aborted = True

    def head(self, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
        self.wfile.write(("\r\n".join([*lines, "Connection: close", "", ""])).encode())

    def body(self, served: Served, data: bytes) -> None:
        self.wfile.write(data)
        served.bytes_sent += len(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    served: dict[str, Served]


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serve()


@pytest.fixture
def foreign() -> Iterator[_Server]:
    """A second loopback server: a host the API did not name (another port, same machine)."""
    yield from _serve()


def _serve() -> Iterator[_Server]:
    instance = _Server(("127.0.0.1", 0), _Handler)
    instance.routes, instance.served = {}, {}
    thread = threading.Thread(
        target=instance.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield instance
    finally:
        instance.shutdown()
        instance.server_close()
        thread.join(5)


def url(server: _Server, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.server_address[1]}{path}"


def fixed(status: int, content_type: str, data: bytes, **extra: str) -> Route:
    def route(handler: _Handler, served: Served) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(data)), **extra}
        handler.head(status, headers)
        handler.body(served, data)

    return route


def endless(headers: dict[str, str], *, chunked: bool) -> Route:
    """A PNG signature followed by HUGE bytes, however the headers describe it."""

    def route(handler: _Handler, served: Served) -> None:
        handler.head(200, headers)
        payload = PNG_MAGIC + bytes(CHUNK - len(PNG_MAGIC))
        while served.bytes_sent < HUGE:
            frame = f"{len(payload):x}\r\n".encode() + payload + b"\r\n" if chunked else payload
            handler.body(served, frame)
            payload = bytes(CHUNK)
        if chunked:
            handler.body(served, b"0\r\n\r\n")

    return route


# ------------------------------------------------------------------------ helpers


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def result_of(*images: GeneratedImage, task_id: str | None = "task-1") -> ImageGenerationResult:
    return ImageGenerationResult(
        images=list(images), task_id=task_id, trace_id="trace-1", model="gpt-image-1", elapsed=0.1
    )


async def save(
    result: ImageGenerationResult, directory: Path, mode: str, **kwargs: Any
) -> ImageGenerationResult:
    # The test server is on loopback; scenarios that are not about confinement allow it.
    if "trusted_origins" not in kwargs:
        kwargs.setdefault("allow_private_hosts", True)
    if mode == "sync":
        return await asyncio.to_thread(save_images, result, directory, **kwargs)
    return await asave_images(result, directory, **kwargs)


async def refused(
    result: ImageGenerationResult, directory: Path, mode: str, match: str, **kwargs: Any
) -> ImageDownloadError:
    with pytest.raises(ImageDownloadError, match=match) as raised:
        await save(result, directory, mode, **kwargs)
    assert raised.value.result is result  # the unsaved result is handed back
    if directory.exists():
        assert list(directory.iterdir()) == []  # all or nothing
    return raised.value


# ----------------------------------------------------------------- size limits


async def test_an_honest_image_is_saved(server: _Server, tmp_path: Path, mode: str) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    saved = await save(result_of(GeneratedImage(url=url(server, "/ok.png"))), tmp_path, mode)
    (path,) = saved.paths
    assert Path(path).read_bytes() == PNG
    assert Path(path).parent == tmp_path.resolve()


LIARS = {
    # Claims 100 bytes, then streams 64 MiB chunked (chunked framing wins, RFC 9112).
    "small length, endless chunks": endless(
        {"Content-Type": "image/png", "Content-Length": "100", "Transfer-Encoding": "chunked"},
        chunked=True,
    ),
    "no length, read to close": endless({"Content-Type": "image/png"}, chunked=False),
    "generic type, chunked": endless(
        {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"}, chunked=True
    ),
}


@pytest.mark.parametrize("name", sorted(LIARS))
async def test_a_stream_that_lies_about_its_length_is_cut_at_the_cap(
    server: _Server, tmp_path: Path, mode: str, name: str
) -> None:
    server.routes["/lie.png"] = LIARS[name]
    image = GeneratedImage(url=url(server, "/lie.png"))
    started = time.monotonic()
    await refused(
        result_of(image), tmp_path, mode, f"more than the {CAP}-byte limit", max_bytes=CAP
    )
    assert time.monotonic() - started < 10
    # The download stopped early: the server could not send (nearly) all of it.
    deadline = time.monotonic() + 5
    while not server.served["/lie.png"].aborted and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert server.served["/lie.png"].bytes_sent < HUGE // 2, name


async def test_a_gzip_bomb_is_cut_at_the_cap_of_decoded_bytes(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    bomb = gzip.compress(PNG_MAGIC + bytes(HUGE), compresslevel=9)
    assert len(bomb) < CAP  # honest compressed length, under the cap
    server.routes["/bomb.png"] = fixed(200, "image/png", bomb, **{"Content-Encoding": "gzip"})
    image = GeneratedImage(url=url(server, "/bomb.png"))
    await refused(result_of(image), tmp_path, mode, "byte limit", max_bytes=CAP)


async def test_a_declared_oversize_body_is_refused_before_reading(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/big.png"] = endless(
        {"Content-Type": "image/png", "Content-Length": str(HUGE)}, chunked=False
    )
    image = GeneratedImage(url=url(server, "/big.png"))
    await refused(result_of(image), tmp_path, mode, f"{HUGE} bytes, over", max_bytes=CAP)


async def test_a_trickle_is_stopped_by_the_wall_clock_deadline(
    server: _Server, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "DOWNLOAD_DEADLINE", 0.5)

    def trickle(handler: _Handler, served: Served) -> None:
        handler.head(200, {"Content-Type": "image/png", "Transfer-Encoding": "chunked"})
        handler.body(served, b"8\r\n" + PNG_MAGIC + b"\r\n")
        for _ in range(200):  # 20 s of one byte every 0.1 s: never a read timeout
            time.sleep(0.1)
            handler.body(served, b"1\r\n\x00\r\n")

    server.routes["/slow.png"] = trickle
    image = GeneratedImage(url=url(server, "/slow.png"))
    started = time.monotonic()
    await refused(result_of(image), tmp_path, mode, "took over")
    assert time.monotonic() - started < 5


# -------------------------------------------------------------------- content type


@pytest.mark.parametrize(
    ("content_type", "data", "match"),
    [
        ("text/html", PNG, "content-type 'text/html', not an image"),
        ("application/json", PNG, "not an image"),
        ("text/plain; charset=utf-8", PNG, "not an image"),
        ("image/png", b"<html><body>login required</body></html>", "is not a PNG"),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "not a PNG"),
        ("application/octet-stream", b"MZ\x90\x00 an executable", "not a PNG"),
        ("image/png", b"", "not a PNG"),
    ],
)
async def test_wrong_content_is_refused(
    server: _Server, tmp_path: Path, mode: str, content_type: str, data: bytes, match: str
) -> None:
    server.routes["/x"] = fixed(200, content_type, data)
    await refused(result_of(GeneratedImage(url=url(server, "/x"))), tmp_path, mode, match)


@pytest.mark.parametrize("content_type", ["application/octet-stream", "", "image/jpeg"])
async def test_generic_or_mislabelled_image_types_are_judged_by_their_bytes(
    server: _Server, tmp_path: Path, mode: str, content_type: str
) -> None:
    server.routes["/x"] = fixed(200, content_type, PNG)
    saved = await save(result_of(GeneratedImage(url=url(server, "/x"))), tmp_path, mode)
    assert saved.images[0].mime_type == "image/png"
    assert saved.paths[0].endswith(".png")


async def test_http_errors_are_reported_with_their_status(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    error = await refused(
        result_of(GeneratedImage(url=url(server, "/missing.png?sig=SECRETSIG"))),
        tmp_path,
        mode,
        "HTTP 404",
    )
    assert error.status_code == 404
    assert "SECRETSIG" not in str(error)  # signed query strings are not repeated


# ----------------------------------------------------------------------- schemes


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "//127.0.0.1/a.png",
        "/files/a.png",
        "http:///a.png",
        "http://[::1/a.png",
        "ws://127.0.0.1/a.png",
    ],
)
async def test_only_http_urls_are_fetched(
    server: _Server, tmp_path: Path, mode: str, target: str
) -> None:
    await refused(result_of(GeneratedImage(url=target)), tmp_path, mode, "image 0")
    assert server.served == {}


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/a.png", "/loop"])
async def test_redirects_cannot_leave_http(
    server: _Server, tmp_path: Path, mode: str, target: str
) -> None:
    server.routes["/go"] = fixed(302, "text/plain", b"", Location=target)
    server.routes["/loop"] = fixed(302, "text/plain", b"", Location="/go")
    await refused(result_of(GeneratedImage(url=url(server, "/go"))), tmp_path, mode, "image 0")


async def test_redirects_within_http_are_followed(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/go"] = fixed(302, "text/plain", b"", Location="/ok.png")
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    saved = await save(result_of(GeneratedImage(url=url(server, "/go"))), tmp_path, mode)
    assert Path(saved.paths[0]).read_bytes() == PNG


async def test_downloads_never_carry_the_api_token(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    """Even through a caller's client that sends the token by default."""
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    headers = {"authorization": "Bearer sk-download-leak", "x-other": "kept"}
    image = GeneratedImage(url=url(server, "/ok.png"))
    auth = ("user", "password")
    if mode == "sync":
        with httpx.Client(headers=headers, auth=auth) as client:
            await save(result_of(image), tmp_path, mode, http_client=client)
    else:
        async with httpx.AsyncClient(headers=headers, auth=auth) as aclient:
            await save(result_of(image), tmp_path, mode, http_client=aclient)
    (request,) = server.served["/ok.png"].requests
    assert "authorization" not in request
    assert request["x-other"] == "kept"


async def test_a_failed_image_removes_the_ones_already_written(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    result = result_of(
        GeneratedImage(url=url(server, "/ok.png")),
        GeneratedImage(b64_json=base64.b64encode(PNG).decode()),
        GeneratedImage(url=url(server, "/missing.png")),
    )
    await refused(result, tmp_path, mode, "image 2")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ where downloads go


async def test_loopback_is_refused_by_default_without_a_request(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    for host in ("127.0.0.1", "127.1", "2130706433", "0x7f000001", "localhost"):
        image = GeneratedImage(url=url(server, "/ok.png", host))
        error = await refused(
            result_of(image), tmp_path, mode, "only public hosts", trusted_origins=()
        )
        assert "allow_private_downloads=True" in error.message
    assert server.served == {}


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.1.2.3/a.png",
        "http://192.168.0.1/a.png",
        "http://[::ffff:169.254.169.254]/",
        "http://224.0.0.251/a.png",
        "http://0.0.0.0:{port}/ok.png",
        "http://localhost:{port}/ok.png",
    ],
)
async def test_every_redirect_hop_is_checked(
    server: _Server, foreign: _Server, tmp_path: Path, mode: str, target: str
) -> None:
    """A trusted host (the API's) may not bounce a download to a private one."""
    server.routes["/hop1"] = fixed(302, "text/plain", b"", Location="/hop2")
    server.routes["/hop2"] = fixed(
        307, "text/plain", b"", Location=target.format(port=foreign.server_address[1])
    )
    foreign.routes["/ok.png"] = fixed(200, "image/png", PNG)
    image = GeneratedImage(url=url(server, "/hop1"))
    await refused(
        result_of(image), tmp_path, mode, "only public hosts", trusted_origins=[url(server, "/")]
    )
    assert sorted(server.served) == ["/hop1", "/hop2"]
    assert foreign.served == {}


async def test_a_redirect_to_another_loopback_port_is_refused(
    server: _Server, foreign: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/go"] = fixed(302, "text/plain", b"", Location=url(foreign, "/ok.png"))
    foreign.routes["/ok.png"] = fixed(200, "image/png", PNG)
    image = GeneratedImage(url=url(server, "/go"))
    await refused(
        result_of(image), tmp_path, mode, "loopback address", trusted_origins=[url(server, "")]
    )
    assert foreign.served == {}
    # The developer's explicit opt-in follows the same chain.
    saved = await save(result_of(image), tmp_path, mode, allow_private_hosts=True)
    assert Path(saved.paths[0]).read_bytes() == PNG
    assert len(foreign.served["/ok.png"].requests) == 1


async def test_the_trusted_origin_is_fetched_and_only_at_its_port(
    server: _Server, foreign: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    foreign.routes["/ok.png"] = fixed(200, "image/png", PNG)
    trusted = [f"http://127.0.0.1:{server.server_address[1]}"]
    saved = await save(
        result_of(GeneratedImage(url=url(server, "/ok.png"))),
        tmp_path,
        mode,
        trusted_origins=trusted,
    )
    assert Path(saved.paths[0]).read_bytes() == PNG
    image = GeneratedImage(url=url(foreign, "/ok.png"))
    await refused(result_of(image), tmp_path / "b", mode, "loopback", trusted_origins=trusted)
    assert foreign.served == {}


async def test_too_many_redirects_are_cut(server: _Server, tmp_path: Path, mode: str) -> None:
    for hop in range(10):
        server.routes[f"/r{hop}"] = fixed(302, "text/plain", b"", Location=f"/r{hop + 1}")
    image = GeneratedImage(url=url(server, "/r0"))
    await refused(result_of(image), tmp_path, mode, f"more than {storage.MAX_REDIRECTS} redirects")
    assert len(server.served) == storage.MAX_REDIRECTS + 1


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the download guard resolves to chosen addresses (sync and async resolvers)."""
    import socket

    import anyio

    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def answer(host: str, port: int) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in table[host]
        ]

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return answer(host, port) if host in table else real(host, port, *args, **kwargs)

    async def agetaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return answer(host, port) if host in table else real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(anyio, "getaddrinfo", agetaddrinfo)
    return table


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["169.254.169.254"], ["10.0.0.7"], ["8.8.8.8", "127.0.0.1"], ["::1"]],
)
async def test_a_public_looking_name_that_resolves_to_a_refused_address_is_refused(
    server: _Server,
    tmp_path: Path,
    mode: str,
    fake_dns: dict[str, list[str]],
    addresses: list[str],
) -> None:
    fake_dns["images.cdn-example.com"] = addresses
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    image = GeneratedImage(url=url(server, "/ok.png", "images.cdn-example.com"))
    error = await refused(result_of(image), tmp_path, mode, "resolves to", trusted_origins=())
    assert "images.cdn-example.com resolves to a" in error.message
    assert server.served == {}


async def test_a_redirect_to_a_name_resolving_to_loopback_is_refused(
    server: _Server, foreign: _Server, tmp_path: Path, mode: str, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["cdn.rebind-example.com"] = ["127.0.0.1"]
    foreign.routes["/ok.png"] = fixed(200, "image/png", PNG)
    server.routes["/go"] = fixed(
        302, "text/plain", b"", Location=url(foreign, "/ok.png", "cdn.rebind-example.com")
    )
    image = GeneratedImage(url=url(server, "/go"))
    await refused(
        result_of(image),
        tmp_path,
        mode,
        "resolves to a loopback",
        trusted_origins=[url(server, "")],
    )
    assert foreign.served == {}


async def test_at_most_max_images_are_saved_the_rest_keep_their_urls(
    server: _Server, tmp_path: Path, mode: str
) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    images = [GeneratedImage(url=url(server, f"/ok.png?i={i}")) for i in range(40)]
    saved = await save(result_of(*images), tmp_path, mode)
    assert len(saved.paths) == storage.MAX_DOWNLOADS == 16
    assert len(saved.images) == 40
    assert [i.url for i in saved.images] == [i.url for i in images]
    assert len(server.served["/ok.png"].requests) == 16
    assert len(list(tmp_path.iterdir())) == 16
    two = await save(result_of(*images), tmp_path / "two", mode, max_images=2)
    assert len(two.paths) == 2
    none = await save(result_of(*images), tmp_path / "none", mode, max_images=0)
    assert none.paths == []
    assert len(none.images) == 40


# ----------------------------------------------------------------- file names

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}-\d+-[0-9a-f]{8}\.(png|jpg|webp|gif)$")
HOSTILE_IDS = [
    "../../../../tmp/escaped",
    "..",
    "/etc/passwd",
    "a/../../b",
    "..\\..\\windows\\system32",
    "C:\\Windows\\evil",
    "nul\x00byte",
    "~root/.ssh/authorized_keys",
    "$(touch pwned)",
    "x" * 5000,
    "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    ".hidden",
    "-rf",
    "",
    None,
]


@pytest.mark.parametrize("task_id", HOSTILE_IDS)
async def test_file_names_cannot_escape_the_save_dir(
    tmp_path: Path, mode: str, task_id: str | None
) -> None:
    target = tmp_path / "images"
    image = GeneratedImage(b64_json=base64.b64encode(PNG).decode())
    saved = await save(result_of(image, image, task_id=task_id), target, mode)
    assert len(saved.paths) == 2
    for path in map(Path, saved.paths):
        assert path.parent == target.resolve()
        assert _NAME.match(path.name), path.name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        Path(p).name for p in saved.paths
    )


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(task_id=st.one_of(st.none(), st.text(max_size=300), st.sampled_from(HOSTILE_IDS[:-1])))
def test_any_task_id_gives_a_plain_name_inside_the_save_dir(
    tmp_path: Path, task_id: str | None
) -> None:
    target = tmp_path / "fuzz"
    image = GeneratedImage(b64_json=base64.b64encode(PNG).decode())
    saved = save_images(result_of(image, task_id=task_id), target)
    path = Path(saved.paths[0])
    assert path.parent == target.resolve()
    assert _NAME.match(path.name), path.name
    assert path.read_bytes() == PNG
    path.unlink()


# ----------------------------------------------------------------- callback_url

BAD_CALLBACKS = [
    "ftp://example.com/hook",
    "javascript:alert(1)",
    "javascript://example.com/%0aalert(1)",
    "/relative/hook",
    "hook",
    "//example.com/hook",
    "file:///etc/passwd",
    "data:text/html,<script>alert(1)</script>",
    "mailto:ops@example.com",
    "ws://example.com/socket",
    "http://",
    "http:///hook",
    "http://:8080/hook",
    "http://@/hook",
    "http://[::1/hook",
    "http://example.com:99999/hook",
    "https://exa mple.com/hook",
    "https://example.com/a\nb",
    "",
]


@pytest.mark.parametrize("callback_url", BAD_CALLBACKS)
@pytest.mark.parametrize("schema", [GenerateImageInput, EditImageInput])
def test_callback_url_must_be_an_absolute_http_url(schema: type[Any], callback_url: str) -> None:
    args: dict[str, Any] = {"prompt": "x", "callback_url": callback_url}
    if schema is EditImageInput:
        args["image"] = "https://cdn.example.com/a.png"
    with pytest.raises(ValidationError, match="callback_url"):
        schema.model_validate(args)


@pytest.mark.parametrize(
    "callback_url",
    [
        "https://example.com/hook",
        "http://127.0.0.1:8080/hook?task=1#x",
        "HTTPS://Example.COM/Hook",
        "http://[::1]:9000/hook",
        "https://user:pass@hooks.example.org/a/b",
    ],
)
def test_absolute_http_callback_urls_are_accepted(callback_url: str) -> None:
    assert GenerateImageInput(prompt="x", callback_url=callback_url).callback_url == callback_url


_URLISH = st.text(alphabet=string.printable + "é☃[]@:%", max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    candidate=st.one_of(
        _URLISH,
        st.builds(
            "{}{}".format, st.sampled_from(["http://", "https://", "HTTP://", "ftp://"]), _URLISH
        ),
    )
)
def test_every_accepted_callback_url_has_an_http_scheme_and_a_host(candidate: str) -> None:
    try:
        accepted = GenerateImageInput(prompt="x", callback_url=candidate).callback_url
    except ValidationError:
        return
    assert accepted is not None
    parts = urlsplit(accepted)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert not re.search(r"\s", accepted)
    _ = parts.port  # parses


# ---------------------------------------------------------------------------- proxies


class _Proxy(ThreadingHTTPServer):
    """A forward HTTP proxy: it resolves every name to 127.0.0.1 itself (like a corporate
    proxy resolving names this machine cannot) and records the absolute URLs it was asked."""

    daemon_threads = True
    asked: list[str]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        target = urlsplit(self.path)  # a proxy is asked for absolute URLs
        with httpx.Client(trust_env=False) as upstream:
            answer = upstream.get(
                f"http://127.0.0.1:{target.port}{target.path}", follow_redirects=False
            )
        self.send_response(answer.status_code)
        for name in ("content-type", "location"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("content-length", str(len(answer.content)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(answer.content)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Proxy]:
    """The proxy, named by ``HTTP_PROXY`` (no other proxy variable set)."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "request_method"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    instance = _Proxy(("127.0.0.1", 0), _ProxyHandler)
    instance.asked = []
    thread = threading.Thread(target=instance.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{instance.server_address[1]}")
    try:
        yield instance
    finally:
        instance.shutdown()
        instance.server_close()
        thread.join(5)


CDN = "cdn.proxied-example.com"


@pytest.fixture
def cdn_image(server: _Server, fake_dns: dict[str, list[str]]) -> GeneratedImage:
    """An image on a public-looking name that resolves to loopback from here: direct, the
    guard refuses it; through the proxy (which resolves it) it is fetched."""
    fake_dns[CDN] = ["127.0.0.1"]
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    return GeneratedImage(url=url(server, "/ok.png", CDN))


async def test_downloads_go_through_the_proxy_of_the_environment(
    server: _Server, proxy: _Proxy, cdn_image: GeneratedImage, tmp_path: Path, mode: str
) -> None:
    saved = await save(result_of(cdn_image), tmp_path, mode, trusted_origins=())
    assert Path(saved.paths[0]).read_bytes() == PNG
    assert proxy.asked == [cdn_image.url]
    assert len(server.served["/ok.png"].requests) == 1


@pytest.mark.parametrize("switch", ["argument", "no_proxy"])
async def test_without_the_proxy_the_address_check_applies(
    server: _Server,
    proxy: _Proxy,
    cdn_image: GeneratedImage,
    tmp_path: Path,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    switch: str,
) -> None:
    options: dict[str, Any] = {"trusted_origins": ()}
    if switch == "argument":
        options["proxy_from_env"] = False
    else:
        monkeypatch.setenv("NO_PROXY", "localhost, .proxied-example.com")
    await refused(result_of(cdn_image), tmp_path, mode, "resolves to a loopback", **options)
    assert proxy.asked == []
    assert server.served == {}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.7", "169.254.169.254"])
async def test_private_hosts_are_refused_by_name_before_the_proxy_is_asked(
    server: _Server, proxy: _Proxy, tmp_path: Path, mode: str, host: str
) -> None:
    image = GeneratedImage(url=url(server, "/ok.png", host))
    await refused(result_of(image), tmp_path, mode, "refusing to download", trusted_origins=())
    assert proxy.asked == []


async def test_a_redirect_to_a_private_address_is_refused_through_the_proxy(
    server: _Server, proxy: _Proxy, fake_dns: dict[str, list[str]], tmp_path: Path, mode: str
) -> None:
    fake_dns[CDN] = ["127.0.0.1"]
    server.routes["/go"] = fixed(302, "text/plain", b"", Location="http://10.0.0.7/ok.png")
    image = GeneratedImage(url=url(server, "/go", CDN))
    await refused(result_of(image), tmp_path, mode, "private address", trusted_origins=())
    assert proxy.asked == [image.url]  # the first hop only


@pytest.mark.parametrize("through_proxy", [True, False])
async def test_allowed_private_downloads_follow_the_same_switch(
    server: _Server, proxy: _Proxy, tmp_path: Path, mode: str, through_proxy: bool
) -> None:
    server.routes["/ok.png"] = fixed(200, "image/png", PNG)
    image = GeneratedImage(url=url(server, "/ok.png"))
    await save(result_of(image), tmp_path, mode, proxy_from_env=through_proxy)
    assert proxy.asked == ([image.url] if through_proxy else [])


async def test_an_unusable_proxy_is_a_download_error_without_its_password(
    proxy: _Proxy, cdn_image: GeneratedImage, tmp_path: Path, mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("HTTP_PROXY", "ftp://user:hunter2@proxy.example:21")
    error = await refused(
        result_of(cdn_image), tmp_path, mode, "proxy that cannot be used", trusted_origins=()
    )
    assert "hunter2" not in str(error)
    assert "download_proxy_from_env=False" in error.message
