"""Edits: JSON with URLs, multipart uploads of bytes / files / handles, masks, the fallback."""

from __future__ import annotations

import base64
import email.policy
import io
import json
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
import respx
from PIL import Image

from langchain_acedata_images import (
    AceDataImagesClient,
    EditImageInput,
    ImageGenerationResult,
    ImageInputError,
    InvalidRequestError,
    OpenAIEditImageTool,
    ServerError,
)
from langchain_acedata_images._image_inputs import ImageFile
from langchain_acedata_images._uploads import EditUpload, plan_upload
from tests.helpers import EDITS, GEN, TASKS

DONE = {"created": 1, "data": [{"url": "https://cdn.test/e.png"}], "task_id": "e1"}


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (1, 2, 3, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def form(request: httpx.Request) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    """The fields and files of a multipart request."""
    head = f"content-type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    files: list[tuple[str, str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if part.get_filename() is None:
            fields[name] = data.decode()
        else:
            files.append((name, part.get_content_type(), data))
    return fields, files


def test_urls_only_stay_json(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    client.edit(prompt="x", image=["https://a/1.png", "https://a/2.png"])
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content)["image"] == ["https://a/1.png", "https://a/2.png"]


def test_bytes_are_uploaded_as_the_openai_sdk_sends_them(
    api: respx.MockRouter, client: AceDataImagesClient, tmp_path: Path
) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    (tmp_path / "b.png").write_bytes(png())
    client.edit(
        prompt="merge",
        image=[png(), tmp_path / "b.png"],
        model="gpt-image-1",
        n=1,
        input_fidelity="high",
        trace_id="tr",
    )
    fields, files = form(route.calls.last.request)
    assert fields == {
        "prompt": "merge",
        "model": "gpt-image-1",
        "n": "1",
        "input_fidelity": "high",
        "trace_id": "tr",
        "async": "true",
    }
    assert [(name, kind) for name, kind, _ in files] == [("image[]", "image/png")] * 2
    assert all(data == png() for _, _, data in files)


def test_one_upload_and_a_mask(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    with io.BytesIO(png()) as handle:
        client.edit(prompt="sky", image=handle, mask=png())
    _, files = form(route.calls.last.request)
    assert [name for name, _, _ in files] == ["image", "mask"]


@pytest.mark.parametrize(
    ("mask", "fragment"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "must be a PNG"),
        (png((16, 16)), "same size"),
    ],
)
def test_bad_masks_send_nothing(
    api: respx.MockRouter, client: AceDataImagesClient, mask: bytes, fragment: str
) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    with pytest.raises(ImageInputError, match=fragment):
        client.edit(prompt="x", image=png(), mask=mask)
    assert not route.calls


def test_plain_path_strings_are_not_read_by_the_client(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    with pytest.raises(ImageInputError, match=r"pathlib\.Path"):
        client.edit(prompt="x", image="photo.png")
    assert not route.calls


def test_a_refused_multipart_body_is_sent_once_more_as_json(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    refused = httpx.Response(400, json={"error": {"code": "bad_request", "message": "JSON only"}})
    route = api.post(EDITS).mock(side_effect=[refused, httpx.Response(200, json=DONE)])
    result = client.edit(prompt="x", image=png())
    assert isinstance(result, ImageGenerationResult)
    first, second = (call.request for call in route.calls)
    assert first.headers["content-type"].startswith("multipart/form-data")
    body = json.loads(second.content)
    assert body["image"] == "data:image/png;base64," + base64.b64encode(png()).decode()


def test_both_encodings_refused_reports_both(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(EDITS).mock(
        side_effect=[
            httpx.Response(400, json={"error": {"message": "no multipart"}}),
            httpx.Response(400, json={"error": {"message": "no data URLs"}}),
        ]
    )
    with pytest.raises(InvalidRequestError, match=r"no data URLs.*no multipart"):
        client.edit(prompt="x", image=png())


def test_a_server_error_is_not_a_reason_to_switch_encodings(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(EDITS).respond(503, json={"error": {"message": "down"}})
    api.post(TASKS).respond(200, json={})
    with pytest.raises(ServerError):
        client.edit(prompt="x", image=png())
    assert all(
        call.request.headers["content-type"].startswith("multipart/form-data")
        for call in route.calls
    )


def test_a_model_missing_from_the_multipart_schema_sends_json_first(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    client.edit(prompt="x", image=png(), model="nano-banana-2-lite")
    assert route.calls.last.request.headers["content-type"] == "application/json"


def test_a_cached_handle_is_uploaded_without_a_lookup(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    data = base64.b64encode(png()).decode()
    api.post(GEN).respond(200, json={"data": [{"b64_json": data}], "task_id": "g1"})
    tasks = api.post(TASKS).respond(200, json={})
    made = client.generate(prompt="x")
    assert isinstance(made, ImageGenerationResult)
    assert made.images[0].handle == "img:g1:0"
    route = api.post(EDITS).respond(200, json=DONE)
    client.edit(prompt="y", image=made.images[0].handle)
    _, files = form(route.calls.last.request)
    assert files == [("image", "image/png", png())]
    assert not tasks.calls


def test_an_uncached_handle_is_looked_up_by_task(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    record = {
        "id": "g7",
        "finished_at": 1.0,
        "response": {
            "data": [{"url": "https://cdn.test/0.png"}, {"url": "https://cdn.test/1.png"}]
        },
    }
    tasks = api.post(TASKS).respond(200, json=record)
    route = api.post(EDITS).respond(200, json=DONE)
    client.edit(prompt="y", image=["img:g7:1"])
    assert json.loads(tasks.calls.last.request.content) == {"action": "retrieve", "id": "g7"}
    assert json.loads(route.calls.last.request.content)["image"] == ["https://cdn.test/1.png"]


def test_an_unknown_or_expired_handle_is_explained(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(TASKS).respond(200, json={})
    with pytest.raises(ImageInputError, match="unknown task"):
        client.edit(prompt="y", image="img:nope:0")
    with pytest.raises(ImageInputError, match="no longer available"):
        client.edit(prompt="y", image="img:local-abc:0")


def _file(data: bytes) -> ImageFile:
    return ImageFile(data, "image/png", "a.png")


def test_plan_upload_choices() -> None:
    request = EditImageInput(prompt="x", image=["https://a/1.png"])
    assert plan_upload(request, ["https://a/1.png"], None).encoding == "json"
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    inline = plan_upload(request, [data_url], None)
    assert inline.encoding == "json"  # data: URLs are URLs: JSON stays the default
    uploaded = EditUpload((ImageFile(png(), "image/png", "image.png"),), None, "multipart")
    assert inline.alternative() == uploaded
    assert plan_upload(request, [data_url], _file(png())).encoding == "multipart"
    mixed = plan_upload(request, ["https://a/1.png", _file(png())], None)
    assert (mixed.encoding, mixed.alternative()) == ("json", None)
    uploads = plan_upload(request, [_file(png())], None)
    assert uploads.encoding == "multipart"
    assert uploads.alternative() is not None
    masked = plan_upload(request, [_file(png())], _file(png()))
    assert masked.alternative() is None  # JSON cannot carry a mask
    with pytest.raises(ImageInputError, match="not an http"):
        plan_upload(request, ["https://a/1.png"], _file(png()))


def test_refused_data_urls_are_uploaded_instead(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    refused = httpx.Response(400, json={"error": {"message": "JSON mode takes no file bytes"}})
    route = api.post(EDITS).mock(side_effect=[refused, httpx.Response(200, json=DONE)])
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    client.edit(prompt="x", image=[data_url])
    first, second = (call.request for call in route.calls)
    assert json.loads(first.content)["image"] == [data_url]
    _, files = form(second)
    assert files == [("image[]", "image/png", png())]


def test_the_edit_tool_takes_a_mask_the_llm_schema_leaves_out(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    tool = OpenAIEditImageTool(client=client)
    assert "mask" not in json.dumps(tool.tool_call_schema.model_json_schema())
    route = api.post(EDITS).respond(200, json=DONE)
    inline = "data:image/png;base64," + base64.b64encode(png()).decode()
    args = {"prompt": "sky", "image": inline, "mask": inline}
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": args})
    assert message.status == "success", message.content
    _, files = form(route.calls.last.request)
    assert [name for name, _, _ in files] == ["image", "mask"]
