"""The client's real address: forwarded headers count only when they come from a trusted proxy.

X-Forwarded-For is written by whoever sends the request, so only the entries appended by proxies
the operator configured are believed: walking the chain from the right, the first address that is
not a trusted proxy is the client. With no proxies configured the socket peer is the client.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network


def parse_networks(spec: str) -> tuple:
    """'10.0.0.0/8, 127.0.0.1' -> networks; entries that are not addresses are ignored."""
    networks = []
    for part in (spec or "").replace(";", ",").split(","):
        try:
            networks.append(ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(peer: str, forwarded_for: str, trusted: tuple) -> str:
    peer = (peer or "").strip()
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer  # a trusted proxy passed on garbage: fall back to what we can see
    return peer
