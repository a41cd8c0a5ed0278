import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from cohorts.models import Member, Milestone, Reminder, add_months
from tests.factories import (
    CohortFactory,
    InvitationFactory,
    MemberFactory,
    MilestoneFactory,
    ReminderFactory,
    ReminderOptOutFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory",
    [
        CohortFactory,
        MemberFactory,
        InvitationFactory,
        MilestoneFactory,
        ReminderOptOutFactory,
        ReminderFactory,
    ],
)
def test_factory_default_passes_full_clean(factory):
    row = factory()

    row.full_clean()

    assert type(row).objects.filter(pk=row.pk).count() == 1


# --- Programme dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 11, 27), 8, datetime.date(2027, 7, 27)),
        (datetime.date(2026, 12, 15), 1, datetime.date(2027, 1, 15)),
        (datetime.date(2027, 1, 31), 1, datetime.date(2027, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 3, 31), 1, datetime.date(2026, 4, 30)),
        (datetime.date(2026, 5, 31), 12, datetime.date(2027, 5, 31)),
        (datetime.date(2026, 2, 28), 0, datetime.date(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_clips_to_month_end(day, months, expected):
    result = add_months(day, months)

    assert result == expected


def test_cohort_ends_on_the_day_before_its_length_is_up():
    cohort = CohortFactory.build(starts_on=datetime.date(2026, 11, 27), length_months=8)

    ends_on = cohort.ends_on

    assert ends_on == datetime.date(2027, 7, 26)


def test_cohort_defaults_are_the_programme_settings():
    cohort = CohortFactory()

    assert (cohort.length_months, cohort.capacity, cohort.time_zone) == (8, 35, "Asia/Shanghai")


def test_cohort_unknown_time_zone_is_refused():
    cohort = CohortFactory.build(time_zone="Mars/Olympus_Mons")

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        cohort.full_clean()

    with translation.override("en"):
        assert excinfo.value.message_dict == {
            "time_zone": ["“Mars/Olympus_Mons” is not a known time zone."]
        }


# --- Constraints --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["capacity", "length_months"])
def test_cohort_capacity_and_length_must_be_positive(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        CohortFactory(**{field: 0})


def test_member_is_unique_per_cohort_and_user():
    member = MemberFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(cohort=member.cohort, user=member.user)


def test_member_without_account_repeats_in_a_cohort():
    cohort = CohortFactory()

    MemberFactory.create_batch(2, cohort=cohort, user=None)

    assert Member.objects.filter(cohort=cohort, user=None).count() == 2


def test_member_same_user_in_another_cohort_is_accepted():
    member = MemberFactory()

    MemberFactory(user=member.user)

    assert member.user.memberships.count() == 2


def test_invitation_cannot_be_accepted_and_revoked():
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(accepted_at=now, revoked_at=now)


def test_invitation_token_is_unique():
    InvitationFactory(token="abc")

    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(token="abc")


def test_milestone_ending_before_it_starts_is_refused():
    starts_at = datetime.datetime(2026, 12, 11, 6, 0, tzinfo=datetime.UTC)

    with pytest.raises(IntegrityError), transaction.atomic():
        MilestoneFactory(starts_at=starts_at, ends_at=starts_at - datetime.timedelta(hours=1))


def test_milestone_ending_when_it_starts_is_accepted():
    starts_at = datetime.datetime(2026, 12, 11, 6, 0, tzinfo=datetime.UTC)

    milestone = MilestoneFactory(starts_at=starts_at, ends_at=starts_at)

    assert Milestone.objects.get(pk=milestone.pk).ends_at == starts_at


def test_reminder_opt_out_is_unique_per_member_and_kind():
    opt_out = ReminderOptOutFactory(kind=Milestone.Kind.WORKSHOP)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderOptOutFactory(member=opt_out.member, kind=Milestone.Kind.WORKSHOP)


def test_reminder_is_unique_per_milestone_member_and_offset():
    reminder = ReminderFactory(offset=datetime.timedelta(days=-7))

    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderFactory(
            milestone=reminder.milestone,
            member=reminder.member,
            offset=datetime.timedelta(days=-7),
        )


def test_reminder_same_milestone_and_member_at_another_offset_is_accepted():
    reminder = ReminderFactory(offset=datetime.timedelta(days=-7))

    ReminderFactory(
        milestone=reminder.milestone, member=reminder.member, offset=datetime.timedelta(days=-1)
    )

    assert Reminder.objects.filter(milestone=reminder.milestone).count() == 2


def test_reminder_sent_needs_sent_at():
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderFactory(status=Reminder.Status.SENT, sent_at=None)


# --- Membership rules ---------------------------------------------------------------------


def unsaved_member(cohort, **fields):
    return Member(cohort=cohort, user=UserFactory(), topic=TopicFactory(), name="李雷", **fields)


def test_member_full_clean_refuses_the_36th_member_of_a_cohort_of_35():
    cohort = CohortFactory(capacity=35)
    MemberFactory.create_batch(35, cohort=cohort, topic=TopicFactory())
    member = unsaved_member(cohort)

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        member.full_clean()

    with translation.override("en"):
        assert excinfo.value.message_dict == {
            NON_FIELD_ERRORS: ["This cohort is full: all 35 places are taken."]
        }


def test_member_full_clean_accepts_the_last_place():
    cohort = CohortFactory(capacity=2)
    MemberFactory(cohort=cohort)
    member = unsaved_member(cohort)

    member.full_clean()

    assert Member.objects.filter(cohort=cohort).count() == 1


def test_member_full_clean_of_a_member_of_a_full_cohort_passes():
    member = MemberFactory(cohort=CohortFactory(capacity=1))

    member.full_clean()

    assert member.cohort.members.count() == 1


def test_member_full_clean_refuses_a_second_topic_in_the_same_cohort():
    first = MemberFactory()
    second = Member(cohort=first.cohort, user=first.user, topic=TopicFactory(), name="李雷")

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        second.full_clean()

    with translation.override("en"):
        assert excinfo.value.message_dict == {
            NON_FIELD_ERRORS: ["This person is already a member of this cohort, in one topic."]
        }


def test_member_save_of_a_second_topic_in_the_same_cohort_is_refused():
    first = MemberFactory()
    second = Member(cohort=first.cohort, user=first.user, topic=TopicFactory(), name="李雷")

    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


# --- QuerySets ----------------------------------------------------------------------------


def test_milestone_due_between_includes_start_and_excludes_end():
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    cohort = CohortFactory()
    for days in (-1, 0, 6, 7):
        MilestoneFactory(
            cohort=cohort,
            title=f"第{days}天",
            starts_at=start + datetime.timedelta(days=days),
            ends_at=None,
        )

    due = Milestone.objects.due_between(start, start + datetime.timedelta(days=7))

    assert [m.title for m in due] == ["第0天", "第6天"]


def test_member_public_lists_only_members_who_opted_in():
    listed = MemberFactory(is_public=True)
    MemberFactory(is_public=False)

    public = Member.objects.public()

    assert list(public) == [listed]


def test_str_of_cohort_models_names_the_row():
    cohort = CohortFactory(name="WeCity 加速器第三期")
    member = MemberFactory(cohort=cohort, name="李雷")
    invitation = InvitationFactory(cohort=cohort, email="han.meimei@example.com")
    milestone = MilestoneFactory(cohort=cohort, title="共创工作坊")
    opt_out = ReminderOptOutFactory(member=member, kind=Milestone.Kind.WORKSHOP)
    reminder = ReminderFactory(
        milestone=milestone, member=member, offset=datetime.timedelta(days=-1)
    )

    with translation.override("en"):
        strings = [str(row) for row in (cohort, member, invitation, milestone, opt_out, reminder)]

    assert strings == [
        "WeCity 加速器第三期",
        "李雷",
        "han.meimei@example.com → WeCity 加速器第三期",
        "共创工作坊",
        "李雷: Workshop",
        "共创工作坊 → 李雷 (1 day before)",
    ]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (datetime.timedelta(days=-7), "7 days before"),
        (datetime.timedelta(days=1), "1 day after"),
        (datetime.timedelta(hours=-3), "3 hours before"),
        (datetime.timedelta(0), "at the time"),
    ],
)
def test_reminder_offset_label_says_the_offset_in_words(offset, expected):
    reminder = Reminder(offset=offset)

    with translation.override("en"):
        label = str(reminder.offset_label)

    assert label == expected
