"""Edit inputs: handles, trusted save directories, bytes / paths / file objects to upload."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from langchain_acedata_images._image_inputs import (
    ImageFile,
    decode_data_url,
    image_file,
    load_image_inputs,
    load_image_source,
    plan_image_inputs,
    resolve_image_inputs,
)
from langchain_acedata_images.errors import ImageInputError
from langchain_acedata_images.handles import ImageHandle

# A PNG header of a 3x2 image (enough for sniffing and the size read).
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (3).to_bytes(4, "big") + (2).to_bytes(4, "big")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


def test_handles_are_planned_without_local_file_permission() -> None:
    planned = plan_image_inputs(["img:t1:0", "https://x/a.png"], allow_local_files=False)
    assert planned == [ImageHandle("t1", 0), "https://x/a.png"]


def test_files_in_a_trusted_directory_are_read_with_default_settings(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "t1-0.png").write_bytes(PNG)
    (tmp_path / "other.png").write_bytes(PNG)
    loaded = load_image_inputs(str(saved / "t1-0.png"), trusted_dirs=[saved])
    assert loaded == [ImageFile(PNG, "image/png", "t1-0.png")]
    with pytest.raises(ImageInputError, match="local files are not enabled"):
        load_image_inputs(str(tmp_path / "other.png"), trusted_dirs=[saved])
    with pytest.raises(ImageInputError, match="local files are not enabled"):
        load_image_inputs(str(saved / ".." / "other.png"), trusted_dirs=[saved])


def test_opted_in_local_files_become_uploads_not_data_urls(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(JPEG)
    (loaded,) = load_image_inputs(str(tmp_path / "a.jpg"), allow_local_files=True)
    assert isinstance(loaded, ImageFile)
    assert (loaded.mime_type, loaded.filename) == ("image/jpeg", "a.jpg")
    # The older helper still inlines them for JSON bodies.
    assert resolve_image_inputs(str(tmp_path / "a.jpg"), allow_local_files=True).startswith(
        "data:image/jpeg;base64,"
    )


def test_programmatic_sources(tmp_path: Path) -> None:
    (tmp_path / "b.png").write_bytes(PNG)
    assert load_image_source(PNG) == ImageFile(PNG, "image/png", "image.png")
    assert load_image_source(bytearray(PNG)) == ImageFile(PNG, "image/png", "image.png")
    assert load_image_source(tmp_path / "b.png") == ImageFile(PNG, "image/png", "b.png")
    with (tmp_path / "b.png").open("rb") as handle:
        assert load_image_source(handle) == ImageFile(PNG, "image/png", "b.png")
    assert load_image_source(io.BytesIO(JPEG)).mime_type == "image/jpeg"
    assert load_image_source("https://x/a.png") == "https://x/a.png"
    assert load_image_source("img:t:1") == ImageHandle("t", 1)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("photo.png", "pass a pathlib.Path"),
        (b"not an image", "not a PNG, JPEG, WebP or GIF"),
        (io.StringIO("text"), "binary mode"),
        ("img:bad id:0", "not a valid image reference"),
    ],
)
def test_bad_programmatic_sources_are_refused(source: object, fragment: str) -> None:
    with pytest.raises(ImageInputError, match=fragment):
        load_image_source(source)  # type: ignore[arg-type]


def test_size_cap_names_the_limit() -> None:
    with pytest.raises(ImageInputError, match="larger than 10 bytes"):
        image_file(PNG + b"\x00" * 10, max_bytes=10)


def test_data_urls_decode_to_uploads() -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    image = decode_data_url(url)
    assert image.data == PNG
    assert image.data_url == url
    assert image.png_size == (3, 2)
    with pytest.raises(ImageInputError, match="base64-encoded"):
        decode_data_url("data:image/png,raw")
    with pytest.raises(ImageInputError, match="not valid base64"):
        decode_data_url("data:image/png;base64,%%%")


def test_file_names_are_safe() -> None:
    assert image_file(PNG, name="../../etc/pass wd.png").filename == "pass_wd.png"
    assert image_file(JPEG, name="x.png").filename == "x.jpg"  # the bytes decide the type
    assert "bytes" in repr(image_file(PNG))
    assert "\\x89" not in repr(image_file(PNG))


def test_relative_paths_into_a_trusted_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "fox.png").write_bytes(PNG)
    for entry in ("images/fox.png", "fox.png"):  # from the working directory, or the save dir
        (loaded,) = load_image_inputs(entry, trusted_dirs=["images"])
        assert isinstance(loaded, ImageFile)
        assert loaded.filename == "fox.png"
    with pytest.raises(ImageInputError, match="local files are not enabled"):
        load_image_inputs("images/../../x.png", trusted_dirs=["images"])
