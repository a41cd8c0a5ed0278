"""Writes to forums and their recaps: editing, publishing, revisions and share links.

Every edit of a forum's content goes through here. Each one checks the version the
organiser's form was built from (a stale form is refused, nothing is overwritten), raises
the recap's version, and records a revision with the whole content, so that history and
restore cover everything an organiser can change.
"""

import datetime
import difflib
import secrets
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cohorts.storage import storage_errors_as
from forums import search
from forums.models import (
    Appearance,
    Forum,
    Recap,
    RecapRevision,
    RecapShareLink,
    Speaker,
    Theme,
    TranscriptTurn,
)
from topics.models import Topic
from wecity import pagecache_signals

FORUM_FIELDS = ("title", "starts_at", "ends_at", "format", "location", "lede")
RECAP_FIELDS = ("headline", "body")
SHARE_LINK_DAYS = 7


class StaleEdit(ValidationError):
    """The form was built from an older version of the recap than the one saved now."""

    def __init__(self, recap):
        self.recap = recap
        super().__init__(
            _(
                "Someone else saved this recap while you were editing it. Your changes "
                "were not saved: compare both versions, then edit the current one."
            ),
            code="stale",
        )


# --- Revisions ----------------------------------------------------------------------------


def utc_iso(moment):
    # In UTC, so that one instant is always written the same way, whatever zone it came in.
    return moment.astimezone(datetime.UTC).isoformat() if moment else None


