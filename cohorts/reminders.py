"""Reminders about milestones: which are due and for whom, and sending each exactly once.

How a reminder travels (the rules of issue 6, in the order they apply):

1. `sweep_reminders` (beat, every REMINDER_SWEEP_SECONDS) finds the (milestone, offset)
   pairs whose reminder time fell in the last REMINDER_CATCH_UP_HOURS, with one indexed
   query on `Milestone.starts_at`, and creates one row per member concerned in bulk
   (`ignore_conflicts` on the unique key milestone × member × offset × schedule revision,
   so two sweeps create each row once). Members who opted out, whose group has handed in,
   or who have no email address get a row that says so (skipped, with the reason).
2. It gives back rows claimed by a worker that died (older than REMINDER_LEASE_SECONDS),
   then claims due rows with one UPDATE … WHERE status = 'pending' under a fresh claim id
   (rows locked with SKIP LOCKED on PostgreSQL), all in the transaction that created the
   rows, and the task queues them in chunks once it commits.
3. `deliver_reminders` (the send task) takes each row of its chunk from queued to sending
   with an UPDATE that checks the claim, sends the email, then marks it sent and creates
   the portal notification in one transaction. A mail server error puts the row back to
   queued for a retry with backoff; after REMINDER_MAX_ATTEMPTS it is failed, with why.

Exactly once, and the one window where it is not: a row is sent only by the task holding
its claim, and a duplicate task (a broker redelivery, two sweeps) finds it no longer
queued. If a worker dies after the mail server accepted a message but before the row is
marked sent, the row stays `sending` until its lease runs out and is then sent again: that
one message can arrive twice. Each worker sends one message at a time, so the window never
covers more than one message per worker that dies.
"""

import datetime
import smtplib
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_noop

from cohorts.mail import absolute_url, send_email
from cohorts.models import Member, Milestone, Notification, Reminder, ReminderOptOut
from topics.models import Deliverable, Submission

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)
# A reminder's time is the local reminder hour on a day near the milestone's: its milestone
# starts within this much of (reminder time − offset), whatever the hour and DST.
SLACK = datetime.timedelta(hours=26)
UNSENT = (Reminder.Status.PENDING, Reminder.Status.CLAIMED)
# The mail server's failures that may pass: worth a retry. Anything else is a bug.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)

# Why a reminder was not sent, in the source language; pages show them translated.
OPTED_OUT = gettext_noop("The member opted out of reminders of this kind.")
HANDED_IN = gettext_noop("The member's group has handed in.")
NO_EMAIL = gettext_noop("The member has no email address.")
NOT_RUNNING = gettext_noop("The cohort is not running.")
PASSED = gettext_noop("The milestone has passed.")
REMOVED = gettext_noop("The milestone was removed.")
MOVED_TOO_LATE = gettext_noop("The milestone moved and this reminder's new time has passed.")
KIND_CHANGED = gettext_noop("The milestone's kind changed.")
NOT_CONCERNED = gettext_noop("The milestone no longer concerns the member.")
WORKER_LOST = gettext_noop("A worker stopped before it finished; queued again.")


# --- When ---------------------------------------------------------------------------------


def offsets_for(kind):
    """The offsets of a milestone kind's reminders (REMINDER_OFFSETS), as timedeltas."""
    return [
        value if isinstance(value, datetime.timedelta) else datetime.timedelta(days=value)
        for value in settings.REMINDER_OFFSETS.get(kind, [])
    ]


def all_offsets():
    return {offset for kind in Milestone.Kind.values for offset in offsets_for(kind)}


def reminder_due_at(starts_at, offset, zone):
    """When the reminder at `offset` from `starts_at` goes out.

    Whole days count in the milestone's local calendar and land on REMINDER_LOCAL_HOUR that
    day, so "7 days before" is 09:00 a week earlier even across a daylight-saving change;
    a shorter offset counts from the exact time.
    """
    if offset % DAY:
        return starts_at + offset
    day = starts_at.astimezone(zone).date() + offset
    local = datetime.datetime.combine(day, datetime.time(settings.REMINDER_LOCAL_HOUR))
    return local.replace(tzinfo=zone).astimezone(UTC)


def cohort_is_running(cohort, moment):
    return cohort.starts_on <= moment.astimezone(cohort.zone).date() <= cohort.ends_on


def catch_up():
    return datetime.timedelta(hours=settings.REMINDER_CATCH_UP_HOURS)


