import os
import shutil

import pytest

from accounts.models import Role
from scripts.stack import RedisServer
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to the test's own folder, never to the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def redis_server(tmp_path):
    """A Redis server of the test's own, on a free port."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    # Durable: a test may stop it and start it again with what it held.
    server = RedisServer(folder=tmp_path, durable=True).start()
    yield server
    server.stop()


@pytest.fixture
def user(db):
    """A signed-up person with no role."""
    return UserFactory()


@pytest.fixture
def organiser(db):
    return UserFactory(roles=[Role.ORGANISER])


@pytest.fixture
def admin_user(db):
    """A superuser in the admins group; replaces pytest-django's, so `admin_client` uses it."""
    return UserFactory(
        email="admin@example.com", is_staff=True, is_superuser=True, roles=[Role.ADMIN]
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) nothing may skip: a skipped test is reported as failed."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
    return report


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The query-plan tests (tests/test_indexes.py) run first, on the fresh database.

    Every test before them leaves its rolled-back rows behind as dead tuples, and autovacuum
    analyses the grown tables: PostgreSQL then plans the tiny test data from statistics of
    other data, and a plan may change from one run to the next. On the database as the
    session creates it the plans are those the tests were written against.
    """
    first = [item for item in items if item.path.name == "test_indexes.py"]
    if first:
        items[:] = first + [item for item in items if item.path.name != "test_indexes.py"]
