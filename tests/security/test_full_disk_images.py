"""A full disk while a member uploads a photo or an organiser a forum's cover: a clear,
translated error beside the field, nothing saved, the earlier image kept, no partial file.
"""

import errno
import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cohorts.models import Member
from cohorts.storage import PrivateFileSystemStorage, PublicFileSystemStorage
from forums.models import Forum
from tests.cohorts.helpers import build_world
from tests.forums.test_organise import edit_data, make_forum, png_bytes
from tests.html import texts

pytestmark = pytest.mark.django_db

PROFILE = {"name": "王数政", "organisation": "深圳智城科技", "title": "产品总监", "bio": ""}


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


def no_space(self, name, content):
    raise OSError(errno.ENOSPC, "No space left on device")


def upload_photo(client, member, *, name=PROFILE["name"], language="en"):
    return client.post(
        reverse("programme:profile", kwargs={"cohort": member.cohort.slug}),
        {**PROFILE, "name": name, "photo": SimpleUploadedFile("me.png", png_bytes())},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_photo_on_a_full_disk_is_refused_with_a_message_and_nothing_is_saved(
    client, monkeypatch, private_root
):
    member = build_world().member_a
    client.force_login(member.user)
    assert upload_photo(client, member).status_code == 302  # a first photo, stored
    member.refresh_from_db()
    first_photo, before = member.photo.name, files_under(private_root)
    monkeypatch.setattr(PrivateFileSystemStorage, "_save", no_space)

    response = upload_photo(client, member, name="改过的名字")

    member.refresh_from_db()
    assert response.status_code == 200
    assert [html.unescape(t) for t in texts(response.text, '<ul class="errorlist"')] == [
        "“me.png” could not be stored: the portal's storage is full. Nothing was changed; "
        "try again later."
    ]
    # The name typed with the photo is not saved either: the whole form is refused.
    assert (member.photo.name, member.name, files_under(private_root)) == (
        first_photo,
        PROFILE["name"],
        before,
    )


def test_photo_on_a_full_disk_says_so_in_chinese(client, monkeypatch):
    member = build_world().member_a
    client.force_login(member.user)
    monkeypatch.setattr(PrivateFileSystemStorage, "_save", no_space)

    response = upload_photo(client, member, language="zh-hans")

    assert response.status_code == 200
    assert texts(response.text, '<ul class="errorlist"') == [
        "“me.png”无法保存：门户的存储空间已满。没有做任何更改，请稍后再试。"
    ]
    assert not Member.objects.get(pk=member.pk).photo


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_cover_image_on_a_full_disk_keeps_the_forum_as_it_was(
    client, organiser, monkeypatch, media_root
):
    forum = make_forum(organiser)
    client.force_login(organiser)
    monkeypatch.setattr(PublicFileSystemStorage, "_save", no_space)

    with translation.override("en"):
        response = client.post(
            reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
            {
                **edit_data(forum, title="新标题"),
                "cover_image": SimpleUploadedFile("cover.png", png_bytes()),
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )

    forum = Forum.objects.get(pk=forum.pk)
    assert response.status_code == 200
    assert "the portal's storage is full" in html.unescape(response.text)
    assert (forum.title, forum.cover_image.name, forum.recap.version) == (
        "WeCity 未来城市圆桌论坛",
        "",
        1,
    )
    assert files_under(media_root) == []


class FailsHalfWay(SimpleUploadedFile):
    def chunks(self, chunk_size=None):
        yield b"\x89PNG the first half"
        raise OSError(errno.ENOSPC, "No space left on device")


def test_public_storage_leaves_no_partial_file_when_a_write_fails_half_way(tmp_path):
    storage = PublicFileSystemStorage(location=tmp_path)

    with pytest.raises(OSError):
        storage.save("forums/cover.png", FailsHalfWay("cover.png", b""))

    assert files_under(tmp_path) == []


def test_public_storage_still_writes_whole_files(tmp_path):
    storage = PublicFileSystemStorage(location=tmp_path)

    name = storage.save("forums/cover.png", SimpleUploadedFile("cover.png", png_bytes()))

    with storage.open(name) as stored:
        content = stored.read()
    assert (files_under(tmp_path), content) == (
        ["forums/cover.png"],
        png_bytes(),
    )
