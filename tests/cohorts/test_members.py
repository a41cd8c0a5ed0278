"""Members: profiles private by default, the data export, account deletion, topic moves."""

import datetime
import io
import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.models import User
from cohorts.models import (
    Cohort,
    DeletionRequest,
    Member,
    Notification,
    Reminder,
    Reviewer,
    TopicMove,
)
from tests.cohorts.helpers import image
from tests.factories import (
    CohortFactory,
    DeletionRequestFactory,
    MemberFactory,
    NotificationFactory,
    ReminderFactory,
    ReminderOptOutFactory,
    ReviewFactory,
    SubmissionFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "王数政",
    "organisation": "深圳智城科技",
    "title": "产品总监",
    "bio": "专注政务数据共享。",
}


def profile_url(cohort):
    return reverse("programme:profile", kwargs={"cohort": cohort.slug})


def directory(client, cohort):
    page = client.get(cohort.get_absolute_url())
    return [texts(item, "<span") for item in elements(page.text, '<li class="person"')]


# --- Profile and privacy ------------------------------------------------------------------


def test_new_member_is_private_nothing_in_the_public_directory(client, world):
    assert directory(client, world.cohort) == []


def test_member_lists_only_their_name_then_each_field_they_choose(client, world):
    client.force_login(world.member_a.user)

    client.post(profile_url(world.cohort), {**PROFILE, "is_public": "on"})
    client.logout()
    name_only = directory(client, world.cohort)
    client.force_login(world.member_a.user)
    client.post(
        profile_url(world.cohort),
        {**PROFILE, "is_public": "on", "is_title_public": "on", "is_bio_public": "on"},
    )
    client.logout()
    with_title = directory(client, world.cohort)

    assert (name_only, with_title) == (
        [["王数政"]],
        [["王数政", "产品总监", "专注政务数据共享。"]],
    )


def test_fields_made_public_stay_hidden_while_the_name_is_not_listed(client, world):
    client.force_login(world.member_a.user)

    client.post(profile_url(world.cohort), {**PROFILE, "is_organisation_public": "on"})
    client.logout()

    assert directory(client, world.cohort) == []


def test_photo_is_served_to_the_group_but_to_the_public_only_when_public(client, world):
    client.force_login(world.member_a.user)
    photo = SimpleUploadedFile("me.png", image("PNG"), content_type="image/png")
    client.post(profile_url(world.cohort), {**PROFILE, "is_public": "on", "photo": photo})
    member = Member.objects.get(pk=world.member_a.pk)
    url = reverse("programme:member-photo", kwargs={"pk": member.pk})

    own = client.get(url)
    own_bytes = b"".join(own.streaming_content)
    client.force_login(world.member_b.user)
    other_group = client.get(url)
    client.logout()
    public_before = client.get(url)
    member.is_photo_public = True
    member.save()
    public_after = client.get(url)
    b"".join(public_after.streaming_content)  # consuming it closes the file

    assert (
        own.status_code,
        own_bytes[:4],
        other_group.status_code,
        public_before.status_code,
        public_after.status_code,
        member.photo.name.startswith("members/"),
        (member.photo.storage.base_location.name),
    ) == (200, b"\x89PNG", 404, 404, 200, True, "private")


