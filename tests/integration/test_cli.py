"""The command line, against the embedded emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from langchain_acedata_images import GenerateImageInput
from langchain_acedata_images.cli import EMULATOR_NOTICE, build_parser, main

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fast_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    monkeypatch.setenv("ACEDATA_EMULATOR_LATENCY", "0.05")


def test_every_tool_parameter_is_an_option() -> None:
    parser = build_parser()
    generate = parser._subparsers._group_actions[0].choices["generate"]  # type: ignore[union-attr]
    dests = {action.dest for action in generate._actions}
    assert set(GenerateImageInput.model_fields) <= dests
    model = next(a for a in generate._actions if a.dest == "model")
    assert "dall-e-3" in model.choices


def test_generate_saves_images_and_prints_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["generate", "a lighthouse", "--size", "1536x1024", "--n", "2", "--out", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert EMULATOR_NOTICE in captured.err
    result = json.loads(captured.out)
    assert len(result["images"]) == 2
    for image in result["images"]:
        with Image.open(image["path"]) as opened:
            assert opened.size == (1536, 1024)
        assert Path(image["path"]).parent == tmp_path


def test_b64_results_are_not_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "x", "--response-format", "b64_json", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert len(out) < 2000
    assert json.loads(out)["images"][0]["b64_json"].startswith("(omitted")


def test_invalid_arguments_exit_2_with_the_allowed_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["generate", "x", "--model", "dall-e-2", "--size", "1792x1024", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "256x256, 512x512, 1024x1024" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_edit_accepts_local_files_and_tasks_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(source)
    out = tmp_path / "out"
    assert main(["edit", "make it blue", "--image", str(source), "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert Path(result["images"][0]["path"]).parent == out
    assert main(["tasks", "--limit", "3"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["count"] == 0  # a fresh embedded emulator per command


def test_module_entry_point_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "langchain_acedata_images", "generate", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--output-compression" in completed.stdout
