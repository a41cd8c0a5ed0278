"""A cohort's schedule as calendars: iCalendar feeds (RFC 5545) and the month view's grid.

Each event's UID is `milestone-<id>@<site host>`, so a calendar app that reads the feed
again updates the event rather than adding a second one; SEQUENCE (the milestone's schedule
revision) and LAST-MODIFIED tell it the event changed.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from cohorts.mail import absolute_url
from cohorts.models import add_months

# Calendar apps may read the feed again after this long.
REFRESH = datetime.timedelta(hours=1)


def site_host():
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def milestone_uid(milestone):
    return f"milestone-{milestone.pk}@{site_host()}"


def milestone_event(milestone, *, zone, deliverables=()):
    event = icalendar.Event()
    event.add("uid", milestone_uid(milestone))
    event.add("dtstamp", milestone.updated_at)
    event.add("last-modified", milestone.updated_at)
    event.add("sequence", milestone.sequence)
    event.add("dtstart", milestone.starts_at.astimezone(zone))
    if milestone.ends_at:
        event.add("dtend", milestone.ends_at.astimezone(zone))
    kind = milestone.get_kind_display()
    event.add("summary", f"{kind}：{milestone.title}" if milestone.is_deadline else milestone.title)
    lines = [kind]
    if milestone.topic_id:
        lines.append(_("Topic: %(topic)s") % {"topic": milestone.topic.display_name})
    if milestone.description:
        lines += ["", milestone.description]
    if deliverables:
        lines += ["", _("Due:")] + [f"- {d.title}" for d in deliverables]
    if milestone.online_url:
        lines += ["", _("Online: %(url)s") % {"url": milestone.online_url}]
    page = absolute_url(milestone.get_absolute_url())
    lines += ["", page]
    event.add("description", "\n".join(lines))
    if milestone.location:
        event.add("location", milestone.location)
    event.add("url", milestone.online_url or page)
    event.add("categories", [kind])
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT" if milestone.is_deadline else "OPAQUE")
    return event


def schedule_calendar(milestones, *, cohort, name, deliverables=None):
    """The milestones as an iCalendar document (bytes), times in the cohort's zone.

    `deliverables` maps a milestone id to the deliverables its event lists.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", "-//WeCity Accelerator//Portal//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", cohort.time_zone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    zone = cohort.zone
    for milestone in milestones:
        cal.add_component(
            milestone_event(
                milestone, zone=zone, deliverables=(deliverables or {}).get(milestone.pk, ())
            )
        )
    cal.add_missing_timezones()
    return cal.to_ical()


# --- The month view -----------------------------------------------------------------------


@dataclass
class Day:
    date: datetime.date
    in_month: bool
    is_today: bool
    milestones: list = field(default_factory=list)


@dataclass
class Month:
    first: datetime.date
    weeks: list
    previous: datetime.date | None
    next: datetime.date | None

    @property
    def weekdays(self):
        return [WEEKDAYS_ABBR[day] for day in range(7)]

    @property
    def key(self):
        return self.first.strftime("%Y-%m")


def programme_months(cohort):
    """The first day of each month the cohort's programme touches."""
    first = cohort.starts_on.replace(day=1)
    months = []
    while first <= cohort.ends_on:
        months.append(first)
        first = add_months(first, 1)
    return months


def month_view(cohort, milestones, *, month, today):
    """A Monday-first grid of `month` (a first day) with each day's milestones, local time."""
    zone = cohort.zone
    by_day = {}
    for milestone in milestones:
        by_day.setdefault(milestone.starts_at.astimezone(zone).date(), []).append(milestone)
    weeks = [
        [Day(day, day.month == month.month, day == today, by_day.get(day, [])) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    ]
    months = programme_months(cohort)
    index = months.index(month) if month in months else None
    return Month(
        first=month,
        weeks=weeks,
        previous=months[index - 1] if index else None,
        next=months[index + 1] if index is not None and index + 1 < len(months) else None,
    )
