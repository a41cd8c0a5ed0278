import datetime
import re
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from forums.models import Appearance, Recap
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TopicFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def draft_forum():
    return RecapFactory().forum


def forum_scheduled_for_tomorrow():
    return RecapFactory(scheduled=True).forum


def forum_without_recap():
    return ForumFactory()


# Forums the public may not see yet.
UNPUBLISHED = [draft_forum, forum_scheduled_for_tomorrow, forum_without_recap]


def published_forum(**fields):
    return RecapFactory(forum=ForumFactory(**fields), published=True).forum


@pytest.fixture(params=["anonymous", "member"])
def public_client(request, client):
    """A visitor who must not see unpublished forums: anonymous, or a cohort member."""
    if request.param == "member":
        client.force_login(UserFactory(roles=[Role.MEMBER]))
    return client


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


# --- Home ---------------------------------------------------------------------------------


def test_home_shows_the_latest_public_recap(public_client):
    published_forum(starts_at=datetime.datetime(2026, 10, 9, 6, 0, tzinfo=UTC))
    latest = RecapFactory(
        forum__starts_at=datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        published=True,
        headline="如何加速智慧城市建设进程",
    )
    RecapFactory(forum__starts_at=datetime.datetime(2026, 12, 18, 6, 0, tzinfo=UTC))
    RecapFactory(forum__starts_at=datetime.datetime(2026, 12, 25, 6, 0, tzinfo=UTC), scheduled=True)

    response = public_client.get(reverse("home"))

    assert (response.context["forum"], texts(response.text, '<h2 id="latest-title"')) == (
        latest.forum,
        ["如何加速智慧城市建设进程"],
    )


def test_home_shows_the_latest_recap_highlights_in_order(client):
    forum = published_forum()
    wang = AppearanceFactory(
        forum=forum, speaker__name="王华", organisation="腾讯", title="总经理"
    ).speaker
    li = AppearanceFactory(
        forum=forum, speaker__name="李明", organisation="深圳大学", title="教授"
    ).speaker
    QuoteFactory(forum=forum, speaker=wang, featured=True, highlight_position=2, text="第二条")
    QuoteFactory(forum=forum, speaker=li, featured=True, highlight_position=1, text="第一条")

    response = client.get(reverse("home"))

    assert (
        texts(response.text, '<blockquote class="highlight__text"'),
        texts(response.text, '<figcaption class="highlight__by"'),
    ) == (["第一条", "第二条"], ["——深圳大学教授李明", "——腾讯总经理王华"])


def test_home_without_a_public_recap_says_none_is_published(client):
    RecapFactory()

    response = client.get(reverse("home"))

    assert texts(response.text, '<h2 class="latest__title"') == ["还没有发布回顾。"]


def test_home_lists_the_topics_in_position_order(client):
    TopicFactory(name="智慧交通", position=2)
    TopicFactory(name="数字政府", position=1)

    response = client.get(reverse("home"))

    assert texts(response.text, '<h3 class="card__title"') == ["数字政府", "智慧交通"]


# --- Forum list ---------------------------------------------------------------------------


def test_forum_list_shows_public_recaps_newest_first(public_client):
    RecapFactory(
        forum__starts_at=datetime.datetime(2026, 10, 9, 6, 0, tzinfo=UTC),
        published=True,
        headline="十月论坛回顾",
    )
    RecapFactory(forum__starts_at=None, forum__ends_at=None, published=True, headline="未定日期")
    RecapFactory(
        forum__starts_at=datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        published=True,
        headline="十一月论坛回顾",
    )

    response = public_client.get(reverse("forums:forum-list"))

    assert texts(response.text, '<h2 class="entry__title"') == [
        "十一月论坛回顾",
        "十月论坛回顾",
        "未定日期",
    ]


@pytest.mark.parametrize("make_forum", UNPUBLISHED)
def test_forum_list_hides_unpublished_forums_from_the_public(public_client, make_forum):
    RecapFactory(published=True, headline="已发布的回顾")
    make_forum()

    response = public_client.get(reverse("forums:forum-list"))

    assert texts(response.text, '<h2 class="entry__title"') == ["已发布的回顾"]


def test_forum_list_shows_every_forum_with_its_status_to_an_organiser(organiser_client):
    RecapFactory(forum__starts_at=datetime.datetime(2026, 12, 1, tzinfo=UTC), published=True)
    RecapFactory(forum__starts_at=datetime.datetime(2026, 11, 1, tzinfo=UTC), scheduled=True)
    RecapFactory(forum__starts_at=datetime.datetime(2026, 10, 1, tzinfo=UTC))
    ForumFactory(starts_at=datetime.datetime(2026, 9, 1, tzinfo=UTC))

    response = organiser_client.get(reverse("forums:forum-list"))

    assert texts(response.text, '<span class="badge badge--status"') == [
        "已发布",
        "定时发布",
        "草稿",
        "暂无回顾",
    ]


