import pytest
from django.core.cache import cache

from tests.security.world import build_security_world


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Members' files go to the test's own folder, never to the checkout's private/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth's and the API's counters live in the cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    return build_security_world()
