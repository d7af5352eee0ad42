"""A bounded schemathesis run of the contract against the emulator (loopback, variant B).

Requests valid for the published schema are never answered 5xx, and their answers match the
response schema of their status; requests the schema refuses get 400 with the documented error
body. Variant B is the strict reading of the documents (``model`` required, its error codes and
trace ids). Drawing is stubbed to a tiny picture: what is checked here is statuses and bodies, and
real 4K renders would make the run minutes long (rendering is tested in tests/emulator).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_schema_validator import OAS30Validator
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode

from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, images, run_emulator

from .validation import component, contract

EXAMPLES = 80
"""Per mode and operation: 2 modes x 2 operations x 80 = 320 requests, ~10 s on 2 busy cores."""

SCHEMA = schemathesis.openapi.from_dict(contract())
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
AUTH = {"authorization": "Bearer schemathesis"}
CHEAP = images.render_picture(images.Picture(prompt="", width=8, height=8))
PICTURE = images.render_picture(images.Picture(prompt="input", width=16, height=16)).data


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    patch = pytest.MonkeyPatch()
    patch.setattr(images, "render_picture", lambda picture: CHEAP)
    patch.setattr(images, "render_edit", lambda picture, sources: CHEAP)
    try:
        with run_emulator(EmulatorConfig.preset("b", latency=0.0, queue_delay=0.0)) as running:
            yield running
    finally:
        patch.undo()


def real_pictures(body: dict[str, Any]) -> None:
    """Swap generated file bytes for a real PNG (same count), so uploads can be decoded and the
    success path of multipart edits is exercised too; the body stays schema-valid."""
    if isinstance(body.get("image"), list):
        body["image"] = [PICTURE] * len(body["image"])
    if "mask" in body:
        body["mask"] = PICTURE


def run(emulator: RunningEmulator, mode: GenerationMode, path: str) -> dict[int, int]:
    """Send ``EXAMPLES`` generated requests; return how many answers had each status."""
    operation = SCHEMA["/openai/images/" + path]["POST"]
    error_body = OAS30Validator(contract()["components"]["schemas"]["ErrorBody"])
    async_answer = OAS30Validator(component("AsyncAnswer"))
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, headers=AUTH))
    def check(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and case.media_type == "multipart/form-data":
            real_pictures(case.body)
        response = case.call(base_url=emulator.base_url, timeout=30)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        if mode is GenerationMode.POSITIVE:
            assert response.status_code < 500, response.text
            # Answers match the schema of their status; a 400 for a schema-valid request is
            # fine (per-model rules: e.g. dall-e-2 with n=10 sizes, an empty prompt). The
            # published 200 schema has no task-id answer: those are checked against ours.
            body = case.body if isinstance(case.body, dict) else {}
            deferred = body.get("async") is True or bool(body.get("callback_url"))
            if deferred and response.status_code == 200:
                case.validate_response(response, checks=CONFORMANCE[:3])
                async_answer.validate(response.json())
            else:
                case.validate_response(response, checks=CONFORMANCE)
        else:
            assert response.status_code == 400, (case.body, response.text)
            error_body.validate(response.json())

    check()
    return seen


@pytest.mark.parametrize("path", ["generations", "edits"])
def test_schema_valid_requests_never_get_5xx(emulator: RunningEmulator, path: str) -> None:
    seen = run(emulator, GenerationMode.POSITIVE, path)
    assert sum(seen.values()) >= EXAMPLES // 2
    assert max(seen) < 500
    # Most random schema-valid bodies break a per-model rule (400); some must succeed.
    assert seen.get(200, 0) >= 1


@pytest.mark.parametrize("path", ["generations", "edits"])
def test_schema_invalid_requests_get_400(emulator: RunningEmulator, path: str) -> None:
    seen = run(emulator, GenerationMode.NEGATIVE, path)
    assert set(seen) == {400}
