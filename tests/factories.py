"""One factory per model, with the defaults a reader would guess."""

import datetime
import hashlib
import secrets

import factory
from django.db.models import Max
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import ApiToken, User, role_group
from cohorts.models import (
    Cohort,
    DeletionRequest,
    Invitation,
    Member,
    Milestone,
    Notification,
    Reminder,
    ReminderOptOut,
    Reviewer,
    TopicMove,
)
from forums.models import (
    Appearance,
    CurationEntry,
    Forum,
    Quote,
    Recap,
    RecapRevision,
    RecapShareLink,
    Speaker,
    Theme,
    TranscriptTurn,
)
from topics.models import Deliverable, Review, Submission, Topic

UTC = datetime.UTC
PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    """A member of the public with an account; `roles=[Role.ORGANISER]` adds role groups."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(role_group(role) for role in extracted))


class SpeakerFactory(DjangoModelFactory):
    class Meta:
        model = Speaker

    name = factory.Sequence(lambda n: f"嘉宾{n}")
    slug = factory.Sequence(lambda n: f"speaker-{n}")
    organisation = "腾讯云"
    title = "智慧城市总经理"
    bio = "长期关注数字政府与智慧城市建设。"


class ForumFactory(DjangoModelFactory):
    """An online roundtable of two hours, with no recap (so not public)."""

    class Meta:
        model = Forum

    title = factory.Sequence(lambda n: f"WeCity 未来城市圆桌论坛 第{n}期")
    slug = factory.Sequence(lambda n: f"forum-{n}")
    starts_at = datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    format = Forum.Format.ONLINE
    lede = "嘉宾们围绕城市与未来、数据与价值、机会与贡献展开研讨。"


class ThemeFactory(DjangoModelFactory):
    class Meta:
        model = Theme

    forum = factory.SubFactory(ForumFactory)
    title = factory.Sequence(lambda n: f"议题{n}：城市与未来")
    position = factory.Sequence(lambda n: n + 1)


class AppearanceFactory(DjangoModelFactory):
    class Meta:
        model = Appearance

    forum = factory.SubFactory(ForumFactory)
    speaker = factory.SubFactory(SpeakerFactory)
    role = Appearance.Role.PANELIST
    organisation = factory.SelfAttribute("speaker.organisation")
    title = factory.SelfAttribute("speaker.title")


class TranscriptTurnFactory(DjangoModelFactory):
    class Meta:
        model = TranscriptTurn

    theme = factory.SubFactory(ThemeFactory)
    position = factory.Sequence(lambda n: n + 1)
    speaker = factory.SubFactory(SpeakerFactory)
    body = "城市是一个复杂的系统。\n\n数据要流动起来，才能产生价值。"


class QuoteFactory(DjangoModelFactory):
    """A proposed quote; traits `approved`, `featured` and `rejected` satisfy the constraints."""

    class Meta:
        model = Quote

    class Params:
        approved = factory.Trait(state=Quote.State.APPROVED)
        featured = factory.Trait(
            state=Quote.State.APPROVED,
            is_featured=True,
            highlight_position=factory.Sequence(lambda n: n + 1),
        )
        rejected = factory.Trait(state=Quote.State.REJECTED, rejection_reason="与议题无关。")

    forum = factory.SubFactory(ForumFactory)
    speaker = factory.SubFactory(SpeakerFactory)
    text = factory.Sequence(lambda n: f"数字化转型的关键，是让数据为人服务（{n}）。")


class RecapFactory(DjangoModelFactory):
    """A draft recap; traits `published` and `scheduled` (for tomorrow)."""

    class Meta:
        model = Recap

    class Params:
        published = factory.Trait(
            status=Recap.Status.PUBLISHED, published_at=factory.LazyFunction(timezone.now)
        )
        scheduled = factory.Trait(
            status=Recap.Status.SCHEDULED,
            publish_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1)),
        )

    forum = factory.SubFactory(ForumFactory)
    headline = factory.LazyAttribute(lambda o: f"{o.forum.title}回顾")
    body = "## 城市与未来\n\n嘉宾们讨论了城市的数字化转型。"


class RecapRevisionFactory(DjangoModelFactory):
    class Meta:
        model = RecapRevision

    recap = factory.SubFactory(RecapFactory)
    number = factory.Sequence(lambda n: n + 1)
    author = factory.SubFactory(UserFactory)
    snapshot = factory.LazyAttribute(lambda o: {"headline": o.recap.headline, "body": o.recap.body})


class RecapShareLinkFactory(DjangoModelFactory):
    """A link valid for a week."""

    class Meta:
        model = RecapShareLink

    recap = factory.SubFactory(RecapFactory)
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    created_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class TopicFactory(DjangoModelFactory):
    class Meta:
        model = Topic

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"智慧课题{n}")
    name_en = factory.Sequence(lambda n: f"Smart topic {n}")
    position = factory.Sequence(lambda n: n + 1)
    brief = "如何用数字技术让城市服务更便捷？"


class CohortFactory(DjangoModelFactory):
    """A cohort of the default length (8 months) and capacity (35)."""

    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"WeCity 加速器第{n}期")
    slug = factory.Sequence(lambda n: f"cohort-{n}")
    starts_on = datetime.date(2026, 11, 27)


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)
    topic = factory.SubFactory(TopicFactory)
    name = factory.LazyAttribute(lambda o: o.user.name if o.user else "学员")
    organisation = "深圳某科技有限公司"
    title = "产品经理"


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    cohort = factory.SubFactory(CohortFactory)
    topic = factory.SubFactory(TopicFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    name = factory.Sequence(lambda n: f"受邀人{n}")
    organisation = "广州某城市科技公司"
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    invited_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))


class MilestoneFactory(DjangoModelFactory):
    """A cohort-wide workshop two weeks into the cohort, 14:00–17:00 in Shanghai."""

    class Meta:
        model = Milestone

    cohort = factory.SubFactory(CohortFactory)
    kind = Milestone.Kind.WORKSHOP
    title = factory.Sequence(lambda n: f"共创工作坊{n}")
    starts_at = factory.LazyAttribute(
        lambda o: datetime.datetime.combine(
            o.cohort.starts_on + datetime.timedelta(days=14), datetime.time(6, 0), tzinfo=UTC
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=3))
    location = "腾讯滨海大厦"


class DeliverableFactory(DjangoModelFactory):
    class Meta:
        model = Deliverable

    milestone = factory.SubFactory(MilestoneFactory, kind=Milestone.Kind.DEADLINE, ends_at=None)
    topic = factory.SubFactory(TopicFactory)
    title = factory.Sequence(lambda n: f"课题方案{n}")
    description = "一份不超过十页的解决方案。"


def next_version(submission):
    latest = submission.deliverable.submissions.aggregate(latest=Max("version"))["latest"]
    return (latest or 0) + 1


class SubmissionFactory(DjangoModelFactory):
    """The next text version of a deliverable, by a member of its topic and cohort.

    Traits `with_link` and `with_file` switch the kind; the content must match the kind.
    """

    class Meta:
        model = Submission

    class Params:
        with_link = factory.Trait(
            kind=Submission.Kind.LINK, text="", link="https://example.com/方案"
        )
        with_file = factory.Trait(
            kind=Submission.Kind.FILE,
            text="",
            file=factory.django.FileField(filename="方案.pdf", data=b"%PDF-1.4\n"),
        )

    deliverable = factory.SubFactory(DeliverableFactory)
    member = factory.SubFactory(
        MemberFactory,
        cohort=factory.SelfAttribute("..deliverable.milestone.cohort"),
        topic=factory.SelfAttribute("..deliverable.topic"),
    )
    version = factory.LazyAttribute(next_version)
    kind = Submission.Kind.TEXT
    text = "我们的方案：以社区为单位试点数据共享。"


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review

    submission = factory.SubFactory(SubmissionFactory)
    reviewer = factory.SubFactory(UserFactory)
    status = Review.Status.ACCEPTED
    feedback = "思路清晰，数据来源可靠。"


class ReminderOptOutFactory(DjangoModelFactory):
    class Meta:
        model = ReminderOptOut

    member = factory.SubFactory(MemberFactory)
    kind = Milestone.Kind.WORKSHOP


class ReminderFactory(DjangoModelFactory):
    """A pending reminder one day before the milestone, to a member of its cohort."""

    class Meta:
        model = Reminder

    milestone = factory.SubFactory(MilestoneFactory)
    member = factory.SubFactory(MemberFactory, cohort=factory.SelfAttribute("..milestone.cohort"))
    offset = datetime.timedelta(days=-1)
    due_at = factory.LazyAttribute(lambda o: o.milestone.starts_at + o.offset)


class TopicMoveFactory(DjangoModelFactory):
    """A member's move from their topic to a new one (the member is then in `to_topic`)."""

    class Meta:
        model = TopicMove

    member = factory.SubFactory(MemberFactory)
    from_topic = factory.SelfAttribute("member.topic")
    to_topic = factory.SubFactory(TopicFactory)
    moved_by = factory.SubFactory(UserFactory)


