"""Who may open what: every URL of the cohorts and topics apps against every role.

The rules are listed per URL name; a URL added to these apps without a rule here fails
`test_every_url_of_the_cohorts_and_topics_apps_has_a_permission_rule`. Every object used
belongs to the 数字政府 group (topic A); the member of 智慧医疗 (topic B) must get 404 where
the group's work is concerned, with no hint that it exists.
"""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, reverse

from accounts.models import Role
from cohorts.models import Member
from tests.cohorts.helpers import PDF, build_world, image
from tests.factories import (
    DeletionRequestFactory,
    InvitationFactory,
    NotificationFactory,
    ReviewerFactory,
    SubmissionFactory,
    UserFactory,
)
from tests.html import texts
from topics.models import Submission

pytestmark = pytest.mark.django_db

NAMESPACES = {"programme", "workspace", "organise-cohorts", "cohorts", "topics"}
ROLES = ["anonymous", "member_a", "member_b", "organiser", "admin"]
LOGIN = "login"


@dataclass(frozen=True)
class Rule:
    method: str
    kwargs: str  # the name of a function of the objects below, giving the URL's kwargs
    expected: tuple  # per role, in ROLES order


def everyone(status):
    return (status,) * len(ROLES)


def signed_in(status):
    return (LOGIN, status, status, status, status)


GROUP_A = (LOGIN, 200, 404, 200, 200)
ORGANISERS_GET = (LOGIN, 403, 403, 200, 200)
ORGANISERS_POST = (LOGIN, 403, 403, 302, 302)
ORGANISERS_BAD_POST = (LOGIN, 403, 403, 400, 400)

RULES = {
    # Public pages
    "cohorts:cohort-list": Rule("get", "none", everyone(200)),
    "cohorts:cohort-detail": Rule("get", "cohort_slug", everyone(200)),
    "topics:topic-list": Rule("get", "none", everyone(200)),
    "topics:topic-detail": Rule("get", "topic_slug", everyone(200)),
    # A member's own pages
    "programme:dashboard": Rule("get", "none", signed_in(200)),
    "programme:invitation": Rule("get", "invitation", everyone(200)),
    "programme:profile": Rule("get", "cohort", (LOGIN, 200, 200, 404, 404)),
    "programme:member-photo": Rule("get", "member_a", (404, 200, 404, 200, 200)),
    "programme:data-export": Rule("get", "none", signed_in(200)),
    "programme:delete-account": Rule("get", "none", signed_in(200)),
    "programme:notifications": Rule("get", "none", signed_in(200)),
    "programme:notifications-read": Rule("post", "none", signed_in(302)),
    # The group's workspace and files
    "workspace:workspace": Rule("get", "group", GROUP_A),
    "workspace:deliverable": Rule("get", "deliverable", GROUP_A),
    "workspace:file": Rule("get", "submission", GROUP_A),
    "workspace:review": Rule("post", "submission", (LOGIN, 403, 404, 400, 400)),
    # Organisers
    "organise-cohorts:cohort-list": Rule("get", "none", ORGANISERS_GET),
    "organise-cohorts:cohort-create": Rule("get", "none", ORGANISERS_GET),
    "organise-cohorts:deletion-requests": Rule("get", "none", ORGANISERS_GET),
    "organise-cohorts:deletion-confirm": Rule("post", "deletion", ORGANISERS_POST),
    "organise-cohorts:deletion-decline": Rule("post", "deletion", ORGANISERS_POST),
    "organise-cohorts:cohort": Rule("get", "slug", ORGANISERS_GET),
    "organise-cohorts:invite": Rule("post", "slug", ORGANISERS_BAD_POST),
    "organise-cohorts:import": Rule("get", "slug", ORGANISERS_GET),
    "organise-cohorts:invitation-resend": Rule("post", "slug_invitation", ORGANISERS_POST),
    "organise-cohorts:invitation-revoke": Rule("post", "slug_invitation", ORGANISERS_POST),
    "organise-cohorts:member-move": Rule("post", "slug_member", ORGANISERS_POST),
    "organise-cohorts:reviewer-add": Rule("post", "slug", ORGANISERS_BAD_POST),
    "organise-cohorts:reviewer-remove": Rule("post", "slug_reviewer", ORGANISERS_POST),
    "organise-cohorts:board": Rule("get", "slug", ORGANISERS_GET),
    "organise-cohorts:board-csv": Rule("get", "slug", ORGANISERS_GET),
}


