import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.live import ServerProcess


@pytest.fixture(scope="session", autouse=True)
def media_root() -> Iterator[Path]:
    """Attachments of the whole test session go to a folder removed at its end,
    for this process and for the servers it starts (MEDIA_ROOT in their env)."""
    folder = Path(tempfile.mkdtemp(prefix="agentspy-test-media-"))
    before = os.environ.get("MEDIA_ROOT")
    os.environ["MEDIA_ROOT"] = str(folder)
    django_settings.MEDIA_ROOT = folder
    yield folder
    if before is None:
        os.environ.pop("MEDIA_ROOT", None)
    else:
        os.environ["MEDIA_ROOT"] = before
    shutil.rmtree(folder, ignore_errors=True)


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
