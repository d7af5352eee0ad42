"""Image handles: parsing, the record look-up and the bounded cache."""

from __future__ import annotations

import pytest

from langchain_acedata_images.errors import ImageInputError
from langchain_acedata_images.handles import (
    HandleCache,
    ImageHandle,
    handles_for,
    image_in_record,
    is_handle,
)
from langchain_acedata_images.models import GeneratedImage, TaskRecord


def test_a_handle_round_trips_through_its_text() -> None:
    handle = ImageHandle("task-1.a_b", 3)
    assert str(handle) == "img:task-1.a_b:3"
    assert ImageHandle.parse(str(handle)) == handle
    assert not handle.local


@pytest.mark.parametrize("text", ["https://x/a.png", "data:image/png;base64,AA", "a.png", ""])
def test_other_text_is_not_a_handle(text: str) -> None:
    assert ImageHandle.parse(text) is None
    assert not is_handle(text)


@pytest.mark.parametrize("text", ["img:", "img:task", "img:ta sk:0", "img:t:x", "img:t:100"])
def test_malformed_handles_are_refused_with_the_expected_shape(text: str) -> None:
    with pytest.raises(ImageInputError, match="img:<task_id>:0"):
        ImageHandle.parse(text)


def test_handles_for_an_answer_without_a_usable_task_id_are_local() -> None:
    assert [str(h) for h in handles_for("t1", 2)] == ["img:t1:0", "img:t1:1"]
    for task_id in (None, "", "has space", "x" * 200, "bad:colon"):
        (handle,) = handles_for(task_id, 1)
        assert handle.local
        assert ImageHandle.parse(str(handle)) == handle


def _record(**fields: object) -> TaskRecord:
    return TaskRecord.model_validate({"id": "t", "finished_at": 1.0, **fields})


def test_image_in_record_gives_the_indexed_image() -> None:
    record = _record(response={"data": [{"url": "https://x/0.png"}, {"b64_json": "aGk="}]})
    assert image_in_record(record, ImageHandle("t", 0)).url == "https://x/0.png"
    assert image_in_record(record, ImageHandle("t", 1)).b64_json == "aGk="
    with pytest.raises(ImageInputError, match="has 2 image"):
        image_in_record(record, ImageHandle("t", 2))


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (TaskRecord(id="t"), "not finished"),
        (_record(response={"error": {"code": "x"}}), "failed"),
        (_record(response={"data": [{"revised_prompt": "x"}]}), "neither a URL nor image data"),
        (_record(response={"data": ["junk"]}), "does not exist"),
    ],
)
def test_unusable_records_are_explained(record: TaskRecord, fragment: str) -> None:
    with pytest.raises(ImageInputError, match=fragment):
        image_in_record(record, ImageHandle("t", 0))


def test_the_cache_is_bounded_by_entries_and_size() -> None:
    cache = HandleCache(max_entries=2, max_chars=10)
    first, second, third = (ImageHandle("t", i) for i in range(3))
    cache.put(first, GeneratedImage(b64_json="aaaa", revised_prompt="dropped"))
    cache.put(second, GeneratedImage(b64_json="bbbb"))
    assert cache.get(first) == GeneratedImage(b64_json="aaaa")  # only what an upload needs
    cache.put(third, GeneratedImage(b64_json="cccc"))  # evicts the least recently used
    assert cache.get(second) is None
    assert cache.get(first) is not None
    cache.put(ImageHandle("t", 4), GeneratedImage(b64_json="x" * 11))  # larger than the cache
    assert cache.get(ImageHandle("t", 4)) is None
    cache.put(ImageHandle("t", 5), GeneratedImage(b64_json="y" * 8))
    assert len(cache) == 1
