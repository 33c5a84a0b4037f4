"""The client's address, for every per-client limit (logins, join attempts, WebSockets).

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when the socket's peer is a
proxy named in ``TRUSTED_PROXIES`` (IPs or CIDRs); then the client is the right-most hop that is not itself a
trusted proxy (each proxy appends the address it saw, so everything left of that hop may be made up).
"""
from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(value: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in value)


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _address(value: str):
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _is_trusted(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve(peer: str, forwarded_for: list[str]) -> str:
    """The client's address from the socket's ``peer`` and the ``X-Forwarded-For`` header values."""
    networks = trusted_networks()
    peer_address = _address(peer or "")
    if not forwarded_for or not _is_trusted(peer_address, networks):
        return peer or ""
    nearest = peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # no proxy writes this: nothing left of it can be believed
        if not _is_trusted(address, networks):
            return str(address)
        nearest = str(address)
    return nearest  # a chain of trusted proxies only (or a broken header): the farthest hop believed


def client_ip(request) -> str:
    """The client's address of a Django (or DRF) request."""
    meta = request.META
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    return resolve(meta.get("REMOTE_ADDR", ""), [forwarded] if forwarded else [])


def scope_client_ip(scope) -> str:
    """The client's address of an ASGI scope (WebSockets)."""
    client = scope.get("client")
    peer = client[0] if client else ""
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
    return resolve(peer, forwarded)