@dataclass(frozen=True)
class Slot:
    """One reminder of one milestone, for every member it concerns."""

    milestone: Milestone
    offset: datetime.timedelta
    due_at: datetime.datetime


def slots_due(start, end):
    """The reminders due in (start, end] of running cohorts: one query, on starts_at."""
    conditions = Q()
    for offset in all_offsets():
        kinds = [kind for kind in Milestone.Kind.values if offset in offsets_for(kind)]
        conditions |= Q(
            kind__in=kinds,
            starts_at__gt=start - offset - SLACK,
            starts_at__lte=end - offset + SLACK,
        )
    if not conditions:
        return []
    milestones = Milestone.objects.filter(conditions).select_related("cohort")
    return [
        slot
        for milestone in milestones
        for slot in milestone_slots(milestone)
        if start < slot.due_at <= end and cohort_is_running(milestone.cohort, slot.due_at)
    ]


def milestone_slots(milestone):
    """Each reminder of the milestone, in time order."""
    zone = milestone.cohort.zone
    return sorted(
        (
            Slot(milestone, offset, reminder_due_at(milestone.starts_at, offset, zone))
            for offset in offsets_for(milestone.kind)
        ),
        key=lambda slot: slot.due_at,
    )


# --- For whom -----------------------------------------------------------------------------


def handed_in_groups(milestone_ids):
    """{(milestone id, topic id)} of the groups that handed in every deliverable due then."""
    handed = Exists(Submission.objects.filter(deliverable=OuterRef("pk")))
    groups = {}
    for milestone_id, topic_id, has in (
        Deliverable.objects.filter(milestone_id__in=milestone_ids)
        .annotate(has=handed)
        .values_list("milestone_id", "topic_id", "has")
    ):
        groups[milestone_id, topic_id] = groups.get((milestone_id, topic_id), True) and has
    return {key for key, done in groups.items() if done}


def members_with_opt_outs(cohort_ids, kinds):
    """The active members of the cohorts and {(member id, kind)} of their opt-outs among
    `kinds`: one query, the opt-outs read as one EXISTS per kind.
    """
    opted_out = {
        f"opted_out_{kind}": Exists(ReminderOptOut.objects.filter(member=OuterRef("pk"), kind=kind))
        for kind in kinds
    }
    members = list(
        Member.objects.active()
        .filter(cohort_id__in=cohort_ids)
        .annotate(**opted_out)
        .select_related("user")
        .order_by("id")
    )
    return members, {
        (member.pk, kind)
        for member in members
        for kind in kinds
        if getattr(member, f"opted_out_{kind}")
    }


@dataclass
class Audience:
    """The members a set of milestones concerns, and what would keep each from a reminder."""

    members: list
    opt_outs: set
    handed_in: set

    @classmethod
    def of(cls, milestones, *, members=None):
        """At most two queries, whatever the number of milestones and members: the members
        with their opt-outs (only the opt-outs when given the members), and the groups that
        handed in when a deadline is among the milestones.
        """
        milestones = [m for m in milestones if m is not None]
        if members is None:
            members, opt_outs = members_with_opt_outs(
                {m.cohort_id for m in milestones}, {m.kind for m in milestones}
            )
        else:
            opt_outs = set(
                ReminderOptOut.objects.filter(member__in=[m.pk for m in members]).values_list(
                    "member_id", "kind"
                )
            )
        deadlines = [m.pk for m in milestones if m.is_deadline]
        return cls(members, opt_outs, handed_in_groups(deadlines) if deadlines else set())

    def recipients(self, milestone):
        return [
            member
            for member in self.members
            if member.cohort_id == milestone.cohort_id
            and (milestone.topic_id is None or member.topic_id == milestone.topic_id)
        ]

    def skip_reason(self, milestone, member):
        """Why this member gets no reminder about this milestone, or ""."""
        if (member.pk, milestone.kind) in self.opt_outs:
            return OPTED_OUT
        if milestone.is_deadline and (milestone.pk, member.topic_id) in self.handed_in:
            return HANDED_IN
        if member.user is None or not member.user.email or not member.user.is_active:
            return NO_EMAIL
        return ""


def reminder_rows(slots, audience, *, due_at=None):
    """Unsaved rows for each slot and member concerned: pending, or skipped with why."""
    rows = []
    for slot in slots:
        milestone = slot.milestone
        for member in audience.recipients(milestone):
            reason = audience.skip_reason(milestone, member)
            rows.append(
                Reminder(
                    milestone=milestone,
                    milestone_title=milestone.title,
                    member=member,
                    offset=slot.offset,
                    sequence=milestone.sequence,
                    due_at=due_at or slot.due_at,
                    status=Reminder.Status.SKIPPED if reason else Reminder.Status.PENDING,
                    reason=reason,
                )
            )
    return rows


