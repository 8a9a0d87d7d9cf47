"""The client's address behind reverse proxies, for rate limits, log-in throttling and audit.

The socket peer, unless it is one of TEPAT_TRUSTED_PROXIES (addresses or CIDR blocks): then
X-Forwarded-For is read from the right, skipping trusted proxies, and the first address that is
not one of them is the client. Entries further left were written by the client and are never
believed, so without a trusted proxy in front nobody can choose the address they are counted as.

Rate limits count a client by `limit_key`: an IPv4 address as itself, an IPv6 address by its /64
prefix. One IPv6 subscriber usually holds a whole /64 (often far more), so counting single IPv6
addresses would let one client walk through 2**64 fresh addresses, each with a fresh limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"TEPAT_TRUSTED_PROXIES: {exc}") from exc


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket counts as the IPv4 address.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in nets)


IPV6_LIMIT_PREFIX = 64


def limit_key(address: str) -> str:
    """What a per-address rate limit counts: an IPv4 address (or anything that is not an IPv6
    address) unchanged, an IPv6 address as its /64 network ("2001:db8:1:2::/64")."""
    if ":" not in address:  # IPv4, "unknown": the common case, without parsing
        return address
    ip = _ip(address)
    if ip is None or ip.version == 4:  # garbage, or an IPv4-mapped IPv6 address
        return str(ip) if ip is not None else address
    return str(ipaddress.IPv6Network((ip, IPV6_LIMIT_PREFIX), strict=False))


def client_address(request: HttpRequest) -> str:
    """The client's address (see the module docstring)."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    nets = _networks(tuple(getattr(settings, "TEPAT_TRUSTED_PROXIES", ()) or ()))
    peer_ip = _ip(peer)
    if not nets or peer_ip is None or not _trusted(peer_ip, nets):
        return str(peer_ip) if peer_ip is not None else (peer or "unknown")
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            # Our own proxies write well-formed addresses; garbage comes from the client's part
            # of the header. Count the request against the proxy rather than believe it.
            break
        if not _trusted(ip, nets):
            return str(ip)
    else:
        if hops and (first := _ip(hops[0])) is not None:
            return str(first)  # every hop is one of ours: the left-most is the client
    return str(peer_ip)
