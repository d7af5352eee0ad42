"""Renamed public names keep working for one minor version, with a deprecation warning."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core._api import LangChainDeprecationWarning

from langchain_acedata_images import AceDataImagesClient, ProgressEvent
from langchain_acedata_images.progress import ProgressDispatcher
from tests.conftest import TOKEN


async def test_await_task_is_a_deprecated_alias_of_await_for_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = AceDataImagesClient(TOKEN, base_url="https://api.test")
    seen: list[tuple[Any, ...]] = []

    async def await_for_task(task_id: str | None = None, **options: Any) -> str:
        seen.append((task_id, options))
        return "result"

    monkeypatch.setattr(client, "await_for_task", await_for_task)
    with pytest.warns(LangChainDeprecationWarning, match="await_for_task") as caught:
        pending = client.await_task("t-1", max_wait=5)
    assert caught[0].filename == __file__  # points at the caller, not at the alias
    assert await pending == "result"
    assert seen == [("t-1", {"max_wait": 5})]


async def test_progress_dispatcher_sync_and_async_are_deprecated_aliases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dispatcher = ProgressDispatcher("openai_generate_image", enabled=True, has_run=False)
    sent: list[str] = []
    monkeypatch.setattr(dispatcher, "_write_graph", lambda payload: sent.append(payload["kind"]))
    event = ProgressEvent(kind="submitted", elapsed=0.0, trace_id="tr")
    dispatcher.dispatch(event)
    await dispatcher.adispatch(event)
    with pytest.warns(LangChainDeprecationWarning, match=r"ProgressDispatcher\.dispatch"):
        dispatcher.sync(event)
    with pytest.warns(LangChainDeprecationWarning, match=r"ProgressDispatcher\.adispatch"):
        await dispatcher.async_(event)
    assert sent == ["submitted"] * 4
