"""Handing in: versions never overwritten, late ones marked, receipts, every refusal, files."""

import datetime
import hashlib

import pytest
from django.core import mail
from django.urls import reverse

from tests.cohorts.helpers import EXE, PDF, archive, build_world, image, office, upload
from tests.factories import MemberFactory, SubmissionFactory
from tests.html import texts
from topics.models import Submission

pytestmark = pytest.mark.django_db


def hand_in(client, deliverable, **data):
    data = {"kind": "file", "comment": "", **data}
    return client.post(deliverable.get_absolute_url(), data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def member_client(client, world):
    client.force_login(world.member_a.user)
    return client


def test_each_hand_in_is_a_new_version_and_nothing_is_overwritten(member_client, world):
    colleague = MemberFactory(cohort=world.cohort, topic=world.topic_a)

    hand_in(member_client, world.deliverable_a, file=upload("方案.pdf", PDF), comment="初稿")
    member_client.force_login(colleague.user)
    hand_in(member_client, world.deliverable_a, kind="link", link="https://example.com/v2")
    hand_in(member_client, world.deliverable_a, kind="text", text="第三版：补充了试点数据。")

    versions = list(
        Submission.objects.order_by("version").values_list(
            "version", "kind", "file_name", "link", "text", "member"
        )
    )
    first = Submission.objects.get(version=1)
    assert versions == [
        (1, "file", "方案.pdf", "", "", world.member_a.pk),
        (2, "link", "", "https://example.com/v2", "", colleague.pk),
        (3, "text", "", "", "第三版：补充了试点数据。", colleague.pk),
    ]
    with first.file.open("rb") as handle:
        content = handle.read()
    assert (content, first.checksum, first.content_type) == (
        PDF,
        hashlib.sha256(PDF).hexdigest(),
        "application/pdf",
    )


def test_hand_in_shows_a_receipt_on_the_page_and_sends_one_by_email(
    member_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hand_in(member_client, world.deliverable_a, file=upload("方案.pdf", PDF))

    page = member_client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    message = mail.outbox[0]
    receipt = texts(page.text, '<li class="message message--success"')[0]
    assert (
        response.url,
        receipt.startswith("Received: 解决方案 v1, handed in "),
        f"File 方案.pdf, {len(PDF)} bytes, SHA-256 {hashlib.sha256(PDF).hexdigest()[:16]}…"
        in receipt,
        message.to,
        message.subject,
        hashlib.sha256(PDF).hexdigest() in message.body,
    ) == (
        world.deliverable_a.get_absolute_url() + "#v1",
        True,
        True,
        ["a@example.com"],
        "回执：解决方案 v1",
        True,
    )


def test_hand_in_after_the_due_time_is_accepted_and_marked_late(client):
    world = build_world(due_in_days=-1)
    client.force_login(world.member_a.user)

    response = hand_in(client, world.deliverable_a, kind="text", text="迟交的方案")

    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert (
        Submission.objects.get().is_late,
        texts(page.text, '<span class="state state--late"')[:1],
    ) == (
        True,
        ["late"],
    )
    assert "it is marked late" in texts(page.text, '<li class="message message--success"')[0]


def test_hand_in_before_the_due_time_is_not_late(member_client, world):
    hand_in(member_client, world.deliverable_a, kind="text", text="按时提交")

    assert Submission.objects.get().is_late is False


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("方案.pdf", PDF),
        ("方案.docx", office("docx")),
        ("路演.pptx", office("pptx")),
        ("数据.xlsx", office("xlsx")),
        ("架构图.png", image("PNG")),
        ("现场.jpg", image("JPEG")),
        ("现场.JPEG", image("JPEG")),
        ("材料.zip", archive()),
    ],
)
def test_every_accepted_format_is_accepted(member_client, world, name, data):
    response = hand_in(member_client, world.deliverable_a, file=upload(name, data))

    assert (response.status_code, Submission.objects.get().file_name) == (302, name)


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        pytest.param(
            "病毒.exe",
            EXE,
            "Files like “病毒.exe” are not accepted. Hand in one of: .pdf, .docx, .pptx, "
            ".xlsx, .png, .jpg, .zip, .jpeg.",
            id="forbidden-type",
        ),
        pytest.param(
            "方案.pdf",
            EXE,
            "“方案.pdf” is not a PDF document: its content is application/x-msdownload.",
            id="program-renamed-pdf",
        ),
        pytest.param(
            "方案.pdf",
            image("PNG"),
            "“方案.pdf” is not a PDF document: its content is image/png.",
            id="image-renamed-pdf",
        ),
        pytest.param(
            "方案.docx",
            b"just some text, not a document at all",
            "“方案.docx” is not a Word document (docx): its content is of an unknown kind.",
            id="text-renamed-docx",
        ),
        pytest.param(
            "方案.docx",
            archive("a.txt"),
            "“方案.docx” is a ZIP archive, not a Word document (docx).",
            id="zip-renamed-docx",
        ),
        pytest.param(
            "路演.pptx",
            office("docx"),
            "“路演.pptx” is not a PowerPoint presentation (pptx): its content is "
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.",
            id="docx-renamed-pptx",
        ),
        pytest.param(
            "方案.docx",
            office("docx", extra=["word/vbaProject.bin"]),
            "“方案.docx” contains macros; hand in a file without macros.",
            id="macros",
        ),
        pytest.param(
            "材料.zip",
            archive("说明.txt", "setup.exe"),
            "“材料.zip” contains programs (setup.exe); archives may not contain programs.",
            id="zip-with-program",
        ),
        pytest.param(
            "图.png",
            image("JPEG"),
            "“图.png” is not a PNG image: its content is image/jpeg.",
            id="jpeg-renamed-png",
        ),
        pytest.param(
            "图.png",
            image("PNG")[:40],
            "“图.png” cannot be read as a PNG image.",
            id="broken-image",
        ),
        pytest.param(
            "材料.zip",
            archive()[:30],
            "“材料.zip” cannot be read as a ZIP archive: the archive is damaged.",
            id="broken-zip",
        ),
    ],
)
def test_upload_refused_says_why_and_earlier_versions_stay(member_client, world, name, data, error):
    SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a, text="第一版")

    response = hand_in(member_client, world.deliverable_a, file=upload(name, data))

    assert (
        response.status_code,
        texts(response.text, '<ul class="errorlist"'),
        list(Submission.objects.values_list("version", "text")),
        texts(response.text, '<li class="message message--error"'),
    ) == (
        400,
        [error],
        [(1, "第一版")],
        ["Nothing was handed in; the earlier versions are unchanged."],
    )


