import pytest

from tests.cohorts.helpers import build_world


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Members' files go to the test's own folder, never to the checkout's private/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def world(db):
    return build_world()
