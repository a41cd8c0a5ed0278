"""Writes of a cohort's schedule: the default 8-month schedule, milestones added, changed and
removed, and reminders sent on an organiser's request.

Each function owns its transaction, returns what it changed and raises ValidationError or
PermissionDenied; a milestone's unsent reminders follow it (`reminders.reschedule_reminders`).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorts import reminders, tasks
from cohorts.models import Cohort, Invitation, Member, Milestone, Reminder
from cohorts.services import require_organiser
from topics.models import Deliverable, Topic

Kind = Milestone.Kind

# Fields of a milestone an organiser edits; a change to either time is a new revision.
EDITABLE = (
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "topic",
    "location",
    "online_url",
)
TIMES = ("starts_at", "ends_at")


# --- The default schedule -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One milestone of the default schedule, `day` days after the cohort's first day."""

    day: int
    kind: str
    time: datetime.time
    title: str
    hours: int = 0
    online: bool = False
    location: str = ""
    deliverable: tuple = ()  # (title, description) of each topic's deliverable


# The programme's eight months: a kick-off, workshops, the forum, four deliverable deadlines
# a month or so apart, and demo day. Titles are created in the programme's language.
DEFAULT_SCHEDULE = (
    Entry(0, Kind.KICK_OFF, datetime.time(10), gettext_lazy("Opening ceremony"), 2, True),
    Entry(14, Kind.WORKSHOP, datetime.time(14), gettext_lazy("Topic breakdown workshop"), 3, True),
    Entry(
        45,
        Kind.DEADLINE,
        datetime.time(18),
        gettext_lazy("Deliverable 1: problem definition and research report"),
        deliverable=(
            gettext_lazy("Problem definition and research report"),
            gettext_lazy(
                "The city problem the topic tackles, the parties concerned, a survey of "
                "the present situation and the data sources."
            ),
        ),
    ),
    Entry(60, Kind.FORUM, datetime.time(14), gettext_lazy("Online smart-city roundtable"), 3, True),
    Entry(
        75,
        Kind.WORKSHOP,
        datetime.time(14),
        gettext_lazy("Solution co-creation workshop"),
        3,
        location=gettext_lazy("Shenzhen, Tencent Binhai Building"),
    ),
    Entry(
        105,
        Kind.DEADLINE,
        datetime.time(18),
        gettext_lazy("Deliverable 2: solution design"),
        deliverable=(
            gettext_lazy("Solution design"),
            gettext_lazy(
                "The solution's architecture, key technologies, data protection and who does what."
            ),
        ),
    ),
    Entry(
        135,
        Kind.WORKSHOP,
        datetime.time(14),
        gettext_lazy("Scenario validation and mentoring"),
        3,
        True,
    ),
    Entry(
        165,
        Kind.DEADLINE,
        datetime.time(18),
        gettext_lazy("Deliverable 3: prototype and pilot plan"),
        deliverable=(
            gettext_lazy("Prototype and pilot plan"),
            gettext_lazy(
                "A prototype that can be shown, the pilot city and scenarios, and how "
                "success is measured."
            ),
        ),
    ),
    Entry(195, Kind.WORKSHOP, datetime.time(14), gettext_lazy("Pitch coaching"), 3, True),
    Entry(
        220,
        Kind.DEADLINE,
        datetime.time(18),
        gettext_lazy("Deliverable 4: final solution and results report"),
        deliverable=(
            gettext_lazy("Final solution and results report"),
            gettext_lazy(
                "The complete solution, the pilot's results, the business model and the next steps."
            ),
        ),
    ),
    Entry(
        235,
        Kind.DEMO_DAY,
        datetime.time(14),
        gettext_lazy("Demo day"),
        4,
        location=gettext_lazy("Shenzhen, Tencent Binhai Building"),
    ),
)
DEFAULT_SCHEDULE_MONTHS = 8
ONLINE = gettext_lazy("Online")


def local_datetime(day, time, zone):
    return datetime.datetime.combine(day, time).replace(tzinfo=zone)


def generate_default_schedule(cohort, *, user=None, entries=DEFAULT_SCHEDULE):
    """The default schedule from the cohort's first day, with each topic's deliverables.

    Days are stretched or shrunk for a cohort that is not 8 months long. `user` None is
    the demo loader. Raises ValidationError when the cohort has milestones already.
    """
    if user is not None:
        require_organiser(user)
    span = (cohort.ends_on - cohort.starts_on).days + 1
    default_span = (
        Cohort(starts_on=cohort.starts_on, length_months=DEFAULT_SCHEDULE_MONTHS).ends_on
        - cohort.starts_on
    ).days + 1
    scale = 1 if cohort.length_months == DEFAULT_SCHEDULE_MONTHS else span / default_span
    zone = cohort.zone
    with transaction.atomic():
        Cohort.objects.select_for_update().get(pk=cohort.pk)
        if cohort.milestones.exists():
            raise ValidationError(
                _("This cohort has a schedule already: change its milestones instead.")
            )
        topics = list(Topic.objects.order_by("position", "id"))
        milestones = []
        with translation.override(settings.LANGUAGE_CODE):
            for entry in entries:
                day = cohort.starts_on + datetime.timedelta(
                    days=min(round(entry.day * scale), span - 1)
                )
                starts_at = local_datetime(day, entry.time, zone)
                milestone = Milestone.objects.create(
                    cohort=cohort,
                    kind=entry.kind,
                    title=str(entry.title),
                    starts_at=starts_at,
                    ends_at=starts_at + datetime.timedelta(hours=entry.hours)
                    if entry.hours
                    else None,
                    location=str(entry.location or (ONLINE if entry.online else "")),
                )
                if entry.deliverable:
                    title, description = (str(text) for text in entry.deliverable)
                    Deliverable.objects.bulk_create(
                        Deliverable(
                            milestone=milestone, topic=topic, title=title, description=description
                        )
                        for topic in topics
                    )
                milestones.append(milestone)
    return milestones


