"""The curation pages under /curate/ and the public quote page, through the test client."""

import datetime
import re
from html import unescape
from urllib.parse import quote as urlquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from accounts.models import Role
from forums import curation, curation_urls
from forums.models import CurationEntry, Quote
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

Action = CurationEntry.Action
State = Quote.State
UTC = datetime.UTC
SMALL, LARGE = 2, 6

ADMIN, PROPOSER = "admins", "organisers and admins"

# Who may use each curation view. A view missing here fails the first test below.
ACCESS = {
    "queue": ADMIN,
    "quote": ADMIN,
    "approve": ADMIN,
    "reject": ADMIN,
    "feature": ADMIN,
    "unfeature": ADMIN,
    "highlight-move": ADMIN,
    "highlights": ADMIN,
    "highlights-reorder": ADMIN,
    "log": ADMIN,
    "speaker-merge": ADMIN,
    "propose": PROPOSER,
    "edit": PROPOSER,
    "repropose": PROPOSER,
}


# --- Helpers --------------------------------------------------------------------------------


@pytest.fixture
def curator(db):
    """An admin who is not a superuser: the admins group is what counts."""
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


@pytest.fixture
def panel(db):
    """A draft forum with a theme, one speaker on its panel and their transcript turn."""
    forum = RecapFactory().forum
    speaker = AppearanceFactory(forum=forum, speaker__name="邬贺铨", title="院士").speaker
    theme = ThemeFactory(forum=forum, title="城市与未来", position=1)
    turn = TranscriptTurnFactory(
        theme=theme,
        speaker=speaker,
        body="开场的话。\n\n未来15年是中国城镇化发展的重要时期，智慧城市要围绕创新推进。",
    )
    return forum, speaker, turn


def published_forum(**fields):
    return RecapFactory(forum=ForumFactory(**fields), published=True).forum


def messages_of(response):
    return texts(response.text, '<li class="message')


def field_errors(html, name):
    field = elements(html, f'<div class="field field--error" data-field="{name}"')
    return texts(field[0], '<ul class="errorlist"') if field else []


def entries(**filters):
    return list(
        CurationEntry.objects.filter(**filters)
        .order_by("id")
        .values_list("action", "actor", "before", "after")
    )


def url(name, **kwargs):
    return reverse(f"curate:{name}", kwargs=kwargs)


