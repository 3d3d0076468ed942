"""The OpenAPI document tells the truth: schemathesis against a live server.

Every operation of ``/api/schema/`` is called with a bounded number of
generated requests (derandomized: the same cases every run, so a failure is
reproducible, not flaky), with auth off and with ``REQUIRE_AUTH=true``. Any
5xx, undocumented status, wrong media type, body that does not match the
schema, or invalid request accepted fails, naming each operation and the
request to replay. (A schema-valid request may still be refused: the ingest
routes document their bodies as any JSON object and reject bad runs, 422.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.live import ServerProcess

KEY = "fuzz-key-0123456789"
EXAMPLES = 3


@pytest.fixture(scope="module")
def auth_server(django_db_setup, django_db_blocker) -> Iterator[ServerProcess]:
    with ServerProcess(env={"REQUIRE_AUTH": "true", "API_KEYS": KEY}) as server:
        yield server


@pytest.fixture(params=["auth-off", "auth-on"])
def target(request, live_server_process, transactional_db) -> tuple[str, dict]:
    if request.param == "auth-off":
        return live_server_process.url, {}
    server = request.getfixturevalue("auth_server")
    return server.url, {"x-api-key": KEY}


def _check(operation, url: str, headers: dict) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(
            base_url=url,
            headers=headers,
            timeout=30,
            excluded_checks=[positive_data_acceptance],
        )

    check()


def test_every_operation_answers_as_documented(target):
    url, headers = target
    loaded = schemathesis.openapi.from_url(f"{url}/api/schema/?format=json")
    failures = []
    operations = 0
    for result in loaded.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _check(operation, url, headers)
        except (Exception, BaseExceptionGroup) as exc:  # every operation is reported
            failures.append(f"{operation.label}:\n{exc}")
    assert operations >= 28
    assert not failures, (
        f"{len(failures)} of {operations} operations do not answer as "
        "/api/schema/ documents them (fix the route or its extend_schema):\n\n"
        + "\n\n".join(failures)
    )