def test_photo_that_is_not_an_image_is_refused(client, world):
    client.force_login(world.member_a.user)

    response = client.post(
        profile_url(world.cohort),
        {**PROFILE, "photo": SimpleUploadedFile("me.png", b"not an image")},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (response.status_code, bool(Member.objects.get(pk=world.member_a.pk).photo)) == (
        200,
        False,
    )
    assert "Upload a valid image" in texts(response.text, '<ul class="errorlist"')[0]


def test_photo_too_large_is_refused(client, world, settings):
    settings.MEMBER_PHOTO_MAX_BYTES = 100
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="PNG")
    client.force_login(world.member_a.user)

    response = client.post(
        profile_url(world.cohort),
        {**PROFILE, "photo": SimpleUploadedFile("big.png", buffer.getvalue())},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert texts(response.text, '<ul class="errorlist"')[0].startswith("The photo is ")


def test_profile_of_a_cohort_one_is_not_in_is_not_found(client, world):
    client.force_login(world.member_a.user)

    response = client.get(profile_url(CohortFactory()))

    assert response.status_code == 404


# --- Data export --------------------------------------------------------------------------


def test_data_export_holds_the_account_profile_history_and_hand_ins(client, world):
    member = world.member_a
    submission = SubmissionFactory(deliverable=world.deliverable_a, member=member)
    ReviewFactory(submission=submission, status="changes_requested", feedback="补充数据来源。")
    ReminderOptOutFactory(member=member, kind="workshop")
    TopicMove.objects.create(member=member, from_topic=world.topic_b, to_topic=world.topic_a)
    NotificationFactory(recipient=member.user, text="课题方案 v1 需要修改。")
    NotificationFactory(text="别人的通知")
    Member.objects.filter(pk=member.pk).update(time_zone="Europe/Amsterdam")
    client.force_login(member.user)

    response = client.get(reverse("programme:data-export"))

    data = json.loads(response.content)
    membership = data["memberships"][0]
    assert (
        response["Content-Disposition"],
        data["account"]["email"],
        membership["cohort"],
        membership["topic"],
        membership["public"],
        membership["topic_history"][0]["from"],
        membership["reminder_time_zone"],
        membership["reminders_turned_off"],
        [(s["version"], s["text"], s["reviews"][0]["feedback"]) for s in membership["submissions"]],
        [n["text"] for n in data["notifications"]],
    ) == (
        'attachment; filename="wecity-my-data.json"',
        "a@example.com",
        "WeCity 加速器第一期",
        "数字政府",
        {"listed": False, "organisation": False, "title": False, "bio": False, "photo": False},
        "智慧医疗",
        "Europe/Amsterdam",
        ["workshop"],
        [(1, submission.text, "补充数据来源。")],
        ["课题方案 v1 需要修改。"],
    )


def test_data_export_needs_a_signed_in_user(client):
    response = client.get(reverse("programme:data-export"))

    assert response.url.startswith("/accounts/login/")


# --- Account deletion ---------------------------------------------------------------------


def test_deletion_request_tells_the_organisers(
    client, world, organiser, django_capture_on_commit_callbacks
):
    client.force_login(world.member_a.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programme:delete-account"), {"reason": "我已离开公司。", "confirm": "on"}
        )

    request = DeletionRequest.objects.get()
    assert (
        response.url,
        request.status,
        request.user,
        [m.to for m in mail.outbox],
        list(Notification.objects.values_list("recipient__email", "text")),
    ) == (
        reverse("programme:delete-account"),
        DeletionRequest.Status.PENDING,
        world.member_a.user,
        [[organiser.email]],
        [(organiser.email, "王数政 申请删除账号。")],
    )


def test_deletion_request_needs_the_confirmation_tick(client, world):
    client.force_login(world.member_a.user)

    client.post(reverse("programme:delete-account"), {"reason": ""})

    assert DeletionRequest.objects.count() == 0


def test_second_deletion_request_while_one_waits_is_refused(client, world):
    DeletionRequestFactory(user=world.member_a.user)
    client.force_login(world.member_a.user)

    response = client.post(
        reverse("programme:delete-account"), {"confirm": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (DeletionRequest.objects.count(), "password" in response.text) == (1, False)


def test_confirmed_deletion_removes_the_account_and_keeps_the_work_unnamed(
    client, world, organiser, django_capture_on_commit_callbacks
):
    member = world.member_a
    member.is_public = True
    member.save()
    submission = SubmissionFactory(deliverable=world.deliverable_a, member=member)
    reminder = ReminderFactory(member=member, milestone=world.deliverable_a.milestone)
    Reviewer.objects.create(cohort=world.cohort, topic=world.topic_b, user=member.user)
    deletion = DeletionRequestFactory(user=member.user)
    email = member.user.email
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("organise-cohorts:deletion-confirm", kwargs={"pk": deletion.pk}))

    member.refresh_from_db()
    deletion.refresh_from_db()
    reminder.refresh_from_db()
    colleague = MemberFactory(cohort=world.cohort, topic=world.topic_a)
    client.force_login(colleague.user)
    page = client.get(world.deliverable_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert (
        User.objects.filter(email=email).exists(),
        (member.user, member.name, member.organisation, member.is_public, bool(member.removed_at)),
        str(member),
        submission.member_id == member.pk,
        reminder.status,
        Reviewer.objects.count(),
        (deletion.status, deletion.user, deletion.decided_by),
        mail.outbox[-1].to,
        "Handed in by a removed member" in page.text,
        directory(client, world.cohort),
    ) == (
        False,
        (None, "", "", False, True),
        "a removed member",
        True,
        Reminder.Status.CANCELLED,
        0,
        (DeletionRequest.Status.CONFIRMED, None, organiser),
        [email],
        True,
        [],
    )


def test_declined_deletion_keeps_the_account_and_tells_the_member(client, world, organiser):
    deletion = DeletionRequestFactory(user=world.member_a.user)
    client.force_login(organiser)

    client.post(
        reverse("organise-cohorts:deletion-decline", kwargs={"pk": deletion.pk}),
        {"note": "请先交接课题材料。"},
    )

    deletion.refresh_from_db()
    assert (
        deletion.status,
        User.objects.filter(pk=world.member_a.user.pk).exists(),
        list(Notification.objects.values_list("recipient", "text")),
    ) == (
        DeletionRequest.Status.DECLINED,
        True,
        [(world.member_a.user.pk, "您的账号删除申请未获批准：请先交接课题材料。")],
    )


def test_deletion_requests_page_and_decisions_are_for_organisers_only(client, world):
    deletion = DeletionRequestFactory(user=world.member_b.user)
    client.force_login(world.member_a.user)

    page = client.get(reverse("organise-cohorts:deletion-requests"))
    confirm = client.post(reverse("organise-cohorts:deletion-confirm", kwargs={"pk": deletion.pk}))

    assert (
        page.status_code,
        confirm.status_code,
        User.objects.filter(pk=world.member_b.user.pk).exists(),
    ) == (403, 403, True)


# --- Moving topics ------------------------------------------------------------------------


def test_move_member_to_another_topic_keeps_the_history(client, world, organiser):
    client.force_login(organiser)

    response = client.post(
        reverse(
            "organise-cohorts:member-move",
            kwargs={"slug": world.cohort.slug, "pk": world.member_a.pk},
        ),
        {"topic": world.topic_b.pk},
    )

    world.member_a.refresh_from_db()
    assert (
        response.url,
        world.member_a.topic,
        list(TopicMove.objects.values_list("from_topic__name", "to_topic__name", "moved_by")),
        Member.objects.filter(cohort=world.cohort, user=world.member_a.user).count(),
    ) == (
        reverse("organise-cohorts:cohort", kwargs={"slug": world.cohort.slug}) + "#members",
        world.topic_b,
        [("数字政府", "智慧医疗", organiser.pk)],
        1,
    )


def test_moved_member_loses_the_old_workspace_and_gets_the_new_one(client, world, organiser):
    client.force_login(organiser)
    client.post(
        reverse(
            "organise-cohorts:member-move",
            kwargs={"slug": world.cohort.slug, "pk": world.member_a.pk},
        ),
        {"topic": world.topic_b.pk},
    )
    client.force_login(world.member_a.user)

    old = client.get(world.deliverable_a.get_absolute_url())
    new = client.get(world.deliverable_b.get_absolute_url())

    assert (old.status_code, new.status_code) == (404, 200)


def test_move_to_the_same_topic_is_refused(client, world, organiser):
    client.force_login(organiser)

    client.post(
        reverse(
            "organise-cohorts:member-move",
            kwargs={"slug": world.cohort.slug, "pk": world.member_a.pk},
        ),
        {"topic": world.topic_a.pk},
    )

    assert TopicMove.objects.count() == 0


# --- Cohorts and reviewers ----------------------------------------------------------------


def test_organiser_creates_a_cohort_of_8_months_and_35_places_by_default(client, organiser):
    client.force_login(organiser)
    form = client.get(reverse("organise-cohorts:cohort-create"))

    response = client.post(
        reverse("organise-cohorts:cohort-create"),
        {
            "name": "WeCity 加速器第二期",
            "starts_on": "2027-03-01",
            "length_months": form.context["form"]["length_months"].value(),
            "capacity": form.context["form"]["capacity"].value(),
            "time_zone": "Asia/Shanghai",
            "description": "",
        },
    )

    cohort = Cohort.objects.get(name="WeCity 加速器第二期")
    assert (
        response.url,
        cohort.slug,
        (cohort.length_months, cohort.capacity),
        cohort.ends_on,
    ) == (
        reverse("organise-cohorts:cohort", kwargs={"slug": cohort.slug}),
        "wecity-加速器第二期",
        (8, 35),
        datetime.date(2027, 10, 31),
    )


def test_create_cohort_with_bad_values_says_why(client, organiser):
    client.force_login(organiser)

    response = client.post(
        reverse("organise-cohorts:cohort-create"),
        {"name": "", "starts_on": "soon", "length_months": 0, "capacity": 0, "time_zone": "Mars/X"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (response.status_code, sorted(response.context["form"].errors)) == (
        200,
        ["capacity", "length_months", "name", "starts_on", "time_zone"],
    )


def test_named_reviewer_of_a_topic(client, world, organiser):
    reviewer = UserFactory(email="expert@example.com")
    client.force_login(organiser)

    client.post(
        reverse("organise-cohorts:reviewer-add", kwargs={"slug": world.cohort.slug}),
        {"email": "Expert@example.com", "topic": world.topic_a.pk},
    )
    unknown = client.post(
        reverse("organise-cohorts:reviewer-add", kwargs={"slug": world.cohort.slug}),
        {"email": "nobody@example.com", "topic": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        list(Reviewer.objects.values_list("user", "topic")),
        texts(unknown.text, '<ul class="errorlist"'),
    ) == (
        [(reviewer.pk, world.topic_a.pk)],
        ["No account has this address. The reviewer needs an account first."],
    )


# --- Notifications ------------------------------------------------------------------------


def test_header_shows_the_unread_count_in_one_query(client, world):
    user = world.member_a.user
    NotificationFactory.create_batch(3, recipient=user)
    NotificationFactory(recipient=user, read_at=datetime.datetime.now(datetime.UTC))
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/")

    counting = [q["sql"] for q in queries.captured_queries if "cohorts_notification" in q["sql"]]
    assert (texts(page.text, '<span class="notification-bell__count"'), len(counting)) == (
        ["3 未读"],
        1,
    )


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, world):
    notification = NotificationFactory(
        recipient=world.member_a.user, url=world.deliverable_a.get_absolute_url()
    )
    other = NotificationFactory(recipient=world.member_b.user)
    client.force_login(world.member_a.user)

    response = client.post(
        reverse("programme:notifications-read"), {"notification": notification.pk}
    )
    forbidden = client.post(reverse("programme:notifications-read"), {"notification": other.pk})

    notification.refresh_from_db()
    other.refresh_from_db()
    assert (
        response.url,
        notification.read_at is not None,
        forbidden.status_code,
        other.read_at,
    ) == (world.deliverable_a.get_absolute_url(), True, 404, None)


def test_mark_all_read(client, world):
    NotificationFactory.create_batch(2, recipient=world.member_a.user)
    client.force_login(world.member_a.user)

    client.post(reverse("programme:notifications-read"))

    assert Notification.objects.filter(read_at__isnull=True).count() == 0