def post(client, name, data=None, **kwargs):
    return client.post(url(name, **kwargs), data or {}, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def meta_content(html, attribute, name):
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    return unescape(match.group(1)) if match else None


# --- Who may do what ------------------------------------------------------------------------


def curation_url_names():
    return [p.name for p in curation_urls.urlpatterns if isinstance(p, URLPattern)]


def view_method(name):
    pattern = next(p for p in curation_urls.urlpatterns if p.name == name)
    return "get" if "get" in pattern.callback.view_class.http_method_names else "post"


@pytest.fixture
def rows(panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)
    return {"forum": forum.pk, "quote": quote.pk}


def curation_url(name, rows):
    key = "forum" if name == "highlights-reorder" else "quote"
    pattern = next(p for p in curation_urls.urlpatterns if p.name == name)
    kwargs = {"pk": rows[key]} if "pk" in pattern.pattern.converters else {}
    return url(name, **kwargs)


def snapshot():
    return list(Quote.objects.values_list("pk", "state", "text")), CurationEntry.objects.count()


def test_every_curation_view_has_an_access_rule():
    assert sorted(curation_url_names()) == sorted(ACCESS)
    assert len(curation_url_names()) == len(curation_urls.urlpatterns)


@pytest.mark.parametrize("name", curation_url_names())
def test_curation_page_sends_an_anonymous_visitor_to_sign_in(client, rows, name):
    target = curation_url(name, rows)
    before = snapshot()

    response = getattr(client, view_method(name))(target)

    assert (response.status_code, response.url, snapshot()) == (
        302,
        f"/accounts/login/?next={urlquote(target)}",
        before,
    )


@pytest.mark.parametrize("roles", [[], [Role.MEMBER]], ids=["plain-user", "member"])
@pytest.mark.parametrize("name", curation_url_names())
def test_curation_page_refuses_members_and_plain_users(client, rows, name, roles):
    client.force_login(UserFactory(roles=roles))
    before = snapshot()

    response = getattr(client, view_method(name))(
        curation_url(name, rows), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (response.status_code, texts(response.text, "<h1"), snapshot()) == (
        403,
        ["Not allowed"],
        before,
    )


@pytest.mark.parametrize("name", curation_url_names())
def test_organiser_may_only_propose_and_edit_proposals(organiser_client, rows, name):
    before = snapshot()

    response = getattr(organiser_client, view_method(name))(
        curation_url(name, rows), HTTP_ACCEPT_LANGUAGE="en"
    )

    if ACCESS[name] == ADMIN:
        assert (response.status_code, texts(response.text, "<h1"), snapshot()) == (
            403,
            ["Not allowed"],
            before,
        )
    else:
        assert response.status_code in (200, 302)
        assert not response.get("Location", "").startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["admin", "superuser"])
@pytest.mark.parametrize("name", curation_url_names())
def test_admins_may_use_every_curation_view(client, rows, name, who, admin_user):
    client.force_login(UserFactory(roles=[Role.ADMIN]) if who == "admin" else admin_user)

    response = getattr(client, view_method(name))(curation_url(name, rows))

    # Pages answer; acts posted without their form's input go back to a curation page.
    if view_method(name) == "get":
        assert (response.status_code, response.get("Location")) == (200, None)
    else:
        assert response.status_code in (200, 302)
        assert response.get("Location", "/curate/").startswith("/curate/")


def test_header_links_to_curation_for_admins_only(client, organiser, curator):
    def nav_links(user):
        client.force_login(user)
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
        return texts(elements(response.text, '<nav class="site-nav"')[0], "<a")

    assert ("Curate" in nav_links(organiser), "Curate" in nav_links(curator)) == (False, True)


# --- The queue ------------------------------------------------------------------------------


def test_queue_shows_proposed_quotes_with_their_speaker_as_of_the_forum(
    curator_client, panel, organiser
):
    forum, speaker, turn = panel
    proposed = curation.propose_quote(
        forum, user=organiser, speaker=speaker, text="智慧城市要围绕创新推进", turn=turn
    )
    QuoteFactory(forum=forum, speaker=speaker, approved=True, text="已通过的观点")
    QuoteFactory(forum=forum, speaker=speaker, rejected=True, text="被拒绝的观点")

    response = curator_client.get(url("queue"), HTTP_ACCEPT_LANGUAGE="en")

    items = elements(response.text, '<li class="row curation-item"')
    assert len(items) == 1
    assert texts(items[0], '<blockquote class="quote-row__text curation-item__text"') == [
        "智慧城市要围绕创新推进"
    ]
    meta = texts(items[0], '<p class="meta-line"')[0]
    assert (
        "Proposed" in meta,
        "邬贺铨" in meta,
        "腾讯云 院士" in meta,
        forum.title in meta,
        "城市与未来" in meta,
        f"Proposed by {organiser}" in meta,
    ) == (True, True, True, True, True, True)
    assert f'value="{proposed.pk}" form="bulk-form"' in items[0]


def test_queue_filters_by_state_forum_and_speaker(curator_client, panel):
    forum, speaker, _turn = panel
    other = AppearanceFactory(forum=forum, speaker__name="王景田").speaker
    QuoteFactory(forum=forum, speaker=speaker, text="甲")
    QuoteFactory(forum=forum, speaker=other, text="乙")
    QuoteFactory(forum=forum, speaker=speaker, rejected=True, text="丙")
    elsewhere = AppearanceFactory(speaker=speaker).forum
    QuoteFactory(forum=elsewhere, speaker=speaker, approved=True, text="丁")

    def shown(query):
        response = curator_client.get(url("queue") + query)
        return sorted(
            texts(response.text, '<blockquote class="quote-row__text curation-item__text"')
        )

    assert shown("") == ["乙", "甲"]
    assert shown("?state=") == ["丁", "丙", "乙", "甲"]
    assert shown("?state=rejected") == ["丙"]
    assert shown(f"?state=&forum={elsewhere.pk}") == ["丁"]
    assert shown(f"?speaker={other.pk}") == ["乙"]


def test_queue_filter_offers_a_bounded_list_of_speakers_and_keeps_the_chosen_one(
    curator_client, panel, monkeypatch
):
    monkeypatch.setattr("forums.curation_views.FILTER_CHOICES", 1)
    forum, speaker, _turn = panel
    last = AppearanceFactory(forum=forum, speaker__name="郑末").speaker  # 郑 sorts after 邬
    QuoteFactory(forum=forum, speaker=last, text="末")

    def options(query):
        response = curator_client.get(url("queue") + query)
        select = elements(response.text, '<select name="speaker"')[0]
        return texts(select, "<option")[1:], f'<option value="{last.pk}" selected>' in select

    # The select offers only the first speaker by name, and one chosen in the address.
    assert options("") == ([speaker.name], False)
    assert options(f"?speaker={last.pk}") == ([speaker.name, "郑末"], True)


def test_queue_shows_the_rejection_reason(curator_client, panel):
    forum, speaker, _turn = panel
    QuoteFactory(forum=forum, speaker=speaker, rejected=True, rejection_reason="与议题无关")

    response = curator_client.get(url("queue") + "?state=rejected", HTTP_ACCEPT_LANGUAGE="en")

    assert texts(response.text, '<p class="curation-item__reason"') == ["Reason: 与议题无关"]


def test_see_in_context_marks_the_words_in_their_turn(curator_client, panel, organiser):
    forum, speaker, turn = panel
    curation.propose_quote(
        forum,
        user=organiser,
        speaker=speaker,
        text="未来15年是中国城镇化发展的重要时期",
        turn=turn,
    )

    response = curator_client.get(url("queue"))

    context = elements(response.text, '<div class="quote-context"')[0]
    assert re.findall(r"<mark>(.*?)</mark>", context) == ["未来15年是中国城镇化发展的重要时期"]
    assert texts(context, "<p")[1:] == [
        "开场的话。",
        "未来15年是中国城镇化发展的重要时期，智慧城市要围绕创新推进。",
    ]


def test_see_in_context_matches_across_full_and_half_width_punctuation(curator_client, panel):
    forum, speaker, turn = panel
    turn.body = "数据产业不能蒙眼狂奔；数据立法不能矫枉过正。"
    turn.save()
    QuoteFactory(forum=forum, speaker=speaker, turn=turn, text="蒙眼狂奔;数据立法")

    response = curator_client.get(url("queue"))

    assert re.findall(r"<mark>(.*?)</mark>", response.text) == ["蒙眼狂奔；数据立法"]


def test_see_in_context_escapes_the_transcript_and_the_quote(curator_client, panel):
    forum, speaker, turn = panel
    turn.body = '<img src=x onerror="alert(1)"> 数据要流动 <b>起来</b>'
    turn.save()
    QuoteFactory(forum=forum, speaker=speaker, turn=turn, text="数据要流动 <b>起来</b>")

    response = curator_client.get(url("queue"))

    context = elements(response.text, '<div class="quote-context"')[0]
    assert "<img" not in context and "<b>" not in context
    assert re.findall(r"<mark>(.*?)</mark>", context) == ["数据要流动 &lt;b&gt;起来&lt;/b&gt;"]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; " in context


# --- Acts on one quote ----------------------------------------------------------------------


def test_approve_from_the_queue_approves_records_and_goes_back(curator_client, curator, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, text="观点")
    back = url("queue") + f"?forum={forum.pk}"

    response = post(curator_client, "approve", {"next": back}, pk=quote.pk)

    assert (
        Quote.objects.get().state,
        entries(),
        response.redirect_chain[-1][0],
        messages_of(response),
    ) == (
        State.APPROVED,
        [(Action.APPROVE, curator.pk, State.PROPOSED, "观点")],
        back,
        ["The quote is approved."],
    )


def test_approve_with_edited_words_records_the_edit_then_the_approval(
    curator_client, curator, panel
):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, text="数据为民")

    post(curator_client, "approve", {"text": "数据为民，\r\n让数据多跑路。"}, pk=quote.pk)

    assert (Quote.objects.get().text, entries()) == (
        "数据为民，\n让数据多跑路。",
        [
            (Action.EDIT, curator.pk, "数据为民", "数据为民，\n让数据多跑路。"),
            (Action.APPROVE, curator.pk, State.PROPOSED, "数据为民，\n让数据多跑路。"),
        ],
    )


