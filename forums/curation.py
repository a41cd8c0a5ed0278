"""Curation of quotes and speakers: the one write path, each act recorded in the audit trail.

Organisers propose quotes and edit proposals; only admins approve, reject, feature,
unfeature and reorder a forum's highlights, and merge speakers. Every function checks
its actor, works in one transaction and writes a CurationEntry with the text before and
after. A quote's life: proposed → approved or rejected (with a reason); an approved
quote can be featured; a rejected one must be proposed again before it is approved.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from forums import search
from forums.models import Appearance, CurationEntry, Quote, Speaker, TranscriptTurn
from wecity import pagecache_signals

Action = CurationEntry.Action
State = Quote.State


def is_admin(user):
    return bool(user and user.is_authenticated and (user.is_superuser or user.is_portal_admin))


def can_propose(user):
    return is_admin(user) or bool(user and user.is_authenticated and user.is_organiser)


def require_admin(user):
    if not is_admin(user):
        raise PermissionDenied(_("Only admins curate quotes."))


def require_proposer(user):
    if not can_propose(user):
        raise PermissionDenied(_("Only organisers and admins propose quotes."))


def record(action, *, user, quote=None, forum=None, speaker=None, before="", after="", **extra):
    reason = extra.pop("reason", "")
    return CurationEntry.objects.create(
        action=action,
        actor=user,
        quote=quote,
        forum=forum or (quote.forum if quote else None),
        speaker=speaker or (quote.speaker if quote else None),
        before=before,
        after=after,
        reason=reason,
        details=extra,
    )


def locked(quote):
    """The quote's row, locked for this transaction: two admins act on it one at a time."""
    return Quote.objects.select_for_update().select_related("forum", "speaker").get(pk=quote.pk)


def check_speaker_at_forum(forum, speaker):
    if not Appearance.objects.filter(forum=forum, speaker=speaker).exists():
        raise ValidationError(
            {
                "speaker": _("%(name)s did not speak at %(forum)s.")
                % {"name": speaker.name, "forum": forum.title}
            },
            code="not_at_forum",
        )


def check_text(text):
    if not text.strip():
        raise ValidationError({"text": _("A quote needs its text.")}, code="empty")


# --- Proposing and editing ------------------------------------------------------------------


def propose_quote(forum, *, user, speaker, text, theme=None, turn=None):
    """A new proposed quote of a speaker who appeared at the forum."""
    require_proposer(user)
    check_text(text)
    check_speaker_at_forum(forum, speaker)
    with transaction.atomic():
        quote = Quote(
            forum=forum,
            speaker=speaker,
            text=text.strip(),
            theme=theme or (turn.theme if turn else None),
            turn=turn,
            proposed_by=user,
        )
        quote.full_clean()
        quote.save()
        record(Action.PROPOSE, user=user, quote=quote, after=quote.text)
    return quote


def edit_quote(quote, *, user, text, speaker=None):
    """Change a quote's words and speaker: organisers edit proposals, admins approved ones too."""
    require_proposer(user)
    check_text(text)
    with transaction.atomic():
        quote = locked(quote)
        editable = [State.PROPOSED] + ([State.APPROVED] if is_admin(user) else [])
        if quote.state not in editable:
            raise ValidationError(
                _("An approved quote is edited by admins only.")
                if quote.state == State.APPROVED
                else _("A rejected quote cannot be edited; propose it again first."),
                code="not_editable",
            )
        speaker = speaker or quote.speaker
        check_speaker_at_forum(quote.forum, speaker)
        before = quote.text
        if (before, quote.speaker_id) == (text.strip(), speaker.pk):
            return quote
        quote.text, quote.speaker = text.strip(), speaker
        quote.save(update_fields=["text", "speaker", "updated_at"])
        record(Action.EDIT, user=user, quote=quote, before=before, after=quote.text)
        search.schedule_forum_reindex(quote.forum)
    return quote


def repropose_quote(quote, *, user):
    """A rejected quote back in the queue as a proposal."""
    require_proposer(user)
    with transaction.atomic():
        quote = locked(quote)
        if quote.state != State.REJECTED:
            raise ValidationError(_("Only a rejected quote can be proposed again."), code="state")
        quote.state, quote.rejection_reason = State.PROPOSED, ""
        quote.save(update_fields=["state", "rejection_reason", "updated_at"])
        record(Action.PROPOSE, user=user, quote=quote, before=State.REJECTED, after=quote.text)
    return quote


# --- Approving and rejecting ------------------------------------------------------------------


def approve_quote(quote, *, user, text=None):
    """Approve a proposed quote, after changing its words if `text` is given."""
    require_admin(user)
    with transaction.atomic():
        if text is not None:
            edit_quote(quote, user=user, text=text)
        quote = locked(quote)
        if quote.state != State.PROPOSED:
            raise ValidationError(
                _("Only a proposed quote can be approved; this one is %(state)s.")
                % {"state": quote.get_state_display()},
                code="state",
            )
        check_speaker_at_forum(quote.forum, quote.speaker)
        quote.state = State.APPROVED
        quote.save(update_fields=["state", "updated_at"])
        record(Action.APPROVE, user=user, quote=quote, before=State.PROPOSED, after=quote.text)
        search.schedule_forum_reindex(quote.forum)
    return quote


