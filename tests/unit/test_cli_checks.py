"""The command line's own options, checked before any request."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from PIL import Image

from langchain_acedata_images._cli_checks import (
    file_stem,
    http_url,
    image_dimensions,
    local_images,
    max_wait_seconds,
    writable_directory,
)
from langchain_acedata_images._cli_connection import UsageError


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf", "soon", "", "1e400"])
def test_max_wait_takes_a_finite_number_above_zero(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="above 0"):
        max_wait_seconds(value)


def test_max_wait_accepts_seconds() -> None:
    assert max_wait_seconds("0.5") == 0.5
    assert max_wait_seconds(" 120 ") == 120.0


@pytest.mark.parametrize(
    "value", ["sub/fox", "../fox", "..", ".", "", "  ", "a\\b", "fox\x00", "tab\there", "x" * 300]
)
def test_name_is_a_plain_file_name(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--out"):
        file_stem(value)


@pytest.mark.parametrize(
    ("value", "stem"),
    [("fox", "fox"), ("fox.png", "fox"), ("Fox.JPEG", "Fox"), ("v1.2", "v1.2"), ("..fox", "..fox")],
)
def test_name_drops_an_image_suffix(value: str, stem: str) -> None:
    assert file_stem(value) == stem


@pytest.mark.parametrize("value", ["", "127.0.0.1:8000", "ftp://host/", "http://", "file:///x"])
def test_base_url_is_an_http_url(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="http"):
        http_url(value)


def test_out_is_created_or_refused(tmp_path: Path) -> None:
    assert writable_directory(str(tmp_path / "a" / "b")).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot be saved there"):
        writable_directory(str(tmp_path / "file" / "sub"))


def test_local_images_are_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pic.png").write_bytes(b"x")
    url = "https://example.com/a.png"
    assert local_images("--image", ["pic.png", url, "img:t1:0"]) == [
        str(tmp_path / "pic.png"),
        url,
        "img:t1:0",
    ]
    with pytest.raises(UsageError, match=r"--image gone\.png: no such file"):
        local_images("--image", ["gone.png"])
    with pytest.raises(UsageError, match="--mask s3://b/k"):
        local_images("--mask", ["s3://b/k"])


def test_image_dimensions_come_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "a.webp"
    Image.new("RGB", (48, 32)).save(path)
    assert image_dimensions(str(path)) == (48, 32)
    (tmp_path / "b.png").write_bytes(b"not an image")
    assert image_dimensions(str(tmp_path / "b.png")) is None
    assert image_dimensions("https://example.com/a.png") is None
