"""Fixtures of the unit tests: tools wired to the shared fake clock."""

from __future__ import annotations

import pytest

from langchain_acedata_images import OpenAIEditImageTool, OpenAIGetTaskTool
from tests.conftest import FakeClock, make_client


@pytest.fixture
def edit_tool(clock: FakeClock) -> OpenAIEditImageTool:
    return OpenAIEditImageTool(client=make_client(clock))


@pytest.fixture
def task_tool(clock: FakeClock) -> OpenAIGetTaskTool:
    return OpenAIGetTaskTool(client=make_client(clock))
