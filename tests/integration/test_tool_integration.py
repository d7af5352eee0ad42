"""The tools over loopback HTTP: langchain-tests' standard integration tests and agent-facing
behaviour (content for the LLM, artifact for the program, saved files, progress events)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_tests.integration_tests import ToolsIntegrationTests
from PIL import Image

from langchain_acedata_images import (
    AceDataImagesToolkit,
    ImageGenerationResult,
    OpenAIGenerateImageTool,
)
from langchain_acedata_images.emulator import RunningEmulator
from tests.emulator_fixtures import FAST_POLLS, TOKEN, emulator_client
from tests.helpers import tool_call

pytestmark = pytest.mark.integration

_base_url: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _point_at_emulator(emulator: RunningEmulator) -> Iterator[None]:
    _base_url["value"] = emulator.base_url
    return


class TestGenerateToolAgainstEmulator(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[OpenAIGenerateImageTool]:
        return OpenAIGenerateImageTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": _base_url["value"]}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"prompt": "A serene mountain landscape at sunset", "size": "1536x1024"}


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append(data)


async def test_toolkit_generates_saves_and_edits(emulator: RunningEmulator, tmp_path: Path) -> None:
    client = emulator_client(emulator.base_url)
    async with AceDataImagesToolkit(client=client, save_dir=tmp_path) as toolkit:
        generate, edit, get_task, list_tasks = toolkit.get_tools()
        recorder = _Recorder()
        message = await generate.ainvoke(
            tool_call("openai_generate_image", {"prompt": "a fox", "n": 3}),
            config={"callbacks": [recorder]},
        )
        assert isinstance(message, ToolMessage)
        result = message.artifact
        assert isinstance(result, ImageGenerationResult)
        assert len(result.paths) == 3
        assert all(Path(path).parent == tmp_path for path in result.paths)
        assert all(path in message.content for path in result.paths)
        assert all(url in message.content for url in result.urls)  # edit needs the URLs
        assert len(message.content.encode()) <= 1000
        with Image.open(result.paths[0]) as image:
            assert image.size == (1024, 1024)
        kinds = [event["kind"] for event in recorder.events]
        assert kinds[0] == "submitted"
        assert kinds[-1] == "finished"

        edited = edit.invoke(
            tool_call("openai_edit_image", {"prompt": "make it blue", "image": result.urls[0]})
        )
        assert isinstance(edited.artifact, ImageGenerationResult)
        looked_up = get_task.invoke(tool_call("openai_get_task", {"task_id": result.task_id}))
        assert result.task_id in looked_up.content
        listing = list_tasks.invoke(tool_call("openai_list_tasks", {"limit": 5}))
        assert listing.artifact.count == 4  # n=3 on gpt-image-1: 3 single-image jobs, + 1 edit
    await client.aclose()


def test_validation_error_sends_nothing(emulator: RunningEmulator) -> None:
    tool = OpenAIGenerateImageTool(
        client=emulator_client(emulator.base_url, poll_schedule=FAST_POLLS)
    )
    message = tool.invoke(
        tool_call(
            "openai_generate_image", {"prompt": "x", "model": "dall-e-2", "size": "1792x1024"}
        )
    )
    assert message.status == "error"
    assert "256x256, 512x512, 1024x1024" in message.content
    assert emulator.stats()["requests"] == 0