def test_forum_list_shows_twenty_forums_a_page(client):
    for day in range(1, 22):
        published_forum(title=f"第{day}期", starts_at=datetime.datetime(2026, 1, day, tzinfo=UTC))

    response = client.get(reverse("forums:forum-list"), {"page": 2})

    assert (
        texts(response.text, '<h2 class="entry__title"'),
        texts(response.text, '<span class="pagination__current"'),
    ) == (["第1期回顾"], ["第 2 页，共 2 页"])


# --- Forum page: who may see it -----------------------------------------------------------


@pytest.mark.parametrize("make_forum", UNPUBLISHED)
def test_forum_page_unpublished_is_not_found_for_the_public(public_client, make_forum):
    forum = make_forum()

    response = public_client.get(forum.get_absolute_url())

    assert (response.status_code, texts(response.text, "<h1")) == (404, ["页面未找到"])


@pytest.mark.parametrize(
    ("make_forum", "status"),
    [
        (draft_forum, "草稿"),
        (forum_scheduled_for_tomorrow, "定时发布"),
        (forum_without_recap, "暂无回顾"),
    ],
)
def test_forum_page_unpublished_is_shown_to_an_organiser_with_its_status(
    organiser_client, make_forum, status
):
    forum = make_forum()

    response = organiser_client.get(forum.get_absolute_url())

    assert (
        response.context["forum"],
        texts(response.text, '<span class="badge badge--status"'),
    ) == (forum, [status])


def test_forum_page_scheduled_recap_is_public_once_its_time_has_passed(client):
    recap = RecapFactory(
        status=Recap.Status.SCHEDULED,
        publish_at=timezone.now() - datetime.timedelta(minutes=1),
        headline="定时发布的回顾",
    )

    page = client.get(recap.forum.get_absolute_url())
    listing = client.get(reverse("forums:forum-list"))

    assert (texts(page.text, "<h1"), texts(listing.text, '<h2 class="entry__title"')) == (
        ["定时发布的回顾"],
        ["定时发布的回顾"],
    )


def test_forum_page_public_recap_shows_no_status_badge(client):
    forum = published_forum()

    response = client.get(forum.get_absolute_url())

    assert texts(response.text, '<span class="badge badge--status"') == []


def test_forum_page_chinese_slug_resolves_from_the_forum_list(client):
    forum = RecapFactory(
        forum__slug="智慧城市圆桌论坛", published=True, headline="城市与未来"
    ).forum
    listing = client.get(reverse("forums:forum-list"))
    link = re.search(r'<h2 class="entry__title"><a href="([^"]+)">', listing.text).group(1)

    response = client.get(link)

    assert (link, response.context["forum"], texts(response.text, "<h1")) == (
        f"/forums/{quote('智慧城市圆桌论坛')}/",
        forum,
        ["城市与未来"],
    )


# --- Forum page: what it shows ------------------------------------------------------------


def test_forum_page_groups_speakers_by_role_in_role_order(client):
    forum = published_forum()
    for name, role, position in [
        ("主持人甲", Appearance.Role.HOST, 1),
        ("嘉宾乙", Appearance.Role.PANELIST, 3),
        ("嘉宾甲", Appearance.Role.PANELIST, 2),
        ("致辞人", Appearance.Role.OPENING_ADDRESS, 4),
    ]:
        AppearanceFactory(forum=forum, speaker__name=name, role=role, position=position)

    response = client.get(forum.get_absolute_url())

    groups = [
        (group["role"], [appearance.speaker.name for appearance in group["appearances"]])
        for group in response.context["speaker_groups"]
    ]
    assert groups == [
        (Appearance.Role.OPENING_ADDRESS, ["致辞人"]),
        (Appearance.Role.PANELIST, ["嘉宾甲", "嘉宾乙"]),
        (Appearance.Role.HOST, ["主持人甲"]),
    ]
    assert texts(response.text, '<h3 class="role-title"') == ["致辞", "研讨嘉宾", "圆桌主持人"]
    assert texts(response.text, '<a class="person__name"') == [
        "致辞人",
        "嘉宾甲",
        "嘉宾乙",
        "主持人甲",
    ]


