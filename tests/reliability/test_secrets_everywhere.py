"""The API token never shows up: not in reprs, errors, logs, tool output, callback payloads or
saved files, on success and on failure paths, over real loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    AuthenticationError,
)
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator

pytestmark = pytest.mark.integration

SECRET = "sk-live-TOPSECRET-0f9e8d7c6b5a"


class RecordEverything(BaseCallbackHandler):
    """Keeps the repr of every argument of every callback LangChain makes."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            seen = object.__getattribute__(self, "seen")

            def record(*args: Any, **kwargs: Any) -> None:
                seen.append(f"{name} {args!r} {kwargs!r}")

            return record
        return object.__getattribute__(self, name)


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(latency=0.02, queue_delay=0.0, tokens=frozenset({SECRET}))
    with run_emulator(config) as running:
        yield running


def tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-1", "name": name, "args": args}


def assert_clean(*texts: object) -> None:
    for text in texts:
        assert SECRET not in str(text)
        assert SECRET not in repr(text)


async def test_token_never_leaks(
    guarded: RunningEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, langchain
    recorder = RecordEverything()
    config = {"callbacks": [recorder]}
    async with AceDataImagesToolkit(
        api_token=SECRET, base_url=guarded.base_url, save_dir=tmp_path
    ) as toolkit:
        generate, edit, get_task, list_tasks = toolkit.get_tools()
        assert_clean(toolkit, generate, edit, get_task, list_tasks, toolkit.client)
        assert_clean(generate.model_dump(), toolkit.model_dump())

        made = await generate.ainvoke(
            tool_call("openai_generate_image", {"prompt": "fox", "response_format": "b64_json"}),
            config=config,
        )
        assert isinstance(made, ToolMessage)
        sync_made = generate.invoke(tool_call("openai_generate_image", {"prompt": "owl"}), config)
        invalid = generate.invoke(
            tool_call("openai_generate_image", {"prompt": "x", "style": "vivid"}), config
        )
        listed = list_tasks.invoke(tool_call("openai_list_tasks", {}), config)
        assert invalid.status == "error"
        assert_clean(made.content, made.artifact.model_dump_json(), sync_made, invalid, listed)

    wrong = AceDataImagesClient("sk-wrong-" + SECRET[::-1], base_url=guarded.base_url)
    with pytest.raises(AuthenticationError) as caught:
        wrong.generate(prompt="who")
    wrong.close()
    assert_clean(caught.value, caught.value.args, caught.value.__dict__)

    refused = AceDataImagesToolkit(api_token=SECRET + "-revoked", base_url=guarded.base_url)
    failed = refused.get_tools()[0].invoke(tool_call("openai_generate_image", {"prompt": "x"}))
    refused.close()
    assert failed.status == "error"
    assert SECRET not in failed.content

    for record in caplog.records:
        assert_clean(record.getMessage(), record.args, record.__dict__.get("exc_text"))
    assert_clean(*recorder.seen)
    assert recorder.seen  # the handler really saw the runs
    saved = list(tmp_path.iterdir())
    assert saved
    for path in saved:
        assert SECRET.encode() not in path.read_bytes()
        assert SECRET not in path.name
