"""Reading a CSV of people to invite: every row checked, and a report of each row.

Columns (a header row, in any order, English or Chinese names): name, email, organisation,
topic. A topic is named by its Chinese name, its English name or its slug.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from cohorts.services import invitation_refusals, normalise_email
from topics.models import Topic

MAX_ROWS = 500
COLUMNS = {
    "name": {"name", "姓名", "名字"},
    "email": {"email", "e-mail", "邮箱", "电子邮箱", "电子邮件"},
    "organisation": {"organisation", "organization", "company", "单位", "机构", "公司"},
    "topic": {"topic", "课题"},
}
REQUIRED = ("name", "email", "topic")


@dataclass
class Row:
    line: int
    name: str
    email: str
    organisation: str
    topic_text: str
    topic: Topic | None = None
    errors: list = field(default_factory=list)

    @property
    def is_ok(self):
        return not self.errors


@dataclass
class Report:
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # about the whole file

    @property
    def is_ok(self):
        return bool(self.rows) and not self.errors and all(row.is_ok for row in self.rows)

    @property
    def refused(self):
        return [row for row in self.rows if not row.is_ok]


def decode(data):
    # Excel saves CSV as UTF-8 with a BOM, or on Chinese Windows as GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def topic_lookup():
    lookup = {}
    for topic in Topic.objects.all():
        for key in (topic.name, topic.name_en, topic.slug):
            if key:
                lookup[key.strip().lower()] = topic
    return lookup


def header_map(header):
    """Column index of each known column, from the header row."""
    found = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for column, names in COLUMNS.items():
            if key in names and column not in found:
                found[column] = index
    return found


def read_invitations(data, *, cohort):
    """Check the CSV bytes `data` against the cohort and the topics; return a Report."""
    report = Report()
    text = decode(data)
    if text is None:
        report.errors.append(_("The file is not text in UTF-8 or GB18030; save it as CSV."))
        return report
    lines = list(csv.reader(io.StringIO(text)))
    lines = [(number, line) for number, line in enumerate(lines, start=1) if any(line)]
    if not lines:
        report.errors.append(_("The file is empty."))
        return report
    (_number, header), body = lines[0], lines[1:]
    columns = header_map(header)
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        report.errors.append(
            _("Missing columns: %(missing)s. The first row must name the columns: %(all)s.")
            % {"missing": ", ".join(missing), "all": "name, email, organisation, topic"}
        )
        return report
    if not body:
        report.errors.append(_("The file has a header row but nobody to invite."))
        return report
    if len(body) > MAX_ROWS:
        report.errors.append(
            _("The file has %(count)s rows; import at most %(max)s at a time.")
            % {"count": len(body), "max": MAX_ROWS}
        )
        return report

    def cell(line, column):
        index = columns.get(column)
        return line[index].strip() if index is not None and index < len(line) else ""

    topics = topic_lookup()
    seen = {}
    refusals = invitation_refusals(
        cohort, [normalise_email(cell(line, "email")) for _number, line in body]
    )

    for number, line in body:
        row = Row(
            line=number,
            name=cell(line, "name"),
            email=normalise_email(cell(line, "email")),
            organisation=cell(line, "organisation"),
            topic_text=cell(line, "topic"),
        )
        if not row.name:
            row.errors.append(_("The name is missing."))
        elif len(row.name) > 100:
            row.errors.append(_("The name is longer than 100 characters."))
        if len(row.organisation) > 200:
            row.errors.append(_("The organisation is longer than 200 characters."))
        try:
            validate_email(row.email)
        except ValidationError:
            row.errors.append(
                _("“%(email)s” is not an email address.") % {"email": row.email}
                if row.email
                else _("The email address is missing.")
            )
        else:
            if row.email in seen:
                row.errors.append(
                    _("The same address as row %(line)s.") % {"line": seen[row.email]}
                )
            else:
                seen[row.email] = number
                if row.email in refusals:
                    row.errors.append(refusals[row.email])
        row.topic = topics.get(row.topic_text.lower()) if row.topic_text else None
        if row.topic is None:
            row.errors.append(
                _("Unknown topic “%(topic)s”.") % {"topic": row.topic_text}
                if row.topic_text
                else _("The topic is missing.")
            )
        report.rows.append(row)
    return report
