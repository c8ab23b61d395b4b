"""Client IP resolution behind trusted reverse proxies.

The direct peer of the application (``REMOTE_ADDR``) is the only address the
network vouches for. ``X-Forwarded-For`` is a list that any client can start
writing, so it is read only when the peer is a trusted proxy, and then only from
the right: each trusted proxy appends the address it received the request from,
so walking right to left and skipping trusted proxies stops at the first address
that no trusted party would have written for itself. That address is the client.

Addresses are normalised on the way in: ports (``1.2.3.4:5678``,
``[2001:db8::1]:443``), surrounding whitespace and IPv4-mapped IPv6
(``::ffff:1.2.3.4``) are accepted, and results are returned in the standard
compressed text form.

A malformed hop stops the walk and yields ``None`` ("unknown"): the hops to its
left were written by something we cannot vouch for, and the hop to its right is
one of our own proxies, whose location says nothing about the visitor.

Why not python-ipware: its ``proxy_list`` describes the trailing hops
*positionally* (entry *n* must match hop *n* from the right, and the number of
hops must equal the number of entries), and it treats ``REMOTE_ADDR`` as just
another header in its precedence list rather than as the peer that decides
whether forwarded headers are read at all. A set of trusted networks with any
number of hops in front of the application cannot be expressed with it, so the
walk is implemented here on top of the standard library's ``ipaddress``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = [
    "IPAddress",
    "IPNetwork",
    "client_ip",
    "is_trusted",
    "parse_address",
    "parse_trusted_networks",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Longest address token worth parsing: a bracketed IPv6 address with a scope
#: id and a port is well under this; anything longer is garbage.
_MAX_TOKEN_LENGTH = 100

#: How many forwarded hops are examined before giving up. Real deployments have a
#: handful of proxies; an endless trusted chain is a misconfiguration or an attack.
_MAX_HOPS = 32

_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_trusted_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse the configured trusted proxies.

    Args:
        cidrs: Networks in CIDR notation (``"10.0.0.0/8"``, ``"2001:db8::/32"``)
            or single addresses (``"10.0.0.1"`` is read as ``10.0.0.1/32``).
            Host bits are allowed and masked (``"10.0.0.5/24"`` is
            ``10.0.0.0/24``).

    Returns:
        The parsed networks, in the order given.

    Raises:
        ValueError: If ``cidrs`` is a single string rather than a list, or an
            entry is not a network or an address. The message names the entry.
    """
    if isinstance(cidrs, str | bytes):
        raise ValueError(
            f"Trusted proxies must be a list of networks, not the single string {cidrs!r}."
        )
    return tuple(_parse_network(entry) for entry in cidrs)


def _parse_network(entry: object) -> IPNetwork:
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError(f"Invalid trusted proxy entry {entry!r}: expected a CIDR or an address.")
    try:
        network = ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError as error:
        raise ValueError(
            f"Invalid trusted proxy entry {entry!r}: expected a CIDR such as "
            f"'10.0.0.0/8' or an address such as '10.0.0.1'."
        ) from error
    return _unwrap_network(network)


def _unwrap_network(network: IPNetwork) -> IPNetwork:
    # Addresses are unwrapped to IPv4 before matching, so an IPv4-mapped network
    # must be unwrapped too or it could never match anything.
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= _IPV4_MAPPED.prefixlen
        and network.subnet_of(_IPV4_MAPPED)
    ):
        offset = int(network.network_address) - int(_IPV4_MAPPED.network_address)
        return ipaddress.IPv4Network((offset, network.prefixlen - _IPV4_MAPPED.prefixlen))
    return network


def parse_address(value: object) -> IPAddress | None:
    """Parse one address token as found in ``REMOTE_ADDR`` or ``X-Forwarded-For``.

    Args:
        value: The raw token. Ports, brackets, surrounding whitespace and
            IPv4-mapped IPv6 forms are accepted.

    Returns:
        The address (IPv4-mapped addresses unwrapped to IPv4), or ``None`` when
        the token is not an address. Never raises.
    """
    if not isinstance(value, str):
        return None
    token = _strip_port(value.strip())
    if token is None or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    try:
        address = ipaddress.ip_address(token)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _strip_port(token: str) -> str | None:
    if token.startswith("["):
        host, bracket, rest = token[1:].partition("]")
        if not bracket or (rest and not _is_port_suffix(rest)):
            return None
        return host
    if token.count(":") == 1:
        host, _, port = token.partition(":")
        return host if _is_port_suffix(":" + port) else None
    return token


def _is_port_suffix(suffix: str) -> bool:
    digits = suffix[1:]
    return (
        suffix.startswith(":")
        and 0 < len(digits) <= 5
        and digits.isascii()
        and digits.isdigit()
        and int(digits) <= 65535
    )


def _in_networks(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    # ``in`` across IP versions is simply False, never an error.
    return any(address in network for network in networks)


def is_trusted(address: str | None, networks: Sequence[IPNetwork]) -> bool:
    """Tell whether an address belongs to one of the trusted networks.

    Args:
        address: The address to check, typically ``REMOTE_ADDR``. Any value is
            accepted; garbage is simply not trusted.
        networks: Networks from :func:`parse_trusted_networks`.

    Returns:
        ``True`` only for a valid address inside one of ``networks``.
    """
    parsed = parse_address(address)
    return parsed is not None and _in_networks(parsed, networks)


def client_ip(
    remote_addr: str | None,
    forwarded_for: str | None,
    networks: Sequence[IPNetwork],
) -> str | None:
    """Find the visitor's address.

    An untrusted peer is the client itself, whatever ``X-Forwarded-For`` says.
    Behind a trusted peer, ``X-Forwarded-For`` is walked from right to left,
    skipping trusted proxies; the first untrusted address is the client. When
    every hop is trusted (an internal caller going through our own proxies), the
    left-most hop is the client.

    Args:
        remote_addr: The direct peer's address (``REMOTE_ADDR``).
        forwarded_for: The raw ``X-Forwarded-For`` header, or ``None``.
        networks: Trusted proxy networks from :func:`parse_trusted_networks`.

    Returns:
        The client address in compressed text form, or ``None`` when it cannot
        be told safely: the peer is missing or malformed, a forwarded hop is
        malformed, or the chain is implausibly long. Never raises.
    """
    peer = parse_address(remote_addr)
    if peer is None:
        return None
    if not _in_networks(peer, networks):
        return str(peer)
    client = peer
    tokens = _rightmost_hops(forwarded_for)
    for token in reversed(tokens):
        hop = parse_address(token)
        if hop is None:
            return None
        if not _in_networks(hop, networks):
            return str(hop)
        client = hop
    return str(client)


def _rightmost_hops(header: str | None) -> list[str]:
    """Split ``X-Forwarded-For`` into at most ``_MAX_HOPS + 1`` tokens, left to right.

    Only the right-most hops can matter, so the left remainder of a long header
    stays unsplit in the first token. It is reached only when all ``_MAX_HOPS``
    hops after it are trusted, and then fails to parse, which bounds the walk.
    """
    if not isinstance(header, str) or not header.strip():
        return []
    return header.rsplit(",", _MAX_HOPS)
