"""`load_demo` against the seed article itself: the demo must be the article, complete."""

import datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import Role, User
from cohorts.models import Cohort, Member, Milestone
from forums.models import Appearance, Forum, Quote, Recap, Speaker
from topics.models import Deliverable, Topic

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_article.txt"
ROLE_BLOCKS = {
    "【致辞】": Appearance.Role.OPENING_ADDRESS,
    "【研讨嘉宾】": Appearance.Role.PANELIST,
    "【圆桌主持人】": Appearance.Role.HOST,
    "【课题发布】": Appearance.Role.TOPIC_RELEASE,
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def article_lines():
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def demo(db):
    call_command("load_demo", start=datetime.date(2026, 12, 1), password="demo-pass-123")
    return Forum.objects.get()


def test_load_demo_forum_headline_and_lede_are_the_articles(demo, article_lines):
    recap = demo.recap

    assert recap.headline == article_lines[0]
    assert demo.lede.split("\n\n") == article_lines[1:4]
    assert recap.status == Recap.Status.PUBLISHED
    assert demo.format == Forum.Format.ONLINE
    assert [t.title for t in demo.themes.order_by("position")] == [
        "城市与未来",
        "数据与价值",
        "机会与贡献",
    ]


def test_load_demo_speakers_and_roles_match_the_role_blocks(demo, article_lines):
    blocks, current = {}, None
    for line in article_lines[article_lines.index("【致辞】") : article_lines.index("亮点速读")]:
        if line in ROLE_BLOCKS:
            current = ROLE_BLOCKS[line]
            blocks[current] = []
        else:
            blocks[current].append(line.replace(" ", ""))

    appearances = demo.appearances.select_related("speaker").order_by("position")
    loaded = {}
    for appearance in appearances:
        loaded.setdefault(appearance.role, []).append(
            (appearance.speaker.name + appearance.organisation + appearance.title).replace(" ", "")
        )

    assert loaded == blocks
    assert Speaker.objects.count() == 8
    assert {role: len(lines) for role, lines in loaded.items()} == {
        Appearance.Role.OPENING_ADDRESS: 1,
        Appearance.Role.PANELIST: 5,
        Appearance.Role.HOST: 1,
        Appearance.Role.TOPIC_RELEASE: 1,
    }


def test_load_demo_cohort_representatives_are_the_three_panelists_who_speak_for_the_class(demo):
    representatives = demo.appearances.filter(is_cohort_representative=True)

    assert sorted(a.speaker.name for a in representatives) == ["安韧", "贾西贝", "黄先锋"]
    assert {a.role for a in representatives} == {Appearance.Role.PANELIST}
    assert sorted(
        Member.objects.filter(speaker__isnull=False).values_list("speaker__name", flat=True)
    ) == ["安韧", "贾西贝", "黄先锋"]


def test_load_demo_highlights_are_the_articles_in_order(demo, article_lines):
    section = article_lines[article_lines.index("亮点速读") + 1 : article_lines.index("城市与未来")]
    appearances = {a.speaker_id: a for a in demo.appearances.all()}

    loaded = []
    for quote in Quote.objects.filter(forum=demo).highlights().select_related("speaker"):
        appearance = appearances[quote.speaker_id]
        loaded += [quote.text, f"——{appearance.organisation}{appearance.title}{quote.speaker.name}"]

    assert [line.replace(" ", "") for line in loaded] == [line.replace(" ", "") for line in section]
    assert Quote.objects.filter(state=Quote.State.APPROVED, is_featured=True).count() == 8
    assert list(Quote.objects.highlights().values_list("highlight_position", flat=True)) == list(
        range(1, 9)
    )


def test_load_demo_transcript_is_the_whole_article_turn_by_turn(demo, article_lines):
    rebuilt = []
    for theme in demo.themes.order_by("position"):
        rebuilt.append(theme.title)
        for turn in theme.turns.select_related("speaker").order_by("position"):
            first, *rest = turn.paragraphs
            rebuilt += [f"{turn.speaker.name}：{first}", *rest]

    assert rebuilt == article_lines[article_lines.index("城市与未来") :]
    assert [theme.turns.count() for theme in demo.themes.order_by("position")] == [11, 5, 4]


def test_load_demo_topics_cohort_and_schedule(demo):
    cohort = Cohort.objects.get()
    sizes = sorted(Member.objects.values_list("topic__slug", flat=True))

    assert list(Topic.objects.values_list("name", flat=True)) == [
        "数字政府",
        "智慧教育",
        "智慧建筑",
        "智慧社区",
        "智慧出行",
        "智慧医疗",
    ]
    assert set(demo.released_topics.all()) == set(Topic.objects.all())
    assert cohort.starts_on == datetime.date(2026, 12, 1)
    assert (cohort.capacity, cohort.length_months) == (35, 8)
    assert Member.objects.count() == 35
    assert Member.objects.filter(is_demo=True).count() == 32
    assert sorted(sizes.count(slug) for slug in set(sizes)) == [5, 6, 6, 6, 6, 6]
    milestones = list(Milestone.objects.all())
    assert len(milestones) == 11
    assert all(
        cohort.starts_on <= m.starts_at.astimezone(cohort.zone).date() <= cohort.ends_on
        for m in milestones
    )
    assert milestones[0].starts_at.astimezone(cohort.zone).time() == datetime.time(10, 0)
    assert Deliverable.objects.count() == 4 * 6


def test_load_demo_accounts_hold_their_roles_and_sign_in(demo, client):
    organiser = User.objects.get(email="organiser@wecity.example")
    admin = User.objects.get(email="admin@wecity.example")
    member = User.objects.get(email="member@wecity.example")

    assert organiser.is_organiser and not organiser.is_portal_admin
    assert admin.is_portal_admin and admin.is_superuser
    assert member.has_role(Role.MEMBER) and not member.is_organiser
    assert member.memberships.get().is_demo
    assert client.login(email="member@wecity.example", password="demo-pass-123")


def test_load_demo_prints_the_passwords_it_creates(db, capsys):
    call_command("load_demo", password="printed-pass-1")

    out = capsys.readouterr().out

    assert out.count("printed-pass-1") == 3
    assert "organiser@wecity.example" in out


def snapshot():
    """Every row of the project's own models, as plain values."""
    rows = {}
    for label in ("accounts", "forums", "topics", "cohorts"):
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def test_load_demo_twice_changes_nothing(demo, capsys):
    before = snapshot()

    call_command("load_demo", start=datetime.date(2027, 3, 1))

    assert snapshot() == before
    assert "nothing changed" in capsys.readouterr().out


def test_load_demo_keeps_edits_made_after_loading(demo):
    Speaker.objects.filter(slug="wu-hequan").update(bio="中国工程院院士，通信专家。")

    call_command("load_demo")

    assert Speaker.objects.get(slug="wu-hequan").bio == "中国工程院院士，通信专家。"