def not_yet_created(slots):
    """The slots that have no rows yet: one query, so a quiet sweep does not write at all.

    A member who joins after a slot's rows were created is not added to it.
    """
    if not slots:
        return []
    done = set(
        Reminder.objects.filter(milestone__in={slot.milestone.pk for slot in slots})
        .values_list("milestone_id", "offset", "sequence")
        .distinct()
    )
    return [
        slot
        for slot in slots
        if (slot.milestone.pk, slot.offset, slot.milestone.sequence) not in done
    ]


def create_reminders(slots, *, due_at=None):
    """Save the rows of `slots`; a row that exists (same key) is left as it is.

    One INSERT per 2,000 rows (fewer rows per INSERT on SQLite: Django keeps each under
    its limit of parameters).
    """
    if not slots:
        return 0
    rows = reminder_rows(slots, Audience.of([slot.milestone for slot in slots]), due_at=due_at)
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return len(rows)


# --- The sweep ----------------------------------------------------------------------------


@dataclass
class Sweep:
    """What a sweep did; `chunks` of the reminders it claimed under `claim` are to be sent."""

    created: int = 0
    requeued: int = 0
    claim: uuid.UUID | None = None
    claimed: list = field(default_factory=list)

    @property
    def chunks(self):
        size = settings.REMINDER_CHUNK_SIZE
        return [self.claimed[i : i + size] for i in range(0, len(self.claimed), size)]


def requeue_abandoned(*, now):
    """Queued or sending rows older than the lease go back to pending: their worker died."""
    cutoff = now - datetime.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    return Reminder.objects.filter(
        status__in=[Reminder.Status.CLAIMED, Reminder.Status.SENDING], claimed_at__lt=cutoff
    ).update(status=Reminder.Status.PENDING, claim=None, reason=WORKER_LOST)


def claim_due_reminders(*, now, milestone=None, limit=None):
    """Claim pending rows due by `now` for one sender: (claim id, [reminder ids]).

    Two sweeps at once claim different rows: the UPDATE only takes rows still pending, and
    the claim id says which rows this caller won. When the UPDATE took as many rows as were
    selected it won them all (always so on PostgreSQL, where the selected rows are locked);
    only otherwise are the won rows read back, with a third query.
    """
    claim = uuid.uuid4()
    due = Reminder.objects.filter(status=Reminder.Status.PENDING, due_at__lte=now)
    if milestone is not None:
        due = due.filter(milestone=milestone)
    # No savepoint inside a caller's transaction: a failure here fails the caller's too.
    with transaction.atomic(savepoint=False):
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(
            due.order_by("due_at", "id").values_list("pk", flat=True)[
                : limit or settings.REMINDER_SWEEP_LIMIT
            ]
        )
        if not ids:
            return claim, []
        taken = Reminder.objects.filter(pk__in=ids, status=Reminder.Status.PENDING).update(
            status=Reminder.Status.CLAIMED, claim=claim, claimed_at=now
        )
        if taken != len(ids):
            ids = list(
                Reminder.objects.filter(pk__in=ids, claim=claim)
                .order_by("due_at", "id")
                .values_list("pk", flat=True)
            )
    return claim, ids


def sweep_reminders(*, now=None):
    """Create the reminders due now, recover those of dead workers, claim what is to send.

    One transaction, whose queries do not grow with the size of the schedules: the
    milestones due and which of their reminders exist; when some are new, their members
    with the opt-outs, the groups that handed in (if a deadline is among them) and one
    INSERT per 2,000 rows; the requeue; the claim (a SELECT, and an UPDATE when something
    is due). On PostgreSQL, counting BEGIN and COMMIT: at most 10 queries for up to 2,000
    new rows, 6 when nothing is new. Returns a Sweep; its caller queues the chunks after the
    commit.
    """
    now = now or timezone.now()
    sweep = Sweep()
    with transaction.atomic():
        sweep.created = create_reminders(not_yet_created(slots_due(now - catch_up(), now)))
        sweep.requeued = requeue_abandoned(now=now)
        sweep.claim, sweep.claimed = claim_due_reminders(now=now)
    return sweep


def release_claim(reminder_ids, *, claim):
    """Rows of a claim not yet taken go back to pending (a send task ran out of time)."""
    return Reminder.objects.filter(
        pk__in=reminder_ids, claim=claim, status=Reminder.Status.CLAIMED
    ).update(status=Reminder.Status.PENDING, claim=None)


