"""Server-side request forgery guard: webhooks may only reach public internet addresses."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses seen through NAT64 (RFC 6052)
CLASSES = ("loopback", "unspecified", "link_local", "multicast", "reserved", "private")
# Not globally reachable by IANA's special-purpose address registries (or deprecated there),
# yet `is_global` to some Python versions, whose tables change between releases.
SPECIAL = {
    ipaddress.ip_network(network): name
    for network, name in (
        ("100.64.0.0/10", "shared"),  # carrier-grade NAT (RFC 6598)
        ("192.0.0.0/24", "IETF protocol assignment"),  # e.g. 192.0.0.8, the dummy address
        ("192.88.99.0/24", "deprecated 6to4 relay anycast"),  # RFC 7526
        ("64:ff9b:1::/48", "local-use translation"),  # RFC 8215
        ("100::/64", "discard-only"),  # RFC 6666
        ("100:0:0:1::/64", "dummy"),  # RFC 9780
        ("2001::/23", "IETF protocol assignment"),  # RFC 2928, Teredo among them
        ("2001:db8::/32", "documentation"),  # RFC 3849
        ("3fff::/20", "documentation"),  # RFC 9637
        ("5f00::/16", "segment routing"),  # RFC 9602
        ("fec0::/10", "deprecated site-local"),  # RFC 3879
    )
}


class Refused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Target:
    """Where to send a request: the URL with its host pinned to a checked address."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def refusal(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address (e.g. "loopback", "private"), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or _nat64(ip)
        if embedded is not None:
            return refusal(embedded)
    for name in CLASSES:
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    for network, name in SPECIAL.items():
        if ip in network:
            return f"{name} ({network})"
    return None if ip.is_global else "non-global"


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None


def resolve(host: str) -> list[IPAddress]:
    """Every address `host` resolves to (IP literals in any notation resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise Refused(f"the host {host} cannot be resolved ({error})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check(url: str) -> IPAddress:
    """The first address of the host; Refused unless http(s) and every address is public."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Refused("only http and https URLs with a host can receive webhooks")
    addresses = resolve(parts.hostname)
    for ip in addresses:
        reason = refusal(ip)
        if reason is not None:
            raise Refused(f"the host {parts.hostname} resolves to a {reason} address ({ip})")
    return addresses[0]


def pin(url: str, *, allow_private: bool) -> Target:
    """The request target of `url`, connecting to the address that was checked.

    Pinning the address closes the window in which DNS could answer a public address to
    the check and a private one to the connection (DNS rebinding). TLS still verifies the
    certificate against the original host name, sent as SNI.
    """
    if allow_private:
        return Target(url)
    ip = check(url)
    original = httpx.URL(url)
    host = original.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": original.host} if original.scheme == "https" else {}
    return Target(str(original.copy_with(host=str(ip))), {"Host": host}, extensions)
