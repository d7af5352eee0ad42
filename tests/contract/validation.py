"""Validate HTTP exchanges against the contract: openapi-core for JSON, the OAS 3.0 JSON Schema
validator for multipart bodies (openapi-core neither reads ``image[]`` parts nor types form
fields), and our own document for ``/openai/tasks`` (AceDataCloud publishes none).

``Recorder`` wraps an httpx transport (sync or async) and keeps every request with its answer,
so a test can run a real client and then validate everything that went over the wire.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

HERE = Path(__file__).parent
FIXTURE = HERE / "acedata_images.openapi.json"
TASKS_DOCUMENT = HERE / "tasks.openapi.json"
PER_MODEL = HERE / "per_model.json"
SERVER = "https://api.acedata.cloud"
SUBMISSION_PATHS = ("/openai/images/generations", "/openai/images/edits")


@cache
def contract() -> dict[str, Any]:
    """The fixture document as JSON."""
    document: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return document


@cache
def tasks_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(TASKS_DOCUMENT.read_text(encoding="utf-8"))
    return document


@cache
def per_model() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PER_MODEL.read_text(encoding="utf-8"))
    return document


@cache
def _openapi(path: Path) -> OpenAPI:
    return OpenAPI.from_file_path(str(path))


def contract_path(path: str) -> str:
    """The documented path of a request path (the ``/v1`` aliases are the emulator's)."""
    return path.replace("/v1/images/", "/openai/images/", 1)


def document_for(path: str) -> Path:
    return TASKS_DOCUMENT if path == "/openai/tasks" else FIXTURE


def schema_of(path: str, *keys: str) -> dict[str, Any]:
    """A schema of the fixture (or of the tasks document), with ``$ref`` resolved one level."""
    document = tasks_document() if path == "/openai/tasks" else contract()
    node: Any = document["paths"][path]["post"]
    for key in keys:
        node = node[key]
    return _resolved(node, document)


def component(name: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    document = document or tasks_document()
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return _resolved(schema, document)


def _resolved(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolved(target, document)
        return {key: _resolved(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(item, document) for item in node]
    return node


class _Request:
    """An ``httpx.Request`` as openapi-core reads one, addressed to the documented server."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            header=Headers(list(request.headers.items())),
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
        )

    host_url = SERVER

    @property
    def path(self) -> str:
        return contract_path(self._request.url.path)

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes:
        return self._request.content

    @property
    def content_type(self) -> str:
        return self._request.headers.get("content-type", "")


@dataclass(frozen=True)
class _Response:
    data: bytes
    status_code: int
    content_type: str
    headers: Headers


def is_multipart(request: httpx.Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def validate_request(request: httpx.Request) -> None:
    """Raise if the request breaks the documented request schema."""
    path = contract_path(request.url.path)
    if is_multipart(request):
        schema = schema_of(path, "requestBody", "content", "multipart/form-data", "schema")
        OAS30Validator(schema).validate(form_fields(request, schema))
        return
    _openapi(document_for(path)).validate_request(_Request(request))


def validate_response(request: httpx.Request, response: httpx.Response) -> None:
    """Raise if the answer breaks the documented response schema of its status."""
    answer = _Response(
        response.content,
        response.status_code,
        response.headers.get("content-type", ""),
        Headers(list(response.headers.items())),
    )
    path = contract_path(request.url.path)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return  # streamed partial images: the documents describe no stream (variants table)
    if response.status_code == 200 and _deferred(request):
        # The published 200 schema requires created/data; the async and callback answers the
        # same documents describe ({task_id, trace_id}) are validated against ours.
        OAS30Validator(component("AsyncAnswer")).validate(response.json())
        return
    if is_multipart(request):  # openapi-core would re-read the multipart request body
        schema = schema_of(path, "responses", str(response.status_code), "content")
        OAS30Validator(schema["application/json"]["schema"]).validate(response.json())
        return
    _openapi(document_for(path)).validate_response(_Request(request), answer)


def _deferred(request: httpx.Request) -> bool:
    """Whether a submission asked for a task id instead of the images (async or callback)."""
    if contract_path(request.url.path) not in SUBMISSION_PATHS:
        return False
    if is_multipart(request):
        fields = form_fields(request, schema_of(contract_path(request.url.path), *_MULTIPART))
    else:
        fields = json.loads(request.content)
    return bool(fields.get("async") is True or fields.get("callback_url"))


_MULTIPART = ("requestBody", "content", "multipart/form-data", "schema")


def form_fields(request: httpx.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """A multipart body as the OpenAPI form encoding means it: ``image[]`` parts make the
    ``image`` array, text parts take the type their schema property declares, files are
    strings (``format: binary``)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    properties = schema["properties"]
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        key = name.removesuffix("[]")
        raw = part.get_payload(decode=True)
        assert isinstance(raw, bytes)
        value: Any = (
            raw.decode("latin-1")
            if part.get_filename()
            else _typed(raw.decode(), properties.get(key, {}))
        )
        if properties.get(key, {}).get("type") == "array":
            fields.setdefault(key, []).append(value)
        else:
            fields[key] = value
    return fields


def _typed(text: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            return {"true": True, "false": False}[text.lower()]
    except (ValueError, KeyError):
        return text  # left as text: the schema check then reports the wrong type
    return text


@dataclass(frozen=True)
class Exchange:
    request: httpx.Request
    response: httpx.Response


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a transport and keeps every exchange (bodies read) for later validation."""

    def __init__(
        self,
        sync: httpx.BaseTransport | None = None,
        asynchronous: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sync = sync
        self._async = asynchronous
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert self._sync is not None
        request.read()
        response = self._sync.handle_request(request)
        response.read()
        self.exchanges.append(Exchange(request, response))
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self._async is not None
        await request.aread()
        response = await self._async.handle_async_request(request)
        await response.aread()
        self.exchanges.append(Exchange(request, response))
        return response

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()

    def api_exchanges(self) -> list[Exchange]:
        """The exchanges with the API (not image downloads nor admin routes)."""
        return [
            exchange
            for exchange in self.exchanges
            if contract_path(exchange.request.url.path) in (*SUBMISSION_PATHS, "/openai/tasks")
        ]

    def validate_all(self) -> int:
        """Validate every API exchange; return how many there were."""
        count = 0
        for exchange in self.api_exchanges():
            validate_request(exchange.request)
            validate_response(exchange.request, exchange.response)
            count += 1
        return count
