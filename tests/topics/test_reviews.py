"""Reviews: organisers and named reviewers accept a version or ask for changes; the group hears."""

import pytest
from django.core import mail
from django.urls import reverse

from cohorts.models import Notification
from tests.factories import MemberFactory, ReviewerFactory, SubmissionFactory, UserFactory
from tests.html import texts
from topics.models import Review

pytestmark = pytest.mark.django_db


def review(client, submission, **data):
    return client.post(
        reverse("workspace:review", kwargs={"pk": submission.pk}),
        {"status": "accepted", "feedback": "", **data},
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def submission(world):
    return SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)


def test_changes_requested_tells_every_member_of_the_group_in_their_language(
    client, world, organiser, submission, django_capture_on_commit_callbacks
):
    colleague = MemberFactory(cohort=world.cohort, topic=world.topic_a)
    colleague.user.language = "en"
    colleague.user.save()
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        response = review(
            client, submission, status="changes_requested", feedback="请补充试点数据来源。"
        )

    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert (
        response.url,
        list(Review.objects.values_list("status", "feedback", "reviewer")),
        sorted(Notification.objects.values_list("recipient__email", "text")),
        sorted((m.to[0], m.subject) for m in mail.outbox),
        texts(page.text, '<p class="review__verdict"')[0].startswith("Changes requested"),
    ) == (
        submission.get_absolute_url(),
        [("changes_requested", "请补充试点数据来源。", organiser.pk)],
        sorted(
            [
                ("a@example.com", "解决方案 v1 需要修改。"),
                (colleague.user.email, "Changes are requested on 解决方案 v1."),
            ]
        ),
        sorted(
            [
                ("a@example.com", "需要修改：解决方案 v1"),
                (colleague.user.email, "Changes requested: 解决方案 v1"),
            ]
        ),
        True,
    )
    assert "请补充试点数据来源。" in mail.outbox[0].body


def test_accepting_marks_the_version_accepted_for_the_group(client, world, organiser, submission):
    client.force_login(organiser)

    review(client, submission, status="accepted", feedback="很好。")
    client.force_login(world.member_a.user)
    page = client.get(world.deliverable_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert texts(page.text, '<span class="state state--accepted"')[:1] == ["Accepted"]


def test_changes_requested_without_feedback_is_refused(client, organiser, submission):
    client.force_login(organiser)

    response = review(client, submission, status="changes_requested", feedback=" ")

    assert (
        response.status_code,
        Review.objects.count(),
        texts(response.text, '<ul class="errorlist"'),
    ) == (
        400,
        0,
        ["Say which changes are needed."],
    )


def test_named_reviewer_of_the_topic_reviews_it(client, world, submission):
    reviewer = ReviewerFactory(cohort=world.cohort, topic=world.topic_a).user
    client.force_login(reviewer)

    page = client.get(world.deliverable_a.get_absolute_url())
    review(client, submission)

    assert (page.status_code, "review-form" in page.text, Review.objects.get().reviewer) == (
        200,
        True,
        reviewer,
    )


def test_reviewer_of_the_whole_cohort_reviews_every_topic(client, world):
    reviewer = ReviewerFactory(cohort=world.cohort, topic=None).user
    submission_b = SubmissionFactory(deliverable=world.deliverable_b, member=world.member_b)
    client.force_login(reviewer)

    review(client, submission_b)

    assert Review.objects.get().submission == submission_b


def test_reviewer_of_another_topic_gets_not_found(client, world, submission):
    reviewer = ReviewerFactory(cohort=world.cohort, topic=world.topic_b).user
    client.force_login(reviewer)

    response = review(client, submission)

    assert (response.status_code, Review.objects.count()) == (404, 0)


def test_member_of_the_group_cannot_review_its_work(client, world, submission):
    client.force_login(world.member_a.user)

    page = client.get(world.deliverable_a.get_absolute_url())
    response = review(client, submission)

    assert ("review-form" in page.text, response.status_code, Review.objects.count()) == (
        False,
        403,
        0,
    )


def test_someone_without_a_role_gets_not_found(client, submission):
    client.force_login(UserFactory())

    response = review(client, submission)

    assert response.status_code == 404
