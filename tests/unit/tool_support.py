"""Answers, images and callback recorders shared by the tool test modules."""

from __future__ import annotations

import json
from typing import Any

import respx
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

from tests.conftest import TOKEN

IMAGE_URL = "https://cdn.test/base.png"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x02" * 24
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x03" * 24
GIF = b"GIF89a" + b"\x04" * 24
ENV_PARAMS = (
    {"ACEDATACLOUD_API_TOKEN": TOKEN, "ACEDATACLOUD_API_BASE_URL": "http://env.test"},
    {},
    {"api_token": TOKEN, "base_url": "http://env.test"},
)


def finished(task_id: str = "t1", **image: Any) -> dict[str, Any]:
    image = image or {"url": f"https://cdn.test/{task_id}.png", "revised_prompt": "A fox."}
    return {
        "id": task_id,
        "trace_id": f"trace-{task_id}",
        "type": "images_edits",
        "request": {"prompt": "a fox", "model": "gpt-image-1", "image": IMAGE_URL},
        "created_at": 1_732_500_000,
        "started_at": 1_732_500_001,
        "finished_at": 1_732_500_030,
        "response": {"data": [image]},
    }


def running(task_id: str = "t1") -> dict[str, Any]:
    return {"id": task_id, "trace_id": f"trace-{task_id}", "started_at": 1_732_500_001}


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


class AsyncRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))
