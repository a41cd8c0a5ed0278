"""`make backup`, then `make restore` into an empty database and empty folders: every row
of every model and every file's bytes come back as they were.

On PostgreSQL when DATABASE_URL names one (CI: pg_dump and pg_restore, throwaway databases
on that server), on SQLite files otherwise. The portal runs with its production settings
in subprocesses, as the scripts would on a server.
"""

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest

from scripts.stack import ROOT, manage, portal_environment

SOURCE_DATA = """
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from cohorts.models import Member
from forums.models import Speaker
from topics import services
from topics.filechecks import check_upload
from topics.models import Deliverable
from tests.cohorts.helpers import PDF, image
member = Member.objects.get(user__email="member@wecity.example")
member.photo.save("我的照片.png", ContentFile(image("PNG")))
speaker = Speaker.objects.order_by("id").first()
speaker.photo.save("嘉宾.jpg", ContentFile(image("JPEG")))
deliverable = Deliverable.objects.filter(milestone__cohort=member.cohort, topic=member.topic)[0]
for number in range(3):
    upload = SimpleUploadedFile(f"方案{number}.pdf", PDF + str(number).encode())
    services.hand_in_deliverable(
        deliverable, member=member, kind="file", file=upload,
        checked=check_upload(upload, max_bytes=10**6),
    )
"""
pytestmark = pytest.mark.services

NEW_ROW = "from forums.models import Speaker; Speaker.objects.create(name='新嘉宾', slug='new')"
EVERY_ROW = """
import json
from django.apps import apps
rows = {
    model._meta.label: [
        [str(value) for value in row]
        for row in model._base_manager.order_by("pk").values_list()
    ]
    for model in apps.get_models(include_auto_created=True)
}
print(json.dumps(rows, sort_keys=True, ensure_ascii=False))
"""


def postgres_server():
    url = os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[0] if url.startswith(("postgres://", "postgresql://")) else None


def psql(server, sql):
    subprocess.run(["psql", f"{server}/postgres", "-q", "-c", sql], check=True)


class Databases:
    """Throwaway databases: on the PostgreSQL server of DATABASE_URL, or SQLite files."""

    def __init__(self, folder):
        self.folder, self.server, self.names = folder, postgres_server(), []

    def url(self, part):
        """The URL of a new database, created empty on PostgreSQL, missing on SQLite."""
        if self.server is None:
            return f"sqlite:///{self.folder / f'{part}.sqlite3'}"
        name = f"wecity_backup_{secrets.token_hex(4)}_{part}"
        self.names.append(name)
        return f"{self.server}/{name}"

    def create(self, url):
        if self.server is not None:
            psql(self.server, f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
        return url

    def drop_all(self):
        for name in self.names:
            psql(self.server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def backed_up(databases, tmp_path_factory):
    """A portal with the demo programme and files in both folders, and its backup archive."""
    folder = tmp_path_factory.mktemp("source")
    source = portal_environment(
        databases.create(databases.url("source")), folder, BACKUP_DIR=str(folder / "backups")
    )
    manage("migrate", "--noinput", "-v0", env=source)
    manage("load_demo", "--password", "demo-pass-12345", env=source)
    manage("shell", "-c", SOURCE_DATA, env=source)
    backup = script("backup.sh", env=source)
    assert backup.returncode == 0, backup.stderr
    return source, Path(backup.stdout.strip().splitlines()[-1])


def script(name, *arguments, env):
    return subprocess.run(
        ["bash", f"scripts/{name}", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def every_row(env):
    return json.loads(manage("shell", "-c", EVERY_ROW, env=env).stdout.strip().splitlines()[-1])


def every_file(env):
    files = {}
    for key in ("MEDIA_ROOT", "PRIVATE_MEDIA_ROOT"):
        root = Path(env[key])
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[f"{key}/{path.relative_to(root)}"] = path.read_bytes()
    return files


def test_backup_restored_into_an_empty_database_and_storage_is_the_same(
    backed_up, databases, tmp_path
):
    source, archive = backed_up
    restored = portal_environment(databases.url("restored"), tmp_path)

    restore = script("restore.sh", str(archive), env=restored)

    assert restore.returncode == 0, restore.stderr
    rows, files = every_row(source), every_file(source)
    assert sum(len(table) for table in rows.values()) > 300
    assert len(files) == 5
    assert every_row(restored) == rows
    assert every_file(restored) == files
    # The restored database goes on: new rows get new ids (sequences came back too).
    manage("shell", "-c", NEW_ROW, env=restored)


def test_restore_refuses_a_database_or_folder_with_data_unless_forced(
    backed_up, databases, tmp_path
):
    source, archive = backed_up
    live = portal_environment(databases.url("live"), tmp_path)
    assert script("restore.sh", str(archive), env=live).returncode == 0
    manage("shell", "-c", NEW_ROW, env=live)
    Path(live["MEDIA_ROOT"], "新的.txt").write_text("新")

    refused = script("restore.sh", str(archive), env=live)
    forced = script("restore.sh", str(archive), "--force", env=live)

    assert (refused.returncode, "is not empty" in refused.stderr) == (1, True)
    assert forced.returncode == 0, forced.stderr
    assert every_row(live) == every_row(source)
    assert every_file(live) == every_file(source)


def test_restore_refuses_an_archive_whose_files_do_not_match_their_sums(
    backed_up, databases, tmp_path
):
    _source, archive = backed_up
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(unpacked)], check=True)
    photo = next((unpacked / "private").rglob("*.png"))
    photo.write_bytes(photo.read_bytes() + b"changed")
    tampered = tmp_path / "tampered.tar.gz"
    subprocess.run(["tar", "-czf", str(tampered), "-C", str(unpacked), "."], check=True)
    target = portal_environment(databases.url("target"), tmp_path / "target")

    refused = script("restore.sh", str(tampered), env=target)

    assert (refused.returncode, "do not match their SHA-256 sums" in refused.stderr) == (1, True)
    assert not Path(target["PRIVATE_MEDIA_ROOT"]).exists()
