"""Where each group's deliverables stand: the reads behind the dashboards, the board's CSV
and the progress chart. Each costs a fixed number of queries, whatever the cohort's size.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Min, OuterRef, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from cohorts.models import Cohort, Member, Milestone, add_months
from topics.models import Deliverable, Review, Submission, Topic


class State:
    NOT_STARTED = "not_started"
    HANDED_IN = "handed_in"
    CHANGES_REQUESTED = "changes_requested"
    ACCEPTED = "accepted"

    LABELS = {
        NOT_STARTED: _("Not started"),
        HANDED_IN: _("Handed in"),
        CHANGES_REQUESTED: _("Changes requested"),
        ACCEPTED: _("Accepted"),
    }


@dataclass
class Cell:
    """One deliverable of one group and where it stands."""

    deliverable: Deliverable
    latest: Submission | None = None

    @property
    def review_status(self):
        return getattr(self.latest, "latest_review_status", None) if self.latest else None

    @property
    def state(self):
        if self.latest is None:
            return State.NOT_STARTED
        if self.review_status == Review.Status.ACCEPTED:
            return State.ACCEPTED
        if self.review_status == Review.Status.CHANGES_REQUESTED:
            return State.CHANGES_REQUESTED
        return State.HANDED_IN

    @property
    def state_label(self):
        return State.LABELS[self.state]

    @property
    def is_late(self):
        """Handed in late, or nothing handed in and the due time has passed."""
        if self.latest is not None:
            return self.latest.is_late
        return self.deliverable.is_overdue

    @property
    def url(self):
        if self.latest is not None:
            return self.latest.get_absolute_url()
        return self.deliverable.get_absolute_url()


def latest_versions(deliverables):
    """{deliverable id: its latest version}, each with `latest_review_status`; one query."""
    newest = Submission.objects.filter(deliverable=OuterRef("deliverable")).order_by("-version")
    last_review = Review.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-id")
    versions = (
        Submission.objects.filter(deliverable__in=[d.pk for d in deliverables])
        .filter(version=Subquery(newest.values("version")[:1]))
        .annotate(latest_review_status=Subquery(last_review.values("status")[:1]))
        .select_related("member")
        # Not the model's order: by deliverable, it would join the deliverable's milestone
        # and topic for nothing (one row per deliverable goes into a dict).
        .order_by()
    )
    return {submission.deliverable_id: submission for submission in versions}


def cells(deliverables):
    latest = latest_versions(deliverables)
    for deliverable in deliverables:
        if deliverable.pk in latest:
            latest[deliverable.pk].deliverable = deliverable  # its cohort and topic are loaded
    return [Cell(deliverable, latest.get(deliverable.pk)) for deliverable in deliverables]


def group_deliverables(*, cohort_id, topic_id):
    return list(
        Deliverable.objects.filter(milestone__cohort_id=cohort_id, topic_id=topic_id)
        .select_related("milestone__cohort", "topic")
        .order_by("milestone__starts_at", "id")
    )


# --- The organisers' board ----------------------------------------------------------------


@dataclass
class Board:
    cohort: Cohort
    columns: list  # deadline milestones
    rows: list = field(default_factory=list)  # {"topic": Topic, "cells": [[Cell, …] per column]}
    cells: list = field(default_factory=list)

    def count(self, state):
        return sum(1 for cell in self.cells if cell.state == state)

    @property
    def totals(self):
        return [
            {"state": state, "label": label, "count": self.count(state)}
            for state, label in State.LABELS.items()
        ]


def build_board(cohort):
    """Topics × deadlines, each cell the deliverables of that group due then: 3 queries."""
    deliverables = list(
        Deliverable.objects.filter(milestone__cohort=cohort)
        .select_related("milestone__cohort", "topic")
        .order_by("milestone__starts_at", "milestone_id", "topic__position", "id")
    )
    columns = list({d.milestone_id: d.milestone for d in deliverables}.values())
    all_cells = cells(deliverables)
    board = Board(cohort=cohort, columns=columns, cells=all_cells)
    by_group = {}
    for cell in all_cells:
        key = (cell.deliverable.topic_id, cell.deliverable.milestone_id)
        by_group.setdefault(key, []).append(cell)
    topics = list(Topic.objects.order_by("position", "id"))
    board.rows = [
        {
            "topic": topic,
            "cells": [by_group.get((topic.pk, milestone.pk), []) for milestone in columns],
        }
        for topic in topics
    ]
    return board


def board_csv_rows(board):
    """The board as rows of text for a spreadsheet, with a header row."""
    yield [
        str(_("Topic")),
        str(_("Deliverable")),
        str(_("Due")),
        str(_("State")),
        str(_("Late")),
        str(_("Latest version")),
        str(_("Handed in at")),
        str(_("Handed in by")),
        str(_("Link")),
    ]
    zone = board.cohort.zone
    for cell in board.cells:
        deliverable, latest = cell.deliverable, cell.latest
        yield [
            deliverable.topic.name,
            deliverable.title,
            deliverable.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            str(cell.state_label),
            str(_("yes")) if cell.is_late else "",
            f"v{latest.version}" if latest else "",
            latest.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if latest else "",
            str(latest.member) if latest else "",
            cell.url,
        ]


# --- The progress chart -------------------------------------------------------------------

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 36


@dataclass
class Chart:
    width: int
    height: int
    plot: dict
    series: list
    ticks: list
    y_ticks: list
    today_x: float | None
    total: int
    handed_in: int
    accepted: int


def first_times(cohort):
    """{deliverable id: first hand-in time} and {deliverable id: first acceptance}: 2 queries."""
    handed = dict(
        Submission.objects.filter(deliverable__milestone__cohort=cohort)
        .values_list("deliverable")
        .annotate(first=Min("submitted_at"))
        .order_by()
    )
    accepted = dict(
        Review.objects.filter(
            submission__deliverable__milestone__cohort=cohort, status=Review.Status.ACCEPTED
        )
        .values_list("submission__deliverable")
        .annotate(first=Min("created_at"))
        .order_by()
    )
    return handed, accepted


def step_points(times, *, x, y, start, stop):
    """An SVG polyline's points for a count that steps up by one at each of `times`."""
    count, points = 0, [(x(start), y(0))]
    for moment in sorted(t for t in times if t <= stop):
        points += [(x(moment), y(count)), (x(moment), y(count + 1))]
        count += 1
    points.append((x(stop), y(count)))
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


