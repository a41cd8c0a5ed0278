"""Dashboards: the member's, the organisers' board with its chart and CSV; their query counts."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.cohorts.helpers import build_world
from tests.factories import (
    DeliverableFactory,
    InvitationFactory,
    MemberFactory,
    MilestoneFactory,
    ReviewerFactory,
    ReviewFactory,
    SubmissionFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

SMALL, LARGE = 2, 12
QUERY_CEILING = 15


def board_url(cohort, suffix="board/"):
    return reverse("organise-cohorts:cohort", kwargs={"slug": cohort.slug}) + suffix


def board_cells(response):
    rows = elements(response.text, "<tr")[1:]
    return [
        [
            " ".join(texts(cell, '<span class="state'))
            for cell in elements(row, '<td class="board__cell"')
        ]
        for row in rows
    ]


def test_member_dashboard_shows_the_group_what_is_due_next_and_the_latest_review(client, world):
    later = DeliverableFactory(
        milestone=MilestoneFactory(
            cohort=world.cohort,
            kind="deadline",
            ends_at=None,
            starts_at=timezone.now() + datetime.timedelta(days=60),
        ),
        topic=world.topic_a,
        title="路演材料",
    )
    first = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    ReviewFactory(submission=first, status="changes_requested", feedback="补充数据。")
    client.force_login(world.member_a.user)

    response = client.get(reverse("programme:dashboard"), HTTP_ACCEPT_LANGUAGE="en")

    table = elements(response.text, '<table class="table" data-testid="group-deliverables"')[0]
    assert (
        re.findall(r'<h2 class="panel__title" id="group-\d+">([^<]+)</h2>', response.text),
        texts(response.text, '<p class="due-next__title"'),
        [texts(row, "<th") + texts(row, "<td") for row in elements(table, "<tr")[1:]],
        f'href="{later.get_absolute_url()}"' in response.text,
    ) == (
        ["WeCity 加速器第一期 · Digital government"],
        ["解决方案"],
        [
            [
                "解决方案",
                world.deliverable_a.due_at.astimezone(world.cohort.zone).strftime("%m/%d/%Y"),
                "v1 王数政",
                "Changes requested",
            ],
            [
                "路演材料",
                later.due_at.astimezone(world.cohort.zone).strftime("%m/%d/%Y"),
                "—",
                "Not started",
            ],
        ],
        True,
    )


def test_member_dashboard_without_a_cohort_says_so(client, user):
    client.force_login(user)

    response = client.get(reverse("programme:dashboard"), HTTP_ACCEPT_LANGUAGE="en")

    assert texts(response.text, '<p class="empty"') == [
        "You are not a member of a cohort yet. Your invitation email has the link to join."
    ]


def test_board_shows_each_topic_against_each_deadline_with_states_and_late_marks(client, organiser):
    world = build_world(due_in_days=-2)
    upcoming = MilestoneFactory(
        cohort=world.cohort,
        kind="deadline",
        title="路演",
        ends_at=None,
        starts_at=timezone.now() + datetime.timedelta(days=30),
    )
    pitch_a = DeliverableFactory(milestone=upcoming, topic=world.topic_a, title="路演材料")
    DeliverableFactory(milestone=upcoming, topic=world.topic_b, title="路演材料")
    late = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a, is_late=True)
    ReviewFactory(submission=late, status="accepted")
    SubmissionFactory(deliverable=pitch_a, member=world.member_a)
    client.force_login(organiser)

    response = client.get(board_url(world.cohort), HTTP_ACCEPT_LANGUAGE="en")

    assert (
        texts(response.text, '<th scope="row"'),
        board_cells(response),
        re.findall(r'<li><span class="state state--\w+">([^<]+)</span> (\d+)</li>', response.text),
    ) == (
        ["Digital government", "Smart healthcare"],
        [["Accepted late", "Handed in"], ["Not started late", "Not started"]],
        [("Not started", "2"), ("Handed in", "1"), ("Changes requested", "0"), ("Accepted", "1")],
    )


def test_board_cell_links_to_the_latest_version(client, world, organiser):
    SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    latest = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    client.force_login(organiser)

    response = client.get(board_url(world.cohort))

    assert f'href="{latest.get_absolute_url()}"' in response.text
    assert latest.get_absolute_url().endswith("#v2")


def test_board_chart_is_an_inline_svg_with_three_lines_and_no_script(client, world, organiser):
    submission = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    ReviewFactory(submission=submission, status="accepted")
    client.force_login(organiser)

    response = client.get(board_url(world.cohort), HTTP_ACCEPT_LANGUAGE="en")

    svg = elements(response.text, '<svg class="chart__svg"')[0]
    lines = re.findall(r'<polyline class="chart__line chart__line--([\w-]+)" points="([^"]+)"', svg)
    assert (
        [key for key, _points in lines],
        all(len(points.split()) >= 2 for _key, points in lines),
        len(re.findall(r'<text class="chart__label" ', svg)),
        "<script" in response.text.split("</header>", 1)[1],
        texts(response.text, '<p class="note" id="chart-summary"'),
    ) == (
        ["due", "handed-in", "accepted"],
        True,
        8,
        False,
        ["1 of 2 deliverables handed in, 1 accepted."],
    )


def test_board_csv_has_a_row_per_group_deliverable(client, world, organiser):
    SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    client.force_login(organiser)

    response = client.get(board_url(world.cohort, "board.csv"), HTTP_ACCEPT_LANGUAGE="en")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (
        response["Content-Type"],
        rows[0],
        [row[:4] + row[5:6] + row[7:8] for row in rows[1:]],
    ) == (
        "text/csv; charset=utf-8",
        [
            "Topic",
            "Deliverable",
            "Due",
            "State",
            "Late",
            "Latest version",
            "Handed in at",
            "Handed in by",
            "Link",
        ],
        [
            ["数字政府", "解决方案", rows[1][2], "Handed in", "v1", "王数政"],
            ["智慧医疗", "解决方案", rows[2][2], "Not started", "", ""],
        ],
    )


def test_board_is_for_organisers_only(client, world):
    ReviewerFactory(cohort=world.cohort, topic=None, user=world.member_b.user)
    client.force_login(world.member_a.user)

    response = client.get(board_url(world.cohort))

    assert response.status_code == 403


# --- Query counts at two sizes ------------------------------------------------------------


def grow(world, count):
    """`count` more members, deadlines with deliverables, versions and reviews in each group."""
    for _ in range(count):
        milestone = MilestoneFactory(
            cohort=world.cohort,
            kind="deadline",
            ends_at=None,
            starts_at=timezone.now() + datetime.timedelta(days=10),
        )
        for topic, member in ((world.topic_a, world.member_a), (world.topic_b, world.member_b)):
            MemberFactory(cohort=world.cohort, topic=topic)
            deliverable = DeliverableFactory(milestone=milestone, topic=topic)
            for status in ("changes_requested", "accepted"):
                ReviewFactory(
                    submission=SubmissionFactory(deliverable=deliverable, member=member),
                    status=status,
                )
            for reviewed in (world.deliverable_a, world.deliverable_b):
                if reviewed.topic == topic:
                    ReviewFactory(submission=SubmissionFactory(deliverable=reviewed, member=member))
        InvitationFactory(cohort=world.cohort, topic=world.topic_a)
        ReviewerFactory(cohort=world.cohort, topic=world.topic_b)


PAGES = {
    "member-dashboard": lambda w: reverse("programme:dashboard"),
    "workspace": lambda w: reverse(
        "workspace:workspace", kwargs={"cohort": w.cohort.slug, "topic": w.topic_a.slug}
    ),
    "deliverable": lambda w: w.deliverable_a.get_absolute_url(),
    "board": lambda w: board_url(w.cohort),
    "board-csv": lambda w: board_url(w.cohort, "board.csv"),
    "cohort-manage": lambda w: board_url(w.cohort, ""),
    "notifications": lambda w: reverse("programme:notifications"),
    "data-export": lambda w: reverse("programme:data-export"),
}
ORGANISER_PAGES = {"board", "board-csv", "cohort-manage"}


@pytest.mark.parametrize("page_name", PAGES)
def test_dashboard_queries_do_not_grow_with_members_and_submissions(
    client, world, organiser, django_assert_max_num_queries, page_name
):
    viewer = organiser if page_name in ORGANISER_PAGES else world.member_a.user
    client.force_login(viewer)
    grow(world, SMALL)
    url = PAGES[page_name](world)
    with CaptureQueriesContext(connection) as small:
        first = client.get(url)
    grow(world, LARGE - SMALL)

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)

    assert (
        first.status_code,
        response.status_code,
        len(small.captured_queries) <= QUERY_CEILING,
    ) == (
        200,
        200,
        True,
    )
