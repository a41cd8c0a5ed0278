import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.models import Role
from forums.models import Appearance, Forum, Quote, Recap, Speaker, Theme
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    RecapRevisionFactory,
    SpeakerFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory",
    [
        SpeakerFactory,
        ForumFactory,
        ThemeFactory,
        AppearanceFactory,
        TranscriptTurnFactory,
        QuoteFactory,
        RecapFactory,
        RecapRevisionFactory,
    ],
)
def test_factory_default_passes_full_clean(factory):
    row = factory()

    row.full_clean()

    assert type(row).objects.filter(pk=row.pk).count() == 1


# --- Constraints --------------------------------------------------------------------------


def test_forum_ends_at_before_starts_at_is_refused():
    starts_at = datetime.datetime(2026, 11, 27, 6, 0, tzinfo=datetime.UTC)

    with pytest.raises(IntegrityError), transaction.atomic():
        ForumFactory(starts_at=starts_at, ends_at=starts_at - datetime.timedelta(minutes=1))


def test_forum_ends_at_without_starts_at_is_refused():
    ends_at = datetime.datetime(2026, 11, 27, 8, 0, tzinfo=datetime.UTC)

    with pytest.raises(IntegrityError), transaction.atomic():
        ForumFactory(starts_at=None, ends_at=ends_at)


def test_forum_without_times_is_accepted():
    forum = ForumFactory(starts_at=None, ends_at=None)

    assert Forum.objects.filter(pk=forum.pk, starts_at=None).count() == 1


