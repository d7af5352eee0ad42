"""Tool/toolkit settings: declared once, handed from toolkit to tools; env names in one place."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool

import langchain_acedata_images.settings as settings_module
from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
)
from langchain_acedata_images._env import ENV, env_base_url, env_save_dir, env_token
from langchain_acedata_images.settings import settings_for
from tests.conftest import TOKEN

TOOLS: list[type[BaseTool]] = [
    OpenAIGenerateImageTool,
    OpenAIEditImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
]
PACKAGE = Path(settings_module.__file__).parent


def _own_fields(cls: type) -> set[str]:
    return set(inspect.get_annotations(cls))


def test_toolkit_and_tools_declare_no_setting_twice() -> None:
    from langchain_acedata_images import tools as tools_module

    declared = _own_fields(AceDataImagesToolkit)
    for _, cls in inspect.getmembers(tools_module, inspect.isclass):
        if cls.__module__ == tools_module.__name__:
            declared_here = _own_fields(cls) - {"name", "description", "args_schema"}
            overlap = declared & declared_here
            assert not overlap, f"{cls.__name__} re-declares {overlap}"
    assert declared == {"include_edit", "include_tasks"}


NON_DEFAULTS: dict[str, Any] = {
    "emit_progress": False,
    "save_dir": "out",
    "image_blocks": True,
    "wait": False,
    "max_wait": 42.0,
    "allow_local_files": True,
    "local_files_root": "pictures",
    "max_local_image_bytes": 1234,
}


def test_every_toolkit_setting_reaches_the_tools_that_declare_it() -> None:
    toolkit = AceDataImagesToolkit(api_token=TOKEN, **NON_DEFAULTS)
    tools = toolkit.get_tools()
    assert [type(tool) for tool in tools] == TOOLS
    for tool in tools:
        for name, value in NON_DEFAULTS.items():
            if name in type(tool).model_fields:
                assert getattr(tool, name) == value, (tool.name, name)
        assert tool.client is toolkit.client  # type: ignore[attr-defined]


def test_settings_for_hands_only_declared_settings() -> None:
    toolkit = AceDataImagesToolkit(api_token=TOKEN, **NON_DEFAULTS)
    handed = settings_for(toolkit, OpenAIListTasksTool)
    assert set(handed) == {"client", "emit_progress"}
    assert "include_edit" not in settings_for(toolkit, OpenAIGenerateImageTool)
    assert "api_token" not in settings_for(toolkit, OpenAIGenerateImageTool)


def test_unset_toolkit_settings_leave_tool_defaults() -> None:
    _, _, get_task, _ = AceDataImagesToolkit(api_token=TOKEN).get_tools()
    assert get_task.max_wait == 60  # type: ignore[attr-defined]


def test_env_names_are_one_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ENV.token, ENV.base_url, ENV.save_dir) == (
        "ACEDATACLOUD_API_TOKEN",
        "ACEDATACLOUD_API_BASE_URL",
        "ACEDATACLOUD_IMAGES_SAVE_DIR",
    )
    monkeypatch.setenv(ENV.token, TOKEN)
    monkeypatch.setenv(ENV.base_url, "http://env.test")
    monkeypatch.setenv(ENV.save_dir, "")
    token = env_token()
    assert token is not None
    assert token.get_secret_value() == TOKEN
    assert env_base_url() == "http://env.test"
    assert env_save_dir() is None  # empty counts as unset


def test_the_download_proxy_switch_reaches_the_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV.download_proxy, raising=False)
    assert ENV.download_proxy == "ACEDATACLOUD_IMAGES_DOWNLOAD_PROXY"
    with AceDataImagesClient(TOKEN) as client:
        assert client._download_options()["proxy_from_env"] is True
    with AceDataImagesClient(TOKEN, download_proxy_from_env=False) as client:
        assert client._download_options()["proxy_from_env"] is False
    toolkit = AceDataImagesToolkit(api_token=TOKEN, download_proxy_from_env=False)
    assert toolkit.client is not None
    assert toolkit.client.download_proxy_from_env is False
    for word in ("off", "0", " False "):
        monkeypatch.setenv(ENV.download_proxy, word)
        with AceDataImagesClient(TOKEN) as client:
            assert client.download_proxy_from_env is False
    with AceDataImagesClient(TOKEN, download_proxy_from_env=True) as client:
        assert client.download_proxy_from_env is True  # the argument wins


@pytest.mark.parametrize("module", ["settings.py", "tools.py", "toolkit.py"])
def test_settings_modules_do_not_read_the_environment(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text())
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not {"environ", "getenv", "from_env", "secret_from_env"} & names
