"""A cohort with two topic groups, and files of every kind, for the cohorts and topics tests."""

import datetime
import io
import zipfile
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role
from cohorts.models import Cohort, Member
from tests.factories import (
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    MilestoneFactory,
    TopicFactory,
    UserFactory,
)
from topics.models import Deliverable, Topic

UTC = datetime.UTC
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
OFFICE_PARTS = {
    "docx": "word/document.xml",
    "pptx": "ppt/presentation.xml",
    "xlsx": "xl/workbook.xml",
}


def office(kind, *, extra=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(OFFICE_PARTS[kind], "<document/>")
        for name in extra:
            archive.writestr(name, b"\x00")
    return buffer.getvalue()


def archive(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        for name in names or ("方案/说明.txt",):
            handle.writestr(name, "内容")
    return buffer.getvalue()


def image(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 79, 196)).save(buffer, format=fmt)
    return buffer.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def upload(name, data):
    return SimpleUploadedFile(name, data)


@dataclass
class World:
    """Cohort 1 with the groups 数字政府 (a) and 智慧医疗 (b), a deliverable and a member each."""

    cohort: Cohort
    topic_a: Topic
    topic_b: Topic
    member_a: Member
    member_b: Member
    deliverable_a: Deliverable
    deliverable_b: Deliverable


def build_world(*, due_in_days=30, now=None):
    now = now or datetime.datetime.now(UTC)
    cohort = CohortFactory(slug="cohort-1", name="WeCity 加速器第一期")
    topic_a = TopicFactory(slug="digital-government", name="数字政府", name_en="Digital government")
    topic_b = TopicFactory(slug="smart-healthcare", name="智慧医疗", name_en="Smart healthcare")
    deadline = MilestoneFactory(
        cohort=cohort,
        kind="deadline",
        title="方案提交",
        starts_at=now + datetime.timedelta(days=due_in_days),
        ends_at=None,
    )
    member_a = MemberFactory(
        cohort=cohort,
        topic=topic_a,
        user=UserFactory(email="a@example.com", name="王数政", roles=[Role.MEMBER]),
    )
    member_b = MemberFactory(
        cohort=cohort,
        topic=topic_b,
        user=UserFactory(email="b@example.com", name="李医疗", roles=[Role.MEMBER]),
    )
    return World(
        cohort=cohort,
        topic_a=topic_a,
        topic_b=topic_b,
        member_a=member_a,
        member_b=member_b,
        deliverable_a=DeliverableFactory(milestone=deadline, topic=topic_a, title="解决方案"),
        deliverable_b=DeliverableFactory(milestone=deadline, topic=topic_b, title="解决方案"),
    )
