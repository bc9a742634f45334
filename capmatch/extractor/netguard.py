"""Refuse URLs that would make capmatch a proxy into a private network.

A URL passes when its scheme is http(s), its port is allowed, and every address its host resolves
to is public: not loopback, private, link-local (169.254.169.254 included), carrier-grade NAT,
multicast, reserved or unspecified, in IPv4 or IPv6, including IPv4 addresses carried inside IPv6
(IPv4-mapped, NAT64, 6to4, Teredo). Numeric host forms (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
``127.1``) are resolved by the system resolver like any name and checked as the address they mean.

The fetcher connects only to the addresses checked here (``PinnedBackend``): a name that resolves
to a public address when checked and to 127.0.0.1 a moment later (DNS rebinding) is never looked
up a second time.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

from capmatch.errors import CapmatchError, HostNotResolved, InvalidInput, PrivateAddressRefused
from capmatch.settings import Settings

ALLOWED_SCHEMES = ("http", "https")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def validate_url(url: str) -> str:
    """Check the URL's shape; returns the host. Raises InvalidInput with the fix."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidInput(f"unsupported URL scheme in {url!r}: use an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise InvalidInput(f"the URL {url!r} has an invalid port: {exc}") from exc
    if not parts.hostname:
        raise InvalidInput(f"the URL {url!r} has no host name")
    return parts.hostname


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(address: str) -> bool:
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            ip = inner
    # is_global is False for private, loopback, link-local, CGNAT (100.64/10), documentation and
    # other special-purpose ranges; multicast and reserved need their own test.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # A name that does not resolve is a failed fetch, not a refused URL: the same code whether
        # or not private addresses are allowed, and whether it is found at submission or when fetching.
        raise HostNotResolved(host, exc.strerror or str(exc)) from exc
    except UnicodeError as exc:  # a label over 63 characters, an empty label: not a host name
        raise InvalidInput(f"not a valid host name {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses and ports fetching may reach. ``allow_private`` (local use and tests) lifts
    the address and port rules; ``allow_addresses`` names internal hosts an operator trusts."""

    allow_private: bool = False
    allowed_ports: frozenset[int] = frozenset({80, 443})
    allow_addresses: frozenset[str] = field(default_factory=frozenset)

    def check_port(self, url: str, port: int) -> None:
        if not self.allow_private and port not in self.allowed_ports:
            allowed = ", ".join(str(p) for p in sorted(self.allowed_ports))
            raise InvalidInput(
                f"refused to fetch {url}: port {port} is not allowed (only {allowed}); "
                "set CAPMATCH_FETCH_ALLOWED_PORTS to allow more"
            )

    def check_address(self, url: str, address: str) -> None:
        if self.allow_private or address.split("%", 1)[0] in self.allow_addresses:
            return
        if not is_public(address):
            raise PrivateAddressRefused(url, address)

    def resolve_checked(self, url: str, host: str, port: int) -> list[str]:
        """The addresses to connect to: every one the name resolves to, each of them allowed."""
        addresses = resolve(host, port)
        for address in addresses:
            self.check_address(url, address)
        return addresses

    def check_url(self, url: str) -> list[str]:
        host = validate_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = self.resolve_checked(url, host, port)  # the address is the graver refusal: said first
        self.check_port(url, port)
        return addresses


def parse_ports(text: str) -> frozenset[int]:
    ports = set()
    for part in text.replace(" ", "").split(","):
        if part:
            port = int(part)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} out of range")
            ports.add(port)
    return frozenset(ports)


def policy_from(settings: Settings) -> AddressPolicy:
    try:
        ports = parse_ports(settings.fetch_allowed_ports)
    except ValueError as exc:
        raise InvalidInput(f"CAPMATCH_FETCH_ALLOWED_PORTS={settings.fetch_allowed_ports!r}: {exc}") from exc
    allowed = frozenset(a.strip() for a in settings.fetch_allow_addresses.split(",") if a.strip())
    return AddressPolicy(settings.allow_private_urls, ports, allowed)


def check_public(url: str, policy: AddressPolicy | bool) -> None:
    """Refuse the URL unless the policy allows its scheme, port and every resolved address."""
    if isinstance(policy, bool):
        policy = AddressPolicy(allow_private=policy)
    validate_url(url)
    if policy.allow_private:
        return
    policy.check_url(url)


def check_submitted(url: str, policy: AddressPolicy) -> None:
    """The check at submission: like check_public, except that a host that does not resolve is let
    through, so its job fails ``fetch_failed`` as it does when private URLs are allowed (the fetch
    resolves and checks every address again before connecting, so nothing unchecked is reached)."""
    try:
        check_public(url, policy)
    except HostNotResolved:
        return


class PinnedBackend(httpcore.SyncBackend):
    """Resolves once, checks every address, and connects to those addresses only. TLS still
    verifies the certificate against the URL's host name (httpcore passes it to start_tls)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]]
        | None = None,
    ) -> httpcore.NetworkStream:
        url = f"{host}:{port}"
        try:
            addresses = self.policy.resolve_checked(url, host, port)
        except CapmatchError as exc:
            raise RefusedConnection(exc) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


class RefusedConnection(httpcore.ConnectError):
    """A connection the policy refused, carried through httpx to the fetcher, which re-raises the
    original error so the user sees the same message as for the URL itself."""

    def __init__(self, cause: CapmatchError) -> None:
        super().__init__(cause.message)
        self.cause = cause
