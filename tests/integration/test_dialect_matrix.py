"""The dialect matrix: (generate, edit, get/list tasks, callback, wait=False + resume) ×
(variant A, variant B) against the emulator playing each documented variant whole.

Variant A is the seed's service (8 models, JSON edits only, URLs honoured, flat callbacks,
trace_id honoured); variant B the published contract's (n reduced to 1 on gpt-image and
nano-banana, gpt-image always base64, b64_json only with n = 1, per-model prompt limits,
multipart edits, documented error codes, extra task-record fields, nested callbacks, the
client's trace_id ignored). Every cell checks what a user gets: the images asked for, each job
billed once, and LLM text that names every image by a reference the edit tool accepts.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from PIL import Image

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    ImageGenerationResult,
    ImageInputError,
    ImageTask,
    InvalidRequestError,
    ModerationError,
    TaskList,
)
from langchain_acedata_images.emulator import RunningEmulator
from tests.emulator_fixtures import emulator_client
from tests.helpers import tool_call

pytestmark = pytest.mark.integration

REFERENCE = re.compile(r"(img:[A-Za-z0-9_.-]+:\d+|https?://\S+)")


@pytest.fixture(params=["a", "b"], ids=["variant_A", "variant_B"])
def dialect(request: pytest.FixtureRequest, emulator: RunningEmulator) -> str:
    """The emulator plays this variant for the test (the autouse reset restores the default)."""
    emulator.set_dialect(request.param)
    return str(request.param)


@pytest.fixture
def matrix_client(emulator: RunningEmulator) -> Iterator[AceDataImagesClient]:
    with emulator_client(emulator.base_url) as client:
        yield client


def _tools(client: AceDataImagesClient, **settings: Any) -> dict[str, BaseTool]:
    toolkit = AceDataImagesToolkit(client=client, **settings)
    return {tool.name: tool for tool in toolkit.get_tools()}


def _png(size: tuple[int, int] = (64, 64), alpha: int = 255) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 200, alpha)).save(buffer, format="PNG")
    return buffer.getvalue()


def _edit_statuses(emulator: RunningEmulator) -> list[int | None]:
    return [entry["status"] for entry in emulator.state.log() if "edits" in entry["path"]]


def _billed_once(emulator: RunningEmulator, jobs: int) -> None:
    stats = emulator.stats()
    assert stats["submissions"] == jobs
    assert stats["duplicate_trace_ids"] == []


# ------------------------------------------------------------------------------- generate


def test_generate_delivers_n_with_references(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    generate = _tools(matrix_client)["openai_generate_image"]
    message = generate.invoke(tool_call("openai_generate_image", {"prompt": "a fox", "n": 3}))
    assert isinstance(message, ToolMessage)
    assert message.status == "success", message.content
    result = message.artifact
    assert isinstance(result, ImageGenerationResult)
    assert len(result.images) == 3
    assert len(result.task_ids) == 3
    assert "3 images via 3 single-image jobs" in (result.note or "")
    _billed_once(emulator, 3)
    references = REFERENCE.findall(message.content)
    assert len(references) == 3
    assert all(len(line) < 400 for line in message.content.splitlines())  # never base64
    if dialect == "b":  # gpt-image answers base64 whatever was asked
        assert all(image.b64_json and not image.url for image in result.images)
        assert all(ref.startswith("img:") for ref in references)
    else:
        assert result.urls == references


def test_generate_b64_json_with_n_above_one(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    # Variant B refuses b64_json with n > 1: the client sends single-image jobs everywhere.
    result = matrix_client.generate(
        prompt="a fox", model="dall-e-2", size="256x256", n=2, response_format="b64_json"
    )
    assert isinstance(result, ImageGenerationResult)
    assert [bool(image.b64_json) for image in result.images] == [True, True]
    _billed_once(emulator, 2)


def test_dall_e_2_honours_n_in_one_job(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    result = matrix_client.generate(prompt="a fox", model="dall-e-2", size="256x256", n=3)
    assert isinstance(result, ImageGenerationResult)
    assert len(result.images) == 3
    assert result.note is None
    _billed_once(emulator, 1)


def test_prompt_over_the_model_limit_sends_nothing(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    generate = _tools(matrix_client)["openai_generate_image"]
    args = {"prompt": "p" * 1001, "model": "dall-e-2"}
    message = generate.invoke(tool_call("openai_generate_image", args))
    assert message.status == "error"
    assert "at most 1,000" in message.content
    assert emulator.stats()["requests"] == 0


def test_moderation_refusal(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    with pytest.raises(ModerationError) as caught:
        matrix_client.generate(prompt="forbidden-content please")
    assert caught.value.status_code == 403
    assert caught.value.code == ("forbidden" if dialect == "b" else None)


def test_documented_models(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    for model in ("gpt-image-2:official", "nano-banana-2-lite"):
        if dialect == "a":  # the seed's service knows 8 models: its refusal reaches the user
            with pytest.raises(InvalidRequestError, match="model"):
                matrix_client.generate(prompt="a fox", model=model)
        else:
            result = matrix_client.generate(prompt="a fox", model=model)
            assert isinstance(result, ImageGenerationResult)
            assert result.model == model


# ----------------------------------------------------------------------------------- edit


def test_generate_then_edit_by_the_printed_reference(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    tools = _tools(matrix_client)  # default settings: no local files allowed
    made = tools["openai_generate_image"].invoke(
        tool_call("openai_generate_image", {"prompt": "a"})
    )
    (reference,) = REFERENCE.findall(made.content)
    edited = tools["openai_edit_image"].invoke(
        tool_call("openai_edit_image", {"prompt": "make it blue", "image": reference}, "call-2")
    )
    assert edited.status == "success", edited.content
    assert isinstance(edited.artifact, ImageGenerationResult)
    # A: the reference is a URL, sent as JSON. B: a handle to base64, uploaded (multipart).
    assert _edit_statuses(emulator) == [200]
    _billed_once(emulator, 2)


def test_edit_from_a_saved_path_with_default_settings(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient, tmp_path: Path
) -> None:
    tools = _tools(matrix_client, save_dir=tmp_path)
    made = tools["openai_generate_image"].invoke(
        tool_call("openai_generate_image", {"prompt": "a"})
    )
    (path,) = made.artifact.paths
    assert path in made.content
    edited = tools["openai_edit_image"].invoke(
        tool_call("openai_edit_image", {"prompt": "blue", "image": path}, "call-2")
    )
    assert edited.status == "success", edited.content
    assert Path(edited.artifact.paths[0]).is_file()


def test_edit_uploads_bytes_and_a_mask(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    image, second = _png(), _png(alpha=128)
    result = matrix_client.edit(prompt="merge", image=[image, second])
    assert isinstance(result, ImageGenerationResult)
    _billed_once(emulator, 1)
    # A refuses the multipart body (nothing created); the same edit then goes as JSON.
    assert _edit_statuses(emulator) == ([400, 200] if dialect == "a" else [200])
    mask = _png(alpha=0)
    if dialect == "a":  # JSON edits only: a mask cannot be sent, and nothing is created
        with pytest.raises(InvalidRequestError):
            matrix_client.edit(prompt="sky", image=image, mask=mask)
        _billed_once(emulator, 1)
    else:
        masked = matrix_client.edit(prompt="sky", image=image, mask=mask)
        assert isinstance(masked, ImageGenerationResult)
        _billed_once(emulator, 2)
        with pytest.raises(ImageInputError, match="same size"):  # checked before sending
            matrix_client.edit(prompt="sky", image=image, mask=_png((32, 32), alpha=0))
        assert len(_edit_statuses(emulator)) == 2


# ------------------------------------------------------------------------ get / list tasks


def test_get_and_list_tasks(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    made = matrix_client.generate(prompt="a fox", model="gpt-image-2")
    assert isinstance(made, ImageGenerationResult)
    record = matrix_client.get_task(made.task_id)
    assert record is not None
    assert record.id == made.task_id
    assert record.status == "succeeded"
    if dialect == "b":
        assert record.type == "images"
        assert {"_id", "application_id", "user_id"} <= set(record.model_extra or {})
    tools = _tools(matrix_client)
    listed = tools["openai_list_tasks"].invoke(tool_call("openai_list_tasks", {"type": "images"}))
    assert listed.status == "success", listed.content
    assert isinstance(listed.artifact, TaskList)
    fetched = tools["openai_get_task"].invoke(
        tool_call("openai_get_task", {"task_id": made.task_id}, "call-2")
    )
    assert fetched.status == "success", fetched.content
    assert len(REFERENCE.findall(fetched.content)) == 1


# --------------------------------------------------------------------------------- callback


class _Receiver(ThreadingHTTPServer):
    bodies: list[dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver(("127.0.0.1", 0), _Handler)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_callback(
    dialect: str,
    emulator: RunningEmulator,
    matrix_client: AceDataImagesClient,
    receiver: _Receiver,
) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    task = matrix_client.generate(prompt="a fox", n=2, callback_url=url)
    assert isinstance(task, ImageTask)
    assert len(task.task_ids) == 2
    result = matrix_client.wait_for_task(task.task_id)
    assert len(result.images) == 2
    _billed_once(emulator, 2)
    deadline = threading.Event()
    for _ in range(100):
        if len(receiver.bodies) == 2:
            break
        deadline.wait(0.05)
    assert sorted(body["task_id"] for body in receiver.bodies) == sorted(task.task_ids)
    for body in receiver.bodies:
        answer = body["data"] if dialect == "b" else body
        assert isinstance(answer["data"], list)
        assert answer["data"]


# -------------------------------------------------------------------- wait=False + resume


async def test_wait_false_then_resume(
    dialect: str, emulator: RunningEmulator, matrix_client: AceDataImagesClient
) -> None:
    tools = _tools(matrix_client, wait=False)
    submitted = await tools["openai_generate_image"].ainvoke(
        tool_call("openai_generate_image", {"prompt": "a fox", "n": 2})
    )
    task = submitted.artifact
    assert isinstance(task, ImageTask)
    assert len(task.task_ids) == 2
    assert task.task_id in submitted.content
    fetched = await tools["openai_get_task"].ainvoke(
        tool_call("openai_get_task", {"task_id": task.task_id}, "call-2")
    )
    assert fetched.status == "success", fetched.content
    assert isinstance(fetched.artifact, ImageGenerationResult)
    assert len(fetched.artifact.images) == 2
    assert len(REFERENCE.findall(fetched.content)) == 2
    resumed = await matrix_client.await_for_task(task.task_id)
    assert len(resumed.images) == 2
    if dialect == "a":  # the call's trace id finds its single-image jobs too
        by_trace = await matrix_client.await_for_task(trace_id=task.trace_id)
        assert sorted(by_trace.task_ids) == sorted(task.task_ids)
    _billed_once(emulator, 2)
    await matrix_client.aclose()
