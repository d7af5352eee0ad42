"""The explicit offline switch: ``emulator=True`` starts an embedded emulator; nothing else does."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from langchain_acedata_images import AceDataImagesClient, ConfigurationError
from langchain_acedata_images._offline import EMULATOR_EXTRA_HINT, MissingExtraError

pytestmark = pytest.mark.integration

SECRET = "sk-real-token-never-sent-to-the-emulator"


def test_emulator_true_generates_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    with AceDataImagesClient(emulator=True) as client:
        assert client.base_url.startswith("http://127.0.0.1:")
        result = client.generate(prompt="a fox", size="1024x1024")
        assert result.urls[0].startswith(client.base_url)
        assert client.emulator is not None
        assert client.emulator.stats()["submissions"] == 1


async def test_emulator_true_works_async(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    async with AceDataImagesClient(emulator=True) as client:
        result = await client.agenerate(prompt="a fox")
        assert len(result.images) == 1


def test_the_switch_wins_over_the_environment_and_keeps_the_token_home(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", SECRET)
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "https://api.example.com")
    seen: list[str] = []
    with AceDataImagesClient(emulator=True) as client:
        client.http_client.event_hooks["request"].append(
            lambda request: seen.append(request.headers["authorization"])
        )
        client.generate(prompt="a fox")
    assert seen
    assert all(SECRET not in header for header in seen)


def test_emulator_and_base_url_exclude_each_other() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        AceDataImagesClient(emulator=True, base_url="http://127.0.0.1:9")


def test_close_stops_the_embedded_emulator() -> None:
    client = AceDataImagesClient(emulator=True)
    base_url = client.base_url
    client.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base_url + "/_emulator/stats", timeout=2)


def test_without_the_switch_there_is_no_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    monkeypatch.delenv("ACEDATACLOUD_API_BASE_URL", raising=False)
    with AceDataImagesClient() as client:
        assert client.emulator is None
        assert client.base_url == "https://api.acedata.cloud"
        with pytest.raises(ConfigurationError, match="ACEDATACLOUD_API_TOKEN"):
            client.generate(prompt="a fox")


def test_a_missing_extra_is_a_one_line_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_acedata_images

    for name in [m for m in sys.modules if m.startswith("langchain_acedata_images.emulator")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(langchain_acedata_images, "emulator", raising=False)
    for name in [m for m in sys.modules if m.split(".")[0] == "uvicorn"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError) as caught:
        AceDataImagesClient(emulator=True)
    assert EMULATOR_EXTRA_HINT in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_the_package_import_stays_light() -> None:
    code = (
        "import sys\n"
        "from langchain_acedata_images import AceDataImagesClient, AceDataImagesToolkit\n"
        "AceDataImagesClient(api_token='x').close()\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'PIL') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_tools_and_toolkit_take_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_acedata_images import AceDataImagesToolkit, OpenAIGenerateImageTool

    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "https://api.example.com")  # ignored
    tool = OpenAIGenerateImageTool(emulator=True)
    assert tool.client is not None
    message = tool.invoke(
        {"type": "tool_call", "id": "1", "name": tool.name, "args": {"prompt": "a fox"}}
    )
    assert message.status == "success"
    assert message.artifact.urls[0].startswith(tool.client.base_url)
    tool.client.close()
    with AceDataImagesToolkit(emulator=True) as toolkit:
        tools = toolkit.get_tools()
        assert {t.client for t in tools} == {toolkit.client}  # type: ignore[attr-defined]
        assert toolkit.client is not None
        assert toolkit.client.emulator is not None
    with pytest.raises(ConfigurationError, match="not both"):
        OpenAIGenerateImageTool(emulator=True, base_url="http://127.0.0.1:9")
