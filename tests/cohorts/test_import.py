"""Inviting from a CSV file: a report of each row, and nothing saved unless every row is fine."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cohorts.models import Invitation
from tests.factories import InvitationFactory
from tests.html import texts

pytestmark = pytest.mark.django_db

HEADER = "name,email,organisation,topic\n"


def post_csv(client, cohort, text, *, encoding="utf-8", language="en"):
    upload = SimpleUploadedFile("people.csv", text.encode(encoding), content_type="text/csv")
    return client.post(
        reverse("organise-cohorts:import", kwargs={"slug": cohort.slug}),
        {"file": upload, "language": language},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def report_rows(response):
    rows = re.findall(
        r'<tr class="import-row[^"]*" data-testid="import-row">(.*?)</tr>', response.text, re.S
    )
    return [texts(row, "<td") for row in rows]


@pytest.fixture
def signed_in(client, organiser):
    client.force_login(organiser)
    return client


def test_import_invites_every_row_and_reports_each(
    signed_in, world, django_capture_on_commit_callbacks
):
    text = (
        HEADER
        + "张三,zhang@example.com,深圳智城科技,数字政府\n"
        + "Li Si,LI@example.com,,Smart healthcare\n"
        + "王五,wang@example.com,广州数智,smart-healthcare\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_csv(signed_in, world.cohort, text)

    assert (
        response.status_code,
        report_rows(response),
        sorted(Invitation.objects.values_list("email", "topic__name", "language")),
        sorted(message.to[0] for message in mail.outbox),
    ) == (
        200,
        [
            ["2", "张三", "zhang@example.com", "Digital government", "Invited"],
            ["3", "Li Si", "li@example.com", "Smart healthcare", "Invited"],
            ["4", "王五", "wang@example.com", "Smart healthcare", "Invited"],
        ],
        [
            ("li@example.com", "智慧医疗", "en"),
            ("wang@example.com", "智慧医疗", "en"),
            ("zhang@example.com", "数字政府", "en"),
        ],
        ["li@example.com", "wang@example.com", "zhang@example.com"],
    )


def test_import_with_chinese_headers_in_gb18030_as_excel_saves_it(signed_in, world):
    text = "姓名,邮箱,单位,课题\n张三,zhang@example.com,深圳智城科技,数字政府\n"

    response = post_csv(signed_in, world.cohort, text, encoding="gb18030")

    assert (response.status_code, Invitation.objects.get().name) == (200, "张三")


def test_import_with_missing_columns_says_which_and_saves_nothing(signed_in, world):
    response = post_csv(signed_in, world.cohort, "name,organisation\n张三,深圳智城科技\n")

    assert (
        response.status_code,
        texts(response.text, '<div class="alert alert--error"'),
        Invitation.objects.count(),
    ) == (
        400,
        [
            "Missing columns: email, topic. The first row must name the columns: "
            "name, email, organisation, topic."
        ],
        0,
    )


def test_import_reports_each_bad_row_and_saves_nothing_at_all(signed_in, world):
    InvitationFactory(cohort=world.cohort, email="pending@example.com")
    text = (
        HEADER
        + "张三,zhang@example.com,深圳智城科技,数字政府\n"
        + "坏邮箱,not-an-email,,数字政府\n"
        + "重复,ZHANG@example.com,,数字政府\n"
        + "未知,unknown@example.com,,智慧农业\n"
        + "成员,a@example.com,,数字政府\n"
        + "已邀,pending@example.com,,数字政府\n"
        + ",noname@example.com,,\n"
    )

    response = post_csv(signed_in, world.cohort, text)

    assert (
        response.status_code,
        texts(response.text, '<div class="alert alert--error"'),
        [row[-1] for row in report_rows(response)],
        Invitation.objects.count(),
        mail.outbox,
    ) == (
        400,
        ["6 rows are refused, so nobody was invited."],
        [
            "Fine",
            "Refused: “not-an-email” is not an email address.",
            "Refused: The same address as row 2.",
            "Refused: Unknown topic “智慧农业”.",
            "Refused: a@example.com is already a member of this cohort.",
            "Refused: pending@example.com has an invitation to this cohort already; "
            "resend it instead.",
            "Refused: The name is missing. The topic is missing.",
        ],
        1,
        [],
    )


def test_import_of_an_expired_invitation_address_invites_again(signed_in, world):
    InvitationFactory(
        cohort=world.cohort,
        email="late@example.com",
        expires_at=timezone.now() - timezone.timedelta(days=1),
    )

    response = post_csv(signed_in, world.cohort, HEADER + "迟到,late@example.com,,数字政府\n")

    assert (response.status_code, Invitation.objects.filter(email="late@example.com").count()) == (
        200,
        2,
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("\n\n", "The file is empty.", id="blank-lines"),
        pytest.param(HEADER, "The file has a header row but nobody to invite.", id="header-only"),
    ],
)
def test_import_of_a_file_without_people_says_so(signed_in, world, text, error):
    response = post_csv(signed_in, world.cohort, text)

    assert (
        texts(response.text, '<div class="alert alert--error"'),
        Invitation.objects.count(),
    ) == (
        [error],
        0,
    )


def test_import_of_an_empty_file_is_refused_next_to_the_field(signed_in, world):
    response = post_csv(signed_in, world.cohort, "")

    assert (texts(response.text, '<ul class="errorlist"'), Invitation.objects.count()) == (
        ["The submitted file is empty."],
        0,
    )


def test_import_of_a_binary_file_says_it_is_not_csv(signed_in, world):
    upload = SimpleUploadedFile("people.csv", b"\xff\xfe\x00\x81\x00\xfe" * 10)

    response = signed_in.post(
        reverse("organise-cohorts:import", kwargs={"slug": world.cohort.slug}),
        {"file": upload, "language": "en"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert texts(response.text, '<div class="alert alert--error"') == [
        "The file is not text in UTF-8 or GB18030; save it as CSV."
    ]


def test_import_page_is_for_organisers_only(client, world):
    client.force_login(world.member_a.user)

    response = client.get(reverse("organise-cohorts:import", kwargs={"slug": world.cohort.slug}))

    assert response.status_code == 403
