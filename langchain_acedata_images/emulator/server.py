"""Serve the emulator over real loopback HTTP: in a background thread, or in the foreground."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect

from .app import ConnectionDropped, create_app
from .config import EmulatorConfig, FaultConfig
from .dialect import Dialect
from .state import EmulatorState

DEFAULT_HOST = "127.0.0.1"
EMULATOR_TOKEN = "emulator-token"
"""Token the embedded emulator is used with (it accepts any token unless configured)."""

_START_TIMEOUT = 10.0


class _HideInjectedDrops(logging.Filter):
    """Uvicorn logs a traceback for every app exception; injected drops and clients that
    stopped waiting are expected here, not bugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, (ConnectionDropped, ClientDisconnect)):
                return False
            error = error.__cause__ or error.__context__
        return True


_DROP_FILTER = _HideInjectedDrops()


@dataclass
class RunningEmulator:
    """A live emulator: its base URL and its state (faults, log, counters).

    Stop it with :meth:`stop` (or use :func:`run_emulator` as a context manager).
    """

    base_url: str
    app: Starlette
    state: EmulatorState
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _socket: socket.socket | None = field(default=None, repr=False)

    def set_faults(self, **changes: Any) -> FaultConfig:
        """Patch the fault settings, e.g. ``set_faults(error_rates={503: 0.2})``."""
        return self.state.set_faults(changes)

    def set_dialect(self, preset: str | None = None, **changes: Any) -> Dialect:
        """Switch the documented variant, e.g. ``set_dialect("b")`` or
        ``set_dialect(trace_id="ignored")``; :meth:`reset` restores the config's dialect."""
        if preset is not None:
            changes["preset"] = preset
        return self.state.set_dialect(changes)

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def reset(self) -> None:
        self.state.reset()

    def stop(self) -> None:
        """Shut the server down and wait for its thread (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _uvicorn_server(app: Starlette, host: str, port: int, log_level: str) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        # Many agents poll at once in load tests; keep idle keep-alive connections open.
        timeout_keep_alive=30,
        backlog=2048,
    )
    return uvicorn.Server(config)


def start_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    log_level: str = "warning",
) -> RunningEmulator:
    """Serve a fresh emulator in a background thread; return once it accepts connections.

    ``port=0`` picks a free port. Use ``emulator.base_url`` as the client's ``base_url`` and
    call ``emulator.stop()`` when done (notebooks); in code prefer :func:`run_emulator`.
    """
    app = create_app(config)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
    # with proto 0 every answer waited ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind((host, port))
    # Binding ourselves gives the port before uvicorn starts, with no race for a "free" port.
    bound_port = sock.getsockname()[1]
    server = _uvicorn_server(app, host, bound_port, log_level)
    # Uvicorn installs signal handlers only on the main thread; this one is not.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="acedata-emulator", daemon=True
    )
    authority = f"[{host}]" if ":" in host else host
    running = RunningEmulator(
        f"http://{authority}:{bound_port}", app, app.state.emulator, server, thread, sock
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    return running


@contextmanager
def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    log_level: str = "warning",
) -> Iterator[RunningEmulator]:
    """Context manager around :func:`start_emulator` that always stops the server."""
    with start_emulator(config, host=host, port=port, log_level=log_level) as running:
        yield running


def serve(
    config: EmulatorConfig | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    log_level: str = "info",
) -> None:
    """Serve the emulator in the foreground until interrupted (the CLI's ``emulator`` command)."""
    with run_emulator(config, host=host, port=port, log_level=log_level) as emulator:
        print(
            json.dumps({"base_url": emulator.base_url, "token": "any non-empty token"}), flush=True
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


__all__ = [
    "DEFAULT_HOST",
    "EMULATOR_TOKEN",
    "RunningEmulator",
    "run_emulator",
    "serve",
    "start_emulator",
]
