"""The API fuzzed from its own OpenAPI document (schemathesis, fixed seed): no request makes it
answer 5xx, and every response matches the schema it documents."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from capmatch.pipeline.ingest import Source
from capmatch.settings import Settings

from .conftest import FIXTURES, RunningServer


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # Generated URLs name hosts that do not exist; answer their lookups at once instead of
    # waiting on a resolver that cannot reach the internet here.
    real = socket.getaddrinfo

    def no_network(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("127.0.0.1", "localhost", "::1"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    socket.getaddrinfo = no_network  # type: ignore[assignment]
    try:
        settings_ = Settings(home=tmp_path_factory.mktemp("fuzz"), submit_rate_per_minute=100_000)
        from capmatch.runtime import Runtime

        core = Runtime(settings_)
        for name in ("fetchwire.md", "pgtide.html"):
            core.ingest(Source(path=FIXTURES / "docs" / name))
        with RunningServer(settings_) as server:
            yield schemathesis.openapi.from_url(server.url + "/openapi.json")
    finally:
        socket.getaddrinfo = real  # type: ignore[assignment]


def test_no_server_errors_and_responses_match_the_schema(api_schema: Any) -> None:
    ran: dict[str, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        ran[label] = 0

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,  # the same cases every run: a failure here reproduces
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            ran[case.operation.label] += 1
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        fuzz()
    assert len(ran) >= 14, ran
    assert sum(ran.values()) >= 200, ran
    print(f"schemathesis: {sum(ran.values())} cases over {len(ran)} operations")
