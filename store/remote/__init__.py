"""Files the store fetches from elsewhere: the small interface every kind of remote speaks (list a
folder, open a file as a stream with its size, name and type), and the rules on which addresses the
store may connect to at all, so that a page cannot make the store reach its own network (request
forgery). One module per kind of remote: `http.py`."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from ..errors import StoreError, bad_request, forbidden

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Entry:
    """One item of a remote folder."""

    name: str
    path: str
    folder: bool
    size: int | None = None
    mimetype: str | None = None


@dataclass
class RemoteFile:
    """An opened remote file: what the remote says of it, and its bytes as they arrive."""

    name: str  # the file's name, as the remote gives it (may be empty)
    mimetype: str | None  # the type the remote declares, if any
    size: int | None  # the size the remote announces, None when unknown
    chunks: AsyncIterator[bytes]


class Remote(Protocol):
    """A kind of remote (http, ftp, webdav): its folders listed, its files opened as streams."""

    async def listing(self, path: str) -> Sequence[Entry]: ...

    def open(self, path: str) -> AbstractAsyncContextManager[RemoteFile]: ...


# --- which addresses the store may connect to ------------------------------------------------------

# Refused unless the operator allows them: whatever is not the public internet.
FORBIDDEN_NETWORKS: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata lives there)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved for protocols"),
        ("192.0.2.0/24", "documentation"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "documentation"),
        ("100::/64", "discard"),
    )
)


def allowed_networks(allow: Iterable[str]) -> tuple[Network, ...]:
    """The operator's [remote] allow entries as networks (store.config has checked them)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allow)


def _embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64 64:ff9b::/96), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why the store may not connect to `address` (its kind of range), or None when it may: a public
    address, or one in a range the operator allows."""
    if any(address.version == net.version and address in net for net in allowed):
        return None
    inner = _embedded(address)
    if inner is not address:
        if any(inner.version == net.version and inner in net for net in allowed):
            return None
        why = refusal(inner, allowed)
        return f"{why} (inside {address})" if why else None
    for network, why in FORBIDDEN_NETWORKS:
        if address.version == network.version and address in network:
            return why
    if not address.is_global or address.is_reserved or address.is_multicast:
        return "not a public address"
    return None


def literal_address(host: str) -> Address | None:
    """The address a URL's host spells, in any of the forms resolvers accept (dotted, decimal
    "2130706433", hex "0x7f.1", octal "0177.0.0.1", short "127.1", bracketed IPv6), or None for a
    name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        pass
    parts = text.split(".")
    if not parts or len(parts) > 4 or not all(parts):
        return None
    numbers = []
    for part in parts:
        lower = part.lower()
        try:
            if lower.startswith("0x"):
                numbers.append(int(lower[2:] or "0", 16))
            elif len(lower) > 1 and lower.startswith("0"):
                numbers.append(int(lower, 8))
            else:
                numbers.append(int(lower, 10))
        except ValueError:
            return None
    *front, last = numbers
    if any(n > 255 for n in front) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in front:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def check_address(address: Address, host: str, allowed: Sequence[Network]) -> None:
    why = refusal(address, allowed)
    if why is not None:
        raise forbidden(
            f"the store does not fetch from {host!r}: it is at {address}, a {why} address, which a page may "
            "not make the store reach; the operator may allow a range in [remote] allow"
        )


async def resolve(host: str, port: int, allowed: Sequence[Network]) -> Address:
    """The one address the store connects to for `host`: the address itself, or every address the
    name resolves to checked (any refused one refuses the host), and the first returned. The caller
    connects to that address, never to the name again, so a second answer cannot swap it."""
    literal = literal_address(host)
    if literal is not None:
        check_address(literal, host, allowed)
        return literal
    if not host or len(host) > 253:
        raise bad_request(f"{host!r} is not a host name")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise StoreError(502, f"the host {host!r} was not found ({error})") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses:
        raise StoreError(502, f"the host {host!r} has no address")
    for address in addresses:
        check_address(address, host, allowed)
    return addresses[0]