def test_empty_upload_is_refused(member_client, world):
    response = hand_in(member_client, world.deliverable_a, file=upload("方案.pdf", b""))

    assert (texts(response.text, '<ul class="errorlist"'), Submission.objects.count()) == (
        ["The submitted file is empty."],
        0,
    )


def test_too_large_upload_is_refused_with_the_limit(member_client, world, settings):
    settings.SUBMISSION_MAX_BYTES = 1024 * 1024
    data = PDF + b"0" * (1024 * 1024)

    response = hand_in(member_client, world.deliverable_a, file=upload("方案.pdf", data))

    assert (texts(response.text, '<ul class="errorlist"'), Submission.objects.count()) == (
        ["“方案.pdf” is 1.0 MB; files may be at most 1.0 MB."],
        0,
    )


def test_default_size_limit_is_20_mb(settings):
    from wecity import settings as project_settings

    assert project_settings.SUBMISSION_MAX_BYTES == 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"kind": "file"}, "file", "Choose the file to hand in."),
        ({"kind": "link", "link": ""}, "link", "Give the link to hand in."),
        ({"kind": "link", "link": "not a link"}, "link", "Enter a valid URL."),
        ({"kind": "text", "text": "  "}, "text", "Write the text to hand in."),
        (
            {"kind": "video"},
            "kind",
            "Select a valid choice. video is not one of the available choices.",
        ),
    ],
)
def test_hand_in_without_its_content_says_what_is_missing(member_client, world, data, field, error):
    response = hand_in(member_client, world.deliverable_a, **data)

    assert (response.context["hand_in_form"].errors, Submission.objects.count()) == (
        {field: [error]},
        0,
    )


