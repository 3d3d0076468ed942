from collections.abc import Iterator

import pytest

from tests.live import ServerProcess


@pytest.fixture
def api_prefix(settings) -> str:
    return settings.API_PREFIX


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, django_db_blocker) -> Iterator[ServerProcess]:
    """One real gunicorn server for the session, on the test database.

    Tests that use it must also request ``transactional_db`` so that rows the
    server commits are visible to them and are cleaned up afterwards.
    """
    with ServerProcess() as server:
        yield server


@pytest.fixture
def live_url(live_server_process: ServerProcess, transactional_db) -> str:
    return live_server_process.url
