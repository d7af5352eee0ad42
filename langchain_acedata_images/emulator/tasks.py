"""A task's life: queued, started, rendered, finished (or failed, or never), then its callback.

Also the answers built from a finished task: the synchronous JSON answer, OpenAI-style SSE
events for ``stream: true``, and the callback body (flat or nested, per the dialect).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from PIL import Image

from . import images, rules
from .sources import is_loopback
from .state import EmulatorState, Task

AUTO_SIZE = (1024, 1024)
"""What ``size: auto`` renders."""


def failure_response() -> dict[str, Any]:
    """The ``response`` of a task that failed (the ``task_failure`` fault)."""
    return {
        "success": False,
        "error": {"code": "generation_failed", "message": "the emulated generation failed"},
    }


def callback_body(task: Task, nested: bool) -> dict[str, Any]:
    """What a callback POSTs: ``{task_id, trace_id, ...answer}`` or the nested variant."""
    response = dict(task.response or {})
    ids = {"task_id": task.id, "trace_id": task.job.trace_id}
    if not nested:
        return {**ids, **response}
    success = response.pop("success", True) is not False
    if not success:
        return {"success": False, **ids, "error": response.get("error")}
    return {"success": True, **ids, "data": response}


class TaskRunner:
    """Runs tasks of one emulator: rendering in a thread, callbacks over its HTTP client."""

    def __init__(self, state: EmulatorState, http: httpx.AsyncClient) -> None:
        self.state = state
        self.config = state.config
        self.http = http

    async def run(
        self, task: Task, sources: Sequence[Image.Image], base: str, outcome: str | None
    ) -> None:
        """queued → started → finished (or failed, or never), then the callback if any."""
        await asyncio.sleep(self.config.queue_delay)
        task.started_at = time.time()
        await asyncio.sleep(self.config.latency)
        if outcome == "never_finish":
            return
        if outcome == "task_failure":
            response: dict[str, Any] = failure_response()
        else:
            rendered = await self.render(task.job, sources)
            response = self.success_response(task, rendered, base)
        finish(task, response)
        if task.job.callback_url:
            await self.deliver_callback(task)

    async def render(
        self, job: rules.ImageJob, sources: Sequence[Image.Image]
    ) -> list[images.RenderedImage]:
        """The job's images, drawn in a worker thread."""
        pictures = [picture_of(job, index) for index in range(job.n)]

        def draw() -> list[images.RenderedImage]:
            if sources:
                return [images.render_edit(picture, sources) for picture in pictures]
            return [images.render_picture(picture) for picture in pictures]

        return await anyio.to_thread.run_sync(draw)

    def success_response(
        self, task: Task, rendered: Sequence[images.RenderedImage], base: str
    ) -> dict[str, Any]:
        """The ``response`` of a finished task: the synchronous answer plus ``success``."""
        job = task.job
        data = [self._image_item(task, index, image, base) for index, image in enumerate(rendered)]
        width, height = job.size or AUTO_SIZE
        return {
            "success": True,
            "created": int(time.time()),
            "data": data,
            "size": f"{width}x{height}",
            "output_format": job.output_format,
            "quality": job.quality or "auto",
            "background": job.background or "opaque",
        }

    def _image_item(
        self, task: Task, index: int, image: images.RenderedImage, base: str
    ) -> dict[str, Any]:
        job = task.job
        item: dict[str, Any] = {}
        if job.response_format == "b64_json":
            item["b64_json"] = base64.b64encode(image.data).decode()
        else:
            name = f"{task.id}-{index}.{images.FILE_EXTENSIONS[job.output_format]}"
            self.state.store_file(name, image.data, image.mime_type)
            public = (self.config.public_base_url or base).rstrip("/")
            item["url"] = f"{public}/files/{name}"
        if job.model == "dall-e-3":
            item["revised_prompt"] = f"{job.prompt} (as rendered by the AceDataCloud emulator)"
        return item

    async def deliver_callback(self, task: Task) -> None:
        """POST the result to the job's callback URL (loopback only unless allowed)."""
        url = task.job.callback_url
        assert url is not None
        delivery: dict[str, Any] = {"url": url, "task_id": task.id, "trace_id": task.job.trace_id}
        payload = callback_body(task, self.state.dialect.callbacks == "nested")
        if not (self.config.allow_external_callbacks or is_loopback(urlsplit(url).hostname or "")):
            delivery["error"] = "refused: the emulator POSTs callbacks to loopback hosts only"
        else:
            try:
                answer = await self.http.post(url, json=payload)
                delivery["status"] = answer.status_code
            except httpx.HTTPError as exc:
                delivery["error"] = repr(exc)
        self.state.log_callback(delivery)

    async def stream(
        self, task: Task, sources: Sequence[Image.Image], base: str, outcome: str | None
    ) -> AsyncIterator[str]:
        """OpenAI-style SSE: ``partial_image`` events, then one ``completed`` per image."""
        job = task.job
        steps = job.partial_images
        await asyncio.sleep(self.config.queue_delay)
        task.started_at = time.time()
        pause = self.config.latency / (steps + 1)
        rendered = await self.render(job, sources) if outcome is None else []
        created = int(time.time())
        width, height = job.size or AUTO_SIZE
        shape = {"size": f"{width}x{height}", "output_format": job.output_format}
        for step in range(steps if rendered else 0):
            await asyncio.sleep(pause)
            preview = await anyio.to_thread.run_sync(
                images.render_partial, rendered[0], picture_of(job), step, steps
            )
            yield sse(
                "image_generation.partial_image",
                b64_json=base64.b64encode(preview.data).decode(),
                partial_image_index=step,
                created_at=created,
                task_id=task.id,
                **shape,
            )
        await asyncio.sleep(pause)
        if outcome == "never_finish":
            return
        if outcome == "task_failure":
            response = failure_response()
            finish(task, response)
            yield sse("error", error=response["error"], task_id=task.id)
            return
        response = self.success_response(task, rendered, base)
        finish(task, response)
        if self.state.roll({"drop": self.state.faults.drop_after_accept_rate}):
            return  # the stream ends without the result; the client must recover it
        for item in response["data"]:
            yield sse(
                "image_generation.completed", created_at=created, task_id=task.id, **shape, **item
            )


def finish(task: Task, response: dict[str, Any]) -> None:
    """Store the outcome; the response is set before ``finished_at``, so a record is never
    finished and empty."""
    task.response = response
    task.finished_at = time.time()


def picture_of(job: rules.ImageJob, index: int = 0) -> images.Picture:
    """What to draw for image ``index`` of a job."""
    width, height = job.size or AUTO_SIZE
    return images.Picture(
        prompt=job.prompt,
        width=width,
        height=height,
        index=index,
        output_format=job.output_format,
        quality=job.output_compression,
        transparent=job.transparent,
    )


def sse(event: str, **data: Any) -> str:
    """One server-sent event whose data repeats the event name as ``type`` (as OpenAI does)."""
    return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n"


__all__ = ["AUTO_SIZE", "TaskRunner", "callback_body", "failure_response", "finish", "sse"]