def url_names():
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace in NAMESPACES:
            names |= {f"{pattern.namespace}:{p.name}" for p in pattern.url_patterns}
    return names


def test_every_url_of_the_cohorts_and_topics_apps_has_a_permission_rule():
    assert url_names() == set(RULES)


@pytest.fixture
def objects(client, settings):
    world = build_world()
    member = world.member_a
    member.photo = SimpleUploadedFile("me.png", image("PNG"))
    member.save()
    file_version = SubmissionFactory(
        deliverable=world.deliverable_a,
        member=member,
        kind=Submission.Kind.FILE,
        text="",
        file=SimpleUploadedFile("方案.pdf", PDF),
        file_name="方案.pdf",
        content_type="application/pdf",
    )
    NotificationFactory(recipient=member.user)
    cohort = world.cohort
    return {
        "world": world,
        "none": {},
        "cohort_slug": {"slug": cohort.slug},
        "topic_slug": {"slug": world.topic_a.slug},
        "invitation": {"token": InvitationFactory(cohort=cohort, topic=world.topic_a).token},
        "cohort": {"cohort": cohort.slug},
        "member_a": {"pk": member.pk},
        "group": {"cohort": cohort.slug, "topic": world.topic_a.slug},
        "deliverable": {
            "cohort": cohort.slug,
            "topic": world.topic_a.slug,
            "pk": world.deliverable_a.pk,
        },
        "submission": {"pk": file_version.pk},
        "deletion": {"pk": DeletionRequestFactory(user=world.member_b.user).pk},
        "slug": {"slug": cohort.slug},
        "slug_invitation": {
            "slug": cohort.slug,
            "pk": InvitationFactory(cohort=cohort, topic=world.topic_a).pk,
        },
        "slug_member": {"slug": cohort.slug, "pk": member.pk},
        "slug_reviewer": {"slug": cohort.slug, "pk": ReviewerFactory(cohort=cohort).pk},
    }


def sign_in(client, role, world):
    users = {
        "anonymous": None,
        "member_a": world.member_a.user,
        "member_b": world.member_b.user,
        "organiser": UserFactory(roles=[Role.ORGANISER]),
        "admin": UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMIN]),
    }
    if users[role]:
        client.force_login(users[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_url_answers_each_role_as_its_rule_says(client, objects, name, role):
    rule = RULES[name]
    sign_in(client, role, objects["world"])
    url = reverse(name, kwargs=objects[rule.kwargs])

    response = getattr(client, rule.method)(url)

    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # consuming it closes the file
    outcome = (
        LOGIN
        if response.status_code == 302 and response.url.startswith("/accounts/login/")
        else response.status_code
    )
    assert outcome == rule.expected[ROLES.index(role)]


def test_a_member_of_智慧医疗_sees_nothing_of_数字政府s_work(client, objects):
    world = objects["world"]
    client.force_login(world.member_b.user)

    pages = [
        client.get(reverse("workspace:workspace", kwargs=objects["group"])),
        client.get(reverse("workspace:deliverable", kwargs=objects["deliverable"])),
        client.get(reverse("workspace:file", kwargs=objects["submission"])),
        client.get(reverse("programme:member-photo", kwargs=objects["member_a"])),
    ]
    missing = client.get(
        reverse("workspace:workspace", kwargs={"cohort": "no-such", "topic": "no-such"})
    )

    assert [page.status_code for page in pages] == [404, 404, 404, 404]
    assert {str(texts(page.text, "<main")) for page in pages} == {str(texts(missing.text, "<main"))}
    assert Member.objects.filter(user=world.member_b.user, topic=world.topic_b).exists()
