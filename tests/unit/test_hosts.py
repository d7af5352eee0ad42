"""Which hosts are public (``_hosts``) and where the guarded download clients connect."""

from __future__ import annotations

import socket
from typing import Any

import httpcore
import httpx
import pytest

from langchain_acedata_images._hosts import (
    address_refusal,
    host_refusal,
    literal_address,
    origin_of,
    url_refusal,
)
from langchain_acedata_images._netguard import (
    RefusedDestinationError,
    guarded_async_client,
    guarded_client,
)

REFUSED = {
    "127.0.0.1": "loopback",
    "127.1": "loopback",
    "0177.0.0.1": "loopback",
    "0x7f.0.0.1": "loopback",
    "2130706433": "loopback",
    "[::1]": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "64:ff9b::a9fe:a9fe": "link-local",
    "169.254.169.254": "link-local",
    "[fe80::1%eth0]": "link-local",
    "10.0.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "fd00::1": "private",
    "224.0.0.251": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "240.0.0.1": "address",  # reserved (Python files it under private, too)
    "100.64.0.1": "non-public",
    "localhost": "local name",
    "LOCALHOST.": "local name",
    "app.localhost": "local name",
    "metadata.google.internal": "local name",
    "printer.local": "local name",
    "router.home.arpa": "local name",
    "": "empty host",
}


@pytest.mark.parametrize(("host", "kind"), REFUSED.items())
def test_non_public_hosts_are_refused_with_their_kind(host: str, kind: str) -> None:
    reason = host_refusal(host)
    assert reason is not None
    assert kind in reason


@pytest.mark.parametrize(
    "host", ["example.com", "8.8.8.8", "[2001:4860:4860::8888]", "::ffff:8.8.8.8", "1.1.1.1"]
)
def test_public_hosts_pass(host: str) -> None:
    assert host_refusal(host) is None


def test_literal_address_reads_resolver_spellings_only() -> None:
    assert str(literal_address("0x7f000001")) == "127.0.0.1"
    assert str(literal_address("127.1")) == "127.0.0.1"
    assert str(literal_address("[::1]")) == "::1"
    assert literal_address("cafe.example") is None
    assert literal_address("deadbeef") is None  # hex letters alone are a name
    assert literal_address("1.2.3.4.5") is None


def test_address_refusal_unwraps_embedded_ipv4() -> None:
    import ipaddress

    assert (
        address_refusal(ipaddress.ip_address("::ffff:10.0.0.1")) == "a private address (10.0.0.1)"
    )
    assert address_refusal(ipaddress.ip_address("::ffff:8.8.8.8")) is None


def test_url_helpers() -> None:
    assert url_refusal("http://127.0.0.1:9/x") == "a loopback address (127.0.0.1)"
    assert url_refusal("https://example.com/x") is None
    assert url_refusal("http://[::1/x") is None  # malformed: judged elsewhere
    assert url_refusal("mailto:x") is None
    assert origin_of("http://Example.COM/x") == ("example.com", 80)
    assert origin_of("https://example.com./x") == ("example.com", 443)
    assert origin_of("http://127.0.0.1:8123") == ("127.0.0.1", 8123)
    assert origin_of("ftp://example.com/") is None
    assert origin_of("http://example.com:99999/") is None
    assert origin_of("no-scheme") is None


# ----------------------------------------------------------- the guarded connections


class Recorded(Exception):
    pass


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A resolver answering chosen addresses, and a connect that records where it would go."""
    import anyio

    state: dict[str, Any] = {"addresses": [], "connected": [], "lookups": 0}

    def answer(host: str, port: int) -> list[tuple[Any, ...]]:
        state["lookups"] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in state["addresses"]]

    async def aanswer(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        return answer(host, port)

    def connect(self: Any, host: str, port: int, *args: Any) -> Any:
        state["connected"].append((host, port))
        raise httpcore.ConnectError("recorded, not connected")

    async def aconnect(self: Any, host: str, port: int, *args: Any) -> Any:
        return connect(self, host, port)

    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: answer(host, port))
    monkeypatch.setattr(anyio, "getaddrinfo", aanswer)
    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect)
    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", aconnect)
    return state


def test_the_connection_goes_to_the_checked_address_not_the_name(resolved: dict[str, Any]) -> None:
    # Two public addresses: each is tried in order, always by address, never by name, so a
    # second (rebinding) answer of the resolver is never asked for.
    resolved["addresses"] = ["93.184.216.34", "93.184.216.35"]
    with guarded_client() as client, pytest.raises(httpx.ConnectError):
        client.get("https://images.example.com/a.png")
    assert resolved["connected"] == [("93.184.216.34", 443), ("93.184.216.35", 443)]
    assert resolved["lookups"] == 1


async def test_async_connection_goes_to_the_checked_address(resolved: dict[str, Any]) -> None:
    resolved["addresses"] = ["93.184.216.34"]
    async with guarded_async_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://images.example.com:8080/a.png")
    assert resolved["connected"] == [("93.184.216.34", 8080)]


@pytest.mark.parametrize("use_async", [False, True])
async def test_any_refused_address_refuses_the_name(
    resolved: dict[str, Any], use_async: bool
) -> None:
    resolved["addresses"] = ["93.184.216.34", "169.254.169.254"]

    async def fetch() -> None:
        if use_async:
            async with guarded_async_client() as aclient:
                await aclient.get("http://images.example.com/a.png")
        else:
            with guarded_client() as client:
                client.get("http://images.example.com/a.png")

    with pytest.raises(httpx.ConnectError) as caught:
        await fetch()
    assert isinstance(caught.value.__cause__, RefusedDestinationError)
    assert "resolves to a link-local address (169.254.169.254)" in str(caught.value)
    assert resolved["connected"] == []


def test_no_address_at_all_is_refused(resolved: dict[str, Any]) -> None:
    resolved["addresses"] = []
    with guarded_client() as client, pytest.raises(httpx.ConnectError, match="no address"):
        client.get("http://images.example.com/a.png")


def test_trusted_origins_connect_by_name_without_a_check(resolved: dict[str, Any]) -> None:
    resolved["addresses"] = ["127.0.0.1"]
    with guarded_client([("localhost", 8123)]) as client, pytest.raises(httpx.ConnectError):
        client.get("http://LOCALHOST:8123/a.png")
    assert resolved["connected"] == [("localhost", 8123)]
    assert resolved["lookups"] == 0
    with guarded_client([("localhost", 8123)]) as client, pytest.raises(httpx.ConnectError):
        client.get("http://localhost:8124/a.png")  # another port is another origin
    assert resolved["connected"] == [("localhost", 8123)]


def test_a_resolver_failure_is_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with guarded_client() as client, pytest.raises(httpx.ConnectError, match="cannot resolve"):
        client.get("http://nowhere.example.com/a.png")


def test_guarded_clients_ignore_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    with guarded_client() as client:
        assert client._mounts == {}
