"""The client's connection pools: one ``httpx.Client``, one ``httpx.AsyncClient`` per event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator

import httpx


class HTTPPools:
    """Creates pools on first use, closes the ones it owns, never the caller's."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout,
        max_connections: int,
        http_client: httpx.Client | None,
        http_async_client: httpx.AsyncClient | None,
    ) -> None:
        self.timeout = timeout
        self.limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._sync = http_client
        self._given_async = http_async_client
        # An AsyncClient's connections belong to the event loop that opened them, and
        # notebooks/scripts may call asyncio.run() many times: keep one pool per loop.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._closers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()
        # Caller-supplied clients are the caller's to close.
        self._owns_sync = http_client is None
        self._lock = threading.Lock()

    @property
    def sync(self) -> httpx.Client:
        """The shared sync ``httpx.Client`` (created on first use)."""
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    pool = httpx.Client(timeout=self.timeout, limits=self.limits)
                    # Pools dropped without close() (e.g. inside a tool) still free their
                    # sockets when they are collected.
                    weakref.finalize(self, pool.close)
                    self._sync = pool
        return self._sync

    @property
    def async_(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` of the running event loop (created on first use)."""
        if self._given_async is not None:
            return self._given_async
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            with self._lock:
                # Pools of finished loops can no longer be closed; let them be collected.
                for dead in [old for old in self._async if old.is_closed()]:
                    del self._async[dead]
                client = self._async.get(loop)
                if client is None:
                    client = httpx.AsyncClient(timeout=self.timeout, limits=self.limits)
                    self._async[loop] = client
                    self._closers[loop] = _close_when_loop_ends(client)
        return client

    def close(self) -> None:
        """Close the sync pool, and async pools whose event loop is idle (not running)."""
        if self._sync is not None and self._owns_sync:
            self._sync.close()
            self._sync = None
        for loop, client in list(self._async.items()):
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(client.aclose())
                self._async.pop(loop, None)
                self._closers.pop(loop, None)

    async def aclose(self) -> None:
        """Close the sync pool and the async pool of the running event loop."""
        self.close()
        loop = asyncio.get_running_loop()
        client = self._async.pop(loop, None)
        self._closers.pop(loop, None)
        if client is not None:
            await client.aclose()


def _close_when_loop_ends(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Tie ``client`` to the running loop's shutdown, so a forgotten pool is still closed.

    ``asyncio.run()`` (and pytest-asyncio, Jupyter kernels on exit) call
    ``loop.shutdown_asyncgens()``, which closes every async generator the loop has started:
    this one is started here and closes the pool in its ``finally``.
    """

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.aclose()

    generator = closer()
    step = generator.__anext__().__await__()
    with contextlib.suppress(StopIteration):
        next(step)  # runs to the first ``yield``: the loop's asyncgen hook registers it
    return generator