def reject_quote(quote, *, user, reason):
    """Reject a proposed or approved quote with a reason; a featured one leaves the highlights."""
    require_admin(user)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the quote is rejected.")}, code="reason")
    with transaction.atomic():
        quote = locked(quote)
        if quote.state == State.REJECTED:
            raise ValidationError(_("This quote is rejected already."), code="state")
        if quote.is_featured:
            unfeature_quote(quote, user=user)
            quote.refresh_from_db()
        before = quote.state
        quote.state, quote.rejection_reason = State.REJECTED, reason.strip()
        quote.save(update_fields=["state", "rejection_reason", "updated_at"])
        record(
            Action.REJECT,
            user=user,
            quote=quote,
            before=before,
            after=quote.text,
            reason=quote.rejection_reason,
        )
        search.schedule_forum_reindex(quote.forum)
    return quote


def each_quote(quotes, act):
    """Do `act` to every quote; an error says which quote stopped the bulk act."""
    for quote in quotes:
        try:
            act(quote)
        except ValidationError as error:
            if hasattr(error, "error_dict") and "speaker" not in error.error_dict:
                raise  # about the bulk act's own input (the reason), not one quote
            raise ValidationError(
                [
                    _("Quote #%(number)s: %(error)s") % {"number": quote.pk, "error": message}
                    for message in error.messages
                ],
                code="bulk",
            ) from error
    return len(quotes)


def approve_quotes(quotes, *, user):
    """Approve many proposed quotes at once; all or none. Returns how many."""
    require_admin(user)
    with transaction.atomic():
        return each_quote(quotes, lambda quote: approve_quote(quote, user=user))


def reject_quotes(quotes, *, user, reason):
    """Reject many quotes with one reason; all or none. Returns how many."""
    require_admin(user)
    with transaction.atomic():
        return each_quote(quotes, lambda quote: reject_quote(quote, user=user, reason=reason))


# --- Highlights -------------------------------------------------------------------------------


def highlight_ids(forum):
    return list(forum.quotes.highlights().values_list("pk", flat=True))


def write_order(forum, ordered_ids):
    """Give the forum's highlights these positions (1, 2, …), clearing the old ones first."""
    forum.quotes.filter(is_featured=True).exclude(pk__in=ordered_ids).update(
        is_featured=False, highlight_position=None
    )
    # Two passes keep (forum, highlight_position) unique at every statement.
    offset = len(ordered_ids) + (forum.quotes.aggregate(n=Max("highlight_position"))["n"] or 0)
    for position, pk in enumerate(ordered_ids, start=1):
        Quote.objects.filter(pk=pk).update(is_featured=True, highlight_position=offset + position)
    for position, pk in enumerate(ordered_ids, start=1):
        Quote.objects.filter(pk=pk).update(highlight_position=position, updated_at=timezone.now())
    pagecache_signals.touch_forums([forum.pk])


def feature_quote(quote, *, user):
    """Add an approved quote at the end of its forum's highlights."""
    require_admin(user)
    with transaction.atomic():
        quote = locked(quote)
        if quote.state != State.APPROVED:
            raise ValidationError(_("Only an approved quote can be featured."), code="state")
        if quote.is_featured:
            return quote
        order = highlight_ids(quote.forum)
        write_order(quote.forum, [*order, quote.pk])
        record(
            Action.FEATURE,
            user=user,
            quote=quote,
            after=quote.text,
            order_before=order,
            order_after=[*order, quote.pk],
        )
    return quote


def unfeature_quote(quote, *, user):
    """Take a quote out of its forum's highlights; the others close up."""
    require_admin(user)
    with transaction.atomic():
        quote = locked(quote)
        if not quote.is_featured:
            return quote
        order = highlight_ids(quote.forum)
        remaining = [pk for pk in order if pk != quote.pk]
        write_order(quote.forum, remaining)
        record(
            Action.UNFEATURE,
            user=user,
            quote=quote,
            before=quote.text,
            order_before=order,
            order_after=remaining,
        )
    return quote


def reorder_highlights(forum, *, user, order, seen):
    """Put the forum's highlights in `order` (quote ids).

    `seen` is the order the admin's page showed; if the highlights changed since, the
    reorder is refused (nothing changes) so that no one's curation is silently undone.
    """
    require_admin(user)
    with transaction.atomic():
        # Lock the forum's highlights so two reorders run one after the other.
        list(forum.quotes.select_for_update().filter(is_featured=True).values_list("pk"))
        current = highlight_ids(forum)
        if list(seen) != current:
            raise ValidationError(
                _(
                    "The highlights changed while you were ordering them. "
                    "Here they are as they are now; order them again."
                ),
                code="stale",
            )
        if sorted(order) != sorted(current):
            raise ValidationError(
                _(
                    "Reorder the forum's highlights, each once; "
                    "to add or remove one, feature or unfeature it."
                ),
                code="not_a_reorder",
            )
        if list(order) == current:
            return current
        write_order(forum, list(order))
        record(
            Action.REORDER,
            user=user,
            forum=forum,
            before="\n".join(str(pk) for pk in current),
            after="\n".join(str(pk) for pk in order),
            order_before=current,
            order_after=list(order),
        )
    return list(order)


