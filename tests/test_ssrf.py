"""SSRF: URLs that would reach loopback, private or metadata addresses are refused with a 4xx error
and no connection is ever made to the target — whatever the spelling of the address, through
redirects from an allowed server, and through a name that re-resolves to 127.0.0.1 (DNS rebinding).

The target is a real server on 127.0.0.1 that counts every TCP connection it accepts. The
"public-looking" front server runs on 127.0.0.2, which the policy is told to trust
(CAPMATCH_FETCH_ALLOW_ADDRESSES), so the only thing that can refuse the next hop is the address rule.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from capmatch.errors import CapmatchError, PrivateAddressRefused
from capmatch.extractor.fetch import fetch
from capmatch.settings import Settings

from .conftest import RunningServer


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.accepted = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        self.accepted += 1
        return request


class Secret(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        body = b"# Internal admin\n\nThe secret token is hunter2 and must never be fetched."
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Front(BaseHTTPRequestHandler):
    """/r?to=URL redirects there; /chain?to=URL redirects to /r?to=URL (two hops)."""

    def log_message(self, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        to = parse_qs(parts.query).get("to", [""])[0]
        location = to if parts.path == "/r" else f"/r?to={to}"
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve(host: str, handler: type[BaseHTTPRequestHandler]) -> CountingServer:
    server = CountingServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def target() -> Iterator[CountingServer]:
    server = serve("127.0.0.1", Secret)
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def front() -> Iterator[CountingServer]:
    server = serve("127.0.0.2", Front)
    yield server
    server.shutdown()


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Test host names, resolved by a patched system resolver (used by the checks *and* by the
    socket layer, as a real rebinding DNS server would be)."""
    real = socket.getaddrinfo
    fixed = {"evil.test": ["127.0.0.1"], "mixed.test": ["93.184.216.34", "127.0.0.1"], "front.test": ["127.0.0.2"]}
    lookups = {"rebind.test": 0}

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name == "rebind.test":
            lookups["rebind.test"] += 1
            ips = ["127.0.0.2"] if lookups["rebind.test"] == 1 else ["127.0.0.1"]
        elif name in fixed:
            ips = fixed[name]
        else:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port or 80))) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return lookups


def settings_for(target: CountingServer, front: CountingServer) -> Settings:
    ports = f"80,443,{target.server_address[1]},{front.server_address[1]}"
    return Settings(fetch_allowed_ports=ports, fetch_allow_addresses="127.0.0.2", fetch_total_timeout=10)


def payloads(t: int, f: int) -> list[str]:
    """t: the target's port; f: the front server's port."""
    direct = [
        f"http://127.0.0.1:{t}/",
        f"http://localhost:{t}/admin",
        f"http://LOCALHOST:{t}/",
        f"http://2130706433:{t}/",  # decimal
        f"http://0x7f000001:{t}/",  # hex
        f"http://0177.0.0.1:{t}/",  # octal
        f"http://0x7f.1:{t}/",  # mixed short hex
        f"http://127.1:{t}/",  # short form
        f"http://127.000.000.001:{t}/",
        f"http://127.0.0.1.:{t}/",  # trailing dot
        f"http://0.0.0.0:{t}/",  # unspecified: Linux connects it to loopback
        f"http://0:{t}/",
        f"http://[::1]:{t}/",
        f"http://[::ffff:127.0.0.1]:{t}/",  # IPv4-mapped
        f"http://[0:0:0:0:0:ffff:7f00:1]:{t}/",
        f"http://[64:ff9b::7f00:1]:{t}/",  # NAT64
        f"http://[2002:7f00:1::1]:{t}/",  # 6to4
        f"http://user:pass@127.0.0.1:{t}/",  # userinfo
        f"http://evil.test:{t}/",  # a name that resolves to 127.0.0.1
        f"http://mixed.test:{t}/",  # one public and one loopback address
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00:ec2::254]/latest/meta-data/",  # cloud metadata over IPv6
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://[fe80::1]/",  # link-local
        "http://[fc00::1]/",  # unique local
    ]
    via_redirect = [
        f"http://127.0.0.2:{f}/r?to=http://127.0.0.1:{t}/",
        f"http://front.test:{f}/r?to=http://2130706433:{t}/",
        f"http://127.0.0.2:{f}/chain?to=http://evil.test:{t}/",  # two hops, then loopback
        f"http://127.0.0.2:{f}/r?to=http://[::ffff:127.0.0.1]:{t}/",
        f"http://127.0.0.2:{f}/r?to=http://169.254.169.254/",
        f"http://rebind.test:{t}/",  # checked as 127.0.0.2, then re-resolves to 127.0.0.1
    ]
    return direct + via_redirect


