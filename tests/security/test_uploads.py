"""An uploaded HTML or SVG file is never served inline: hand-ins and photos refuse them, and
the views that serve members' files say "download, of this type, in a sandbox"."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cohorts.models import Member
from tests.cohorts.helpers import PDF, image
from tests.security.test_permission_matrix import client_for
from topics.models import Submission

pytestmark = pytest.mark.django_db

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)


def png_with_html_inside():
    """A real PNG image whose text chunk is an HTML page (a polyglot)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", HTML.decode())
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, data",
    [
        ("方案.html", HTML),
        ("方案.htm", HTML),
        ("方案.xhtml", HTML),
        ("方案.svg", SVG),
        ("方案.pdf", HTML),  # an HTML page named as a PDF
        ("方案.png", SVG),  # an SVG named as a PNG
        ("方案.jpg", HTML),
        ("方案.docx", HTML),
        ("方案.zip", HTML),
    ],
)
def test_hand_in_refuses_html_and_svg_however_named(world, name, data):
    client = client_for(world, "member_a")
    url = reverse("workspace:deliverable", kwargs=world.kwargs["deliverable"])
    versions = Submission.objects.count()

    response = client.post(url, {"kind": "file", "file": SimpleUploadedFile(name, data)})

    assert (response.status_code, Submission.objects.count()) == (400, versions)
    assert len(response.context["hand_in_form"].errors["file"]) == 1


@pytest.mark.parametrize(
    "name, data",
    [
        ("me.svg", SVG),
        ("me.png", SVG),
        ("me.png", HTML),
        ("me.html", image("PNG")),  # a real image with a name that makes it a page
        ("me.svg", image("PNG")),
        ("me.gif", image("GIF")),
    ],
)
def test_member_photo_refuses_svg_html_and_other_formats(world, name, data):
    client = client_for(world, "member_a")
    member = world.member_a
    before = member.photo.name

    response = client.post(
        reverse("programme:profile", kwargs={"cohort": world.cohort.slug}),
        {"name": member.name, "photo": SimpleUploadedFile(name, data)},
    )

    member.refresh_from_db()
    assert (response.status_code, member.photo.name) == (200, before)
    assert len(response.context["form"].errors["photo"]) == 1


def assert_sandboxed(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_handed_in_file_is_sent_as_a_download_in_a_sandbox(world):
    client = client_for(world, "member_a")

    response = client.get(reverse("workspace:file", kwargs={"pk": world.submission.pk}))

    b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert_sandboxed(response)


def test_handed_in_file_stored_with_a_page_type_is_still_a_download(world):
    """A row written by hand or by an older version gets no say in how its file is shown."""
    Submission.objects.filter(pk=world.submission.pk).update(
        content_type="text/html", file_name="方案.html"
    )
    client = client_for(world, "member_a")

    response = client.get(reverse("workspace:file", kwargs={"pk": world.submission.pk}))

    b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment;")
    assert_sandboxed(response)


@pytest.mark.parametrize("stored_as", ["me.png", "me.html", "me.svg", "me.pdf", "me"])
def test_member_photo_is_shown_inline_only_as_an_image(world, stored_as):
    member = world.member_a
    member.photo.save(stored_as, SimpleUploadedFile(stored_as, png_with_html_inside()))
    client = client_for(world, "member_a")

    response = client.get(reverse("programme:member-photo", kwargs={"pk": member.pk}))

    b"".join(response.streaming_content)
    inline = response["Content-Disposition"].startswith("inline")
    assert (inline, response["Content-Type"]) in {
        (True, "image/png"),
        (False, "application/octet-stream"),
    }
    assert_sandboxed(response)


def test_photo_named_with_another_type_than_an_image_is_refused(world):
    """Pillow reads PDF, EPS and more: a real PNG named .pdf would be served as a PDF."""
    client = client_for(world, "member_a")
    before = world.member_a.photo.name

    response = client.post(
        reverse("programme:profile", kwargs={"cohort": world.cohort.slug}),
        {"name": "王数政", "photo": SimpleUploadedFile("me.pdf", image("PNG"))},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.context["form"].errors["photo"] == [
        "The photo must be a JPEG, PNG or WebP image."
    ]
    assert Member.objects.get(pk=world.member_a.pk).photo.name == before


def test_pdf_hand_in_is_accepted_and_its_download_keeps_its_type(world):
    client = client_for(world, "member_a")
    url = reverse("workspace:deliverable", kwargs=world.kwargs["deliverable"])

    client.post(url, {"kind": "file", "file": SimpleUploadedFile("方案.pdf", PDF)})

    latest = Submission.objects.latest("id")
    response = client.get(reverse("workspace:file", kwargs={"pk": latest.pk}))
    b"".join(response.streaming_content)
    assert (latest.content_type, response["Content-Type"]) == ("application/pdf",) * 2
    assert response["Content-Disposition"].startswith("attachment;")