def test_theme_position_is_unique_per_forum():
    theme = ThemeFactory(position=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        ThemeFactory(forum=theme.forum, position=1)


def test_theme_position_repeats_across_forums():
    ThemeFactory(position=1)

    ThemeFactory(position=1)

    assert list(Theme.objects.values_list("position", flat=True)) == [1, 1]


def test_theme_title_is_unique_per_forum():
    theme = ThemeFactory(title="城市与未来")

    with pytest.raises(IntegrityError), transaction.atomic():
        ThemeFactory(forum=theme.forum, title="城市与未来")


def test_appearance_is_unique_per_forum_speaker_and_role():
    appearance = AppearanceFactory(role=Appearance.Role.PANELIST)

    with pytest.raises(IntegrityError), transaction.atomic():
        AppearanceFactory(
            forum=appearance.forum, speaker=appearance.speaker, role=Appearance.Role.PANELIST
        )


def test_appearance_same_speaker_in_another_role_is_accepted():
    appearance = AppearanceFactory(role=Appearance.Role.PANELIST)

    AppearanceFactory(forum=appearance.forum, speaker=appearance.speaker, role=Appearance.Role.HOST)

    assert appearance.speaker.appearances.count() == 2


@pytest.mark.parametrize(
    "role",
    [Appearance.Role.OPENING_ADDRESS, Appearance.Role.HOST, Appearance.Role.TOPIC_RELEASE],
)
def test_appearance_cohort_representative_must_be_panelist(role):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppearanceFactory(role=role, is_cohort_representative=True)


def test_appearance_panelist_cohort_representative_is_accepted():
    appearance = AppearanceFactory(role=Appearance.Role.PANELIST, is_cohort_representative=True)

    assert Appearance.objects.filter(is_cohort_representative=True).get() == appearance


def test_transcript_turn_position_is_unique_per_theme():
    turn = TranscriptTurnFactory(position=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        TranscriptTurnFactory(theme=turn.theme, position=1)


@pytest.mark.parametrize("state", [Quote.State.PROPOSED, Quote.State.REJECTED])
def test_quote_featured_must_be_approved(state):
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteFactory(state=state, rejection_reason="重复", is_featured=True, highlight_position=1)


def test_quote_featured_needs_highlight_position():
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteFactory(state=Quote.State.APPROVED, is_featured=True, highlight_position=None)


def test_quote_highlight_position_needs_featured():
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteFactory(state=Quote.State.APPROVED, is_featured=False, highlight_position=1)


def test_quote_highlight_position_is_unique_per_forum():
    quote = QuoteFactory(featured=True, highlight_position=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteFactory(forum=quote.forum, featured=True, highlight_position=1)


def test_quote_highlight_position_repeats_across_forums():
    QuoteFactory(featured=True, highlight_position=1)

    QuoteFactory(featured=True, highlight_position=1)

    assert Quote.objects.filter(highlight_position=1).count() == 2


def test_quote_rejected_needs_reason():
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteFactory(state=Quote.State.REJECTED, rejection_reason="")


def test_quote_rejected_with_reason_is_accepted():
    quote = QuoteFactory(rejected=True)

    assert Quote.objects.filter(state=Quote.State.REJECTED).get() == quote


def test_recap_scheduled_needs_publish_at():
    with pytest.raises(IntegrityError), transaction.atomic():
        RecapFactory(status=Recap.Status.SCHEDULED, publish_at=None)


def test_recap_published_needs_published_at():
    with pytest.raises(IntegrityError), transaction.atomic():
        RecapFactory(status=Recap.Status.PUBLISHED, published_at=None)


def test_recap_is_one_per_forum():
    recap = RecapFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        RecapFactory(forum=recap.forum)


def test_recap_revision_number_is_unique_per_recap():
    revision = RecapRevisionFactory(number=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        RecapRevisionFactory(recap=revision.recap, number=1)


def test_speaker_slug_is_unique():
    SpeakerFactory(slug="wang-wei")

    with pytest.raises(IntegrityError), transaction.atomic():
        SpeakerFactory(slug="wang-wei")


# --- Who sees what ------------------------------------------------------------------------


@pytest.fixture
def forums_by_state():
    now = timezone.now()
    return {
        "no recap": ForumFactory(),
        "draft": RecapFactory().forum,
        "scheduled later": RecapFactory(scheduled=True).forum,
        "scheduled and due": RecapFactory(
            status=Recap.Status.SCHEDULED, publish_at=now - datetime.timedelta(minutes=1)
        ).forum,
        "published": RecapFactory(published=True).forum,
    }


@pytest.mark.parametrize(
    "viewer",
    [
        lambda: AnonymousUser(),
        lambda: None,
        lambda: UserFactory(),
        lambda: UserFactory(roles=[Role.MEMBER]),
        lambda: UserFactory(roles=[Role.ORGANISER], is_active=False),
    ],
    ids=["anonymous", "none", "no role", "member", "inactive organiser"],
)
def test_forum_visible_to_public_is_only_published_or_due(forums_by_state, viewer):
    visible = Forum.objects.visible_to(viewer())

    assert set(visible) == {forums_by_state["scheduled and due"], forums_by_state["published"]}


@pytest.mark.parametrize(
    "viewer",
    [
        lambda: UserFactory(roles=[Role.ORGANISER]),
        lambda: UserFactory(roles=[Role.ADMIN]),
        lambda: UserFactory(is_staff=True),
        lambda: UserFactory(is_superuser=True),
    ],
    ids=["organiser", "portal admin", "staff", "superuser"],
)
def test_forum_visible_to_staff_includes_drafts(forums_by_state, viewer):
    visible = Forum.objects.visible_to(viewer())

    assert set(visible) == set(forums_by_state.values())


def test_speaker_visible_to_anonymous_hides_speakers_of_unpublished_forums():
    public_forum = RecapFactory(published=True).forum
    draft_forum = RecapFactory().forum
    public = AppearanceFactory(forum=public_forum).speaker
    AppearanceFactory(forum=draft_forum)
    both = AppearanceFactory(forum=public_forum).speaker
    AppearanceFactory(forum=draft_forum, speaker=both)
    AppearanceFactory(forum=public_forum, speaker=both, role=Appearance.Role.HOST)
    SpeakerFactory()

    visible = Speaker.objects.visible_to(AnonymousUser()).order_by("pk")

    assert list(visible) == [public, both]


def test_speaker_visible_to_organiser_includes_every_speaker(organiser):
    AppearanceFactory(forum=RecapFactory(published=True).forum)
    AppearanceFactory(forum=RecapFactory().forum)
    SpeakerFactory()

    visible = Speaker.objects.visible_to(organiser)

    assert visible.count() == 3


def test_quote_visible_to_anonymous_is_approved_quotes_of_published_forums():
    public_forum = RecapFactory(published=True).forum
    draft_forum = RecapFactory().forum
    approved = QuoteFactory(forum=public_forum, approved=True)
    featured = QuoteFactory(forum=public_forum, featured=True)
    QuoteFactory(forum=public_forum)
    QuoteFactory(forum=public_forum, rejected=True)
    QuoteFactory(forum=draft_forum, approved=True)

    visible = Quote.objects.visible_to(AnonymousUser()).order_by("pk")

    assert list(visible) == [approved, featured]


def test_quote_visible_to_organiser_includes_every_state(organiser):
    public_forum = RecapFactory(published=True).forum
    QuoteFactory(forum=public_forum)
    QuoteFactory(forum=public_forum, rejected=True)
    QuoteFactory(forum=RecapFactory().forum, approved=True)

    visible = Quote.objects.visible_to(organiser)

    assert visible.count() == 3


def test_quote_highlights_are_featured_quotes_in_position_order():
    forum = ForumFactory()
    third = QuoteFactory(forum=forum, featured=True, highlight_position=3)
    first = QuoteFactory(forum=forum, featured=True, highlight_position=1)
    QuoteFactory(forum=forum, approved=True)
    second = QuoteFactory(forum=forum, featured=True, highlight_position=2)

    highlights = Quote.objects.filter(forum=forum).highlights()

    assert list(highlights) == [first, second, third]


# --- Small behaviour ----------------------------------------------------------------------


def test_transcript_turn_paragraphs_split_on_blank_lines():
    turn = TranscriptTurnFactory.build(body="第一段。\n\n  \n\n第二段，\n同一段。\n")

    paragraphs = turn.paragraphs

    assert paragraphs == ["第一段。", "第二段，\n同一段。"]


def test_str_of_forum_models_names_the_row():
    speaker = SpeakerFactory(name="王伟")
    forum = ForumFactory(title="WeCity 未来城市圆桌")
    theme = ThemeFactory(forum=forum, title="城市与未来")
    appearance = AppearanceFactory(forum=forum, speaker=speaker, role=Appearance.Role.PANELIST)
    body = "城市是一个复杂的系统，需要政府、企业和市民共同参与，才能真正让数据产生价值。"
    turn = TranscriptTurnFactory(theme=theme, speaker=speaker, body=body)
    quote = QuoteFactory(forum=forum, speaker=speaker, text=body)
    recap = RecapFactory(forum=forum, headline="回顾：城市与未来")
    revision = RecapRevisionFactory(recap=recap, number=3)

    with translation.override("en"):
        strings = [
            str(row) for row in (speaker, forum, theme, appearance, turn, quote, recap, revision)
        ]

    assert strings == [
        "王伟",
        "WeCity 未来城市圆桌",
        "城市与未来",
        "王伟 · Panelist · WeCity 未来城市圆桌",
        f"王伟: {body[:40]}",
        f"王伟: {body[:40]}",
        "回顾：城市与未来",
        "回顾：城市与未来 #3",
    ]