def progress_chart(board, *, now=None):
    """Deliverables due, handed in and accepted over the cohort's months, as SVG geometry."""
    cohort = board.cohort
    now = now or timezone.now()
    zone = cohort.zone
    start = datetime.datetime.combine(cohort.starts_on, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(
        cohort.ends_on + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
    )
    total = len(board.cells)
    span = (end - start).total_seconds()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max(total, 1)

    def x(moment):
        seconds = min(max((moment - start).total_seconds(), 0), span)
        return LEFT + plot_w * seconds / span

    def y(value):
        return TOP + plot_h * (1 - value / top_value)

    handed, accepted = first_times(cohort)
    stop = min(max(now, start), end)
    series = [
        {
            "key": "due",
            "label": _("Due"),
            "points": step_points(
                [cell.deliverable.due_at for cell in board.cells], x=x, y=y, start=start, stop=end
            ),
        },
        {
            "key": "handed-in",
            "label": _("Handed in"),
            "points": step_points(handed.values(), x=x, y=y, start=start, stop=stop),
        },
        {
            "key": "accepted",
            "label": _("Accepted"),
            "points": step_points(accepted.values(), x=x, y=y, start=start, stop=stop),
        },
    ]
    ticks = []
    for month in range(cohort.length_months + 1):
        day = add_months(cohort.starts_on, month)
        moment = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
        ticks.append(
            {
                "x": f"{x(moment):.1f}",
                "label": formats.date_format(day, "MONTH_DAY_FORMAT")
                if month < cohort.length_months
                else "",
            }
        )
    step = max(1, -(-top_value // 4))
    y_ticks = [{"y": f"{y(value):.1f}", "label": value} for value in range(0, top_value + 1, step)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot={
            "left": LEFT,
            "right": WIDTH - RIGHT,
            "top": TOP,
            "bottom": HEIGHT - BOTTOM,
            "label_y": HEIGHT - BOTTOM + 20,
        },
        series=series,
        ticks=ticks,
        y_ticks=y_ticks,
        today_x=f"{x(now):.1f}" if start <= now <= end else None,
        total=total,
        handed_in=len(handed),
        accepted=len(accepted),
    )


# --- A member's dashboard -----------------------------------------------------------------


def member_groups(user):
    """The user's memberships, each with its group's cells and what is due next: 3 queries."""
    memberships = list(
        Member.objects.active()
        .filter(user=user)
        .select_related("cohort", "topic")
        .order_by("-cohort__starts_on", "-cohort_id")
    )
    if not memberships:
        return []
    keys = {(m.cohort_id, m.topic_id) for m in memberships}
    deliverables = [
        d
        for d in Deliverable.objects.filter(
            milestone__cohort__in=[m.cohort_id for m in memberships],
            topic__in=[m.topic_id for m in memberships],
        )
        .select_related("milestone__cohort", "topic")
        .order_by("milestone__starts_at", "id")
        if (d.milestone.cohort_id, d.topic_id) in keys
    ]
    all_cells = cells(deliverables)
    now = timezone.now()
    groups = []
    for membership in memberships:
        own = [
            cell
            for cell in all_cells
            if cell.deliverable.milestone.cohort_id == membership.cohort_id
            and cell.deliverable.topic_id == membership.topic_id
        ]
        upcoming = [
            cell for cell in own if cell.deliverable.due_at >= now and cell.state != State.ACCEPTED
        ]
        groups.append({"member": membership, "cells": own, "next": upcoming[:1]})
    return groups


def next_milestones(cohort_ids, *, limit=5):
    return list(
        Milestone.objects.filter(cohort__in=cohort_ids, starts_at__gte=timezone.now())
        .select_related("cohort", "topic")
        .order_by("starts_at", "id")[:limit]
    )
