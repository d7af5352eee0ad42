"""What the command line tells a person: option names, and commands that run as printed."""

from __future__ import annotations

import shlex

import pytest
from pydantic import ValidationError

from langchain_acedata_images import GenerateImageInput
from langchain_acedata_images._cli_messages import Rerun, error_text, invalid_arguments_text
from langchain_acedata_images.errors import TaskTimeoutError, TransportError

FIELDS = GenerateImageInput.model_fields


def _text(**arguments: object) -> str:
    with pytest.raises(ValidationError) as caught:
        GenerateImageInput(prompt="x", **arguments)  # type: ignore[arg-type]
    return invalid_arguments_text("generate", caught.value, FIELDS)


def test_each_problem_is_one_line_naming_the_option() -> None:
    text = _text(model="dall-e-2", size="1792x1024", style="vivid")
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("acedata-images generate: --size 1792x1024 is not supported")
    assert "remove style or set --model dall-e-3" in lines[1]
    assert lines[1].endswith('Nothing was sent; see "acedata-images generate --help".')


@pytest.mark.parametrize(
    ("arguments", "advice"),
    [
        ({"model": "dall-e-3", "n": 3}, "set --n 1"),
        ({"output_compression": 50}, "--output-compression only applies to --output-format"),
        ({"n": 0}, "--n: "),
    ],
)
def test_advice_is_spelled_as_options(arguments: dict[str, object], advice: str) -> None:
    text = _text(**arguments)
    assert advice in text
    assert "=" not in text.split(":", 1)[1]
    assert "output_" not in text


def _backticked(text: str) -> list[str]:
    return shlex.split(text.split("`")[1])


def test_the_task_command_carries_the_server_and_folder() -> None:
    rerun = Rerun(("--base-url", "http://127.0.0.1:8000", "--out", "my images"))
    timeout = TaskTimeoutError("still running", task_id="t1", waited=3)
    assert _backticked(error_text(timeout, rerun)) == [
        "acedata-images",
        "task",
        "--task-id",
        "t1",
        "--base-url",
        "http://127.0.0.1:8000",
        "--out",
        "my images",
    ]
    lost = TransportError("reset", trace_id="tr-1", maybe_submitted=True)
    assert _backticked(error_text(lost, rerun))[2:4] == ["--trace-id", "tr-1"]


def test_jobs_of_the_embedded_emulator_are_not_fetched_later() -> None:
    timeout = TaskTimeoutError("still running", task_id="t1", waited=3)
    text = error_text(timeout, Rerun(embedded=True))
    assert "`" not in text
    assert "larger --max-wait" in text
    lost = TransportError("reset", trace_id="tr-1", maybe_submitted=True)
    assert "`" not in error_text(lost, Rerun(embedded=True))