# --- Milestones ---------------------------------------------------------------------------


def cohort_topics(cohort):
    """Topics the cohort has a group in: members, invitations waiting, or deliverables."""
    member_topics = Member.objects.filter(cohort=cohort).values("topic")
    invited_topics = Invitation.objects.pending().filter(cohort=cohort).values("topic")
    deliverable_topics = Deliverable.objects.filter(milestone__cohort=cohort).values("topic")
    return Topic.objects.filter(
        Q(pk__in=member_topics) | Q(pk__in=invited_topics) | Q(pk__in=deliverable_topics)
    ).order_by("position", "id")


def programme_bounds(cohort):
    """The first and the last moment of the cohort's programme, in its time zone."""
    zone = cohort.zone
    return (
        local_datetime(cohort.starts_on, datetime.time(), zone),
        local_datetime(cohort.ends_on + datetime.timedelta(days=1), datetime.time(), zone),
    )


def validate_milestone(milestone):
    """Raise ValidationError, by field, when the milestone does not fit its cohort."""
    cohort, errors = milestone.cohort, {}
    first, last = programme_bounds(cohort)
    outside = _("Outside the cohort's programme: choose a time from %(start)s to %(end)s.") % {
        "start": formats.date_format(cohort.starts_on, "DATE_FORMAT"),
        "end": formats.date_format(cohort.ends_on, "DATE_FORMAT"),
    }
    if milestone.starts_at and not first <= milestone.starts_at < last:
        errors["starts_at"] = outside
    if milestone.ends_at and milestone.starts_at and milestone.ends_at < milestone.starts_at:
        errors["ends_at"] = _("The end is before the start.")
    elif milestone.ends_at and not first <= milestone.ends_at <= last:
        errors["ends_at"] = outside
    if milestone.topic_id and not cohort_topics(cohort).filter(pk=milestone.topic_id).exists():
        errors["topic"] = _("No group of this cohort works on this topic.")
    if errors:
        raise ValidationError(errors)
    milestone.full_clean(exclude=["cohort", "forum"])


def milestone_fields(fields):
    """The editable fields given, text fields left empty as ""."""
    values = {name: fields[name] for name in EDITABLE if name in fields}
    for name in ("title", "description", "location", "online_url"):
        if name in values and values[name] is None:
            values[name] = ""
    return values


def create_milestone(cohort, *, user, **fields):
    """A new milestone in the cohort's schedule. Raises ValidationError, PermissionDenied."""
    require_organiser(user)
    milestone = Milestone(cohort=cohort, **milestone_fields(fields))
    validate_milestone(milestone)
    with transaction.atomic():
        milestone.save()
    return milestone


def update_milestone(milestone, *, user, **fields):
    """Change a milestone; its unsent reminders follow the new time, kind and topic.

    A change of time is a new schedule revision (`sequence`): calendar apps update the
    event, and members are reminded of the new time even if reminded of the old one.
    """
    require_organiser(user)
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("cohort").get(pk=milestone.pk)
        )
        before = {name: getattr(milestone, name) for name in (*TIMES, "kind", "topic_id")}
        for name, value in milestone_fields(fields).items():
            setattr(milestone, name, value)
        validate_milestone(milestone)
        if any(getattr(milestone, name) != before[name] for name in TIMES):
            milestone.sequence += 1
        milestone.save()
        if any(getattr(milestone, name) != value for name, value in before.items()):
            reminders.reschedule_reminders(milestone)
    return milestone


def remove_milestone(milestone, *, user):
    """Remove a milestone; return how many unsent reminders were cancelled (the log keeps
    them, and the sent ones).

    A deadline's deliverables go with it, unless a group has handed something in: then it
    is refused with a ValidationError, since the work must keep its deadline.
    """
    require_organiser(user)
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        deliverables = Deliverable.objects.filter(milestone=milestone)
        if deliverables.filter(submissions__isnull=False).exists():
            raise ValidationError(
                _("Groups have handed in work for this deadline: move it instead of removing it.")
            )
        cancelled = reminders.cancel_reminders(milestone)
        deliverables.delete()
        milestone.delete()
    return cancelled


def send_milestone_reminders_now(milestone, *, user, now=None):
    """Send now the reminder members would get next about this milestone; return how many
    are queued. Members who had it already are not sent it again.

    Raises ValidationError when the cohort is not running or the milestone has no reminder
    left to send.
    """
    require_organiser(user)
    now = now or timezone.now()
    cohort = milestone.cohort
    if not reminders.cohort_is_running(cohort, now):
        raise ValidationError(
            _("Reminders go out only while the cohort runs, from %(start)s to %(end)s.")
            % {
                "start": formats.date_format(cohort.starts_on, "DATE_FORMAT"),
                "end": formats.date_format(cohort.ends_on, "DATE_FORMAT"),
            }
        )
    slot = reminders.next_slot(milestone, now=now)
    if slot is None:
        raise ValidationError(_("This milestone has passed; it has no reminders left to send."))
    with transaction.atomic():
        reminders.create_reminders([slot], due_at=now)
        milestone.reminders.filter(
            offset=slot.offset, sequence=milestone.sequence, status=Reminder.Status.PENDING
        ).update(due_at=now)
        claim, claimed = reminders.claim_due_reminders(now=now, milestone=milestone)
        size = settings.REMINDER_CHUNK_SIZE
        tasks.queue_reminder_chunks(
            claim, [claimed[i : i + size] for i in range(0, len(claimed), size)]
        )
    return len(claimed)
