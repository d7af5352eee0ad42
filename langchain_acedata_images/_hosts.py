"""Is a host public? Loopback, link-local, private, multicast and local names are not.

Pure and DNS-free: :func:`host_refusal` judges a host as written in a URL, literal addresses
in any spelling a resolver accepts (``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) and
local names (``localhost``, ``*.internal``). Used for ``callback_url`` (which the API server
resolves, not us) and, with the resolved addresses, by the download guard (:mod:`._netguard`).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Origin = tuple[str, int]

# Names that never leave the machine or the local network (RFC 6761, 6762, 8375, cloud DNS).
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver accepts, or ``None`` for a name."""
    bare = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    # inet_aton also reads the legacy forms that resolvers accept: 127.1, 0x7f.1, 2130706433.
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or ``None`` when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if embedded is not None:
            return address_refusal(embedded)
    for kind in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            article = "an" if kind == "unspecified" else "a"
            return f"{article} {kind.replace('_', '-')} address ({address})"
    if not address.is_global:
        return f"a non-public address ({address})"
    return None


def host_refusal(host: str) -> str | None:
    """Why ``host`` (as written in a URL, no DNS) is not a public destination, or ``None``."""
    name = host.strip().rstrip(".").lower()
    if not name:
        return "an empty host"
    address = literal_address(name)
    if address is not None:
        return address_refusal(address)
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return f"a local name ({name})"
    return None


def url_refusal(url: str) -> str | None:
    """:func:`host_refusal` of ``url``'s host (``None`` when the URL has no host to judge)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host_refusal(host) if host else None


def origin_of(url: str) -> Origin | None:
    """``(host, port)`` of an http(s) URL (default ports filled in), or ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower().rstrip("."), port


__all__ = [
    "IPAddress",
    "Origin",
    "address_refusal",
    "host_refusal",
    "literal_address",
    "origin_of",
    "url_refusal",
]
