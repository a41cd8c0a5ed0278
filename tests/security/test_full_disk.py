"""A full disk while a member hands in a file: a clear translated error next to the file,
no version recorded, nothing half-written left in the private storage.

The first tests make the storage fail as a full disk does (OSError ENOSPC); the last one
fills a real 256 KB tmpfs, which needs root (CI runs as root) and skips elsewhere.
"""

import contextlib
import errno
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts.storage import PrivateFileSystemStorage
from tests.cohorts.helpers import PDF
from tests.html import texts
from tests.security.test_permission_matrix import client_for
from topics.models import Submission

pytestmark = pytest.mark.django_db


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def hand_in_file(world, data, *, language="en"):
    client = client_for(world, "member_a")
    return client.post(
        reverse("workspace:deliverable", kwargs=world.kwargs["deliverable"]),
        {"kind": "file", "file": SimpleUploadedFile("方案.pdf", data)},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.fixture
def full_disk(monkeypatch):
    def no_space(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PrivateFileSystemStorage, "_save", no_space)


def test_full_disk_says_so_next_to_the_file_and_records_nothing(world, full_disk, private_root):
    before = (Submission.objects.count(), files_under(private_root))

    response = hand_in_file(world, PDF)

    assert response.status_code == 400
    assert response.context["hand_in_form"].errors["file"] == [
        "“方案.pdf” could not be stored: the portal's storage is full. Nothing was handed in "
        "and the earlier versions are unchanged; try again later."
    ]
    assert texts(response.text, '<li class="message message--error"') == [
        "Nothing was handed in; the earlier versions are unchanged."
    ]
    assert (Submission.objects.count(), files_under(private_root)) == before


def test_full_disk_error_is_in_chinese_too(world, full_disk):
    response = hand_in_file(world, PDF, language="zh-hans")

    assert response.context["hand_in_form"].errors["file"] == [
        "“方案.pdf”无法保存：门户的存储空间已满。本次未提交任何内容，之前的版本保持不变，请稍后再试。"
    ]


def test_other_storage_failure_says_it_is_on_the_portals_side(world, monkeypatch):
    def broken(self, name, content):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(PrivateFileSystemStorage, "_save", broken)

    response = hand_in_file(world, PDF)

    assert response.context["hand_in_form"].errors["file"] == [
        "“方案.pdf” could not be stored because of a problem on the portal's side. Nothing was "
        "handed in and the earlier versions are unchanged; try again later."
    ]


class FailsHalfWay(ContentFile):
    """An upload whose copy into the storage breaks after its first part was written."""

    def chunks(self, chunk_size=None):
        yield b"%PDF-1.4 the first half"
        raise OSError(errno.ENOSPC, "No space left on device")


def test_write_failing_half_way_leaves_no_partial_file(tmp_path):
    storage = PrivateFileSystemStorage(location=tmp_path)

    with pytest.raises(OSError):
        storage.save("submissions/方案.pdf", FailsHalfWay(b"", name="方案.pdf"))

    assert files_under(tmp_path) == []


@contextlib.contextmanager
def small_tmpfs(size):
    folder = Path(tempfile.mkdtemp(prefix="wecity-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


@pytest.mark.services
def test_really_full_disk_leaves_no_half_written_file(world, settings):
    with small_tmpfs("256k") as disk:
        settings.PRIVATE_MEDIA_ROOT = disk
        versions = Submission.objects.count()
        large = PDF + b"%" + b"0" * 600_000

        response = hand_in_file(world, large)

        assert response.status_code == 400
        assert "storage is full" in response.context["hand_in_form"].errors["file"][0]
        assert (Submission.objects.count(), files_under(disk)) == (versions, [])
        # The same hand-in fits once there is room: the failure left nothing in the way.
        assert hand_in_file(world, PDF).status_code == 302
        assert len(files_under(disk)) == 1
