"""The emulator's ASGI app: AceDataCloud's image API, as its published documents describe it.

Routes: ``POST /openai/images/generations`` and ``POST /openai/images/edits`` (JSON, and multipart
edits), their ``/v1/images/...`` aliases (``v1_aliases``), ``POST /openai/tasks``,
``GET /files/<name>`` (generated images), and the admin routes under ``/_emulator/`` (``log``,
``stats``, ``callbacks``, ``faults``, ``dialect``, ``reset``) that tests use to inject faults,
switch the documented variant and count submissions. Build it with :func:`create_app`; serve it
with :func:`.run_emulator` or call it in-process through ``httpx.ASGITransport``.

The work is split by responsibility: :mod:`.routes` (API handlers), :mod:`.bodies` (JSON and
multipart bodies), :mod:`.rules` (validation), :mod:`.faults` (fault injection), :mod:`.tasks`
(task life cycle, callbacks, streaming), :mod:`.state` (what is remembered), :mod:`.dialect`
(documented variants).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .answers import ConnectionDropped, Errors, error_response
from .config import SUBMISSION_PATHS, TASKS_PATH, V1_PATHS, EmulatorConfig
from .routes import Api
from .state import EmulatorState
from .tasks import AUTO_SIZE

Endpoint = Callable[[Request], Awaitable[Response]]


class _Admin:
    """The ``/_emulator/*`` routes: read the log and counters, set faults and the dialect."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def files(self, request: Request) -> Response:
        stored = self.state.file(request.path_params["name"])
        if stored is None:
            return error_response(404, "no such file", "not_found")
        return Response(stored.data, media_type=stored.mime_type)

    async def log(self, request: Request) -> Response:
        return JSONResponse({"items": self.state.log()})

    async def stats(self, request: Request) -> Response:
        stats = self.state.stats()
        stats["accepted_by_trace_id"] = self.state.accepted_by_trace_id()
        return JSONResponse(stats)

    async def callbacks(self, request: Request) -> Response:
        return JSONResponse({"items": self.state.callbacks()})

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            problem = await self._patch(request, self.state.set_faults)
            if problem:
                return problem
        return JSONResponse(self.state.faults.to_dict())

    async def dialect(self, request: Request) -> Response:
        if request.method == "POST":
            problem = await self._patch(request, self.state.set_dialect)
            if problem:
                return problem
        return JSONResponse(self.state.dialect.to_dict())

    async def _patch(
        self, request: Request, apply: Callable[[dict[str, object]], object]
    ) -> Response | None:
        try:
            changes = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object of settings")
            apply(changes)
        except (TypeError, ValueError) as exc:
            return error_response(400, str(exc), "bad_request")
        return None

    async def reset(self, request: Request) -> Response:
        self.state.reset(faults=request.query_params.get("keep_faults") is None)
        return JSONResponse({"reset": True})

    async def not_implemented(self, request: Request) -> Response:
        """Unknown paths: 400 ``api_not_implemented`` (documented errors) or 404."""
        errors = Errors(self.state.dialect)
        if not request.url.path.startswith(("/openai/", "/v1/")):
            return error_response(404, "no such path", "not_found")
        if errors.documented:
            return errors.answer(400, "this API is not implemented", "api_not_implemented")
        return errors.answer(404, "no such path", "not_found")

    def alias(self, endpoint: Endpoint) -> Endpoint:
        """A ``/v1`` alias, answering only while the dialect has ``v1_aliases``."""

        async def aliased(request: Request) -> Response:
            if not self.state.dialect.v1_aliases:
                return await self.not_implemented(request)
            return await endpoint(request)

        return aliased


def create_app(
    config: EmulatorConfig | None = None, *, state: EmulatorState | None = None
) -> Starlette:
    """Build the emulator app; its :class:`EmulatorState` is ``app.state.emulator``."""
    if state is None:
        state = EmulatorState(config or EmulatorConfig())
    elif config is not None and config is not state.config:
        raise ValueError("pass either config or state, not both")
    api, admin = Api(state), _Admin(state)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await api.shutdown()

    generations, edits = api.route(api.generations), api.route(api.edits)
    routes = [
        Route("/openai/images/generations", generations, methods=["POST"]),
        Route("/openai/images/edits", edits, methods=["POST"]),
        Route("/v1/images/generations", admin.alias(generations), methods=["POST"]),
        Route("/v1/images/edits", admin.alias(edits), methods=["POST"]),
        Route(TASKS_PATH, api.route(api.tasks), methods=["POST"]),
        Route("/files/{name:str}", admin.files, methods=["GET"]),
        Route("/_emulator/log", admin.log, methods=["GET"]),
        Route("/_emulator/stats", admin.stats, methods=["GET"]),
        Route("/_emulator/callbacks", admin.callbacks, methods=["GET"]),
        Route("/_emulator/faults", admin.faults, methods=["GET", "POST"]),
        Route("/_emulator/dialect", admin.dialect, methods=["GET", "POST"]),
        Route("/_emulator/reset", admin.reset, methods=["POST"]),
        Route("/{path:path}", admin.not_implemented, methods=["GET", "POST"]),
    ]
    assert {route.path for route in routes} >= SUBMISSION_PATHS | V1_PATHS
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = state
    return app


__all__ = ["AUTO_SIZE", "ConnectionDropped", "create_app", "error_response"]
