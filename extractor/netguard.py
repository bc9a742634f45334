"""Refuse URLs whose host resolves to an address a public service must not reach.

This is the foundation rule (loopback, private, link-local, unspecified, reserved, multicast);
redirect hops are checked with the same function by the fetcher.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from capmatch.errors import InvalidInput, PrivateAddressRefused

ALLOWED_SCHEMES = ("http", "https")


def validate_url(url: str) -> str:
    """Check the URL's shape; returns the host. Raises InvalidInput with the fix."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidInput(f"unsupported URL scheme in {url!r}: use an http:// or https:// URL")
    if not parts.hostname:
        raise InvalidInput(f"the URL {url!r} has no host name")
    return parts.hostname


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InvalidInput(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    except UnicodeError as exc:  # a label over 63 characters, an empty label: not a host name
        raise InvalidInput(f"not a valid host name {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_public(url: str, allow_private: bool) -> None:
    host = validate_url(url)
    if allow_private:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    for address in resolve(host, port):
        if not is_public(address):
            raise PrivateAddressRefused(url, address)
