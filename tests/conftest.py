import pytest


@pytest.fixture
def api_prefix(settings) -> str:
    return settings.API_PREFIX