def test_forum_page_marks_the_cohort_representative(client):
    forum = published_forum()
    AppearanceFactory(forum=forum, speaker__name="王华", position=1)
    AppearanceFactory(forum=forum, speaker__name="李明", position=2, is_cohort_representative=True)

    response = client.get(forum.get_absolute_url())

    badges = {
        texts(person, '<a class="person__name"')[0]: texts(person, '<span class="badge')
        for person in elements(response.text, '<li class="person"')
    }
    assert badges == {"王华": [], "李明": ["学员代表"]}


def test_forum_page_highlights_in_position_order_with_the_title_held_at_the_forum(client):
    forum = published_forum()
    wang = SpeakerFactory(name="王华", organisation="腾讯云", title="副总裁")
    li = SpeakerFactory(name="李明", organisation="深圳大学", title="教授")
    AppearanceFactory(forum=forum, speaker=wang, organisation="腾讯", title="智慧城市总经理")
    AppearanceFactory(forum=forum, speaker=li)
    QuoteFactory(forum=forum, speaker=wang, featured=True, highlight_position=2, text="第二条")
    QuoteFactory(forum=forum, speaker=li, featured=True, highlight_position=1, text="第一条")
    QuoteFactory(forum=forum, speaker=li, approved=True, text="已通过但未精选")

    response = client.get(forum.get_absolute_url())

    assert texts(response.text, '<blockquote class="highlight__text"') == ["第一条", "第二条"]
    assert texts(response.text, '<figcaption class="highlight__by"') == [
        "——深圳大学教授李明",
        "——腾讯智慧城市总经理王华",
    ]


def test_forum_page_highlight_of_a_speaker_without_appearance_uses_the_current_title(client):
    forum = published_forum()
    speaker = SpeakerFactory(name="赵敏", organisation="广州大学", title="研究员")
    QuoteFactory(forum=forum, speaker=speaker, featured=True)

    response = client.get(forum.get_absolute_url())

    assert texts(response.text, '<figcaption class="highlight__by"') == ["——广州大学研究员赵敏"]


def test_forum_page_shows_each_theme_turns_in_order_with_continuation_paragraphs(client):
    forum = published_forum()
    wang = SpeakerFactory(name="王华")
    li = SpeakerFactory(name="李明")
    second = ThemeFactory(forum=forum, title="数据与价值", position=2)
    first = ThemeFactory(forum=forum, title="城市与未来", position=1)
    TranscriptTurnFactory(theme=second, position=1, speaker=li, body="数据是新的生产要素。")
    TranscriptTurnFactory(theme=first, position=2, speaker=li, body="我补充一点。")
    TranscriptTurnFactory(
        theme=first,
        position=1,
        speaker=wang,
        body="城市是一个复杂的系统。\n\n数据要流动起来，才能产生价值。\n\n\n\n我们要有耐心。",
    )

    response = client.get(forum.get_absolute_url())

    themes = [
        (
            texts(section, "<h2")[0],
            [texts(turn, "<p") for turn in elements(section, '<div class="turn"')],
        )
        for section in elements(response.text, '<section class="section theme"')
    ]
    assert themes == [
        (
            "城市与未来",
            [
                [
                    "王华：城市是一个复杂的系统。",
                    "数据要流动起来，才能产生价值。",
                    "我们要有耐心。",
                ],
                ["李明：我补充一点。"],
            ],
        ),
        ("数据与价值", [["李明：数据是新的生产要素。"]]),
    ]


def test_forum_page_lists_the_released_topics_in_position_order(client):
    forum = published_forum()
    forum.released_topics.set(
        [TopicFactory(name="智慧交通", position=2), TopicFactory(name="数字政府", position=1)]
    )

    response = client.get(forum.get_absolute_url())

    assert texts(response.text, '<a class="chip"') == ["数字政府", "智慧交通"]


# --- Speakers -----------------------------------------------------------------------------


def test_speaker_list_shows_speakers_of_public_forums_in_name_order(client):
    forum = published_forum()
    AppearanceFactory(forum=forum, speaker__name="王华")
    AppearanceFactory(forum=forum, speaker__name="李明")

    response = client.get(reverse("forums:speaker-list"))

    assert texts(response.text, '<a class="person__name"') == ["李明", "王华"]


@pytest.mark.parametrize("make_forum", UNPUBLISHED)
def test_speaker_only_at_unpublished_forums_is_hidden_from_the_public(public_client, make_forum):
    AppearanceFactory(forum=published_forum(), speaker__name="公开嘉宾")
    hidden = AppearanceFactory(forum=make_forum(), speaker__name="未公开嘉宾").speaker

    detail = public_client.get(hidden.get_absolute_url())
    listing = public_client.get(reverse("forums:speaker-list"))

    assert (detail.status_code, texts(listing.text, '<a class="person__name"')) == (
        404,
        ["公开嘉宾"],
    )


