"""Derive the contract fixture from AceDataCloud's published OpenAPI documents.

Usage (from the repository root)::

    python -m tests.contract.derive /path/to/openapi   # the folder holding the two documents

It reads ``images-generations.json`` and ``images-edits.json`` and writes
``tests/contract/acedata_images.openapi.json``: one OpenAPI 3.0 document with both paths, keeping
the structure only (paths, content types, required fields, types, enums, ranges, patterns,
defaults, formats, response and error schemas) and dropping every prose field (``description``,
``summary``, ``example``) and the documents' private ``rank`` keyword. Where the published
documents cannot be used as they stand, the change is made here, in code, and listed under
``x-deviations`` of the output:

- they have no ``info`` object, which OpenAPI requires: one naming the source is added;
- the generations ``prompt`` carries an ``enum`` of example prompts (a drop-down list in the
  documentation page); kept, it would refuse every other prompt, so it is dropped;
- each error response is a ``oneOf`` of example bodies that are identical once their examples
  are gone (so no body could match exactly one); it becomes that one schema, and the error codes
  of the examples are kept as ``x-error-codes``;
- header parameters ``Content-Type`` (and ``Accept``, ``Authorization``), which OpenAPI 3.0 says
  SHALL be ignored, are dropped (validators that check them refuse every multipart request, whose
  content type carries a boundary);
- the strict error body every example shows (``error.code``, ``error.message`` and ``trace_id``)
  is added as ``components.schemas.ErrorBody``, for variant B's "always a trace_id".

The per-model facts that the documents state only in descriptions (qualities, sizes, prompt
lengths, which fields apply to which model) are written by hand, in our words, in
``per_model.json`` beside the output; ``test_fixture.py`` checks the output is up to date.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SOURCES = ("images-generations.json", "images-edits.json")
OUTPUT = Path(__file__).with_name("acedata_images.openapi.json")
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
PROSE_KEYS = frozenset({"description", "summary", "example", "examples", "rank"})


def strip(node: Any) -> Any:
    """The node without prose keys, recursively."""
    if isinstance(node, Mapping):
        return {key: strip(value) for key, value in node.items() if key not in PROSE_KEYS}
    if isinstance(node, list):
        return [strip(item) for item in node]
    return node


def error_codes(schema: Mapping[str, Any]) -> list[str]:
    """The ``error.code`` of each example body of an error response (the only place they are)."""
    options = schema.get("oneOf", [schema])
    return [option["example"]["error"]["code"] for option in options if "example" in option]


def collapse_error(content: Mapping[str, Any]) -> dict[str, Any]:
    """One schema for an error response whose ``oneOf`` options are alike without examples."""
    media = dict(content["application/json"])
    schema = media["schema"]
    options = [strip(option) for option in schema.get("oneOf", [schema])]
    if any(option != options[0] for option in options):
        raise ValueError("error options differ in structure; review this document by hand")
    return {"application/json": {"schema": options[0]}}


def derive_operation(operation: Mapping[str, Any]) -> dict[str, Any]:
    """An operation's structure: parameters, request body, and responses with their codes."""
    derived = strip(operation)
    derived["parameters"] = [
        parameter
        for parameter in derived.get("parameters", [])
        if not (parameter["in"] == "header" and parameter["name"].lower() in IGNORED_HEADERS)
    ]
    if not derived["parameters"]:
        del derived["parameters"]
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            derived["responses"][status] = {
                "description": f"error {status}",  # OpenAPI requires one; ours, not theirs
                "content": collapse_error(response["content"]),
                "x-error-codes": error_codes(response["content"]["application/json"]["schema"]),
            }
        else:
            derived["responses"][status]["description"] = f"success {status}"
    json_body = derived["requestBody"]["content"].get("application/json", {}).get("schema", {})
    prompt = json_body.get("properties", {}).get("prompt", {})
    prompt.pop("enum", None)  # example prompts, not a restriction (see the module docstring)
    return derived


ERROR_BODY = {
    "type": "object",
    "required": ["error", "trace_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "trace_id": {"type": "string"},
    },
}


def derive(folder: Path) -> dict[str, Any]:
    """The fixture document built from the two published documents in ``folder``."""
    documents = {name: json.loads((folder / name).read_bytes()) for name in SOURCES}
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in SOURCES}
    first = documents[SOURCES[0]]
    paths: dict[str, Any] = {}
    for document in documents.values():
        for path, item in document["paths"].items():
            paths[path] = {method: derive_operation(op) for method, op in item.items()}
    return {
        "openapi": first["openapi"],
        "info": {
            "title": "AceDataCloud image API: structure of the published OpenAPI documents",
            "version": digests[SOURCES[0]][:12],
        },
        "x-source": {
            "publisher": "AceDataCloud (api.acedata.cloud), published OpenAPI documents",
            "documents": list(SOURCES),
            "sha256": digests,
            "derived_by": "tests/contract/derive.py",
        },
        "x-deviations": [
            "info added (the documents have none)",
            "generations prompt: enum of example prompts dropped",
            "error responses: oneOf of identical schemas collapsed; codes kept as x-error-codes",
            "header parameters Accept/Content-Type dropped (OpenAPI 3.0: SHALL be ignored)",
            "components.schemas.ErrorBody added: the error body every example shows",
        ],
        "servers": strip(first["servers"]),
        "paths": paths,
        "components": {
            **strip(first["components"]),
            "schemas": {"ErrorBody": ERROR_BODY},
        },
    }


def render(document: Mapping[str, Any]) -> str:
    """The fixture's text, stable across runs."""
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    OUTPUT.write_text(render(derive(Path(argv[0]))), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