def local_text(iso):
    if not iso:
        return ""
    return timezone.localtime(datetime.datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")


def snapshot(forum):
    """The forum's content as plain data: what a revision stores and a restore puts back."""
    recap = forum.recap
    themes = forum.themes.order_by("position").prefetch_related("turns__speaker")
    appearances = forum.appearances.select_related("speaker").order_by("position", "id")
    highlights = forum.quotes.highlights().select_related("speaker")
    return {
        "title": forum.title,
        "starts_at": utc_iso(forum.starts_at),
        "ends_at": utc_iso(forum.ends_at),
        "format": forum.format,
        "location": forum.location,
        "lede": forum.lede,
        "cover_image": forum.cover_image.name or "",
        "released_topics": sorted(forum.released_topics.values_list("slug", flat=True)),
        "headline": recap.headline,
        "body": recap.body,
        "appearances": [
            {
                "speaker": a.speaker_id,
                "speaker_name": a.speaker.name,
                "role": a.role,
                "organisation": a.organisation,
                "title": a.title,
                "is_cohort_representative": a.is_cohort_representative,
            }
            for a in appearances
        ],
        "themes": [
            {
                "title": theme.title,
                "turns": [
                    {"speaker": t.speaker_id, "speaker_name": t.speaker.name, "body": t.body}
                    for t in sorted(theme.turns.all(), key=lambda turn: turn.position)
                ],
            }
            for theme in themes
        ],
        "highlights": [
            {"quote": q.pk, "speaker_name": q.speaker.name, "text": q.text} for q in highlights
        ],
    }


def snapshot_lines(data):
    """A revision as lines a person can read, for diffs."""
    roles = dict(Appearance.Role.choices)
    lines = [
        f"{_('Title')}: {data['title']}",
        f"{_('Headline')}: {data['headline']}",
        f"{_('Starts at')}: {local_text(data['starts_at'])}",
        f"{_('Ends at')}: {local_text(data['ends_at'])}",
        f"{_('Format')}: {data['format']}",
        f"{_('Place')}: {data['location']}",
        f"{_('Cover image')}: {data.get('cover_image', '')}",
        f"{_('Topics released')}: {', '.join(data.get('released_topics', []))}",
        f"{_('Lede')}:",
        *data["lede"].splitlines(),
        f"{_('Body')}:",
        *data["body"].splitlines(),
        f"{_('Speakers')}:",
    ]
    for a in data["appearances"]:
        flag = f" ({_('cohort representative')})" if a["is_cohort_representative"] else ""
        lines.append(
            f"  {roles.get(a['role'], a['role'])}: {a['speaker_name']} "
            f"{a['organisation']} {a['title']}{flag}"
        )
    lines.append(f"{_('Highlights')}:")
    lines += [f"  {q['text']} ——{q['speaker_name']}" for q in data["highlights"]]
    for theme in data["themes"]:
        lines.append(f"{_('Theme')}: {theme['title']}")
        for turn in theme["turns"]:
            lines += [f"  {turn['speaker_name']}：{p}" for p in turn["body"].split("\n\n")]
    return lines


def diff_revisions(older, newer):
    """A unified diff of two revisions' readable text (older may be None)."""
    before = snapshot_lines(older.snapshot) if older else []
    return list(
        difflib.unified_diff(
            before,
            snapshot_lines(newer.snapshot),
            fromfile=f"#{older.number}" if older else "",
            tofile=f"#{newer.number}",
            lineterm="",
        )
    )


def record_revision(forum, *, user):
    recap = forum.recap
    number = (recap.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    return RecapRevision.objects.create(
        recap=recap, number=number, author=user, snapshot=snapshot(forum)
    )


def claim_version(forum, *, user, expected_version):
    """Raise the recap's version if it is still `expected_version`; StaleEdit otherwise."""
    recap = forum.recap
    claimed = Recap.objects.filter(pk=recap.pk, version=expected_version).update(
        version=F("version") + 1, updated_by=user, updated_at=timezone.now()
    )
    if not claimed:
        recap.refresh_from_db()
        raise StaleEdit(recap)
    recap.refresh_from_db(fields=["version", "updated_by", "updated_at"])


@contextmanager
def edit(forum, *, user, expected_version):
    """One versioned edit of a forum: atomic, version-checked, recorded as a revision."""
    with transaction.atomic():
        claim_version(forum, user=user, expected_version=expected_version)
        yield forum
        record_revision(forum, user=user)
        search.schedule_forum_reindex(forum)
        pagecache_signals.touch_forums([forum.pk])  # the recap's version and date changed


# --- Forums and recaps --------------------------------------------------------------------


def unique_slug(model, text, *, fallback):
    base = slugify(text, allow_unicode=True)[:100] or fallback
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_forum(*, user, title, headline="", **fields):
    """A new forum with a draft recap and its first revision."""
    with transaction.atomic():
        forum = Forum(title=title, slug=unique_slug(Forum, title, fallback="forum"), **fields)
        forum.full_clean()
        with storage_errors_as("cover_image", forum.cover_image.name):
            forum.save()
        Recap.objects.create(forum=forum, headline=headline or title, updated_by=user)
        record_revision(forum, user=user)
        search.schedule_forum_reindex(forum)
    return forum


def update_forum(forum, *, user, expected_version, released_topics=None, **fields):
    """Change the forum's own fields and the recap's headline and body."""
    with edit(forum, user=user, expected_version=expected_version):
        recap = forum.recap
        for name, value in fields.items():
            target = recap if name in RECAP_FIELDS else forum
            setattr(target, name, value)
        forum.full_clean()
        with storage_errors_as("cover_image", forum.cover_image.name):
            forum.save()
        recap.full_clean(exclude=["forum"])
        recap.save(update_fields=[*RECAP_FIELDS])
        if released_topics is not None:
            forum.released_topics.set(released_topics)
    return forum


# --- Themes -------------------------------------------------------------------------------


def add_theme(forum, *, user, expected_version, title):
    with edit(forum, user=user, expected_version=expected_version):
        position = (forum.themes.aggregate(n=Max("position"))["n"] or 0) + 1
        theme = Theme(forum=forum, title=title, position=position)
        theme.full_clean()
        theme.save()
    return theme


def rename_theme(theme, *, user, expected_version, title):
    with edit(theme.forum, user=user, expected_version=expected_version):
        theme.title = title
        theme.full_clean()
        theme.save(update_fields=["title"])
    return theme


def swap_positions(model, first, second):
    """Swap two rows' positions without breaking their unique (parent, position)."""
    a, b = first.position, second.position
    model.objects.filter(pk=first.pk).update(position=0)  # positions start at 1
    model.objects.filter(pk=second.pk).update(position=a)
    model.objects.filter(pk=first.pk).update(position=b)
    first.position, second.position = b, a


def neighbour(queryset, row, step):
    if step < 0:
        return queryset.filter(position__lt=row.position).order_by("-position").first()
    return queryset.filter(position__gt=row.position).order_by("position").first()


def move_theme(theme, *, user, expected_version, step):
    """Move a theme one place up (step -1) or down (+1); at an end it stays."""
    with edit(theme.forum, user=user, expected_version=expected_version):
        other = neighbour(theme.forum.themes.all(), theme, step)
        if other:
            swap_positions(Theme, theme, other)
    return theme


def remove_theme(theme, *, user, expected_version):
    """Remove a theme and its transcript (the revision keeps them for a restore)."""
    with edit(theme.forum, user=user, expected_version=expected_version):
        theme.delete()


# --- Speakers and appearances ----------------------------------------------------------------


def create_speaker(*, name, organisation="", title="", bio=""):
    speaker = Speaker(
        name=name,
        slug=unique_slug(Speaker, name, fallback="speaker"),
        organisation=organisation,
        title=title,
        bio=bio,
    )
    speaker.full_clean()
    speaker.save()
    return speaker


def add_appearance(forum, *, user, expected_version, speaker, role, **fields):
    with edit(forum, user=user, expected_version=expected_version):
        position = (forum.appearances.aggregate(n=Max("position"))["n"] or 0) + 1
        appearance = Appearance(
            forum=forum, speaker=speaker, role=role, position=position, **fields
        )
        appearance.full_clean()
        appearance.save()
    return appearance


def update_appearance(appearance, *, user, expected_version, **fields):
    with edit(appearance.forum, user=user, expected_version=expected_version):
        for name, value in fields.items():
            setattr(appearance, name, value)
        appearance.full_clean()
        appearance.save()
    return appearance


def move_appearance(appearance, *, user, expected_version, step):
    with edit(appearance.forum, user=user, expected_version=expected_version):
        other = neighbour(appearance.forum.appearances.all(), appearance, step)
        if other:
            a, b = appearance.position, other.position
            Appearance.objects.filter(pk=appearance.pk).update(position=b)
            Appearance.objects.filter(pk=other.pk).update(position=a)
            appearance.position = b
    return appearance


def remove_appearance(appearance, *, user, expected_version):
    """Remove a speaker's role at a forum; refused while they still speak in its transcript."""
    forum = appearance.forum
    with edit(forum, user=user, expected_version=expected_version):
        speaks = TranscriptTurn.objects.filter(theme__forum=forum, speaker=appearance.speaker)
        others = forum.appearances.filter(speaker=appearance.speaker).exclude(pk=appearance.pk)
        if speaks.exists() and not others.exists():
            raise ValidationError(
                _("%(name)s still speaks in the transcript: remove or reassign those turns first.")
                % {"name": appearance.speaker.name},
                code="speaks",
            )
        appearance.delete()


# --- Transcript -----------------------------------------------------------------------------


def check_speaker_appears(forum, speaker):
    if not forum.appearances.filter(speaker=speaker).exists():
        raise ValidationError(
            {"speaker": _("Add %(name)s to the forum's speakers first.") % {"name": speaker.name}},
            code="not_a_speaker",
        )


def add_turn(theme, *, user, expected_version, speaker, body):
    forum = theme.forum
    check_speaker_appears(forum, speaker)
    with edit(forum, user=user, expected_version=expected_version):
        position = (theme.turns.aggregate(n=Max("position"))["n"] or 0) + 1
        turn = TranscriptTurn(theme=theme, position=position, speaker=speaker, body=body)
        turn.full_clean()
        turn.save()
    return turn


def update_turn(turn, *, user, expected_version, speaker, body):
    forum = turn.theme.forum
    check_speaker_appears(forum, speaker)
    with edit(forum, user=user, expected_version=expected_version):
        turn.speaker, turn.body = speaker, body
        turn.full_clean()
        turn.save(update_fields=["speaker", "body"])
    return turn


def move_turn(turn, *, user, expected_version, step):
    with edit(turn.theme.forum, user=user, expected_version=expected_version):
        other = neighbour(turn.theme.turns.all(), turn, step)
        if other:
            swap_positions(TranscriptTurn, turn, other)
    return turn


def remove_turn(turn, *, user, expected_version):
    with edit(turn.theme.forum, user=user, expected_version=expected_version):
        turn.delete()


# --- Publishing -----------------------------------------------------------------------------


def missing_for_publication(forum):
    """What a public recap needs that this forum lacks, each said in a sentence."""
    recap = forum.recap
    missing = []
    if not recap.headline.strip():
        missing.append(_("The recap has no headline."))
    if not forum.starts_at:
        missing.append(_("The forum has no date."))
    if not forum.lede.strip():
        missing.append(_("The forum has no lede."))
    if not forum.appearances.exists():
        missing.append(_("The forum has no speakers."))
    # The forum's own prefetch when a page made one (the edit page): no second query.
    prefetch_related_objects(
        [forum], Prefetch("themes", queryset=Theme.objects.order_by("position")), "themes__turns"
    )
    themes = list(forum.themes.all())
    if not themes:
        missing.append(_("The forum has no themes."))
    for theme in themes:
        if not theme.turns.all():
            missing.append(_("The theme “%(title)s” has no transcript.") % {"title": theme.title})
    return missing


def check_publishable(forum):
    missing = missing_for_publication(forum)
    if missing:
        raise ValidationError(missing, code="incomplete")


def publish_recap(forum, *, user, expected_version):
    """Make the recap public now. Raises ValidationError naming what is missing."""
    check_publishable(forum)
    with edit(forum, user=user, expected_version=expected_version):
        recap = forum.recap
        Recap.objects.filter(pk=recap.pk).update(
            status=Recap.Status.PUBLISHED,
            published_at=recap.published_at or timezone.now(),
            publish_at=None,
        )
        recap.refresh_from_db()
    return recap


def schedule_recap(forum, *, user, expected_version, publish_at):
    """Publish the recap by itself at `publish_at`, which must be in the future."""
    if publish_at <= timezone.now():
        raise ValidationError(
            {"publish_at": _("Choose a time in the future, or publish now.")}, code="past"
        )
    check_publishable(forum)
    with edit(forum, user=user, expected_version=expected_version):
        Recap.objects.filter(pk=forum.recap.pk).update(
            status=Recap.Status.SCHEDULED, publish_at=publish_at
        )
        forum.recap.refresh_from_db()
    return forum.recap


def unpublish_recap(forum, *, user, expected_version):
    """Take the recap back to a draft; it stays as it is, no longer public."""
    with edit(forum, user=user, expected_version=expected_version):
        Recap.objects.filter(pk=forum.recap.pk).update(status=Recap.Status.DRAFT, publish_at=None)
        forum.recap.refresh_from_db()
    return forum.recap


def publish_due_recaps(*, now=None):
    """Turn scheduled recaps whose time has come into published ones. Returns how many."""
    now = now or timezone.now()
    due = Recap.objects.filter(status=Recap.Status.SCHEDULED, publish_at__lte=now)
    forum_ids = list(due.values_list("forum_id", flat=True))
    published = due.filter(forum_id__in=forum_ids).update(
        status=Recap.Status.PUBLISHED, published_at=F("publish_at"), publish_at=None
    )
    search.schedule_forums_reindex(forum_ids)
    pagecache_signals.touch_forums(forum_ids)
    return published


def create_share_link(forum, *, user, days=SHARE_LINK_DAYS):
    """A secret link showing the recap as it is to outside reviewers, for `days` days."""
    return RecapShareLink.objects.create(
        recap=forum.recap,
        token=secrets.token_urlsafe(24),
        created_by=user,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )


def restore_revision(revision, *, user, expected_version):
    """Put the forum's content back as it was at `revision`; recorded as a new revision."""
    data = revision.snapshot
    forum = revision.recap.forum
    speakers = Speaker.objects.in_bulk(
        {a["speaker"] for a in data["appearances"]}
        | {t["speaker"] for theme in data["themes"] for t in theme["turns"]}
    )
    gone = sorted({a["speaker_name"] for a in data["appearances"] if a["speaker"] not in speakers})
    if gone:
        raise ValidationError(
            _("This revision names speakers who no longer exist: %(names)s.")
            % {"names": "、".join(gone)},
            code="speaker_gone",
        )
    with edit(forum, user=user, expected_version=expected_version):
        for name in FORUM_FIELDS:
            value = data[name]
            if name in ("starts_at", "ends_at") and value:
                value = datetime.datetime.fromisoformat(value)
            setattr(forum, name, value)
        forum.cover_image.name = data.get("cover_image", forum.cover_image.name)
        forum.save()
        if "released_topics" in data:
            forum.released_topics.set(Topic.objects.filter(slug__in=data["released_topics"]))
        Recap.objects.filter(pk=forum.recap.pk).update(headline=data["headline"], body=data["body"])
        forum.recap.refresh_from_db()
        forum.themes.all().delete()
        forum.appearances.all().delete()
        Appearance.objects.bulk_create(
            Appearance(
                forum=forum,
                speaker=speakers[a["speaker"]],
                role=a["role"],
                organisation=a["organisation"],
                title=a["title"],
                is_cohort_representative=a["is_cohort_representative"],
                position=position,
            )
            for position, a in enumerate(data["appearances"], start=1)
        )
        for position, theme_data in enumerate(data["themes"], start=1):
            theme = Theme.objects.create(forum=forum, title=theme_data["title"], position=position)
            TranscriptTurn.objects.bulk_create(
                TranscriptTurn(
                    theme=theme, position=n, speaker=speakers[t["speaker"]], body=t["body"]
                )
                for n, t in enumerate(theme_data["turns"], start=1)
            )
        # Highlights are curated by admins, with their own audit trail: a restore keeps them.
    return forum
