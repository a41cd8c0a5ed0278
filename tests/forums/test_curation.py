"""Quote curation and speaker merges: who may do what, the state machine, the audit trail."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from accounts.models import Role
from cohorts.models import Member
from forums import curation
from forums.models import Appearance, CurationEntry, Quote, Speaker, TranscriptTurn
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    MemberFactory,
    QuoteFactory,
    SpeakerFactory,
    TranscriptTurnFactory,
    UserFactory,
)

Action = CurationEntry.Action
State = Quote.State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def admin(db):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def member(db):
    return UserFactory(roles=[Role.MEMBER])


@pytest.fixture
def panel(db):
    """A forum with one speaker on its panel."""
    appearance = AppearanceFactory(speaker__name="邬贺铨")
    return appearance.forum, appearance.speaker


def entries(**filters):
    return list(
        CurationEntry.objects.filter(**filters)
        .order_by("id")
        .values_list("action", "actor", "before", "after")
    )


# --- Who may do what ----------------------------------------------------------------------------


def test_organisers_and_admins_propose_members_do_not(panel, organiser, admin, member):
    forum, speaker = panel

    by_organiser = curation.propose_quote(forum, user=organiser, speaker=speaker, text="甲")
    by_admin = curation.propose_quote(forum, user=admin, speaker=speaker, text="乙")
    with pytest.raises(PermissionDenied):
        curation.propose_quote(forum, user=member, speaker=speaker, text="丙")

    assert [by_organiser.state, by_admin.state] == [State.PROPOSED, State.PROPOSED]
    assert Quote.objects.count() == 2


@pytest.mark.parametrize(
    "act",
    [
        lambda quote, user: curation.approve_quote(quote, user=user),
        lambda quote, user: curation.reject_quote(quote, user=user, reason="离题"),
        lambda quote, user: curation.approve_quotes([quote], user=user),
        lambda quote, user: curation.reject_quotes([quote], user=user, reason="离题"),
        lambda quote, user: curation.feature_quote(quote, user=user),
        lambda quote, user: curation.unfeature_quote(quote, user=user),
    ],
)
@pytest.mark.parametrize("role", ["organiser", "member"])
def test_only_admins_approve_reject_and_feature(panel, organiser, member, act, role):
    forum, speaker = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    with pytest.raises(PermissionDenied):
        act(quote, {"organiser": organiser, "member": member}[role])

    assert (Quote.objects.get().state, CurationEntry.objects.count()) == (State.PROPOSED, 0)


def test_only_admins_reorder_and_merge(panel, organiser):
    forum, speaker = panel

    with pytest.raises(PermissionDenied):
        curation.reorder_highlights(forum, user=organiser, order=[], seen=[])
    with pytest.raises(PermissionDenied):
        curation.merge_speakers(speaker, user=organiser, duplicate=SpeakerFactory())


def test_organiser_edits_a_proposal_but_not_an_approved_quote(panel, organiser, admin):
    forum, speaker = panel
    quote = curation.propose_quote(forum, user=organiser, speaker=speaker, text="初稿")
    curation.edit_quote(quote, user=organiser, text="修改稿")
    curation.approve_quote(quote, user=admin)

    with pytest.raises(ValidationError):
        curation.edit_quote(quote, user=organiser, text="再改")
    curation.edit_quote(quote, user=admin, text="管理员润色")

    assert Quote.objects.get().text == "管理员润色"


# --- The state machine --------------------------------------------------------------------------


def test_approve_with_edited_text_records_the_edit_then_the_approval(panel, organiser, admin):
    forum, speaker = panel
    quote = curation.propose_quote(forum, user=organiser, speaker=speaker, text="数据为民")

    curation.approve_quote(quote, user=admin, text="数据为民，让数据多跑路。")

    assert Quote.objects.get().state == State.APPROVED
    assert entries() == [
        (Action.PROPOSE, organiser.pk, "", "数据为民"),
        (Action.EDIT, admin.pk, "数据为民", "数据为民，让数据多跑路。"),
        (Action.APPROVE, admin.pk, State.PROPOSED, "数据为民，让数据多跑路。"),
    ]


def test_a_rejected_quote_is_not_approved_until_proposed_again(panel, organiser, admin):
    forum, speaker = panel
    quote = curation.propose_quote(forum, user=organiser, speaker=speaker, text="观点")
    curation.reject_quote(quote, user=admin, reason="与议题无关")

    with pytest.raises(ValidationError) as refused:
        curation.approve_quote(quote, user=admin)
    curation.repropose_quote(quote, user=organiser)
    curation.approve_quote(quote, user=admin)

    assert refused.value.messages == [
        "Only a proposed quote can be approved; this one is Rejected."
    ]
    assert [action for action, *_ in entries()] == [
        Action.PROPOSE,
        Action.REJECT,
        Action.PROPOSE,
        Action.APPROVE,
    ]
    assert Quote.objects.get().rejection_reason == ""


def test_reject_needs_a_reason(panel, admin):
    forum, speaker = panel
    quote = QuoteFactory(forum=forum, speaker=speaker)

    with pytest.raises(ValidationError) as refused:
        curation.reject_quote(quote, user=admin, reason="  ")

    assert refused.value.message_dict == {"reason": ["Say why the quote is rejected."]}


def test_rejecting_a_featured_quote_takes_it_out_of_the_highlights(panel, admin):
    forum, speaker = panel
    first, second = QuoteFactory.create_batch(2, forum=forum, speaker=speaker, approved=True)
    curation.feature_quote(first, user=admin)
    curation.feature_quote(second, user=admin)

    curation.reject_quote(first, user=admin, reason="重复")

    assert list(Quote.objects.highlights().values_list("pk", "highlight_position")) == [
        (second.pk, 1)
    ]
    assert [action for action, *_ in entries()][-2:] == [Action.UNFEATURE, Action.REJECT]


def test_a_quote_of_someone_who_did_not_speak_at_the_forum_is_refused(panel, organiser, admin):
    forum, _speaker = panel
    stranger = SpeakerFactory(name="陌生人")
    planted = QuoteFactory(forum=forum, speaker=stranger)

    with pytest.raises(ValidationError) as proposing:
        curation.propose_quote(forum, user=organiser, speaker=stranger, text="……")
    with pytest.raises(ValidationError) as approving:
        curation.approve_quote(planted, user=admin)

    expected = {"speaker": [f"陌生人 did not speak at {forum.title}."]}
    assert (proposing.value.message_dict, approving.value.message_dict) == (expected, expected)
    assert Quote.objects.get().state == State.PROPOSED


def test_only_approved_quotes_are_featured(panel, admin):
    forum, speaker = panel
    proposed = QuoteFactory(forum=forum, speaker=speaker)

    with pytest.raises(ValidationError):
        curation.feature_quote(proposed, user=admin)

    assert Quote.objects.highlights().count() == 0


def test_bulk_approve_is_all_or_nothing(panel, admin):
    forum, speaker = panel
    proposed = QuoteFactory(forum=forum, speaker=speaker)
    rejected = QuoteFactory(forum=forum, speaker=speaker, rejected=True)

    with pytest.raises(ValidationError):
        curation.approve_quotes([proposed, rejected], user=admin)

    assert Quote.objects.get(pk=proposed.pk).state == State.PROPOSED
    assert CurationEntry.objects.count() == 0


# --- Highlights -------------------------------------------------------------------------------


@pytest.fixture
def highlights(panel, admin):
    forum, speaker = panel
    quotes = QuoteFactory.create_batch(3, forum=forum, speaker=speaker, approved=True)
    for quote in quotes:
        curation.feature_quote(quote, user=admin)
    return forum, [q.pk for q in quotes]


def test_reorder_puts_the_highlights_in_the_new_order_and_records_both(highlights, admin):
    forum, (a, b, c) = highlights

    curation.reorder_highlights(forum, user=admin, order=[c, a, b], seen=[a, b, c])

    assert curation.highlight_ids(forum) == [c, a, b]
    entry = CurationEntry.objects.filter(action=Action.REORDER).get()
    assert (entry.details["order_before"], entry.details["order_after"]) == ([a, b, c], [c, a, b])


def test_a_stale_reorder_is_refused_and_changes_nothing(highlights, admin):
    forum, (a, b, c) = highlights
    curation.reorder_highlights(forum, user=admin, order=[b, a, c], seen=[a, b, c])

    with pytest.raises(ValidationError) as refused:
        curation.reorder_highlights(forum, user=admin, order=[c, b, a], seen=[a, b, c])

    assert curation.highlight_ids(forum) == [b, a, c]
    assert refused.value.code == "stale"


def test_a_reorder_may_not_add_or_drop_a_highlight(highlights, admin):
    forum, (a, b, _c) = highlights

    with pytest.raises(ValidationError):
        curation.reorder_highlights(
            forum, user=admin, order=[a, b], seen=curation.highlight_ids(forum)
        )

    assert len(curation.highlight_ids(forum)) == 3


def test_move_highlight_swaps_with_its_neighbour_and_stops_at_the_ends(highlights, admin):
    forum, (a, b, c) = highlights

    curation.move_highlight(Quote(pk=c), user=admin, step=-1, seen=[a, b, c])
    curation.move_highlight(Quote(pk=a), user=admin, step=-1, seen=[a, c, b])

    assert curation.highlight_ids(forum) == [a, c, b]


def test_unfeature_closes_the_gap(highlights, admin):
    forum, (a, b, c) = highlights

    curation.unfeature_quote(Quote.objects.get(pk=b), user=admin)

    assert list(forum.quotes.highlights().values_list("pk", "highlight_position")) == [
        (a, 1),
        (c, 2),
    ]


def test_set_highlights_features_unfeatures_and_orders_in_one_go(highlights, admin):
    forum, (a, b, c) = highlights
    fourth = QuoteFactory(forum=forum, speaker=Quote.objects.get(pk=a).speaker, approved=True)

    curation.set_highlights(
        forum, user=admin, quotes=[fourth, Quote(pk=c, forum=forum)], seen=[a, b, c]
    )

    assert curation.highlight_ids(forum) == [fourth.pk, c]
    assert sorted(
        CurationEntry.objects.filter(action__in=[Action.FEATURE, Action.UNFEATURE])
        .order_by("id")
        .values_list("action", "quote")[3:]
    ) == sorted([(Action.UNFEATURE, a), (Action.UNFEATURE, b), (Action.FEATURE, fourth.pk)])


# --- Merging speakers ---------------------------------------------------------------------------


def test_merge_moves_every_appearance_turn_quote_and_member_link(admin):
    keep = SpeakerFactory(name="贾西贝", organisation="华傲数据", title="", bio="")
    duplicate = SpeakerFactory(name="贾西贝", organisation="", title="董事长", bio="数据专家。")
    shared = ForumFactory()
    AppearanceFactory(forum=shared, speaker=keep, role=Appearance.Role.PANELIST)
    AppearanceFactory(
        forum=shared,
        speaker=duplicate,
        role=Appearance.Role.PANELIST,
        title="董事长",
        is_cohort_representative=True,
    )
    other = AppearanceFactory(speaker=duplicate, role=Appearance.Role.HOST)
    turn = TranscriptTurnFactory(speaker=duplicate)
    quote = QuoteFactory(forum=other.forum, speaker=duplicate)
    member = MemberFactory(speaker=duplicate)

    curation.merge_speakers(keep, user=admin, duplicate=duplicate)

    keep.refresh_from_db()
    assert not Speaker.objects.filter(pk=duplicate.pk).exists()
    assert sorted(
        keep.appearances.values_list("forum", "role", "is_cohort_representative")
    ) == sorted([(shared.pk, "panelist", True), (other.forum_id, "host", False)])
    assert TranscriptTurn.objects.get(pk=turn.pk).speaker == keep
    assert Quote.objects.get(pk=quote.pk).speaker == keep
    assert Member.objects.get(pk=member.pk).speaker == keep
    assert (keep.organisation, keep.title, keep.bio) == ("华傲数据", "董事长", "数据专家。")
    entry = CurationEntry.objects.get(action=Action.MERGE)
    assert entry.details["merged"]["id"] == duplicate.pk
    assert entry.details["dropped_appearances"][0]["title"] == "董事长"
    assert entry.speaker == keep


def test_merge_a_speaker_with_itself_is_refused(admin):
    speaker = SpeakerFactory()

    with pytest.raises(ValidationError):
        curation.merge_speakers(speaker, user=admin, duplicate=speaker)

    assert Speaker.objects.count() == 1


def test_the_audit_trail_keeps_entries_of_a_merged_speaker(panel, organiser, admin):
    forum, speaker = panel
    curation.propose_quote(forum, user=organiser, speaker=speaker, text="观点")
    keep = SpeakerFactory()

    curation.merge_speakers(keep, user=admin, duplicate=speaker)

    assert list(CurationEntry.objects.values_list("action", "speaker")) == [
        (Action.MERGE, keep.pk),
        (Action.PROPOSE, keep.pk),
    ]


def test_bulk_reject_is_all_or_nothing_and_needs_a_reason(panel, admin):
    forum, speaker = panel
    proposed = QuoteFactory(forum=forum, speaker=speaker)
    rejected = QuoteFactory(forum=forum, speaker=speaker, rejected=True)

    with pytest.raises(ValidationError) as no_reason:
        curation.reject_quotes([proposed], user=admin, reason=" ")
    with pytest.raises(ValidationError) as already:
        curation.reject_quotes([proposed, rejected], user=admin, reason="重复")

    assert no_reason.value.message_dict == {"reason": ["Say why the quote is rejected."]}
    assert already.value.messages == [f"Quote #{rejected.pk}: This quote is rejected already."]
    assert (Quote.objects.get(pk=proposed.pk).state, CurationEntry.objects.count()) == (
        State.PROPOSED,
        0,
    )