def set_highlights(forum, *, user, quotes, seen):
    """Make exactly these approved quotes the forum's highlights, in this order.

    The form's way of curating: it features, unfeatures and reorders as needed, each
    recorded as its own act. `seen` is the order the form showed (see reorder_highlights).
    """
    require_admin(user)
    wanted = [quote.pk for quote in quotes]
    with transaction.atomic():
        current = highlight_ids(forum)
        if list(seen) != current:
            raise ValidationError(
                _(
                    "The highlights changed while you were ordering them. "
                    "Here they are as they are now; order them again."
                ),
                code="stale",
            )
        for pk in current:
            if pk not in wanted:
                unfeature_quote(Quote(pk=pk), user=user)
        fresh = Quote.objects.in_bulk(wanted)
        for quote in (fresh.get(pk) for pk in wanted):
            if quote is None or quote.forum_id != forum.pk:
                raise ValidationError(
                    _("Only approved quotes of this forum can be highlights."), code="forum"
                )
            feature_quote(quote, user=user)
        return reorder_highlights(forum, user=user, order=wanted, seen=highlight_ids(forum))


def move_highlight(quote, *, user, step, seen):
    """Move one highlight up (-1) or down (+1): the buttons' reorder."""
    quote = Quote.objects.select_related("forum").get(pk=quote.pk)
    order = list(seen)
    if quote.pk not in order:
        raise ValidationError(_("This quote is not a highlight."), code="not_featured")
    index = order.index(quote.pk)
    target = index + step
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    return reorder_highlights(quote.forum, user=user, order=order, seen=seen)


# --- Speakers ---------------------------------------------------------------------------------


def speaker_card(speaker):
    return {
        "id": speaker.pk,
        "name": speaker.name,
        "slug": speaker.slug,
        "organisation": speaker.organisation,
        "title": speaker.title,
        "bio": speaker.bio,
        "photo": speaker.photo.name or "",
    }


def merge_speakers(keep, *, user, duplicate):
    """Merge two records of one person into `keep`; `duplicate` is deleted, nothing is lost.

    Appearances, transcript turns, quotes and a member link move to `keep`; where both
    appeared at one forum in the same role, keep's appearance stays and the duplicate's
    organisation and title as of that forum are kept in the audit entry. Empty fields of
    `keep` are filled from the duplicate.
    """
    require_admin(user)
    if keep.pk == duplicate.pk:
        raise ValidationError(_("Choose two different speakers to merge."), code="same")
    with transaction.atomic():
        keep = Speaker.objects.select_for_update().get(pk=keep.pk)
        duplicate = Speaker.objects.select_for_update().get(pk=duplicate.pk)
        card = speaker_card(duplicate)
        dropped = []
        for appearance in Appearance.objects.filter(speaker=duplicate):
            clash = Appearance.objects.filter(
                forum_id=appearance.forum_id, speaker=keep, role=appearance.role
            ).first()
            if clash:
                dropped.append(
                    {
                        "forum": appearance.forum_id,
                        "role": appearance.role,
                        "organisation": appearance.organisation,
                        "title": appearance.title,
                        "is_cohort_representative": appearance.is_cohort_representative,
                    }
                )
                if appearance.is_cohort_representative and not clash.is_cohort_representative:
                    Appearance.objects.filter(pk=clash.pk).update(is_cohort_representative=True)
                appearance.delete()
            else:
                Appearance.objects.filter(pk=appearance.pk).update(speaker=keep)
        moved = {
            "turns": TranscriptTurn.objects.filter(speaker=duplicate).update(speaker=keep),
            "quotes": Quote.objects.filter(speaker=duplicate).update(speaker=keep),
        }
        member = getattr(duplicate, "member", None)
        if member and getattr(keep, "member", None) is None:
            type(member).objects.filter(pk=member.pk).update(speaker=keep)
            moved["member"] = member.pk
        elif member:
            # One member record keeps the speaker link; the other's is recorded here.
            moved["member_link_dropped"] = member.pk
        for name in ("organisation", "title", "bio"):
            if not getattr(keep, name):
                setattr(keep, name, getattr(duplicate, name))
        if not keep.photo and duplicate.photo:
            keep.photo = duplicate.photo
        keep.save()
        CurationEntry.objects.filter(speaker=duplicate).update(speaker=keep)
        duplicate.delete()
        record(
            Action.MERGE,
            user=user,
            speaker=keep,
            before=f"{card['name']} {card['organisation']} {card['title']}".strip(),
            after=f"{keep.name} {keep.organisation} {keep.title}".strip(),
            merged=card,
            moved=moved,
            dropped_appearances=dropped,
        )
        search.schedule_speaker_reindex(keep)
    return keep
