import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from tests.factories import (
    DeliverableFactory,
    MilestoneFactory,
    ReviewFactory,
    SubmissionFactory,
    TopicFactory,
)
from topics.models import Submission

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory", [TopicFactory, DeliverableFactory, SubmissionFactory, ReviewFactory]
)
def test_factory_default_passes_full_clean(factory):
    row = factory()

    row.full_clean()

    assert type(row).objects.filter(pk=row.pk).count() == 1


# --- Constraints --------------------------------------------------------------------------


def test_topic_slug_is_unique():
    TopicFactory(slug="smart-mobility")

    with pytest.raises(IntegrityError), transaction.atomic():
        TopicFactory(slug="smart-mobility")


def test_topic_name_is_unique():
    TopicFactory(name="智慧出行")

    with pytest.raises(IntegrityError), transaction.atomic():
        TopicFactory(name="智慧出行")


def test_deliverable_title_is_unique_per_milestone_and_topic():
    deliverable = DeliverableFactory(title="解决方案")

    with pytest.raises(IntegrityError), transaction.atomic():
        DeliverableFactory(
            milestone=deliverable.milestone, topic=deliverable.topic, title="解决方案"
        )


def test_submission_version_is_unique_per_deliverable():
    submission = SubmissionFactory(version=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        SubmissionFactory(deliverable=submission.deliverable, version=1)


def test_submission_versions_count_up_per_deliverable():
    deliverable = DeliverableFactory()

    versions = [SubmissionFactory(deliverable=deliverable).version for _ in range(3)]

    assert versions == [1, 2, 3]


def test_submission_version_zero_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        SubmissionFactory(version=0)


@pytest.mark.parametrize(
    "traits", [{}, {"with_link": True}, {"with_file": True}], ids=["text", "link", "file"]
)
def test_submission_content_matching_kind_is_accepted(traits):
    submission = SubmissionFactory(**traits)

    assert Submission.objects.filter(pk=submission.pk).count() == 1


@pytest.mark.parametrize(
    "content",
    [
        {"kind": Submission.Kind.TEXT, "text": ""},
        {"kind": Submission.Kind.TEXT, "link": "https://example.com/方案"},
        {"kind": Submission.Kind.TEXT, "file": "submissions/方案.pdf"},
        {"kind": Submission.Kind.LINK, "text": "", "link": ""},
        {"kind": Submission.Kind.LINK, "link": "https://example.com/方案"},
        {"kind": Submission.Kind.FILE, "text": ""},
        {"kind": Submission.Kind.FILE, "file": "submissions/方案.pdf"},
        {"kind": Submission.Kind.FILE, "text": "", "file": "a.pdf", "link": "https://a.cn"},
    ],
    ids=[
        "text without text",
        "text with link",
        "text with file",
        "link without link",
        "link with text",
        "file without file",
        "file with text",
        "file with link",
    ],
)
def test_submission_content_must_match_kind(content):
    with pytest.raises(IntegrityError), transaction.atomic():
        SubmissionFactory(**content)


def test_review_status_outside_choices_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewFactory(status="maybe")


# --- Small behaviour ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "name_en", "expected"),
    [
        ("en", "Smart mobility", "Smart mobility"),
        ("en", "", "智慧出行"),
        ("zh-hans", "Smart mobility", "智慧出行"),
    ],
)
def test_topic_display_name_follows_the_interface_language(language, name_en, expected):
    topic = TopicFactory.build(name="智慧出行", name_en=name_en)

    with translation.override(language):
        display_name = topic.display_name

    assert display_name == expected


def test_str_of_topic_models_names_the_row():
    topic = TopicFactory(name="智慧出行")
    deliverable = DeliverableFactory(
        topic=topic, title="出行方案", milestone=MilestoneFactory(kind="deadline")
    )
    submission = SubmissionFactory(deliverable=deliverable, version=2)
    review = ReviewFactory(submission=submission, status="changes_requested")

    with translation.override("en"):
        strings = [str(row) for row in (topic, deliverable, submission, review)]

    assert strings == [
        "智慧出行",
        "智慧出行 · 出行方案",
        "智慧出行 · 出行方案 v2",
        "智慧出行 · 出行方案 v2: Changes requested",
    ]
