"""The command line, against the embedded emulator and a served one (never the real API)."""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from langchain_acedata_images import AceDataImagesClient, EditImageInput, GenerateImageInput
from langchain_acedata_images.cli import EMULATOR_NOTICE, REQUEST_MODELS, build_parser, main
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator

pytestmark = pytest.mark.integration

Capture = pytest.CaptureFixture[str]


@pytest.fixture(autouse=True)
def _fast_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    monkeypatch.delenv("ACEDATACLOUD_API_BASE_URL", raising=False)
    monkeypatch.setenv("ACEDATA_EMULATOR_LATENCY", "0.05")


def _subparser(name: str) -> object:
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]


def test_every_tool_parameter_is_an_option() -> None:
    generate = _subparser("generate")
    dests = {action.dest for action in generate._actions}  # type: ignore[attr-defined]
    assert set(GenerateImageInput.model_fields) <= dests
    model = next(a for a in generate._actions if a.dest == "model")  # type: ignore[attr-defined]
    assert "dall-e-3" in model.choices


def test_only_request_model_fields_are_sent() -> None:
    args = build_parser().parse_args(
        ["edit", "blue", "--image", "a.png", "--out", "x", "--name", "n", "--max-wait", "3"]
    )
    from langchain_acedata_images.cli import request_values

    assert request_values(args) == {"prompt": "blue", "image": ["a.png"]}
    assert set(request_values(args)) <= set(EditImageInput.model_fields)
    assert set(REQUEST_MODELS) == {"generate", "edit", "task", "tasks"}


