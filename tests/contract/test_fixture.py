"""The contract fixture: derived from AceDataCloud's documents, valid OpenAPI, structure only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from . import derive
from .validation import FIXTURE, TASKS_DOCUMENT, contract, per_model, tasks_document

_CANDIDATES = (
    os.environ.get("ACEDATA_OPENAPI_DIR", ""),
    str(Path(__file__).resolve().parents[3] / "shared" / "openapi"),
    "/work/shared/openapi",
)


def source_folder() -> Path | None:
    """Where the published documents are, when this checkout has them beside it."""
    for candidate in filter(None, _CANDIDATES):
        folder = Path(candidate)
        if all((folder / name).is_file() for name in derive.SOURCES):
            return folder
    return None


def strings(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(strings(value) for value in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(strings(item) for item in node)) if node else set()
    return {node} if isinstance(node, str) else set()


def prose(node: Any) -> set[str]:
    """The sentences of the published documents' prose keys (single tokens such as an example
    size or error code are structure, not prose)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in derive.PROSE_KEYS and isinstance(value, str) and " " in value.strip():
                found.add(value)
            found |= prose(value)
    elif isinstance(node, list):
        for item in node:
            found |= prose(item)
    return found


@pytest.mark.parametrize("path", [FIXTURE, TASKS_DOCUMENT], ids=["contract", "tasks (ours)"])
def test_documents_are_valid_openapi(path: Path) -> None:
    validate(json.loads(path.read_text(encoding="utf-8")))


def test_fixture_names_its_source_and_deviations() -> None:
    source = contract()["x-source"]
    assert source["documents"] == ["images-generations.json", "images-edits.json"]
    assert "AceDataCloud" in source["publisher"]
    assert len(contract()["x-deviations"]) >= 4
    assert "not AceDataCloud" in tasks_document()["x-source"]["publisher"]
    assert set(contract()["paths"]) == {"/openai/images/generations", "/openai/images/edits"}


def test_fixture_is_up_to_date_and_copies_no_prose() -> None:
    folder = source_folder()
    if folder is None:
        pytest.skip("AceDataCloud's documents are not beside this checkout (../shared/openapi)")
    assert FIXTURE.read_text(encoding="utf-8") == derive.render(derive.derive(folder)), (
        "regenerate: python -m tests.contract.derive " + str(folder)
    )
    published = [json.loads((folder / name).read_text()) for name in derive.SOURCES]
    copied = strings(contract()) & set().union(*(prose(document) for document in published))
    assert not copied


def test_structure_kept() -> None:
    generations = contract()["paths"]["/openai/images/generations"]["post"]
    body = generations["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["prompt", "model"]
    assert len(body["properties"]["model"]["enum"]) == 11
    assert "enum" not in body["properties"]["prompt"]
    assert body["properties"]["size"]["pattern"] == "^(auto|\\d+x\\d+)$"
    edits = contract()["paths"]["/openai/images/edits"]["post"]["requestBody"]["content"]
    assert set(edits) == {"application/json", "multipart/form-data"}
    assert edits["multipart/form-data"]["schema"]["properties"]["image"]["maxItems"] == 16
    codes = {
        status: response["x-error-codes"]
        for status, response in generations["responses"].items()
        if status != "200"
    }
    assert codes == {
        "400": ["token_mismatched", "api_not_implemented"],
        "401": ["invalid_token"],
        "403": ["forbidden"],
        "429": ["too_many_requests"],
        "500": ["api_error"],
        "504": ["timeout"],
    }


def test_per_model_facts_name_only_documented_models() -> None:
    documented = set(
        contract()["paths"]["/openai/images/generations"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]["properties"]["model"]["enum"]
    )
    families = per_model()["families"]
    assert set().union(*map(set, families.values())) == documented
