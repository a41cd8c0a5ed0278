"""Search: Chinese words in unspaced text, ranked, highlighted, public content only."""

import datetime
import io
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from forums import curation, search, services
from forums.importers import parse_article, save_import
from forums.models import Forum, Recap, SearchEntry, Speaker
from tests.factories import (
    AppearanceFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

URL = reverse("forums:search")
SEED_ARTICLE = Path(__file__).resolve().parent.parent / "data" / "seed_article.txt"
ANYONE = AnonymousUser()


@pytest.fixture
def seed(django_capture_on_commit_callbacks):
    """The demo programme, indexed as `load_demo` leaves it once its transaction commits."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", password="x")
    return Forum.objects.get()


def plain_forum(*, published=True):
    """A forum with a recap whose own words (圆桌, 回顾) the tests never search for."""
    recap = RecapFactory(
        published=published, headline="圆桌回顾", body="", forum__lede="一场圆桌。"
    )
    return recap.forum


def forum_with_turns(*bodies, published=True, speaker=None):
    """A forum (public or draft) with one theme whose turns say `bodies`, indexed."""
    forum = plain_forum(published=published)
    speaker = speaker or SpeakerFactory(title="总经理", bio="")
    AppearanceFactory(forum=forum, speaker=speaker)
    theme = ThemeFactory(forum=forum, position=1)
    for position, body in enumerate(bodies, start=1):
        TranscriptTurnFactory(theme=theme, position=position, speaker=speaker, body=body)
    search.index_forum(forum)
    return forum


def found(query, *, user=ANYONE, kind=None):
    return [(r.kind, r.title) for r in search.search(query, user=user, kind=kind)]


def marks(html):
    return elements(html, "<mark")


# --- Words --------------------------------------------------------------------------------


def test_words_of_text_without_spaces_include_its_words():
    assert search.words("数据的价值释放") == ["数据", "的", "价值", "释放"]


def test_words_for_indexing_include_the_shorter_words_of_a_long_one():
    assert {"智慧", "城市", "加速", "加速器"} <= set(search.words("智慧城市加速器"))


def test_words_lower_case_latin_and_drop_punctuation():
    assert search.words("WeCity 加速器，Smart-City！") == [
        "wecity",
        "加速",
        "加速器",
        "smart",
        "city",
    ]


def test_query_terms_drop_particles_unless_nothing_else_is_asked():
    assert (search.query_terms("数据的价值"), search.query_terms("的")) == (
        ["数据", "价值"],
        ["的"],
    )


def test_query_terms_are_capped_in_length_and_number():
    long_query = " ".join(f"word{n}" for n in range(300))

    terms = search.query_terms(long_query)

    assert (len(terms), terms[0]) == (search.MAX_TERMS, "word0")


# --- The seed ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["数据", "智慧城市"])
def test_search_finds_words_in_the_seeds_unspaced_text(seed, query):
    results = search.search(query, user=ANYONE)

    kinds = {result.kind for result in results}
    assert {SearchEntry.Kind.RECAP, SearchEntry.Kind.TURN, SearchEntry.Kind.QUOTE} <= kinds
    assert all(query in result.snippet_text for result in results)
    assert all((query, True) in result.snippet for result in results)


def test_search_finds_a_speaker_by_name_first(seed):
    speaker = Speaker.objects.get(name="司晓")

    results = search.search("司晓", user=ANYONE)

    assert (results[0].kind, results[0].title, results[0].url) == (
        SearchEntry.Kind.SPEAKER,
        "司晓",
        speaker.get_absolute_url(),
    )
    assert {r.title for r in results} == {"司晓"}


def test_search_finds_latin_words_whatever_their_case(seed):
    assert found("wecity") == found("WeCity") != []


def test_search_page_lists_the_seeds_results_with_the_words_marked(client, seed):
    response = client.get(URL, {"q": "数据"})

    results = elements(response.text, '<li class="entry search-result"')
    assert (response.status_code, len(results), response.context["count"]) == (200, 12, 12)
    assert set(marks(response.text)) == {"数据"}
    assert 'name="q" value="数据"' in response.text


def test_rebuild_search_index_command_indexes_everything_again(seed):
    before = sorted(SearchEntry.objects.values_list("kind", "object_id", "is_public"))
    SearchEntry.objects.all().delete()

    call_command("rebuild_search_index", stdout=io.StringIO())

    after = sorted(SearchEntry.objects.values_list("kind", "object_id", "is_public"))
    assert (after, len(after)) == (before, 37)


# --- Ranking and highlighting ----------------------------------------------------------------


def test_search_ranks_a_quote_repeating_the_word_above_one_saying_it_once():
    forum = plain_forum()
    once = QuoteFactory(forum=forum, approved=True, text="城市的数据价值。")
    twice = QuoteFactory(forum=forum, approved=True, text="数据要流动，数据要共享。")
    search.index_forum(forum)

    results = search.search("数据", user=ANYONE, kind=SearchEntry.Kind.QUOTE)

    assert [r.snippet_text for r in results] == [twice.text, once.text]


def test_search_marks_adjacent_words_as_one():
    forum_with_turns("我们讨论了智慧城市的未来。")

    (result,) = search.search("智慧城市", user=ANYONE)

    assert [part for part in result.snippet if part[1]] == [("智慧城市", True)]


def test_snippet_of_a_long_turn_is_cut_around_the_first_match():
    forum_with_turns("城市" * 200 + "数据要流动起来。" + "未来" * 200)

    (result,) = search.search("数据", user=ANYONE)

    assert result.snippet[0] == ("…", False)
    assert result.snippet[-1] == ("…", False)
    assert len(result.snippet_text) <= search.SNIPPET_LENGTH + 2
    assert ("数据", True) in result.snippet


def test_search_page_escapes_markup_in_indexed_text(client):
    forum_with_turns('<script>alert("数据")</script><b onmouseover="x()">数据</b>')

    response = client.get(URL, {"q": "数据"})

    (snippet,) = elements(response.text, '<p class="entry__text search-result__snippet"')
    assert snippet == (
        "&lt;script&gt;alert(&quot;<mark>数据</mark>&quot;)&lt;/script&gt;"
        "&lt;b onmouseover=&quot;x()&quot;&gt;<mark>数据</mark>&lt;/b&gt;"
    )
    assert "<script>alert" not in response.text


def test_search_page_escapes_the_query(client):
    response = client.get(URL, {"q": '"><script>alert(1)</script>'})

    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# --- Who sees what ---------------------------------------------------------------------------


def test_search_of_the_public_leaves_out_draft_forums():
    forum_with_turns("公开的数据开放。")
    forum_with_turns("草稿里的数据治理。", published=False)

    assert [r.snippet_text for r in search.search("数据", user=ANYONE)] == ["公开的数据开放。"]


def test_search_page_of_a_member_leaves_out_draft_forums(client):
    forum_with_turns("草稿里的数据治理。", published=False)
    client.force_login(UserFactory(roles=[Role.MEMBER]))

    response = client.get(URL, {"q": "数据治理"})

    assert response.context["results"] == []


def test_search_of_an_organiser_includes_drafts_marked_not_public(client, organiser):
    forum_with_turns("草稿里的数据治理。", published=False)
    client.force_login(organiser)

    response = client.get(URL, {"q": "数据治理"}, HTTP_ACCEPT_LANGUAGE="en")

    assert [r.is_public for r in response.context["results"]] == [False]
    assert texts(response.text, '<span class="badge badge--draft"') == ["Not public"]


@pytest.mark.parametrize("state", [{}, {"rejected": True}], ids=["proposed", "rejected"])
def test_search_never_finds_a_quote_that_is_not_approved(state, organiser):
    forum = plain_forum()
    QuoteFactory(forum=forum, text="数据要素市场化。", **state)
    search.index_forum(forum)

    assert (found("数据要素"), found("数据要素", user=organiser)) == ([], [])


def test_draft_forum_turn_index_entry_is_not_public():
    forum = forum_with_turns("草稿里的数据治理。", published=False)

    entries = SearchEntry.objects.filter(forum=forum)

    assert {(e.kind, e.is_public) for e in entries} == {
        (SearchEntry.Kind.RECAP, False),
        (SearchEntry.Kind.TURN, False),
    }


# --- The index follows the writes --------------------------------------------------------------


@pytest.fixture
def complete_forum(organiser, django_capture_on_commit_callbacks):
    """A draft forum that could be published, built through the services."""
    with django_capture_on_commit_callbacks(execute=True):
        forum = services.create_forum(
            user=organiser,
            title="智慧出行圆桌",
            starts_at=datetime.datetime(2026, 12, 18, 6, 0, tzinfo=datetime.UTC),
            lede="嘉宾们讨论了交通数据的开放。",
        )
        speaker = SpeakerFactory(name="王景田")
        services.add_appearance(
            forum, user=organiser, expected_version=1, speaker=speaker, role="panelist"
        )
        theme = services.add_theme(forum, user=organiser, expected_version=2, title="出行")
        services.add_turn(
            theme, user=organiser, expected_version=3, speaker=speaker, body="停车难是城市病。"
        )
    return forum


def version(forum):
    return Recap.objects.get(forum=forum).version


def test_publishing_and_unpublishing_a_recap_shows_and_hides_its_turns(
    complete_forum, organiser, django_capture_on_commit_callbacks
):
    before = found("停车难")
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_recap(
            complete_forum, user=organiser, expected_version=version(complete_forum)
        )
    published = found("停车难")
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_recap(
            complete_forum, user=organiser, expected_version=version(complete_forum)
        )

    assert (before, published, found("停车难")) == ([], [("turn", "王景田")], [])


def test_editing_a_turn_reindexes_its_words(
    complete_forum, organiser, django_capture_on_commit_callbacks
):
    turn = complete_forum.themes.get().turns.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_turn(
            turn,
            user=organiser,
            expected_version=version(complete_forum),
            speaker=turn.speaker,
            body="拥堵治理需要数据。",
        )

    assert (found("停车难", user=organiser), found("拥堵", user=organiser)) == (
        [],
        [("turn", "王景田")],
    )


def test_speaker_leaving_their_only_public_forum_is_no_longer_public(
    complete_forum, organiser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_recap(
            complete_forum, user=organiser, expected_version=version(complete_forum)
        )
    public_before = found("王景田", kind=SearchEntry.Kind.SPEAKER)
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_recap(
            complete_forum, user=organiser, expected_version=version(complete_forum)
        )

    assert (public_before, found("王景田", kind=SearchEntry.Kind.SPEAKER)) == (
        [("speaker", "王景田")],
        [],
    )


def test_scheduled_recap_becomes_searchable_when_the_sweep_publishes_it(
    complete_forum, organiser, django_capture_on_commit_callbacks
):
    at = timezone.now() + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_recap(
            complete_forum, user=organiser, expected_version=version(complete_forum), publish_at=at
        )
    before = found("停车难")

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_due_recaps(now=at)

    assert (before, found("停车难")) == ([], [("turn", "王景田")])


def test_rejecting_an_approved_quote_removes_it_from_the_results(
    admin_user, django_capture_on_commit_callbacks
):
    forum = plain_forum()
    speaker = AppearanceFactory(forum=forum).speaker
    with django_capture_on_commit_callbacks(execute=True):
        quote = curation.propose_quote(forum, user=admin_user, speaker=speaker, text="数据为民。")
        curation.approve_quote(quote, user=admin_user)
    approved = found("数据为民")

    with django_capture_on_commit_callbacks(execute=True):
        curation.reject_quote(quote, user=admin_user, reason="与议题无关。")

    assert (approved, found("数据为民")) == ([("quote", speaker.name)], [])
    assert not SearchEntry.objects.filter(kind="quote", object_id=quote.pk).exists()


def test_editing_an_approved_quote_reindexes_its_words(
    admin_user, django_capture_on_commit_callbacks
):
    forum = plain_forum()
    speaker = AppearanceFactory(forum=forum).speaker
    quote = QuoteFactory(forum=forum, speaker=speaker, approved=True, text="数据为民。")
    search.index_forum(forum)

    with django_capture_on_commit_callbacks(execute=True):
        curation.edit_quote(quote, user=admin_user, text="让数据多跑路。")

    assert (found("为民"), found("跑路")) == ([], [("quote", speaker.name)])


def test_approving_many_quotes_reindexes_their_forum_once(
    admin_user, django_capture_on_commit_callbacks
):
    forum = plain_forum()
    speaker = AppearanceFactory(forum=forum).speaker
    quotes = QuoteFactory.create_batch(3, forum=forum, speaker=speaker)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        curation.approve_quotes(quotes, user=admin_user)

    assert (len(callbacks), len(found("数字化转型", kind=SearchEntry.Kind.QUOTE))) == (1, 3)


def test_a_reindex_rolled_back_with_its_savepoint_is_queued_again(
    django_capture_on_commit_callbacks,
):
    forum = forum_with_turns("数据", published=True)

    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                search.schedule_forum_reindex(forum)
                raise RuntimeError
        except RuntimeError:
            pass
        search.schedule_forum_reindex(forum)
        search.schedule_forum_reindex(forum)

    assert callbacks == [search.Reindex(forum_id=forum.pk)]


def test_merging_speakers_finds_the_duplicates_turns_under_the_kept_name(
    admin_user, django_capture_on_commit_callbacks
):
    keep = SpeakerFactory(name="邬贺铨")
    duplicate = SpeakerFactory(name="邬贺铨院士")
    forum_with_turns("数据要素的映射问题。", speaker=duplicate)

    with django_capture_on_commit_callbacks(execute=True):
        curation.merge_speakers(keep, user=admin_user, duplicate=duplicate)

    assert found("映射") == [("turn", "邬贺铨")]
    assert found("邬贺铨", kind=SearchEntry.Kind.SPEAKER) == [("speaker", "邬贺铨")]


def test_imported_recap_is_indexed_as_a_draft(organiser, django_capture_on_commit_callbacks):
    article = SEED_ARTICLE.read_text(encoding="utf-8")

    with django_capture_on_commit_callbacks(execute=True):
        forum = save_import(parse_article(article), user=organiser)

    entries = SearchEntry.objects.filter(forum=forum)
    assert {(e.kind, e.is_public) for e in entries} == {("recap", False), ("turn", False)}
    assert (found("数据"), len(found("数据", user=organiser))) == ([], 10)


# --- The page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "label", "count"),
    [
        ("zh-hans", "搜索论坛回顾、实录、观点和嘉宾", "1 条结果"),
        ("en", "Search recaps, transcripts, quotes and speakers", "1 result"),
    ],
)
def test_search_page_speaks_both_languages(client, language, label, count):
    forum_with_turns("数据要流动起来。")

    response = client.get(URL, {"q": "数据"}, HTTP_ACCEPT_LANGUAGE=language)

    assert texts(response.text, '<label class="search-form__label"') == [label]
    assert texts(response.text, '<p class="search-count"') == [count]


@pytest.mark.parametrize(
    ("language", "label"), [("zh-hans", "搜索门户"), ("en", "Search the portal")]
)
def test_every_page_has_the_search_box_with_a_label(client, language, label):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)

    (form,) = elements(response.text, '<form class="site-search"')
    assert f'action="{URL}"' in response.text
    assert texts(form, '<label class="visually-hidden" for="site-search-q"') == [label]
    assert 'id="site-search-q" name="q"' in form


def test_search_page_filters_by_kind(client, seed):
    response = client.get(URL, {"q": "数据", "kind": "quote"})

    assert {r.kind for r in response.context["results"]} == {"quote"}
    assert response.context["count"] == len(response.context["results"]) == 2


def test_search_page_ignores_an_unknown_kind(client, seed):
    response = client.get(URL, {"q": "司晓", "kind": "nonsense"})

    assert (response.context["kind"], len(response.context["results"])) == ("", 6)


def test_search_page_says_when_nothing_is_found(client):
    forum_with_turns("数据要流动起来。")

    response = client.get(URL, {"q": "区块链"}, HTTP_ACCEPT_LANGUAGE="en")

    assert texts(response.text, '<p class="empty"') == [
        "Nothing found for “区块链”. Try fewer or other words."
    ]


def test_search_page_limits_results_and_says_so(client):
    forum_with_turns(*[f"第{n}段：数据。" for n in range(25)])

    response = client.get(URL, {"q": "数据"}, HTTP_ACCEPT_LANGUAGE="en")

    assert (len(response.context["results"]), response.context["count"]) == (20, 25)
    assert "Showing the 20 best matches." in response.text


def test_empty_search_asks_for_words_without_querying(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(URL, {"q": "   "}, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.context["results"]) == (200, [])
    assert "Type a word or a name" in response.text


def test_search_of_a_thousand_characters_answers_quickly_with_the_first_hundred(client):
    forum_with_turns("数据要流动起来。")
    started = time.monotonic()

    response = client.get(URL, {"q": "数据" * 500}, HTTP_ACCEPT_LANGUAGE="en")

    assert time.monotonic() - started < 2
    assert (response.status_code, len(response.context["query"])) == (200, 100)
    assert len(response.context["results"]) == 1
    assert "Only the first 100 characters were searched." in response.text


def test_search_of_punctuation_only_finds_nothing(client):
    forum_with_turns("数据要流动起来。")

    response = client.get(URL, {"q": "'&|!:*()\\%_"})

    assert (response.status_code, response.context["results"]) == (200, [])


def add_published_forums(count):
    for n in range(count):
        forum = forum_with_turns(f"数据开放第{n}条。", "城市数据治理。")
        QuoteFactory(forum=forum, approved=True, text="数据为民。")
        search.index_forum(forum)


@pytest.mark.parametrize("signed_in", [False, True], ids=["public", "organiser"])
def test_search_page_queries_do_not_grow_with_the_data(
    client, organiser, django_assert_max_num_queries, signed_in
):
    if signed_in:
        client.force_login(organiser)
    add_published_forums(2)
    with CaptureQueriesContext(connection) as small:
        client.get(URL, {"q": "数据"})
    add_published_forums(12)

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL, {"q": "数据"})

    assert response.context["count"] == 14 * 3


# --- PostgreSQL's full-text index -------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL only"
)


@postgres_only
def test_postgres_has_the_gin_index_on_the_segmented_words():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["forums_search_segmented_gin"]
        )
        (definition,) = cursor.fetchone()

    assert "USING gin (to_tsvector('simple'::regconfig" in definition


@postgres_only
def test_postgres_search_uses_the_gin_index():
    # Below a few thousand entries the planner rightly prefers to read them all.
    forum = plain_forum()
    words = [
        "城市",
        "未来",
        "价值",
        "机会",
        "贡献",
        "治理",
        "社区",
        "教育",
        "医疗",
        "出行",
        "建筑",
        "政府",
        "服务",
        "平台",
        "生态",
    ]
    SearchEntry.objects.bulk_create(
        SearchEntry(
            kind=SearchEntry.Kind.TURN,
            object_id=n,
            forum=forum,
            title="嘉宾",
            text="…",
            segmented=" ".join(words * 4) + f" 第{n}段" + (" 数据" if n % 100 == 0 else ""),
            url="/",
            is_public=True,
        )
        for n in range(1, 5001)
    )
    entries = search.found_entries(["数据"], user=ANYONE)[:20]

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE forums_searchentry")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = entries.explain()

    assert "Bitmap Index Scan on forums_search_segmented_gin" in plan, plan
