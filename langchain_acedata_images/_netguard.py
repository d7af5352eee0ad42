"""HTTP clients that connect to public addresses only (for downloads of untrusted URLs).

Server answers are untrusted, so an image URL (or a redirect) could aim a download at this
machine, the local network or a cloud metadata service (169.254.169.254).
:func:`guarded_client` / :func:`guarded_async_client` build httpx clients whose connections
resolve the name once, check *every* address it resolves to (:mod:`._hosts`), and connect to a
checked address: a name that later resolves elsewhere (DNS rebinding) cannot slip through, and
every redirect hop opens its connection through the same check.

Origins in ``trusted`` (scheme-less ``(host, port)``, e.g. the API's own, so the emulator on
127.0.0.1 works) skip the check. The guarded clients ignore proxy environment variables: a
proxy would hide the destination's address from the check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ._hosts import Origin, address_refusal


class RefusedDestinationError(httpcore.ConnectError):
    """A connection was refused because its address is not public (httpx maps it to
    :class:`httpx.ConnectError`; the reason is the message)."""


class _Guard:
    """The decision shared by the sync and async backends: which addresses to connect to."""

    def __init__(self, trusted: Iterable[Origin]) -> None:
        self.trusted = frozenset((host.lower().rstrip("."), port) for host, port in trusted)

    def is_trusted(self, host: str, port: int) -> bool:
        return (host.lower().rstrip("."), port) in self.trusted

    @staticmethod
    def checked(host: str, infos: Iterable[tuple[Any, ...]]) -> list[str]:
        """The resolved addresses, in order; refused if *any* of them is not public."""
        addresses: list[str] = []
        for info in infos:
            text = str(info[4][0]).split("%", 1)[0]
            reason = address_refusal(ipaddress.ip_address(text))
            if reason is not None:
                raise RefusedDestinationError(f"{host} resolves to {reason}")
            if text not in addresses:
                addresses.append(text)
        if not addresses:
            raise RefusedDestinationError(f"{host} resolves to no address")
        return addresses


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self._guard.is_trusted(host, port):
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        error: Exception | None = None
        for address in self._guard.checked(host, infos):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise httpcore.ConnectError(f"cannot connect to {host}: {error}")


class _AsyncGuardedBackend(httpcore.AnyIOBackend):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._guard.is_trusted(host, port):
            return await super().connect_tcp(host, port, timeout, local_address, socket_options)
        import anyio  # the async backend's own dependency; loaded only when used

        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        error: Exception | None = None
        for address in self._guard.checked(host, infos):
            try:
                return await super().connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise httpcore.ConnectError(f"cannot connect to {host}: {error}")


def guarded_client(trusted: Iterable[Origin] = (), **options: Any) -> httpx.Client:
    """An ``httpx.Client`` that connects to public addresses and ``trusted`` origins only."""
    transport = httpx.HTTPTransport()
    # httpx takes no network backend; its transport's pool is replaced by an equal one that
    # has ours (the pool is what httpx's transport delegates every request to).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=_GuardedBackend(_Guard(trusted))
    )
    return httpx.Client(transport=transport, trust_env=False, **options)


def guarded_async_client(trusted: Iterable[Origin] = (), **options: Any) -> httpx.AsyncClient:
    """Async :func:`guarded_client`."""
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_AsyncGuardedBackend(_Guard(trusted)),
    )
    return httpx.AsyncClient(transport=transport, trust_env=False, **options)


__all__ = ["RefusedDestinationError", "guarded_async_client", "guarded_client"]
