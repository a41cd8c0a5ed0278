"""The write path of forums and recaps: versioned edits, revisions, publishing."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from forums import services
from forums.models import Appearance, Forum, Recap, RecapShareLink, Theme, TranscriptTurn
from forums.tasks import publish_due_recaps_task
from tests.factories import (
    SpeakerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """The messages are asserted in their English source; their Chinese is checked elsewhere."""
    with translation.override("en"):
        yield


@pytest.fixture
def forum(organiser):
    return services.create_forum(
        user=organiser,
        title="智慧城市线上圆桌论坛",
        headline="如何加速智慧城市建设进程",
        starts_at=datetime.datetime(2026, 4, 28, 7, 0, tzinfo=datetime.UTC),
        lede="围绕三大议题，嘉宾进行了深入探讨。",
    )


def version(forum):
    return Recap.objects.get(forum=forum).version


def complete(forum, organiser):
    """Give the forum what a public recap needs: a speaker and a theme with a turn."""
    speaker = SpeakerFactory(name="邬贺铨")
    services.add_appearance(
        forum,
        user=organiser,
        expected_version=version(forum),
        speaker=speaker,
        role=Appearance.Role.PANELIST,
    )
    theme = services.add_theme(
        forum, user=organiser, expected_version=version(forum), title="城市与未来"
    )
    services.add_turn(
        theme,
        user=organiser,
        expected_version=version(forum),
        speaker=speaker,
        body="智慧城市永远在路上。",
    )
    return forum


def test_create_forum_makes_a_draft_recap_with_a_first_revision(forum, organiser):
    recap = forum.recap

    assert (recap.status, recap.headline, recap.version) == (
        Recap.Status.DRAFT,
        "如何加速智慧城市建设进程",
        1,
    )
    assert list(recap.revisions.values_list("number", "author")) == [(1, organiser.pk)]
    assert forum.slug == "智慧城市线上圆桌论坛"


def test_create_forum_with_a_taken_title_gets_a_new_slug(forum, organiser):
    second = services.create_forum(user=organiser, title="智慧城市线上圆桌论坛")

    assert second.slug == "智慧城市线上圆桌论坛-2"


def test_update_forum_raises_the_version_and_records_what_changed(forum, organiser):
    services.update_forum(
        forum, user=organiser, expected_version=1, headline="数据与价值", body="**新**"
    )

    recap = Recap.objects.get(forum=forum)
    newer, older = list(recap.revisions.all())
    diff = services.diff_revisions(older, newer)
    assert (recap.headline, recap.body, recap.version, recap.updated_by) == (
        "数据与价值",
        "**新**",
        2,
        organiser,
    )
    assert "-Headline: 如何加速智慧城市建设进程" in diff
    assert "+Headline: 数据与价值" in diff


def test_update_forum_from_a_stale_form_is_refused_and_changes_nothing(forum, organiser):
    services.update_forum(forum, user=organiser, expected_version=1, headline="第一位的标题")
    stale = Forum.objects.get(pk=forum.pk)

    with pytest.raises(services.StaleEdit) as refused:
        services.update_forum(stale, user=organiser, expected_version=1, headline="第二位的标题")

    recap = Recap.objects.get(forum=forum)
    assert (recap.headline, recap.version, recap.revisions.count()) == ("第一位的标题", 2, 2)
    assert refused.value.recap.headline == "第一位的标题"


def test_update_forum_with_bad_input_saves_nothing(forum, organiser):
    with pytest.raises(ValidationError) as refused:
        services.update_forum(
            forum,
            user=organiser,
            expected_version=1,
            title="",
            ends_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        )

    fresh = Forum.objects.get(pk=forum.pk)
    assert "title" in refused.value.error_dict
    assert (fresh.title, version(forum), forum.recap.revisions.count()) == (
        "智慧城市线上圆桌论坛",
        1,
        1,
    )


def test_themes_are_added_moved_renamed_and_removed_in_order(forum, organiser):
    for title in ("城市与未来", "数据与价值", "机会与贡献"):
        services.add_theme(forum, user=organiser, expected_version=version(forum), title=title)
    third = forum.themes.get(title="机会与贡献")

    services.move_theme(third, user=organiser, expected_version=version(forum), step=-1)
    services.rename_theme(third, user=organiser, expected_version=version(forum), title="机会")
    services.remove_theme(
        forum.themes.get(title="城市与未来"), user=organiser, expected_version=version(forum)
    )

    assert list(forum.themes.order_by("position").values_list("title", flat=True)) == [
        "机会",
        "数据与价值",
    ]
    assert forum.recap.revisions.count() == 7


def test_move_first_theme_up_leaves_the_order(forum, organiser):
    first = services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")
    services.add_theme(forum, user=organiser, expected_version=2, title="数据与价值")

    services.move_theme(first, user=organiser, expected_version=3, step=-1)

    assert list(forum.themes.values_list("title", flat=True)) == ["城市与未来", "数据与价值"]


def test_add_turn_for_someone_not_speaking_at_the_forum_is_refused(forum, organiser):
    theme = services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")

    with pytest.raises(ValidationError) as refused:
        services.add_turn(
            theme,
            user=organiser,
            expected_version=2,
            speaker=SpeakerFactory(name="陌生人"),
            body="……",
        )

    assert refused.value.message_dict == {"speaker": ["Add 陌生人 to the forum's speakers first."]}
    assert TranscriptTurn.objects.count() == 0


def test_turns_move_within_their_theme(forum, organiser):
    complete(forum, organiser)
    theme = forum.themes.get()
    speaker = forum.appearances.get().speaker
    second = services.add_turn(
        theme, user=organiser, expected_version=version(forum), speaker=speaker, body="第二段。"
    )

    services.move_turn(second, user=organiser, expected_version=version(forum), step=-1)

    assert list(theme.turns.order_by("position").values_list("body", flat=True)) == [
        "第二段。",
        "智慧城市永远在路上。",
    ]


def test_remove_appearance_of_someone_still_in_the_transcript_is_refused(forum, organiser):
    complete(forum, organiser)
    appearance = forum.appearances.get()

    with pytest.raises(ValidationError) as refused:
        services.remove_appearance(appearance, user=organiser, expected_version=version(forum))

    assert refused.value.messages == [
        "邬贺铨 still speaks in the transcript: remove or reassign those turns first."
    ]
    assert forum.appearances.count() == 1


def test_publish_an_incomplete_recap_names_what_is_missing(organiser):
    forum = services.create_forum(user=organiser, title="空白论坛")

    with pytest.raises(ValidationError) as refused:
        services.publish_recap(forum, user=organiser, expected_version=1)

    assert refused.value.messages == [
        "The forum has no date.",
        "The forum has no lede.",
        "The forum has no speakers.",
        "The forum has no themes.",
    ]
    assert Recap.objects.get(forum=forum).status == Recap.Status.DRAFT


def test_publish_then_unpublish(forum, organiser):
    complete(forum, organiser)

    services.publish_recap(forum, user=organiser, expected_version=version(forum))
    public_after_publish = Forum.objects.published().count()
    services.unpublish_recap(forum, user=organiser, expected_version=version(forum))

    recap = Recap.objects.get(forum=forum)
    assert public_after_publish == 1
    assert (recap.status, Forum.objects.published().count()) == (Recap.Status.DRAFT, 0)
    assert recap.published_at is not None


def test_schedule_in_the_past_is_refused(forum, organiser):
    complete(forum, organiser)

    with pytest.raises(ValidationError) as refused:
        services.schedule_recap(
            forum,
            user=organiser,
            expected_version=version(forum),
            publish_at=timezone.now() - datetime.timedelta(minutes=1),
        )

    assert refused.value.message_dict == {
        "publish_at": ["Choose a time in the future, or publish now."]
    }


def test_scheduled_recap_goes_live_at_its_time_and_the_sweep_publishes_it(forum, organiser):
    complete(forum, organiser)
    at = timezone.now() + datetime.timedelta(hours=1)
    services.schedule_recap(forum, user=organiser, expected_version=version(forum), publish_at=at)

    before = services.publish_due_recaps(now=at - datetime.timedelta(seconds=1))
    public_before = Forum.objects.published().count()
    after = services.publish_due_recaps(now=at)

    recap = Recap.objects.get(forum=forum)
    assert (before, public_before, after) == (0, 0, 1)
    assert (recap.status, recap.published_at, recap.publish_at) == (
        Recap.Status.PUBLISHED,
        at,
        None,
    )


def test_publish_due_recaps_task_runs_the_sweep(forum, organiser):
    complete(forum, organiser)
    Recap.objects.filter(forum=forum).update(
        status=Recap.Status.SCHEDULED, publish_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    published = publish_due_recaps_task.delay().get()

    assert (published, Recap.objects.get(forum=forum).status) == (1, Recap.Status.PUBLISHED)


def test_share_link_expires_after_its_days(forum, organiser):
    link = services.create_share_link(forum, user=organiser, days=7)

    RecapShareLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert link.is_valid is True
    assert RecapShareLink.objects.get(pk=link.pk).is_valid is False
    assert len(link.token) >= 32


def test_restore_revision_brings_back_a_removed_theme_with_its_transcript(forum, organiser):
    complete(forum, organiser)
    kept = forum.recap.revisions.first()
    services.update_forum(forum, user=organiser, expected_version=version(forum), title="改过")
    services.remove_theme(forum.themes.get(), user=organiser, expected_version=version(forum))

    services.restore_revision(kept, user=organiser, expected_version=version(forum))

    theme = Theme.objects.get(forum=forum)
    assert (Forum.objects.get(pk=forum.pk).title, theme.title) == (
        "智慧城市线上圆桌论坛",
        "城市与未来",
    )
    assert list(theme.turns.values_list("speaker__name", "body")) == [
        ("邬贺铨", "智慧城市永远在路上。")
    ]
    assert forum.recap.revisions.first().snapshot == kept.snapshot


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_organisers_saving_at_once_one_is_refused(organiser):
    forum = services.create_forum(user=organiser, title="并发")
    other = UserFactory()
    outcomes, barrier = [], threading.Barrier(2)

    def save(user, headline):
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            services.update_forum(
                Forum.objects.get(pk=forum.pk), user=user, expected_version=1, headline=headline
            )
            outcomes.append("saved")
        except services.StaleEdit:
            outcomes.append("stale")
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=save, args=(organiser, "甲")),
        threading.Thread(target=save, args=(other, "乙")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["saved", "stale"]
    assert Recap.objects.get(forum=forum).version == 2