# --- Sending ------------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    retry: list = field(default_factory=list)
    retry_after: int = 0


def retry_delay(attempts):
    """Seconds before the next attempt: doubling from REMINDER_RETRY_SECONDS, capped short.

    The cap keeps the wait well inside the lease, so no retry waits in the broker long.
    """
    return min(
        settings.REMINDER_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
        settings.REMINDER_LEASE_SECONDS // 2,
    )


def why_not_send(reminder, audience, now):
    """(status, reason) when the reminder must not go out now, else None."""
    milestone = reminder.milestone
    if milestone is None:
        return Reminder.Status.CANCELLED, REMOVED
    if not cohort_is_running(milestone.cohort, now):
        return Reminder.Status.SKIPPED, NOT_RUNNING
    if not reminder.is_after and milestone.starts_at <= now:
        return Reminder.Status.SKIPPED, PASSED
    reason = audience.skip_reason(milestone, reminder.member)
    if reason:
        return Reminder.Status.SKIPPED, reason
    return None


def deliver_reminders(reminder_ids, *, claim, now=None):
    """Send the claimed reminders among `reminder_ids`, each at most once.

    Opt-outs, hand-ins and the milestone are checked again first. Returns a Delivery: the
    ids sent, skipped, failed, and those to retry after `retry_after` seconds. Side effects:
    emails, notifications, the rows' status.

    Duplicate window: a worker that dies between the mail server's acceptance and the
    UPDATE to sent leaves the row `sending`; once the lease runs out the sweep queues it
    again and that one message is sent twice. Nothing else can send a reminder twice.
    """
    now = now or timezone.now()
    delivery = Delivery()
    reminders = list(
        Reminder.objects.filter(pk__in=reminder_ids, claim=claim, status=Reminder.Status.CLAIMED)
        .select_related("milestone__cohort", "milestone__topic", "member__user", "member__cohort")
        .order_by("due_at", "id")
    )
    if not reminders:
        return delivery
    audience = Audience.of(
        {r.milestone_id: r.milestone for r in reminders}.values(),
        members=list({r.member_id: r.member for r in reminders}.values()),
    )
    mine = Reminder.objects.filter(claim=claim)
    mail = get_connection()
    try:
        for reminder in reminders:
            deliver_one(reminder, mine=mine, audience=audience, mail=mail, now=now, into=delivery)
    finally:
        mail.close()
    return delivery