def test_hand_in_by_someone_outside_the_group_is_not_found(client, world):
    client.force_login(world.member_b.user)

    response = hand_in(client, world.deliverable_a, kind="text", text="越权提交")

    assert (response.status_code, Submission.objects.count()) == (404, 0)


def test_organiser_sees_the_page_but_cannot_hand_in(client, world, organiser):
    client.force_login(organiser)

    page = client.get(world.deliverable_a.get_absolute_url())
    response = hand_in(client, world.deliverable_a, kind="text", text="组织方提交")

    assert (page.status_code, "hand-in-form" in page.text, response.status_code) == (
        200,
        False,
        403,
    )


# --- Files --------------------------------------------------------------------------------


@pytest.fixture
def file_a(member_client, world):
    hand_in(member_client, world.deliverable_a, file=upload("数字政府方案.pdf", PDF))
    return Submission.objects.get()


def file_url(submission):
    return reverse("workspace:file", kwargs={"pk": submission.pk})


def test_file_is_stored_outside_public_urls(file_a, settings):
    assert (
        str(file_a.file.path).startswith(str(settings.PRIVATE_MEDIA_ROOT)),
        str(settings.MEDIA_ROOT) in str(file_a.file.path),
    ) == (True, False)
    with pytest.raises(ValueError):
        file_a.file.url  # noqa: B018


def test_file_is_served_to_the_group_as_an_attachment(member_client, file_a):
    response = member_client.get(file_url(file_a))

    body = b"".join(response.streaming_content)
    assert (
        response.status_code,
        body,
        response["Content-Type"],
        response["Content-Disposition"],
        response["X-Content-Type-Options"],
        response["Cache-Control"],
    ) == (
        200,
        PDF,
        "application/pdf",
        "attachment; filename*=utf-8''%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C%E6%96%B9%E6%A1%88.pdf",
        "nosniff",
        "private, no-store",
    )


def test_file_of_数字政府_is_not_found_for_a_member_of_智慧医疗(client, world, file_a):
    client.force_login(world.member_b.user)

    response = client.get(file_url(file_a))

    assert response.status_code == 404


def test_file_behind_a_proxy_is_an_x_accel_redirect(member_client, file_a, settings):
    settings.PRIVATE_FILES_ACCEL_PREFIX = "/protected/"

    response = member_client.get(file_url(file_a))

    assert (
        response.content,
        response["X-Accel-Redirect"].startswith("/protected/submissions/"),
        response["X-Accel-Redirect"].endswith(
            "/%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C%E6%96%B9%E6%A1%88.pdf"
        ),
        response["Content-Type"],
        response["X-Content-Type-Options"],
    ) == (b"", True, True, "application/pdf", "nosniff")


def test_file_of_a_text_version_is_not_found(member_client, world):
    text = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)

    response = member_client.get(file_url(text))

    assert response.status_code == 404


def test_file_for_an_anonymous_visitor_asks_to_sign_in(client, file_a):
    client.logout()

    response = client.get(file_url(file_a))

    assert response.url.startswith("/accounts/login/")


def test_versions_are_listed_newest_first_with_who_and_when(member_client, world):
    SubmissionFactory(
        deliverable=world.deliverable_a,
        member=world.member_a,
        submitted_at=datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC),
    )
    SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a, with_link=True)

    page = member_client.get(world.deliverable_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert texts(page.text, '<h3 class="version__title"') == ["v2", "v1"]
    assert "Handed in by 王数政, Dec. 1, 2026, 10 a.m." in page.text