def test_every_payload_is_refused_without_touching_the_target(
    target: CountingServer, front: CountingServer, names: dict[str, int]
) -> None:
    settings = settings_for(target, front)
    urls = payloads(target.server_address[1], front.server_address[1])
    assert len(urls) >= 36
    outcomes = {}
    for url in urls:
        with pytest.raises(CapmatchError) as refused:
            fetch(url, settings)
        # A refusal is a 4xx; a name nothing resolves is a failed fetch (fetch_failed, 502).
        unresolved = refused.value.code == "fetch_failed" and "cannot resolve host" in refused.value.message
        assert unresolved or 400 <= refused.value.http_status < 500, (url, refused.value.message)
        outcomes[url] = refused.value
    assert target.accepted == 0, "a payload reached the target"
    # Refused by the address rule, not by luck; the only other outcome allowed is a name the
    # system resolver itself rejects ("127.0.0.1." with its trailing dot), which nothing can connect to.
    other = {u: e.message for u, e in outcomes.items() if not isinstance(e, PrivateAddressRefused)}
    assert all("cannot resolve host" in m for m in other.values()), other
    assert len(other) <= 1
    assert names["rebind.test"] >= 2, "the rebinding name was looked up again and refused the second time"


def test_the_allowed_front_server_is_really_reachable(target: CountingServer, front: CountingServer) -> None:
    """Guards the test above: the front server is allowed, so its refusals come from the next hop."""
    settings = settings_for(target, front)
    with pytest.raises(CapmatchError, match=r"HTTP 302|redirect"):
        fetch(f"http://127.0.0.2:{front.server_address[1]}/r?to=/r?to=/r?to=/r?to=/r?to=/r?to=/r", settings)
    assert front.accepted >= 1


def test_ports_other_than_80_and_443_are_refused(names: dict[str, int]) -> None:
    with pytest.raises(CapmatchError, match="port 8080 is not allowed") as refused:
        fetch("http://93.184.216.34:8080/", Settings())
    assert refused.value.http_status == 400


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://127.0.0.1/", "dict://x:11211/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(CapmatchError, match="use an http:// or https:// URL"):
        fetch(url, Settings())


def test_the_api_refuses_with_400_and_queues_nothing(
    tmp_path: Any, target: CountingServer, front: CountingServer, names: dict[str, int]
) -> None:
    settings = settings_for(target, front).model_copy(update={"home": tmp_path / "home", "submit_rate_per_minute": 100})
    t, f = target.server_address[1], front.server_address[1]
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for url in payloads(t, f)[:30]:
            response = client.post("/api/tools", json={"url": url})
            assert response.status_code in (400, 422), (url, response.text)
            assert response.json()["error"]["code"] in ("private_address", "invalid_request"), url
        assert client.get("/api/jobs").json() == []
        # A redirect to loopback is found while fetching: the job fails with the reason.
        job = client.post("/api/tools", json={"url": f"http://127.0.0.2:{f}/r?to=http://127.0.0.1:{t}/"}).json()
        from .conftest import wait_for_job

        done = wait_for_job(client, job["job_id"])
        assert done["status"] == "failed" and done["error_code"] == "private_address", done
        assert "127.0.0.1" in str(done["error"])
    assert target.accepted == 0