@pytest.mark.parametrize("make_forum", UNPUBLISHED)
def test_speaker_only_at_unpublished_forums_is_shown_to_an_organiser(organiser_client, make_forum):
    hidden = AppearanceFactory(forum=make_forum(), speaker__name="未公开嘉宾").speaker

    detail = organiser_client.get(hidden.get_absolute_url())
    listing = organiser_client.get(reverse("forums:speaker-list"))

    assert (texts(detail.text, "<h1"), texts(listing.text, '<a class="person__name"')) == (
        ["未公开嘉宾"],
        ["未公开嘉宾"],
    )


def test_speaker_page_lists_public_forums_newest_first_with_the_title_held_then(client):
    speaker = SpeakerFactory(organisation="腾讯云", title="副总裁")
    october = published_forum(
        title="十月论坛", starts_at=datetime.datetime(2026, 10, 9, 6, 0, tzinfo=UTC)
    )
    november = published_forum(
        title="十一月论坛", starts_at=datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    )
    AppearanceFactory(forum=october, speaker=speaker, organisation="腾讯", title="总监")
    AppearanceFactory(forum=november, speaker=speaker, role=Appearance.Role.HOST)
    AppearanceFactory(forum=RecapFactory().forum, speaker=speaker)

    response = client.get(speaker.get_absolute_url())

    assert [
        (texts(entry, '<h3 class="entry__title"'), texts(entry, "<span"))
        for entry in elements(response.text, '<li class="entry"')
    ] == [
        (["十一月论坛"], ["圆桌主持人", "腾讯云 副总裁"]),
        (["十月论坛"], ["研讨嘉宾", "腾讯 总监"]),
    ]


def test_speaker_page_shows_only_approved_quotes_of_public_forums(public_client):
    speaker = SpeakerFactory()
    forum = published_forum()
    draft = RecapFactory().forum
    AppearanceFactory(forum=forum, speaker=speaker)
    AppearanceFactory(forum=draft, speaker=speaker)
    QuoteFactory(forum=forum, speaker=speaker, approved=True, text="已通过的观点")
    QuoteFactory(forum=forum, speaker=speaker, text="待审核的观点")
    QuoteFactory(forum=forum, speaker=speaker, rejected=True, text="被拒绝的观点")
    QuoteFactory(forum=draft, speaker=speaker, approved=True, text="未发布论坛的观点")

    response = public_client.get(speaker.get_absolute_url())

    assert texts(response.text, '<blockquote class="highlight__text"') == ["已通过的观点"]


def test_speaker_page_never_shows_proposed_or_rejected_quotes_even_to_an_organiser(
    organiser_client,
):
    forum = published_forum()
    speaker = AppearanceFactory(forum=forum).speaker
    QuoteFactory(forum=forum, speaker=speaker, approved=True, text="已通过的观点")
    QuoteFactory(forum=forum, speaker=speaker, text="待审核的观点")
    QuoteFactory(forum=forum, speaker=speaker, rejected=True, text="被拒绝的观点")

    response = organiser_client.get(speaker.get_absolute_url())

    assert texts(response.text, '<blockquote class="highlight__text"') == ["已通过的观点"]


@pytest.mark.parametrize(
    ("in_a_theme", "link"),
    [
        (True, '<a href="/forums/city-roundtable/#theme-2">{forum} · 数据与价值</a>'),
        (False, '<a href="/forums/city-roundtable/">{forum}</a>'),
    ],
    ids=["at-its-theme", "no-theme"],
)
def test_speaker_page_quote_links_to_its_theme_in_the_recap(client, in_a_theme, link):
    forum = published_forum(slug="city-roundtable")
    theme = ThemeFactory(forum=forum, title="数据与价值", position=2) if in_a_theme else None
    speaker = AppearanceFactory(forum=forum).speaker
    QuoteFactory(forum=forum, speaker=speaker, theme=theme, approved=True)

    response = client.get(speaker.get_absolute_url())

    assert re.findall(
        r'<figcaption class="highlight__by">\s*(<a [^>]+>[^<]+</a>)', response.text
    ) == [link.format(forum=forum.title)]


def test_speaker_page_chinese_slug_resolves(client):
    speaker = AppearanceFactory(forum=published_forum(), speaker__slug="王华").speaker

    response = client.get(speaker.get_absolute_url())

    assert (speaker.get_absolute_url(), response.context["speaker"]) == (
        f"/speakers/{quote('王华')}/",
        speaker,
    )
