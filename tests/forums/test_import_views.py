"""Organisers import an article in the browser: check what was recognised, then save."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forums.models import Forum, Quote, Recap

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_article.txt"
URL = "/organise/import/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def test_import_page_reverses_to_its_url():
    assert reverse("organise:import") == URL


def test_check_shows_what_was_recognised_and_saves_nothing(organiser_client, seed_text):
    response = organiser_client.post(
        URL, {"article": seed_text, "check": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    review = response.context["imported"]
    assert (review.headline, len(review.highlights), [t.title for t in review.themes]) == (
        "如何加速智慧城市建设进程",
        8,
        ["城市与未来", "数据与价值", "机会与贡献"],
    )
    assert "Every line was placed." in response.text
    assert "Create the draft" in response.text
    assert Forum.objects.count() == 0


def test_check_lists_each_warning_with_its_line_number(organiser_client, seed_text):
    broken = seed_text.replace("——中国工程院院士邬贺铨", "——某位不存在的人")

    response = organiser_client.post(
        URL, {"article": broken, "check": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    warnings = response.context["imported"].warnings
    assert [w.line_number for w in warnings] == [20]
    assert "7 quotes, saved as proposed" in response.text
    assert "line 20" in response.text
    assert response.context["form"].initial["article"] == broken


def test_save_creates_a_draft_with_proposed_quotes_and_opens_its_editor(
    organiser_client, seed_text
):
    response = organiser_client.post(URL, {"article": seed_text, "save": "1"})

    forum = Forum.objects.get()
    assert response.url == reverse("organise:forum-edit", kwargs={"pk": forum.pk})
    assert (forum.recap.status, forum.themes.count(), forum.appearances.count()) == (
        Recap.Status.DRAFT,
        3,
        8,
    )
    assert list(forum.quotes.values_list("state", flat=True)) == [Quote.State.PROPOSED] * 8


def test_uploaded_text_file_is_read_and_shown_for_review(organiser_client, seed_text):
    upload = SimpleUploadedFile("recap.txt", seed_text.encode("utf-8"), "text/plain")

    response = organiser_client.post(URL, {"upload": upload, "check": "1"})

    assert response.context["imported"].headline == "如何加速智慧城市建设进程"
    assert response.context["form"].initial["article"] == seed_text.replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"article": "   "}, "article", "The article is empty."),
        (
            {"upload": SimpleUploadedFile("x.pdf", b"%PDF-1.4", "application/pdf")},
            "upload",
            "Only .txt and .md files can be imported; “x.pdf” is neither.",
        ),
        (
            {"upload": SimpleUploadedFile("x.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "text/plain")},
            "upload",
            "This is not a text file. Save the article as plain text (UTF-8) and try again.",
        ),
        (
            {"upload": SimpleUploadedFile("big.txt", b"a" * 1_048_577, "text/plain")},
            "upload",
            "The file is larger than 1 MB; nothing was imported.",
        ),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_saves_nothing(
    organiser_client, fields, field, message
):
    response = organiser_client.post(URL, {**fields, "save": "1"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.context["form"].errors[field] == [message]
    assert Forum.objects.count() == 0


def test_import_is_for_organisers_only(client, user):
    anonymous = client.get(URL)
    client.force_login(user)
    member = client.post(URL, {"article": "x", "save": "1"})

    assert anonymous.url == f"/accounts/login/?next={URL}"
    assert member.status_code == 403
    assert Forum.objects.count() == 0
