"""Reminders about milestones: which are due and for whom, and sending each exactly once.

How a reminder travels (the rules of issue 6, in the order they apply):

1. `sweep_reminders` (beat, every REMINDER_SWEEP_SECONDS) finds the (milestone, offset)
   pairs whose reminder time fell in the last REMINDER_CATCH_UP_HOURS and that have no rows
   yet, with one indexed query on `Milestone.starts_at`, and has the database write one row
   per member concerned (INSERT … SELECT over the members, conflicts on the unique key
   milestone × member × offset × schedule revision ignored, so two sweeps create each row
   once). Members who opted out, whose group has handed in, or who have no email address
   get a row that says so (skipped, with the reason).
2. It then claims, with one UPDATE … RETURNING on PostgreSQL (rows locked with SKIP
   LOCKED), the rows that are pending and due and those a worker that died still holds
   (queued or sending for longer than REMINDER_LEASE_SECONDS), under a fresh claim id; the
   task queues them in chunks. Rows created by a sweep that stopped before its claim are
   claimed by the next one.
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
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    DurationField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.constants import OnConflict
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


def new_slots_due(start, end):
    """The reminders due in (start, end] of running cohorts that have no rows yet: one
    query, on starts_at, which also asks of each milestone whether each offset's rows exist
    (for its current schedule revision), so that a quiet sweep does not write at all.

    A member who joins after a slot's rows were created is not added to it.
    """
    offsets = sorted(all_offsets())
    conditions = Q()
    for offset in offsets:
        kinds = [kind for kind in Milestone.Kind.values if offset in offsets_for(kind)]
        conditions |= Q(
            kind__in=kinds,
            starts_at__gt=start - offset - SLACK,
            starts_at__lte=end - offset + SLACK,
        )
    if not conditions:
        return []
    created = {
        f"created_{i}": Exists(
            Reminder.objects.filter(
                milestone=OuterRef("pk"), offset=offset, sequence=OuterRef("sequence")
            )
        )
        for i, offset in enumerate(offsets)
    }
    milestones = Milestone.objects.filter(conditions).select_related("cohort").annotate(**created)
    return [
        slot
        for milestone in milestones
        for slot in milestone_slots(milestone)
        if start < slot.due_at <= end
        and cohort_is_running(milestone.cohort, slot.due_at)
        and not getattr(milestone, f"created_{offsets.index(slot.offset)}")
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


def skip_reason_sql(milestone):
    """Audience.skip_reason as SQL, for a row of Member and this milestone: the reason in
    the source language, or "". The same rules in the same order; a test holds both equal.
    """
    opted_out = Exists(ReminderOptOut.objects.filter(member=OuterRef("pk"), kind=milestone.kind))
    rules = [When(opted_out, then=Value(OPTED_OUT))]
    if milestone.is_deadline:
        group = Deliverable.objects.filter(milestone=milestone.pk, topic=OuterRef("topic"))
        missing = group.exclude(Exists(Submission.objects.filter(deliverable=OuterRef("pk"))))
        rules.append(When(Exists(group) & ~Exists(missing), then=Value(HANDED_IN)))
    rules.append(
        When(
            Q(user__isnull=True) | Q(user__email="") | Q(user__is_active=False),
            then=Value(NO_EMAIL),
        )
    )
    return Case(*rules, default=Value(""), output_field=TextField())


def slot_rows(slot, *, due_at=None):
    """The rows of one slot as a SELECT over the members it concerns, in INSERT_COLUMNS."""
    milestone = slot.milestone
    members = Member.objects.active().filter(cohort_id=milestone.cohort_id)
    if milestone.topic_id is not None:
        members = members.filter(topic_id=milestone.topic_id)
    return (
        members.annotate(
            r_milestone=Value(milestone.pk, output_field=IntegerField()),
            r_title=Value(milestone.title, output_field=CharField()),
            r_offset=Value(slot.offset, output_field=DurationField()),
            r_sequence=Value(milestone.sequence, output_field=IntegerField()),
            r_due_at=Value(due_at or slot.due_at, output_field=DateTimeField()),
            r_reason=skip_reason_sql(milestone),
        )
        .annotate(
            r_status=Case(
                When(r_reason="", then=Value(Reminder.Status.PENDING)),
                default=Value(Reminder.Status.SKIPPED),
                output_field=CharField(),
            ),
            r_attempts=Value(0, output_field=IntegerField()),
        )
        .order_by()
        .values_list(
            "r_milestone",
            "r_title",
            "pk",
            "r_offset",
            "r_sequence",
            "r_due_at",
            "r_status",
            "r_reason",
            "r_attempts",
        )
    )


# The columns slot_rows selects, in its order.
INSERT_COLUMNS = [
    "milestone",
    "milestone_title",
    "member",
    "offset",
    "sequence",
    "due_at",
    "status",
    "reason",
    "attempts",
]
# Slots per INSERT: SQLite allows 500 SELECTs in one compound statement.
SLOTS_PER_INSERT = 200


def create_reminders(slots, *, due_at=None):
    """Save the rows of `slots`, one per member each concerns: pending, or skipped with why
    (opted out, group handed in, no email address). A row that exists (same key) is left as
    it is. Returns how many were created.

    The database writes them from the members' rows: one INSERT … SELECT per
    SLOTS_PER_INSERT slots, no query to read the members first, and no transaction of its
    own (one statement is atomic).
    """
    created = 0
    for i in range(0, len(slots), SLOTS_PER_INSERT):
        first, *rest = [slot_rows(slot, due_at=due_at) for slot in slots[i : i + SLOTS_PER_INSERT]]
        select = first.union(*rest, all=True) if rest else first
        created += insert_ignoring_conflicts(Reminder, INSERT_COLUMNS, select)
    return created


def insert_ignoring_conflicts(model, names, select):
    """INSERT INTO model (names) <select>, rows that would break a unique key left out (as
    bulk_create(ignore_conflicts=True) does); returns how many rows were inserted."""
    fields = [model._meta.get_field(name) for name in names]
    ops = db_connection.ops
    quote = ops.quote_name
    sql, params = select.query.get_compiler(connection=db_connection).as_sql()
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    statement = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) {sql} {suffix}"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


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


def claim_for_sweep(*, now):
    """Requeue what dead workers held and claim what is due: (claim id, [ids], requeued).

    On PostgreSQL one statement: an UPDATE of the rows, locked with SKIP LOCKED, that are
    pending and due or queued or sending past their lease (a dead worker's), which takes
    them under a fresh claim at once and returns their ids; a row taken back from a dead
    worker says why. Elsewhere the requeue and then claim_due_reminders.
    """
    if db_connection.vendor != "postgresql":
        requeued = requeue_abandoned(now=now)
        return *claim_due_reminders(now=now), requeued
    claim = uuid.uuid4()
    table = db_connection.ops.quote_name(Reminder._meta.db_table)
    statuses = Reminder.Status
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS reminder
            SET status = %(claimed)s, claim = %(claim)s, claimed_at = %(now)s,
                reason = CASE WHEN due.status = %(pending)s THEN reminder.reason
                              ELSE %(lost)s END
            FROM (
                SELECT id, status FROM {table}
                WHERE (status = %(pending)s AND due_at <= %(now)s)
                   OR (status IN (%(claimed)s, %(sending)s) AND claimed_at < %(cutoff)s)
                ORDER BY due_at, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ) AS due
            WHERE reminder.id = due.id
            RETURNING reminder.id, reminder.due_at, due.status
            """,
            {
                "pending": statuses.PENDING,
                "claimed": statuses.CLAIMED,
                "sending": statuses.SENDING,
                "claim": claim,
                "now": now,
                "cutoff": now - datetime.timedelta(seconds=settings.REMINDER_LEASE_SECONDS),
                "lost": WORKER_LOST,
                "limit": settings.REMINDER_SWEEP_LIMIT,
            },
        )
        rows = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
    requeued = sum(1 for _id, _due_at, was in rows if was != statuses.PENDING)
    return claim, [row[0] for row in rows], requeued


def sweep_reminders(*, now=None):
    """Create the reminders due now, recover those of dead workers, claim what is to send.

    Its queries do not grow with the size of the schedules: the milestones due with whether
    their reminders exist; when some are new, one INSERT … SELECT per SLOTS_PER_INSERT
    slots; the claim (on PostgreSQL one UPDATE that also takes back what dead workers held;
    elsewhere the requeue, then a SELECT and an UPDATE in a transaction). So on PostgreSQL
    3 queries when something is new, 2 when nothing is. No transaction around them: each
    statement is atomic, and rows created but not claimed (a sweep that stopped between
    the two) are claimed by the next sweep. Returns a Sweep; its caller queues the chunks.
    """
    now = now or timezone.now()
    sweep = Sweep()
    sweep.created = create_reminders(new_slots_due(now - catch_up(), now))
    sweep.claim, sweep.claimed, sweep.requeued = claim_for_sweep(now=now)
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
