"""HTTP clients that connect to public addresses only (for downloads of untrusted URLs).

Server answers are untrusted, so an image URL (or a redirect) could aim a download at this
machine, the local network or a cloud metadata service (169.254.169.254).
:func:`guarded_client` / :func:`guarded_async_client` build httpx clients whose connections
resolve the name once, check *every* address it resolves to (:mod:`._hosts`), and connect to a
checked address: a name that later resolves elsewhere (DNS rebinding) cannot slip through, and
every redirect hop opens its connection through the same check.

Origins in ``trusted`` (scheme-less ``(host, port)``, e.g. the API's own, so the emulator on
127.0.0.1 works) skip the check.

With ``proxy_from_env``, requests go through the proxy that ``HTTP_PROXY`` / ``HTTPS_PROXY`` /
``ALL_PROXY`` name (``NO_PROXY`` honoured, as :mod:`urllib.request` reads them). The proxy,
not this machine, then resolves the destination, so its addresses cannot be checked here:
only the host *name* is (by the caller, :func:`._hosts.host_refusal` on every hop). Hosts the
proxy is bypassed for keep the address check.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from collections.abc import Iterable, Mapping
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


class ProxyRoutes:
    """Which proxy a URL goes through, by the proxy environment variables (no I/O).

    ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``ALL_PROXY`` (either case, read as
    :mod:`urllib.request` reads them) by the URL's scheme, but not for the hosts of
    ``NO_PROXY``.
    """

    def __init__(self, environment: Mapping[str, str] | None = None) -> None:
        found = urllib.request.getproxies_environment() if environment is None else environment
        self.proxies = {
            scheme: url if "://" in url else f"http://{url}"
            for scheme in ("http", "https", "all")
            if (url := found.get(scheme, "").strip())
        }
        self._no_proxy = [_no_proxy_entry(entry) for entry in found.get("no", "").split(",")]

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL for ``url``, or ``None`` to connect directly."""
        proxy = self.proxies.get(url.scheme) or self.proxies.get("all")
        if proxy is None:
            return None
        host = url.host.lower().rstrip(".")
        port = url.port or {"http": 80, "https": 443}.get(url.scheme)
        for name, entry_port in self._no_proxy:
            if name == "*":
                return None
            if not name or (entry_port is not None and entry_port != port):
                continue
            if host == name or host.endswith("." + name):
                return None
        return proxy


def _no_proxy_entry(entry: str) -> tuple[str, int | None]:
    """A ``NO_PROXY`` entry as ``(name, port)`` as curl and httpx read it: a name matching
    itself and its subdomains (a leading dot ignored), an address, ``*``; ``:port`` optional."""
    entry = entry.strip().lower().lstrip(".")
    if entry.startswith("["):  # [v6 address] or [v6 address]:port
        name, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        name, _, port = entry.partition(":")
    else:  # a name, an IPv4 address or a bare IPv6 address
        name, port = entry, ""
    return name.rstrip("."), int(port) if port.isdigit() else None


class _Routed(httpx.BaseTransport):
    """Sends each request through its proxy (:class:`ProxyRoutes`) or ``direct``."""

    def __init__(self, direct: httpx.BaseTransport, routes: ProxyRoutes) -> None:
        self._direct, self._routes = direct, routes
        self._proxied = {
            url: httpx.HTTPTransport(proxy=url) for url in set(routes.proxies.values())
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._routes.proxy_for(request.url)
        transport = self._direct if proxy is None else self._proxied[proxy]
        return transport.handle_request(request)

    def close(self) -> None:
        for transport in [self._direct, *self._proxied.values()]:
            transport.close()


class _AsyncRouted(httpx.AsyncBaseTransport):
    """Async :class:`_Routed`."""

    def __init__(self, direct: httpx.AsyncBaseTransport, routes: ProxyRoutes) -> None:
        self._direct, self._routes = direct, routes
        self._proxied = {
            url: httpx.AsyncHTTPTransport(proxy=url) for url in set(routes.proxies.values())
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._routes.proxy_for(request.url)
        transport = self._direct if proxy is None else self._proxied[proxy]
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in [self._direct, *self._proxied.values()]:
            await transport.aclose()


def guarded_client(
    trusted: Iterable[Origin] = (), *, proxy_from_env: bool = False, **options: Any
) -> httpx.Client:
    """An ``httpx.Client`` that connects to public addresses and ``trusted`` origins only, or
    (``proxy_from_env``) to the environment's proxy; proxy variables that name no usable
    proxy raise ``ValueError`` or ``ImportError`` (httpx's) here."""
    transport = httpx.HTTPTransport()
    # httpx takes no network backend; its transport's pool is replaced by an equal one that
    # has ours (the pool is what httpx's transport delegates every request to).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=_GuardedBackend(_Guard(trusted))
    )
    routes = ProxyRoutes() if proxy_from_env else None
    routed = _Routed(transport, routes) if routes and routes.proxies else transport
    # trust_env=False: httpx reads no proxy variables itself (the routes above decide).
    return httpx.Client(transport=routed, trust_env=False, **options)


def guarded_async_client(
    trusted: Iterable[Origin] = (), *, proxy_from_env: bool = False, **options: Any
) -> httpx.AsyncClient:
    """Async :func:`guarded_client`."""
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_AsyncGuardedBackend(_Guard(trusted)),
    )
    routes = ProxyRoutes() if proxy_from_env else None
    routed = _AsyncRouted(transport, routes) if routes and routes.proxies else transport
    return httpx.AsyncClient(transport=routed, trust_env=False, **options)


def download_client(
    trusted: Iterable[Origin], allow_private: bool, proxy_from_env: bool
) -> httpx.Client:
    """The client of one save: guarded (:func:`guarded_client`) unless ``allow_private``; the
    environment's proxy used when ``proxy_from_env``."""
    if allow_private:
        return httpx.Client(trust_env=proxy_from_env)
    return guarded_client(trusted, proxy_from_env=proxy_from_env)


def download_async_client(
    trusted: Iterable[Origin], allow_private: bool, proxy_from_env: bool
) -> httpx.AsyncClient:
    """Async :func:`download_client`."""
    if allow_private:
        return httpx.AsyncClient(trust_env=proxy_from_env)
    return guarded_async_client(trusted, proxy_from_env=proxy_from_env)


__all__ = [
    "ProxyRoutes",
    "RefusedDestinationError",
    "download_async_client",
    "download_client",
    "guarded_async_client",
    "guarded_client",
]