class ReviewerFactory(DjangoModelFactory):
    """A reviewer of one topic in a cohort; `topic=None` for the whole cohort."""

    class Meta:
        model = Reviewer

    cohort = factory.SubFactory(CohortFactory)
    topic = factory.SubFactory(TopicFactory)
    user = factory.SubFactory(UserFactory)


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    text = "课题方案 v1 已通过。"
    url = "/programme/"


class DeletionRequestFactory(DjangoModelFactory):
    """A pending request."""

    class Meta:
        model = DeletionRequest

    user = factory.SubFactory(UserFactory)
    reason = "我已离开公司。"


class CurationEntryFactory(DjangoModelFactory):
    """An approval of a proposed quote, as `curation.approve_quote` records it."""

    class Meta:
        model = CurationEntry

    action = CurationEntry.Action.APPROVE
    actor = factory.SubFactory(UserFactory)
    quote = factory.SubFactory(QuoteFactory, approved=True)
    forum = factory.SelfAttribute("quote.forum")
    speaker = factory.SelfAttribute("quote.speaker")
    before = "proposed"
    after = factory.SelfAttribute("quote.text")


class ApiTokenFactory(DjangoModelFactory):
    """A token whose secret is `secret-<n>` (only its hash is stored, as the service does)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"脚本{n}")
    key_hash = factory.Sequence(lambda n: hashlib.sha256(f"secret-{n}".encode()).hexdigest())
    prefix = factory.Sequence(lambda n: f"secret-{n}"[:8])