def test_generate_saves_images_and_says_once_they_come_from_the_emulator(
    tmp_path: Path, capsys: Capture
) -> None:
    code = main(
        ["generate", "a lighthouse", "--size", "1536x1024", "--n", "2", "--out", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.count("emulator") == 1
    assert EMULATOR_NOTICE in captured.err
    result = json.loads(captured.out)
    assert len(result["images"]) == 2
    for image in result["images"]:
        with Image.open(image["path"]) as opened:
            assert opened.size == (1536, 1024)
        assert Path(image["path"]).parent == tmp_path


def test_the_readme_edit_edits_the_file_generate_saved(tmp_path: Path, capsys: Capture) -> None:
    out = str(tmp_path / "images")
    assert main(["generate", "a red fox in snow", "--out", out, "--name", "fox"]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["path"] == f"{out}/fox.png"
    fox = f"{out}/fox.png"
    assert main(["edit", "make it blue", "--image", fox, "--out", out, "--name", "blue-fox"]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["path"] == f"{out}/blue-fox.png"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["blue-fox.png", "fox.png"]
    assert main(["generate", "two", "--n", "2", "--out", out, "--name", "pair"]) == 0
    paths = [image["path"] for image in json.loads(capsys.readouterr().out)["images"]]
    assert paths == [f"{out}/pair-1.png", f"{out}/pair-2.png"]


def test_b64_results_are_not_printed(tmp_path: Path, capsys: Capture) -> None:
    assert main(["generate", "x", "--response-format", "b64_json", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert len(out) < 2000
    assert json.loads(out)["images"][0]["b64_json"].startswith("(omitted")


def test_invalid_arguments_are_explained_to_a_person(tmp_path: Path, capsys: Capture) -> None:
    code = main(
        ["generate", "x", "--model", "dall-e-2", "--size", "1792x1024", "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "256x256, 512x512, 1024x1024" in err
    assert "Nothing was sent" in err
    assert "generate --help" in err
    assert "tool" not in err.lower()
    assert not list(tmp_path.iterdir())


def test_no_token_against_a_real_url_is_a_clear_error(tmp_path: Path, capsys: Capture) -> None:
    code = main(["generate", "x", "--base-url", "https://api.example.com", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "ACEDATACLOUD_API_TOKEN is not set" in err
    assert "https://api.example.com" in err
    assert "Traceback" not in err


def test_emulator_and_base_url_exclude_each_other(capsys: Capture) -> None:
    assert main(["tasks", "--emulator", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_base_url_is_honoured_without_a_token_for_a_local_server(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    url = ["--base-url", emulator.base_url]
    assert main(["generate", "kept", "--out", str(tmp_path), *url]) == 0
    task_id = json.loads(capsys.readouterr().out)["task_id"]
    # A served emulator keeps its tasks between commands.
    assert main(["tasks", *url]) == 0
    assert [item["id"] for item in json.loads(capsys.readouterr().out)["items"]] == [task_id]
    assert main(["task", "--task-id", task_id, "--out", str(tmp_path), *url]) == 0
    assert json.loads(capsys.readouterr().out)["task_id"] == task_id
    assert emulator.stats()["submissions"] == 1


def test_base_url_with_a_token_uses_both(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", "sk-cli-token")
    assert main(["tasks", "--base-url", emulator.base_url]) == 0
    captured = capsys.readouterr()
    assert "emulator" not in captured.err
    assert json.loads(captured.out)["count"] == 0


def test_task_lookups_in_embedded_mode_say_it_starts_empty(capsys: Capture) -> None:
    assert main(["task", "--task-id", "abc"]) == 1
    err = capsys.readouterr().err
    assert "starts empty on every run" in err
    assert "No task has task id abc." in err
    assert main(["tasks", "--limit", "3"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["count"] == 0
    assert "starts empty on every run" in captured.err


def test_a_job_still_running_in_the_embedded_emulator_says_to_wait_longer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
) -> None:
    monkeypatch.setenv("ACEDATA_EMULATOR_LATENCY", "30")
    assert main(["generate", "slow", "--max-wait", "0.3", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "still running" in err
    assert "larger --max-wait" in err
    assert "task --task-id" not in err  # that job ends with the command: nothing to fetch
    assert "Traceback" not in err


def _printed_command(err: str) -> list[str]:
    """The command between backticks in a message, as the shell would split it."""
    command = shlex.split(err.split("`")[1])
    assert command[0] == "acedata-images"
    return command[1:]


def test_the_still_running_hint_runs_as_printed(tmp_path: Path, capsys: Capture) -> None:
    out = str(tmp_path / "my images")
    with run_emulator(EmulatorConfig(latency=1.5, queue_delay=0.01)) as slow:
        argv = ["generate", "slow", "--max-wait", "0.2", "--out", out, "--base-url", slow.base_url]
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "is still running" in err
        hint = _printed_command(err)
        assert hint[:2] == ["task", "--task-id"]
        assert main(hint) == 0  # pasted as printed: same server, same folder
        result = json.loads(capsys.readouterr().out)
        assert Path(result["images"][0]["path"]).parent == Path(out)
        assert slow.stats()["submissions"] == 1


def test_a_missing_emulator_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    import langchain_acedata_images

    for name in [m for m in sys.modules if m.startswith("langchain_acedata_images.emulator")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(langchain_acedata_images, "emulator", raising=False)
    for name in [m for m in sys.modules if m.split(".")[0] == "starlette"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing starlette now fails
    assert main(["emulator"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert 'pip install ".[emulator]"' in err
    assert main(["tasks"]) == 1
    err = capsys.readouterr().err.strip()
    assert 'pip install ".[emulator]"' in err
    assert "\n" not in err  # and no notice about an emulator that could not start


def test_edit_accepts_local_files(tmp_path: Path, capsys: Capture) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(source)
    out = tmp_path / "out"
    assert main(["edit", "make it blue", "--image", str(source), "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert Path(result["images"][0]["path"]).parent == out


def test_module_entry_point_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "langchain_acedata_images", "generate", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--output-compression" in completed.stdout
    assert "--name" in completed.stdout


def test_the_emulator_command_takes_the_emulators_own_options(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["emulator", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "acedata-images emulator" in out
    for option in ("--port", "--latency", "--dialect"):
        assert option in out


def test_unknown_options_of_other_commands_are_still_errors(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["generate", "x", "--bogus"])
    assert done.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_each_run_is_a_new_job(emulator: RunningEmulator, tmp_path: Path, capsys: Capture) -> None:
    argv = ["generate", "a fox", "--out", str(tmp_path), "--base-url", emulator.base_url]
    task_ids = []
    for _ in range(2):
        assert main(argv) == 0
        task_ids.append(json.loads(capsys.readouterr().out)["task_id"])
    assert task_ids[0] != task_ids[1]
    assert emulator.stats()["submissions"] == 2
    # No exactly-once look-up before submitting: a command line is no tool call.
    assert emulator.stats()["by_path"].get("/openai/tasks", 0) <= 2  # the polls only


def test_relative_image_paths_are_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (64, 64), (200, 40, 40)).save("mypic.png")
    assert main(["edit", "make it blue", "--image", "mypic.png", "--out", "images"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert Path(result["images"][0]["path"]).parent == tmp_path / "images"


def _exit_code(argv: list[str]) -> int | str | None:
    """``main``'s exit status, whether returned or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as done:
        return done.code


BAD_FLAGS = {
    "--max-wait -1": ["--max-wait", "-1"],
    "--max-wait nan": ["--max-wait", "nan"],
    "--max-wait inf": ["--max-wait", "inf"],
    "--max-wait 0": ["--max-wait", "0"],
    "--max-wait soon": ["--max-wait", "soon"],
    "--name sub/fox": ["--name", "sub/fox"],
    "--name ..": ["--name", ".."],
    "--name empty": ["--name", " "],
    "--out under a file": ["--out", "FILE/sub"],
    "--out /proc/nope": ["--out", "/proc/nope"],
    "--base-url ftp": ["--base-url", "ftp://127.0.0.1/"],
    "--base-url empty": ["--base-url", ""],
    "--size": ["--size", "huge"],
}


@pytest.mark.parametrize("flags", list(BAD_FLAGS.values()), ids=list(BAD_FLAGS))
def test_a_bad_flag_is_one_line_before_any_request(
    flags: list[str], emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    flags = [flag.replace("FILE", str(tmp_path / "FILE")) for flag in flags]
    url = [] if "--base-url" in flags else ["--base-url", emulator.base_url]
    out = [] if "--out" in flags else ["--out", str(tmp_path / "out")]
    code = _exit_code(["generate", "a fox", *url, *out, *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert flags[0] in err
    assert emulator.stats()["requests"] == 0


def test_a_missing_image_is_one_line_before_any_request(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    code = main(
        ["edit", "blue", "--image", str(tmp_path / "nope.png"), "--base-url", emulator.base_url]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"--image {tmp_path / 'nope.png'}: no such file" in err
    assert emulator.stats()["requests"] == 0


def test_version(capsys: Capture) -> None:
    from langchain_acedata_images import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"acedata-images {__version__}"


def _failing_writes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, only: Path | None) -> None:
    """Make saving fail as a full disk does (in ``only``, or everywhere); temporary folders
    are made under ``tmp_path``."""
    from langchain_acedata_images import storage

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))

    original = storage._write

    def write(plan: Any, directory: Path, index: int, kind: Any, data: bytes) -> Path:
        if only is None or directory == only.resolve():
            raise plan.error(f"image {index}: cannot write to {directory}: No space left on device")
        return original(plan, directory, index, kind, data)

    monkeypatch.setattr(storage, "_write", write)


def test_a_failed_save_keeps_the_image_elsewhere_and_says_where(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
) -> None:
    out = tmp_path / "out"
    _failing_writes(monkeypatch, tmp_path, only=out)
    code = main(["generate", "a fox", "--out", str(out), "--base-url", emulator.base_url])
    captured = capsys.readouterr()
    assert code == 1
    kept = Path(json.loads(captured.out)["images"][0]["path"])
    assert kept.is_file()
    assert kept.parent.parent == tmp_path / "tmp"  # a fresh temporary folder
    assert str(kept) in captured.err
    assert "No space left on device" in captured.err
    assert emulator.stats()["submissions"] == 1


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
def test_when_nothing_can_be_saved_the_result_keeps_the_image(
    response_format: str,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: Capture,
) -> None:
    _failing_writes(monkeypatch, tmp_path, only=None)
    out = ["--out", str(tmp_path / "out"), "--base-url", emulator.base_url]
    assert main(["generate", "a fox", *out, "--response-format", response_format]) == 1
    captured = capsys.readouterr()
    image = json.loads(captured.out)["images"][0]
    if response_format == "url":
        assert image["url"] in captured.err
        assert httpx.get(image["url"]).content.startswith(b"\x89PNG")
    else:
        assert base64.b64decode(image["b64_json"]).startswith(b"\x89PNG")
        assert "base64 data printed above" in captured.err
    # Nothing half-written, and no empty temporary folder left behind.
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["out", "tmp"]


def test_a_name_that_cannot_be_applied_keeps_the_file(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    (tmp_path / "fox.png").mkdir()  # something else already has that name
    argv = ["generate", "a fox", "--out", str(tmp_path), "--name", "fox"]
    assert main([*argv, "--base-url", emulator.base_url]) == 1
    captured = capsys.readouterr()
    kept = Path(json.loads(captured.out)["images"][0]["path"])
    assert kept.is_file()
    assert f"it is kept as {kept}" in captured.err


def test_a_name_with_an_image_suffix_is_not_doubled(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    argv = ["generate", "a fox", "--out", str(tmp_path), "--name", "fox.png"]
    assert main([*argv, "--base-url", emulator.base_url]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["path"] == str(tmp_path / "fox.png")


def _edited(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture, size: tuple[int, int], *flags: str
) -> tuple[tuple[int, int], str | None]:
    """Edit an image of ``size``: the output's size, and the size the request asked for."""
    source = tmp_path / "in.png"
    Image.new("RGB", size, (10, 20, 30)).save(source)
    argv = ["edit", "blue", "--image", str(source), "--out", str(tmp_path), *flags]
    assert main([*argv, "--base-url", emulator.base_url]) == 0
    result = json.loads(capsys.readouterr().out)
    with Image.open(result["images"][0]["path"]) as made:
        made_size = made.size
    with AceDataImagesClient("any", base_url=emulator.base_url) as client:
        record = client.get_task(result["task_id"])
    assert record is not None
    asked = (record.request or {}).get("size")
    return made_size, asked


def test_an_edit_keeps_the_input_size(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    assert _edited(emulator, tmp_path, capsys, (1536, 1024)) == ((1536, 1024), "1536x1024")
    two = ("--model", "gpt-image-2")
    assert _edited(emulator, tmp_path, capsys, (640, 480), *two) == ((640, 480), "640x480")


def test_an_edit_sends_no_size_the_model_cannot_make(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    _, asked = _edited(emulator, tmp_path, capsys, (300, 200))  # not a gpt-image-1 size
    assert asked is None


def test_an_edit_size_given_wins(
    emulator: RunningEmulator, tmp_path: Path, capsys: Capture
) -> None:
    made = _edited(emulator, tmp_path, capsys, (1536, 1024), "--size", "1024x1536")
    assert made == ((1024, 1536), "1024x1536")
