"""The public speaker directory (search, filters, pages) and merging two records of one person."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from accounts.models import Role
from forums.models import Appearance, CurationEntry, Quote, Speaker, TranscriptTurn
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def published_forum(**fields):
    return RecapFactory(forum=ForumFactory(**fields), published=True).forum


def names(response):
    return texts(response.text, '<a class="person__name"')


def directory(client, query=""):
    return client.get(reverse("forums:speaker-list") + query, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def people(db):
    """Four speakers of two public forums and one who spoke only at a draft."""
    spring = published_forum(title="春季论坛")
    autumn = published_forum(title="秋季论坛")
    draft = RecapFactory().forum
    wang = SpeakerFactory(name="王景田", organisation="腾讯政务云", title="副总裁")
    wu = SpeakerFactory(name="邬贺铨", organisation="中国工程院", title="院士")
    jia = SpeakerFactory(name="贾西贝", organisation="华傲数据", title="董事长")
    li = SpeakerFactory(name="李明", organisation="腾讯研究院", title="研究员")
    hidden = SpeakerFactory(name="未公开嘉宾", organisation="腾讯云")
    AppearanceFactory(forum=spring, speaker=wang, role=Appearance.Role.HOST)
    AppearanceFactory(forum=autumn, speaker=wang, role=Appearance.Role.PANELIST)
    AppearanceFactory(forum=spring, speaker=wu, role=Appearance.Role.OPENING_ADDRESS)
    AppearanceFactory(forum=autumn, speaker=jia, role=Appearance.Role.PANELIST)
    AppearanceFactory(forum=autumn, speaker=li, role=Appearance.Role.TOPIC_RELEASE)
    AppearanceFactory(forum=draft, speaker=hidden, role=Appearance.Role.HOST)
    AppearanceFactory(forum=draft, speaker=jia, role=Appearance.Role.HOST)
    return {"spring": spring, "autumn": autumn, "draft": draft}


# --- Search and filters ---------------------------------------------------------------------


def test_directory_lists_the_speakers_of_public_forums_by_name(client, people):
    assert names(directory(client)) == ["李明", "王景田", "贾西贝", "邬贺铨"]


def test_directory_searches_name_organisation_and_title(client, people):
    assert names(directory(client, "?q=景田")) == ["王景田"]
    assert names(directory(client, "?q=腾讯")) == ["李明", "王景田"]
    assert names(directory(client, "?q=院士")) == ["邬贺铨"]
    assert names(directory(client, "?q=++")) == ["李明", "王景田", "贾西贝", "邬贺铨"]


def test_directory_filters_by_organisation_with_choices_of_public_speakers(client, people):
    response = directory(client, "?organisation=华傲数据")

    assert names(response) == ["贾西贝"]
    assert texts(elements(response.text, '<select name="organisation"')[0], "<option") == [
        "Any organisation",
        "中国工程院",
        "华傲数据",
        "腾讯政务云",
        "腾讯研究院",
    ]


def test_directory_offers_the_most_common_organisations_and_keeps_the_chosen_one(
    client, people, monkeypatch
):
    monkeypatch.setattr("forums.filters.ORGANISATION_CHOICES", 1)
    forum = people["spring"]
    for name in ("甲", "乙"):
        AppearanceFactory(forum=forum, speaker__name=name, speaker__organisation="腾讯研究院")

    unfiltered = directory(client)
    chosen = directory(client, "?organisation=中国工程院")

    # Only the organisation with most speakers is offered; one chosen in the address is
    # added, selected, and still filters.
    assert texts(elements(unfiltered.text, '<select name="organisation"')[0], "<option") == [
        "Any organisation",
        "腾讯研究院",
    ]
    assert texts(elements(chosen.text, '<select name="organisation"')[0], "<option") == [
        "Any organisation",
        "中国工程院",
        "腾讯研究院",
    ]
    assert '<option value="中国工程院" selected>' in chosen.text
    assert names(chosen) == ["邬贺铨"]


def test_directory_filters_by_role_at_public_forums_only(client, people):
    # 贾西贝 hosted only the draft forum: the public must not learn of it.
    assert names(directory(client, "?role=host")) == ["王景田"]
    assert names(directory(client, "?role=panelist")) == ["王景田", "贾西贝"]


def test_directory_filters_by_forum_and_by_role_at_that_forum(client, people):
    spring, autumn = people["spring"], people["autumn"]

    assert names(directory(client, f"?forum={spring.pk}")) == ["王景田", "邬贺铨"]
    assert names(directory(client, f"?forum={autumn.pk}&role=host")) == []
    assert names(directory(client, f"?forum={spring.pk}&role=host&q=王")) == ["王景田"]


def test_directory_offers_only_public_forums_to_the_public(client, people):
    response = directory(client)

    options = texts(elements(response.text, '<select name="forum"')[0], "<option")
    assert sorted(options) == sorted(["Any forum", "春季论坛", "秋季论坛"])


def test_directory_of_an_unpublished_forum_is_empty_for_the_public(client, people):
    response = directory(client, f"?forum={people['draft'].pk}")

    assert (names(response), len(elements(response.text, '<ul class="errorlist"'))) == ([], 1)


def test_directory_shows_organisers_every_speaker_and_forum(client, people, organiser):
    client.force_login(organiser)

    assert names(directory(client, f"?forum={people['draft'].pk}")) == ["未公开嘉宾", "贾西贝"]


def test_directory_says_when_nothing_matches(client, people):
    response = directory(client, "?q=不存在的人")

    assert texts(response.text, '<p class="empty"') == [
        "No speaker matches: try fewer words or fewer filters."
    ]


def test_directory_pages_keep_the_search(client):
    forum = published_forum()
    for index in range(25):
        AppearanceFactory(forum=forum, speaker__name=f"腾讯嘉宾{index:02d}")
    AppearanceFactory(forum=forum, speaker__name="别人", speaker__organisation="华为")

    first = directory(client, "?q=腾讯")
    second = directory(client, "?q=腾讯&page=2")

    assert 'href="?q=%E8%85%BE%E8%AE%AF&amp;page=2"' in first.text
    assert (len(names(first)), len(names(second))) == (20, 5)


def test_directory_escapes_markup_in_speaker_fields(client):
    forum = published_forum()
    AppearanceFactory(
        forum=forum,
        speaker__name="<script>alert(1)</script>",
        speaker__organisation="<img src=x onerror=alert(2)>",
    )

    response = directory(client, "?q=<script>")

    assert "<script>alert(1)" not in response.text
    assert "<img src=x" not in response.text
    assert [unescape(name) for name in names(response)] == ["<script>alert(1)</script>"]


# --- The speaker's page ---------------------------------------------------------------------


def test_speaker_page_shows_photo_bio_forums_with_role_and_title_then_and_quotes(client):
    speaker = SpeakerFactory(
        name="王景田",
        organisation="腾讯政务云",
        title="副总裁",
        bio="长期关注数字政府。",
        photo="speakers/wang.png",
    )
    forum = published_forum(title="十一月论坛")
    AppearanceFactory(
        forum=forum, speaker=speaker, role=Appearance.Role.HOST, organisation="腾讯", title="总监"
    )
    quote = QuoteFactory(forum=forum, speaker=speaker, approved=True, text="城市是复杂系统。")

    response = client.get(speaker.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert '<img class="profile__photo" src="/media/speakers/wang.png"' in response.text
    assert texts(response.text, '<div class="bio"') == ["长期关注数字政府。"]
    entry = elements(response.text, '<li class="entry"')[0]
    assert (texts(entry, '<h3 class="entry__title"'), texts(entry, "<span")) == (
        ["十一月论坛"],
        ["Host", "腾讯 总监"],
    )
    assert texts(response.text, '<blockquote class="highlight__text"') == ["城市是复杂系统。"]
    assert f'href="/quotes/{quote.pk}/"' in response.text


# --- Merging two records of one person --------------------------------------------------------


@pytest.fixture
def curator_client(client):
    client.force_login(UserFactory(roles=[Role.ADMIN]))
    return client


def test_merge_keeps_every_appearance_turn_and_quote_and_the_duplicate_url_is_gone(
    curator_client, client
):
    keep = SpeakerFactory(name="贾西贝", slug="jia", organisation="华傲数据", title="")
    duplicate = SpeakerFactory(name="贾西贝", slug="jia-2", organisation="", title="董事长")
    shared = published_forum(title="共同的论坛")
    own = published_forum(title="只有副本出席的论坛")
    AppearanceFactory(forum=shared, speaker=keep, role=Appearance.Role.PANELIST, title="")
    AppearanceFactory(
        forum=shared, speaker=duplicate, role=Appearance.Role.PANELIST, title="董事长"
    )  # the clash: the same forum and role
    AppearanceFactory(forum=shared, speaker=duplicate, role=Appearance.Role.HOST)
    AppearanceFactory(forum=own, speaker=duplicate, role=Appearance.Role.PANELIST)
    turn = TranscriptTurnFactory(theme__forum=shared, speaker=duplicate)
    quotes = [
        QuoteFactory(forum=shared, speaker=duplicate, approved=True),
        QuoteFactory(forum=own, speaker=duplicate),
        QuoteFactory(forum=shared, speaker=keep, approved=True),
    ]
    duplicate_url = duplicate.get_absolute_url()

    response = curator_client.post(
        reverse("curate:speaker-merge"),
        {"keep": keep.pk, "duplicate": duplicate.pk},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    keep.refresh_from_db()
    assert sorted(
        keep.appearances.values_list("forum__title", "role").order_by("forum__title", "role")
    ) == sorted(
        [("共同的论坛", "host"), ("共同的论坛", "panelist"), ("只有副本出席的论坛", "panelist")]
    )
    assert TranscriptTurn.objects.get(pk=turn.pk).speaker == keep
    assert sorted(Quote.objects.filter(speaker=keep).values_list("pk", flat=True)) == sorted(
        q.pk for q in quotes
    )
    assert (keep.organisation, keep.title) == ("华傲数据", "董事长")
    assert not Speaker.objects.filter(pk=duplicate.pk).exists()
    entry = CurationEntry.objects.get(action=CurationEntry.Action.MERGE)
    assert entry.details["dropped_appearances"][0]["title"] == "董事长"
    assert response.redirect_chain[-1][0] == keep.get_absolute_url()
    assert texts(response.text, '<li class="message') == [
        "The duplicate record of 贾西贝 is merged into 贾西贝."
    ]
    assert client.get(duplicate_url).status_code == 404
    assert client.get(keep.get_absolute_url()).status_code == 200


def test_merge_preview_changes_nothing(curator_client):
    keep, duplicate = SpeakerFactory.create_batch(2, name="王景田")
    AppearanceFactory(speaker=duplicate)

    curator_client.get(
        reverse("curate:speaker-merge") + f"?keep={keep.pk}&duplicate={duplicate.pk}"
    )

    assert (Speaker.objects.count(), duplicate.appearances.count()) == (2, 1)