def deliver_one(reminder, *, mine, audience, mail, now, into):
    row = mine.filter(pk=reminder.pk)
    verdict = why_not_send(reminder, audience, now)
    if verdict:
        status, reason = verdict
        if row.filter(status=Reminder.Status.CLAIMED).update(status=status, reason=reason):
            into.skipped.append(reminder.pk)
        return
    if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        if row.filter(status=Reminder.Status.CLAIMED).update(status=Reminder.Status.FAILED):
            into.failed.append(reminder.pk)
        return
    # Taking the row: a second copy of this task, or a late one, finds it taken and stops.
    taken = row.filter(status=Reminder.Status.CLAIMED).update(
        status=Reminder.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not taken:
        return
    attempts = reminder.attempts + 1
    try:
        send_reminder_email(reminder, connection=mail)
    except TRANSIENT_ERRORS as error:
        mail.close()  # a failed connection is opened afresh for the next message
        reason = f"{type(error).__name__}: {error}"[:1000]
        sending = row.filter(status=Reminder.Status.SENDING)
        if attempts >= settings.REMINDER_MAX_ATTEMPTS:
            sending.update(status=Reminder.Status.FAILED, reason=reason)
            into.failed.append(reminder.pk)
        else:
            sending.update(status=Reminder.Status.CLAIMED, reason=reason)
            into.retry.append(reminder.pk)
            into.retry_after = max(into.retry_after, retry_delay(attempts))
        return
    with transaction.atomic():
        if row.filter(status=Reminder.Status.SENDING).update(
            status=Reminder.Status.SENT, sent_at=timezone.now(), reason=""
        ):
            notify_member(reminder)
            into.sent.append(reminder.pk)


def reminder_context(reminder):
    milestone, member = reminder.milestone, reminder.member
    return {
        "reminder": reminder,
        "milestone": milestone,
        "cohort": milestone.cohort,
        "member": member,
        "zone": member.time_zone or milestone.cohort.time_zone,
        "is_overdue": reminder.is_after and milestone.is_deadline,
        "url": absolute_url(milestone.get_absolute_url()),
    }


def send_reminder_email(reminder, *, connection=None):
    user = reminder.member.user
    send_email(
        to=user.email,
        template="cohorts/email/reminder",
        context=reminder_context(reminder),
        language=user.language,
        connection=connection,
    )


def when_text(moment, zone):
    local = timezone.localtime(moment, zone)
    return (
        f"{formats.date_format(local, 'DATE_FORMAT')} {formats.time_format(local, 'TIME_FORMAT')}"
    )


def notify_member(reminder):
    milestone, member = reminder.milestone, reminder.member
    with translation.override(member.user.language):
        if reminder.is_after and milestone.is_deadline:
            text = gettext("Overdue: %(title)s was due %(when)s.")
        else:
            text = gettext("Reminder: %(title)s, %(when)s.")
        text %= {"title": milestone.title, "when": when_text(milestone.starts_at, member.zone)}
    Notification.objects.create(
        recipient=member.user, text=text[:300], url=milestone.get_absolute_url()
    )


# --- When milestones change ---------------------------------------------------------------


def reschedule_reminders(milestone, *, now=None):
    """Unsent reminders follow a changed milestone: its new time, kind and topic.

    Rows still waiting move to the new schedule revision and time (a row whose new time is
    past the catch-up window is cancelled); rows for an offset the kind no longer has, or
    for members the milestone no longer concerns, are cancelled. Rows being sent or sent
    stay as they are: they were about the old time, and the new time gets its own rows.
    """
    now = now or timezone.now()
    unsent = Reminder.objects.filter(milestone=milestone, status__in=UNSENT)
    unsent.exclude(offset__in=offsets_for(milestone.kind)).update(
        status=Reminder.Status.CANCELLED, reason=KIND_CHANGED, claim=None
    )
    if milestone.topic_id:
        unsent.exclude(member__topic_id=milestone.topic_id).update(
            status=Reminder.Status.CANCELLED, reason=NOT_CONCERNED, claim=None
        )
    for slot in milestone_slots(milestone):
        rows = unsent.filter(offset=slot.offset)
        if slot.due_at <= now - catch_up():
            rows.update(status=Reminder.Status.CANCELLED, reason=MOVED_TOO_LATE, claim=None)
        else:
            rows.update(
                due_at=slot.due_at,
                sequence=milestone.sequence,
                status=Reminder.Status.PENDING,
                claim=None,
                claimed_at=None,
            )


def cancel_reminders(milestone, *, reason=REMOVED):
    """Unsent reminders of the milestone are cancelled; returns how many."""
    return Reminder.objects.filter(milestone=milestone, status__in=UNSENT).update(
        status=Reminder.Status.CANCELLED, reason=reason, claim=None
    )


def next_slot(milestone, *, now):
    """The reminder members would get next: before the milestone while it is ahead, after
    it once it has passed; the latest one gone by when none is left. None if it has none.
    """
    ahead = now < milestone.starts_at
    slots = [slot for slot in milestone_slots(milestone) if (slot.offset < DAY * 0) == ahead]
    upcoming = [slot for slot in slots if slot.due_at > now]
    if upcoming:
        return upcoming[0]
    return slots[-1] if slots else None


# --- The organisers' outbox ---------------------------------------------------------------


@dataclass
class OutboxEntry:
    slot: Slot
    recipients: int
    skipped: dict  # reason → count


def outbox(cohort, *, now=None, days=7):
    """The reminders the sweep will send for `cohort` in the next `days`: three queries."""
    now = now or timezone.now()
    end = now + datetime.timedelta(days=days)
    conditions = Q()
    for offset in all_offsets():
        conditions |= Q(starts_at__gt=now - offset - SLACK, starts_at__lte=end - offset + SLACK)
    milestones = list(
        Milestone.objects.filter(conditions, cohort=cohort).select_related("cohort", "topic")
    )
    slots = [
        slot
        for milestone in milestones
        for slot in milestone_slots(milestone)
        if now < slot.due_at <= end and cohort_is_running(cohort, slot.due_at)
    ]
    audience = Audience.of(milestones)
    entries = []
    for slot in sorted(slots, key=lambda s: (s.due_at, s.milestone.pk)):
        skipped = {}
        members = audience.recipients(slot.milestone)
        for member in members:
            reason = audience.skip_reason(slot.milestone, member)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
        entries.append(OutboxEntry(slot, len(members) - sum(skipped.values()), skipped))
    return entries