def test_approve_with_empty_words_says_so_next_to_the_field(curator_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, text="观点")

    response = post(curator_client, "approve", {"text": "  "}, pk=quote.pk)

    assert (
        field_errors(response.text, "text"),
        Quote.objects.get().state,
        CurationEntry.objects.count(),
    ) == (["A quote needs its text."], State.PROPOSED, 0)


def test_approving_a_quote_of_someone_who_did_not_speak_there_says_why(curator_client, panel):
    forum, _speaker, _turn = panel
    stranger = SpeakerFactory(name="陌生人")
    quote = QuoteFactory(forum=forum, speaker=stranger)

    response = post(curator_client, "approve", pk=quote.pk)

    form = elements(response.text, '<form class="form" method="post"')[0]
    assert (
        texts(form, '<ul class="errorlist nonfield"'),
        Quote.objects.get().state,
        CurationEntry.objects.count(),
    ) == ([f"陌生人 did not speak at {forum.title}."], State.PROPOSED, 0)


def test_reject_without_a_reason_says_so_next_to_the_field(curator_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    response = post(curator_client, "reject", {"reason": " "}, pk=quote.pk)

    assert (
        field_errors(response.text, "reason"),
        Quote.objects.get().state,
        CurationEntry.objects.count(),
    ) == (["Say why the quote is rejected."], State.PROPOSED, 0)


def test_reject_with_a_reason_records_it(curator_client, curator, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, text="观点")

    post(curator_client, "reject", {"reason": "与议题无关"}, pk=quote.pk)

    quote.refresh_from_db()
    entry = CurationEntry.objects.get()
    assert (quote.state, quote.rejection_reason, entry.action, entry.actor, entry.reason) == (
        State.REJECTED,
        "与议题无关",
        Action.REJECT,
        curator,
        "与议题无关",
    )


def test_rejected_quote_is_proposed_again_by_an_organiser(organiser_client, organiser, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, rejected=True)
    back = reverse("organise:forum-edit", kwargs={"pk": forum.pk}) + "#highlights"

    response = post(organiser_client, "repropose", {"next": back}, pk=quote.pk)

    quote.refresh_from_db()
    assert (quote.state, quote.rejection_reason, entries()[0][:3]) == (
        State.PROPOSED,
        "",
        (Action.PROPOSE, organiser.pk, State.REJECTED),
    )
    assert response.redirect_chain[-1][0] == back


def test_proposing_again_a_quote_that_is_not_rejected_says_why(organiser_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    response = post(organiser_client, "repropose", pk=quote.pk)

    assert (messages_of(response), CurationEntry.objects.count()) == (
        ["Only a rejected quote can be proposed again."],
        0,
    )


def test_feature_and_unfeature_change_the_highlights(curator_client, curator, panel):
    forum, speaker, _turn = panel
    first, second = QuoteFactory.create_batch(2, forum=forum, speaker=speaker, approved=True)

    post(curator_client, "feature", pk=first.pk)
    post(curator_client, "feature", pk=second.pk)
    post(curator_client, "unfeature", pk=first.pk)

    assert curation.highlight_ids(forum) == [second.pk]
    assert [action for action, *_ in entries()] == [
        Action.FEATURE,
        Action.FEATURE,
        Action.UNFEATURE,
    ]


def test_featuring_a_proposed_quote_is_refused_with_the_reason(curator_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    response = post(curator_client, "feature", pk=quote.pk)

    assert (messages_of(response), curation.highlight_ids(forum)) == (
        ["Only an approved quote can be featured."],
        [],
    )


def test_next_pointing_elsewhere_is_ignored(curator_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    response = curator_client.post(url("approve", pk=quote.pk), {"next": "https://evil.example/"})

    assert response.url == url("quote", pk=quote.pk)


# --- Bulk acts ------------------------------------------------------------------------------


def test_bulk_approve_approves_every_ticked_quote(curator_client, panel):
    forum, speaker, _turn = panel
    ticked = QuoteFactory.create_batch(3, forum=forum, speaker=speaker)
    untouched = QuoteFactory(forum=forum, speaker=speaker)

    response = curator_client.post(
        url("queue"),
        {"quotes": [q.pk for q in ticked], "action": "approve"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        sorted(Quote.objects.filter(state=State.APPROVED).values_list("pk", flat=True)),
        Quote.objects.get(pk=untouched.pk).state,
        CurationEntry.objects.filter(action=Action.APPROVE).count(),
        messages_of(response),
    ) == (sorted(q.pk for q in ticked), State.PROPOSED, 3, ["3 quotes approved."])


def test_bulk_reject_rejects_every_ticked_quote_with_one_reason(curator_client, panel):
    forum, speaker, _turn = panel
    ticked = QuoteFactory.create_batch(2, forum=forum, speaker=speaker)

    curator_client.post(
        url("queue"),
        {"quotes": [q.pk for q in ticked], "action": "reject", "reason": "重复"},
    )

    assert list(Quote.objects.values_list("state", "rejection_reason")) == [
        (State.REJECTED, "重复"),
        (State.REJECTED, "重复"),
    ]
    assert CurationEntry.objects.filter(action=Action.REJECT, reason="重复").count() == 2


def test_bulk_reject_without_a_reason_keeps_the_ticks_and_says_why(curator_client, panel):
    forum, speaker, _turn = panel
    ticked = QuoteFactory.create_batch(2, forum=forum, speaker=speaker)

    response = curator_client.post(
        url("queue") + f"?forum={forum.pk}",
        {"quotes": [q.pk for q in ticked], "action": "reject", "reason": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        response.status_code,
        field_errors(response.text, "reason"),
        response.text.count(" checked>"),
        set(Quote.objects.values_list("state", flat=True)),
        CurationEntry.objects.count(),
    ) == (200, ["Say why the quote is rejected."], 2, {State.PROPOSED}, 0)


def test_bulk_act_with_nothing_ticked_says_so(curator_client, panel):
    forum, speaker, _turn = panel
    QuoteFactory(forum=forum, speaker=speaker)

    response = curator_client.post(url("queue"), {"action": "approve"}, HTTP_ACCEPT_LANGUAGE="en")

    assert texts(response.text, '<ul class="errorlist"') == ["Tick the quotes first."]


def test_bulk_approve_is_all_or_nothing(curator_client, panel):
    forum, speaker, _turn = panel
    proposed = QuoteFactory(forum=forum, speaker=speaker)
    stranger = QuoteFactory(forum=forum, speaker=SpeakerFactory(name="陌生人"))

    response = curator_client.post(
        url("queue"),
        {"quotes": [proposed.pk, stranger.pk], "action": "approve"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        texts(elements(response.text, '<form id="bulk-form"')[0], '<ul class="errorlist'),
        set(Quote.objects.values_list("state", flat=True)),
        CurationEntry.objects.count(),
    ) == ([f"Quote #{stranger.pk}: 陌生人 did not speak at {forum.title}."], {State.PROPOSED}, 0)


# --- The quote's curation page --------------------------------------------------------------


def test_quote_page_shows_the_quote_its_context_and_its_history(
    curator_client, curator, organiser, panel
):
    forum, speaker, turn = panel
    quote = curation.propose_quote(
        forum, user=organiser, speaker=speaker, text="智慧城市要围绕创新推进", turn=turn
    )
    curation.approve_quote(quote, user=curator, text="智慧城市要围绕创新推进。")
    other = QuoteFactory(forum=forum, speaker=speaker)
    curation.approve_quote(other, user=curator)

    response = curator_client.get(url("quote", pk=quote.pk), HTTP_ACCEPT_LANGUAGE="en")

    history = elements(response.text, '<ol class="rows log"')[0]
    assert texts(history, '<span class="badge badge--action"') == ["Proposed", "Edited", "Approved"]
    assert texts(history, '<p class="log-entry__change"') == [
        "智慧城市要围绕创新推进",
        "智慧城市要围绕创新推进 → 智慧城市要围绕创新推进。",
        "Proposed → Approved",
    ]
    assert re.findall(r"<mark>(.*?)</mark>", response.text) == ["智慧城市要围绕创新推进。"]


def test_quote_pages_escape_markup_in_the_quote_and_the_speaker(curator_client, panel):
    forum, _speaker, _turn = panel
    speaker = AppearanceFactory(
        forum=forum, speaker__name="<b>王</b>", organisation="<i>腾讯</i>", title=""
    ).speaker
    quote = QuoteFactory(forum=forum, speaker=speaker, text="<script>alert(1)</script>")

    pages = [
        curator_client.get(url("queue")).text,
        curator_client.get(url("quote", pk=quote.pk)).text,
        curator_client.get(url("edit", pk=quote.pk)).text,
    ]

    for html in pages:
        assert "<script>alert(1)" not in html
        assert "<b>王</b>" not in html and "<i>腾讯</i>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Proposing and editing ------------------------------------------------------------------


def test_propose_asks_for_the_forum_first(organiser_client, panel):
    forum, _speaker, _turn = panel
    ForumFactory(title="另一个论坛")

    response = organiser_client.get(url("propose"))

    assert (
        texts(response.text, '<select name="forum"')[0].count(forum.title),
        "另一个论坛" in response.text,
        "propose-form" in response.text,
    ) == (1, True, False)


def test_propose_offers_the_forums_speakers_and_turns(organiser_client, panel):
    forum, _speaker, _turn = panel
    SpeakerFactory(name="别的嘉宾")

    response = organiser_client.get(url("propose") + f"?forum={forum.pk}")

    assert texts(elements(response.text, '<select name="speaker"')[0], "<option") == [
        "---------",
        "邬贺铨",
    ]
    assert texts(elements(response.text, '<select name="turn"')[0], "<option")[1:] == [
        "城市与未来 · 邬贺铨：开场的话。 未来15年是中国城镇化发展的重要时期，智慧城市要"
    ]


def test_organiser_proposes_a_quote_and_goes_back_to_the_forum(organiser_client, organiser, panel):
    forum, speaker, turn = panel
    back = reverse("organise:forum-edit", kwargs={"pk": forum.pk}) + "#highlights"

    response = post(
        organiser_client,
        "propose",
        {
            "forum": forum.pk,
            "speaker": speaker.pk,
            "turn": turn.pk,
            "text": " 智慧城市要围绕创新推进 ",
            "next": back,
        },
    )

    quote = Quote.objects.get()
    assert (
        quote.text,
        quote.state,
        quote.turn,
        quote.theme,
        quote.proposed_by,
        entries(),
        response.redirect_chain[0][0],
    ) == (
        "智慧城市要围绕创新推进",
        State.PROPOSED,
        turn,
        turn.theme,
        organiser,
        [(Action.PROPOSE, organiser.pk, "", "智慧城市要围绕创新推进")],
        back,
    )


def test_propose_with_a_turn_of_another_speaker_says_so_next_to_the_field(organiser_client, panel):
    forum, _speaker, turn = panel
    other = AppearanceFactory(forum=forum, speaker__name="王景田").speaker

    response = post(
        organiser_client,
        "propose",
        {"forum": forum.pk, "speaker": other.pk, "turn": turn.pk, "text": "观点"},
    )

    assert (field_errors(response.text, "turn"), Quote.objects.count()) == (
        ["This turn is by 邬贺铨: choose their turn or another speaker."],
        0,
    )


def test_propose_without_words_says_so_next_to_the_field(organiser_client, panel):
    forum, speaker, _turn = panel

    response = post(
        organiser_client, "propose", {"forum": forum.pk, "speaker": speaker.pk, "text": ""}
    )

    assert (field_errors(response.text, "text"), Quote.objects.count()) == (
        ["This field is required."],
        0,
    )


def test_organiser_edits_a_proposal(organiser_client, organiser, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, text="初稿")

    post(organiser_client, "edit", {"speaker": speaker.pk, "text": "修改稿"}, pk=quote.pk)

    assert (Quote.objects.get().text, entries()) == (
        "修改稿",
        [(Action.EDIT, organiser.pk, "初稿", "修改稿")],
    )


def test_organiser_cannot_edit_an_approved_quote_and_keeps_the_typed_words(organiser_client, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker, approved=True, text="定稿")

    response = post(
        organiser_client, "edit", {"speaker": speaker.pk, "text": "想改的话"}, pk=quote.pk
    )

    form = elements(response.text, '<form class="form" method="post"')[0]
    assert (
        len(texts(form, '<ul class="errorlist nonfield"')),
        "想改的话</textarea>" in form,
        Quote.objects.get().text,
        CurationEntry.objects.count(),
    ) == (1, True, "定稿", 0)


# --- Highlights -----------------------------------------------------------------------------


@pytest.fixture
def highlights(panel, curator):
    forum, speaker, _turn = panel
    quotes = [
        QuoteFactory(forum=forum, speaker=speaker, approved=True, text=text)
        for text in ("第一", "第二", "第三")
    ]
    for quote in quotes:
        curation.feature_quote(quote, user=curator)
    return forum, [quote.pk for quote in quotes]


def seen_of(ids):
    return ",".join(str(pk) for pk in ids)


def test_highlights_page_lists_the_forums_then_one_forums_order(curator_client, highlights):
    forum, (a, b, c) = highlights
    QuoteFactory(forum=forum, approved=True, text="未精选")

    listing = curator_client.get(url("highlights"), HTTP_ACCEPT_LANGUAGE="en")
    page = curator_client.get(url("highlights") + f"?forum={forum.pk}", HTTP_ACCEPT_LANGUAGE="en")

    assert texts(listing.text, '<a class="row__name"') == [forum.title]
    assert "3 highlights" in listing.text and "4 approved quotes" in listing.text
    order = elements(page.text, '<ol class="rows highlight-order"')[0]
    assert [t.split(" ——")[0] for t in texts(order, '<blockquote class="quote-row__text"')] == [
        "第一",
        "第二",
        "第三",
    ]
    assert order.count(f'name="seen" value="{seen_of([a, b, c])}"') == 3
    assert texts(page.text, '<ul class="rows" data-testid="not-featured"') == [
        f"未精选 ——{Quote.objects.get(text='未精选').speaker.name} Feature"
    ]


def test_highlight_moves_up_with_its_button(curator_client, curator, highlights):
    forum, (a, b, c) = highlights

    response = post(
        curator_client, "highlight-move", {"direction": "up", "seen": seen_of([a, b, c])}, pk=c
    )

    assert curation.highlight_ids(forum) == [a, c, b]
    assert response.redirect_chain[-1][0] == url("highlights") + f"?forum={forum.pk}#highlight-{c}"
    entry = CurationEntry.objects.filter(action=Action.REORDER).get()
    assert (entry.actor, entry.details["order_after"]) == (curator, [a, c, b])


def test_stale_move_changes_nothing_and_says_why(curator_client, highlights):
    forum, (a, b, c) = highlights
    curation.reorder_highlights(
        forum, user=UserFactory(roles=[Role.ADMIN]), order=[b, a, c], seen=[a, b, c]
    )

    response = post(
        curator_client, "highlight-move", {"direction": "up", "seen": seen_of([a, b, c])}, pk=c
    )

    assert (curation.highlight_ids(forum), messages_of(response)) == (
        [b, a, c],
        [
            "The highlights changed while you were ordering them. "
            "Here they are as they are now; order them again."
        ],
    )


def test_drag_and_drop_order_is_saved(curator_client, highlights):
    forum, (a, b, c) = highlights

    post(
        curator_client,
        "highlights-reorder",
        {"order": seen_of([c, a, b]), "seen": seen_of([a, b, c])},
        pk=forum.pk,
    )

    assert curation.highlight_ids(forum) == [c, a, b]


def test_stale_drag_and_drop_order_changes_nothing_and_says_why(curator_client, highlights):
    forum, (a, b, c) = highlights

    response = post(
        curator_client,
        "highlights-reorder",
        {"order": seen_of([c, a, b]), "seen": seen_of([a, b])},
        pk=forum.pk,
    )

    assert curation.highlight_ids(forum) == [a, b, c]
    assert messages_of(response)[0].startswith("The highlights changed while you were ordering")


def test_damaged_order_is_refused(curator_client, highlights):
    forum, (a, b, c) = highlights

    response = post(
        curator_client,
        "highlights-reorder",
        {"order": "3,x", "seen": seen_of([a, b, c])},
        pk=forum.pk,
    )

    assert (curation.highlight_ids(forum), messages_of(response)) == (
        [a, b, c],
        ["This form is damaged; reload the page."],
    )


# --- The audit log --------------------------------------------------------------------------


def test_log_shows_who_when_what_and_reorders_as_the_quotes_words(
    curator_client, curator, highlights, settings
):
    settings.TIME_ZONE = "Asia/Shanghai"
    forum, (a, b, c) = highlights
    curation.reorder_highlights(forum, user=curator, order=[c, a, b], seen=[a, b, c])
    CurationEntry.objects.update(created_at=datetime.datetime(2026, 11, 27, 16, 30, tzinfo=UTC))

    response = curator_client.get(url("log") + "?action=reorder", HTTP_ACCEPT_LANGUAGE="en")

    assert response.text.count('<li class="row row--stacked log-entry">') == 1
    assert texts(response.text, "<time") == ["2026-11-28 00:30"]  # Beijing time
    before, after = re.findall(r"<ol>(.*?)</ol>", response.text)
    assert (texts(before, "<li"), texts(after, "<li")) == (
        ["第一", "第二", "第三"],
        ["第三", "第一", "第二"],
    )
    meta = texts(response.text, '<p class="meta-line log-entry__meta"')[0]
    assert (str(curator) in meta, "Reordered" in meta, forum.title in meta) == (True, True, True)


def test_log_filters_by_action_actor_forum_speaker_and_days(curator_client, panel, organiser):
    forum, speaker, _turn = panel
    other_forum = AppearanceFactory(speaker=speaker).forum
    admin = UserFactory(roles=[Role.ADMIN])
    first = curation.propose_quote(forum, user=organiser, speaker=speaker, text="甲")
    curation.approve_quote(first, user=admin)
    curation.propose_quote(other_forum, user=organiser, speaker=speaker, text="乙")
    CurationEntry.objects.filter(after="乙").update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    three_days_ago = timezone.localdate() - datetime.timedelta(days=3)

    def shown(query):
        response = curator_client.get(url("log") + query)
        return len(elements(response.text, '<li class="row row--stacked log-entry"'))

    assert shown("") == 3
    assert shown("?action=approve") == 1
    assert shown(f"?actor={organiser.pk}") == 2
    assert shown(f"?forum={other_forum.pk}") == 1
    assert shown(f"?speaker={speaker.pk}") == 3
    assert shown(f"?until={three_days_ago.isoformat()}") == 1
    assert shown(f"?since={timezone.localdate().isoformat()}") == 2


def test_log_and_quote_page_offer_no_way_to_change_an_entry(curator_client, curator, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)
    curation.approve_quote(quote, user=curator)

    pages = [curator_client.get(url("log")), curator_client.get(url("quote", pk=quote.pk))]

    histories = [elements(page.text, '<ol class="rows log"')[0] for page in pages]
    assert [("<form" in history, "<button" in history) for history in histories] == [
        (False, False),
        (False, False),
    ]


def test_admin_site_shows_the_audit_trail_read_only(admin_client, curator, panel):
    forum, speaker, _turn = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)
    curation.approve_quote(quote, user=curator)
    entry = CurationEntry.objects.get()
    change_url = reverse("admin:forums_curationentry_change", args=[entry.pk])

    changed = admin_client.post(change_url, {"action": "reject", "reason": "改写历史"})
    deleted = admin_client.post(
        reverse("admin:forums_curationentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    added = admin_client.get(reverse("admin:forums_curationentry_add"))

    assert (changed.status_code, deleted.status_code, added.status_code) == (403, 403, 403)
    assert list(CurationEntry.objects.values_list("action", "reason")) == [(Action.APPROVE, "")]


# --- Merging speakers (the page; what a merge keeps is in test_speaker_directory) -----------


def test_merge_page_lists_namesakes_and_previews_what_moves(curator_client):
    keep = SpeakerFactory(name="贾西贝", organisation="华傲数据", title="")
    duplicate = SpeakerFactory(name="贾西贝", organisation="", title="董事长")
    SpeakerFactory(name="别人")
    shared = ForumFactory(title="共同的论坛")
    AppearanceFactory(forum=shared, speaker=keep)
    AppearanceFactory(forum=shared, speaker=duplicate, title="董事长")
    AppearanceFactory(speaker=duplicate)
    QuoteFactory(forum=shared, speaker=duplicate)
    TranscriptTurnFactory(speaker=duplicate)

    listing = curator_client.get(url("speaker-merge"), HTTP_ACCEPT_LANGUAGE="en")
    preview = curator_client.get(
        url("speaker-merge") + f"?keep={keep.pk}&duplicate={duplicate.pk}",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert texts(listing.text, '<p class="row__name"') == ["贾西贝"]
    assert f"?keep={keep.pk}&amp;duplicate={duplicate.pk}" in listing.text
    assert texts(preview.text, '<ul class="merge-effects"')[0].split(". ")[:3] == [
        "1 appearance moves to the kept record",
        "1 transcript turn moves",
        "1 quote moves",
    ]
    assert texts(preview.text, '<ul class="rows" data-testid="merge-clashes"') == [
        "共同的论坛 · Panelist · 董事长"
    ]
    assert texts(preview.text, '<p class="meta-line" data-testid="duplicate-counts"') == [
        "2 appearances 1 transcript turn 1 quote"
    ]


def test_merge_of_a_speaker_with_itself_is_refused_next_to_the_field(curator_client):
    speaker = SpeakerFactory()

    response = curator_client.post(
        url("speaker-merge"),
        {"keep": speaker.pk, "duplicate": speaker.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert field_errors(response.text, "duplicate") == ["Choose two different speakers to merge."]


# --- The quote's public page ----------------------------------------------------------------


def test_quote_page_shows_the_quote_its_speaker_then_forum_theme_and_permalink(client, settings):
    settings.SITE_URL = "https://wecity.example"
    forum = published_forum(title="智慧城市线上圆桌论坛", slug="roundtable")
    theme = ThemeFactory(forum=forum, title="数据与价值", position=2)
    speaker = AppearanceFactory(
        forum=forum, speaker__name="贾西贝", organisation="华傲数据", title="董事长"
    ).speaker
    speaker.title = "名誉董事长"
    speaker.save()
    quote = QuoteFactory(
        forum=forum, speaker=speaker, theme=theme, approved=True, text="数据产业不能蒙眼狂奔。"
    )

    response = client.get(f"/quotes/{quote.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    permalink = f"https://wecity.example/quotes/{quote.pk}/"
    assert texts(response.text, '<blockquote class="quote-page__text"') == [
        "数据产业不能蒙眼狂奔。"
    ]
    assert texts(response.text, '<figcaption class="quote-page__by"') == [
        "——贾西贝，华傲数据 董事长"
    ]
    assert f'<a href="{speaker.get_absolute_url()}" data-testid="quote-speaker">' in response.text
    assert texts(response.text, '<dl class="details-list"')[0].split(" ")[:2] == [
        "Forum",
        "智慧城市线上圆桌论坛",
    ]
    assert '<a href="/forums/roundtable/#theme-2">数据与价值</a>' in response.text
    assert (
        meta_content(response.text, "property", "og:url"),
        meta_content(response.text, "property", "og:description"),
        meta_content(response.text, "property", "og:title"),
        re.search(r'<link rel="canonical" href="([^"]+)">', response.text).group(1),
        'name="robots"' in response.text,
    ) == (
        permalink,
        "数据产业不能蒙眼狂奔。",
        "贾西贝 at 智慧城市线上圆桌论坛",
        permalink,
        False,
    )


@pytest.mark.parametrize(
    "make_quote",
    [
        lambda: QuoteFactory(forum=published_forum()),
        lambda: QuoteFactory(forum=published_forum(), rejected=True),
        lambda: QuoteFactory(forum=RecapFactory().forum, approved=True),
    ],
    ids=["proposed", "rejected", "unpublished-forum"],
)
def test_quote_page_is_not_found_unless_visible(client, make_quote):
    quote = make_quote()
    client.force_login(UserFactory(roles=[Role.MEMBER]))

    response = client.get(f"/quotes/{quote.pk}/")

    assert response.status_code == 404


def test_quote_page_of_a_proposal_is_shown_to_an_organiser_never_indexed(organiser_client):
    quote = QuoteFactory(forum=published_forum(), text="待审核的观点")

    response = organiser_client.get(f"/quotes/{quote.pk}/")

    assert (
        texts(response.text, '<blockquote class="quote-page__text"'),
        response.text.count('<meta name="robots" content="noindex">'),
    ) == (["待审核的观点"], 1)


def test_quote_page_escapes_markup_in_the_quote_and_meta(client):
    forum = published_forum()
    speaker = AppearanceFactory(forum=forum, speaker__name='"><script>x</script>').speaker
    quote = QuoteFactory(
        forum=forum, speaker=speaker, approved=True, text='"><script>alert(1)</script>'
    )

    response = client.get(f"/quotes/{quote.pk}/")

    assert "<script>" not in response.text.replace(
        '<script src="/static/js/htmx.min.js" defer></script>', ""
    )
    assert meta_content(response.text, "property", "og:description") == (
        '"><script>alert(1)</script>'
    )


def test_recap_highlights_link_to_their_quote_pages(client):
    forum = published_forum(slug="roundtable")
    speaker = AppearanceFactory(forum=forum).speaker
    first = QuoteFactory(forum=forum, speaker=speaker, featured=True, highlight_position=1)

    recap = client.get("/forums/roundtable/")
    home = client.get("/")

    link = f'<a class="highlight__link" href="/quotes/{first.pk}/">'
    assert (recap.text.count(link), home.text.count(link)) == (1, 1)


def test_recap_preview_does_not_link_quotes_that_are_not_public_yet(organiser_client):
    forum = RecapFactory().forum
    QuoteFactory(forum=forum, featured=True, highlight_position=1)

    response = organiser_client.get(reverse("organise:forum-preview", kwargs={"pk": forum.pk}))

    assert response.text.count('class="highlight__link"') == 0


def test_speaker_page_quotes_link_to_their_quote_pages(client):
    forum = published_forum()
    speaker = AppearanceFactory(forum=forum).speaker
    quote = QuoteFactory(forum=forum, speaker=speaker, approved=True)

    response = client.get(speaker.get_absolute_url())

    assert f'<a class="highlight__link" href="/quotes/{quote.pk}/">' in response.text


# --- Query counts ---------------------------------------------------------------------------


def assert_queries_do_not_grow(client, target, grow, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        client.get(target)
    grow()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(target)
    return len(small.captured_queries), response


def test_queue_queries_do_not_grow_with_the_quotes(
    curator_client, organiser, django_assert_max_num_queries
):
    def grow(count):
        for _ in range(count):
            turn = TranscriptTurnFactory()
            forum = turn.theme.forum
            AppearanceFactory(forum=forum, speaker=turn.speaker)
            curation.propose_quote(
                forum, user=organiser, speaker=turn.speaker, text="数据要流动起来", turn=turn
            )
            QuoteFactory(forum=forum, speaker=SpeakerFactory())  # no appearance there

    grow(SMALL)

    small, response = assert_queries_do_not_grow(
        curator_client, url("queue"), lambda: grow(LARGE - SMALL), django_assert_max_num_queries
    )

    assert (small <= 15, response.text.count('data-testid="queue-item"')) == (True, 2 * LARGE)


def test_log_queries_do_not_grow_with_the_entries(
    curator_client, curator, organiser, django_assert_max_num_queries
):
    def grow(count):
        for _ in range(count):
            appearance = AppearanceFactory()
            forum, speaker = appearance.forum, appearance.speaker
            quotes = [
                curation.propose_quote(forum, user=organiser, speaker=speaker, text=text)
                for text in ("甲", "乙")
            ]
            for quote in quotes:
                curation.approve_quote(quote, user=curator)
                curation.feature_quote(quote, user=curator)
            ids = [q.pk for q in quotes]
            curation.reorder_highlights(forum, user=curator, order=ids[::-1], seen=ids)

    grow(SMALL)

    small, response = assert_queries_do_not_grow(
        curator_client, url("log"), lambda: grow(LARGE - SMALL), django_assert_max_num_queries
    )

    assert (small <= 15, response.text.count('<li class="row row--stacked log-entry">')) == (
        True,
        7 * LARGE,
    )


def test_directory_queries_do_not_grow_with_the_speakers(client, django_assert_max_num_queries):
    forum = published_forum()

    def grow(count):
        for _ in range(count):
            AppearanceFactory(forum=forum, role="panelist")
            AppearanceFactory(forum=published_forum(), role="host")

    grow(SMALL)

    small, response = assert_queries_do_not_grow(
        client,
        reverse("forums:speaker-list") + "?q=腾讯&role=panelist",
        lambda: grow(LARGE - SMALL),
        django_assert_max_num_queries,
    )

    assert (small <= 10, response.text.count('<li class="person">')) == (True, LARGE)


def test_speaker_page_queries_do_not_grow_with_the_forums(client, django_assert_max_num_queries):
    speaker = SpeakerFactory()

    def grow(count):
        for _ in range(count):
            forum = published_forum()
            AppearanceFactory(forum=forum, speaker=speaker)
            QuoteFactory(
                forum=forum, speaker=speaker, approved=True, theme=ThemeFactory(forum=forum)
            )

    grow(SMALL)

    small, response = assert_queries_do_not_grow(
        client,
        speaker.get_absolute_url(),
        lambda: grow(LARGE - SMALL),
        django_assert_max_num_queries,
    )

    assert (small <= 10, response.text.count('class="highlight__link"')) == (True, LARGE)
