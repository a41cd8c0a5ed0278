"""What a write changes on public pages: the page cache's tags each saved or deleted row touches.

Connected by `wecity.apps` for the models public pages and API reads show. Writes that send
no signal (QuerySet.update(), bulk_create()) call `touch_forums` themselves, in the
services. A row about to be deleted is looked at before it goes (pre_delete), while what
it links to can still be found; rows deleted with their forum, theme or cohort are left to
that one's receiver. A save that moves a row (a new slug, another forum or cohort) touches
the tags of where it was too.
"""

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save

from cohorts.models import Cohort, Member, Milestone
from forums.models import Appearance, Forum, Quote, Recap, Speaker, Theme, TranscriptTurn
from topics.models import Deliverable, Topic
from wecity import pagecache
from wecity.pagecache import COHORTS, FORUMS, QUOTES, SPEAKERS, TOPICS

# --- Tags of a change ---------------------------------------------------------------------------


def slug_of(instance, name):
    """The slug of the row `instance.<name>` points to, without a query when it is loaded."""
    field = instance._meta.get_field(name)
    if field.is_cached(instance):
        related = getattr(instance, name)
        return related.slug if related else None
    pk = getattr(instance, field.attname)
    return field.related_model.objects.filter(pk=pk).values_list("slug", flat=True).first()


def forum_tags(forum_ids):
    """A forum's content: its page, the lists and the home page, its speakers' and quotes'."""
    ids = set(forum_ids)
    if not ids:
        return set()
    slugs = Forum.objects.filter(pk__in=ids).values_list("slug", flat=True)
    speakers = Speaker.objects.filter(
        Exists(Appearance.objects.filter(speaker=OuterRef("pk"), forum__in=ids))
        | Exists(Quote.objects.filter(speaker=OuterRef("pk"), forum__in=ids))
    ).values_list("slug", flat=True)
    quotes = Quote.objects.filter(forum__in=ids).values_list("pk", flat=True)
    return {
        FORUMS,
        QUOTES,
        *(pagecache.forum(slug) for slug in slugs),
        *(pagecache.speaker(slug) for slug in speakers),
        *(pagecache.quote_tag(pk) for pk in quotes),
    }


def speaker_tags(speaker):
    """A speaker: their page, the lists, and every forum and quote page naming them."""
    forums = Forum.objects.filter(
        Exists(Appearance.objects.filter(forum=OuterRef("pk"), speaker=speaker.pk))
        | Exists(TranscriptTurn.objects.filter(theme__forum=OuterRef("pk"), speaker=speaker.pk))
        | Exists(Quote.objects.filter(forum=OuterRef("pk"), speaker=speaker.pk))
    ).values_list("slug", flat=True)
    quotes = Quote.objects.filter(speaker=speaker.pk).values_list("pk", flat=True)
    return {
        SPEAKERS,
        FORUMS,
        QUOTES,
        pagecache.speaker(speaker.slug),
        *(pagecache.forum(slug) for slug in forums),
        *(pagecache.quote_tag(pk) for pk in quotes),
    }


def appearance_tags(appearance):
    # The speaker's own page too: after a removal the forum no longer leads to them.
    return forum_tags([appearance.forum_id]) | {
        SPEAKERS,
        pagecache.speaker(slug_of(appearance, "speaker")),
    }


def turn_tags(turn):
    # A transcript is shown on its forum's page (and the API's) only.
    slugs = Forum.objects.filter(themes=turn.theme_id).values_list("slug", flat=True)
    return {pagecache.forum(slug) for slug in slugs}


def quote_tags(quote):
    # Its forum's highlights (and the home page's), its speaker's page, the API's list.
    return {
        FORUMS,
        QUOTES,
        pagecache.quote_tag(quote.pk),
        pagecache.forum(slug_of(quote, "forum")),
        pagecache.speaker(slug_of(quote, "speaker")),
    }


def cohort_part_tags(row):
    """A member or milestone: their cohort's page and calendar, the lists, the topic pages."""
    return {COHORTS, pagecache.cohort(slug_of(row, "cohort"))}


TAGS = {
    Forum: lambda forum: forum_tags([forum.pk]),
    Recap: lambda recap: forum_tags([recap.forum_id]),
    Theme: lambda theme: forum_tags([theme.forum_id]),
    Appearance: appearance_tags,
    TranscriptTurn: turn_tags,
    Quote: quote_tags,
    Speaker: speaker_tags,
    Topic: lambda topic: {TOPICS, pagecache.topic(topic.slug)},
    Cohort: lambda cohort: {COHORTS, pagecache.cohort(cohort.slug)},
    Member: cohort_part_tags,
    Milestone: cohort_part_tags,
    # Topic pages list the latest cohort's upcoming deliverables.
    Deliverable: lambda deliverable: {COHORTS},
}
# The fields whose change moves a row to other pages: where it was is touched too.
PLACES = {
    Forum: ("slug",),
    Speaker: ("slug",),
    Topic: ("slug",),
    Cohort: ("slug",),
    Appearance: ("forum_id", "speaker_id"),
    TranscriptTurn: ("theme_id",),
    Quote: ("forum_id", "speaker_id"),
    Member: ("cohort_id",),
    Milestone: ("cohort_id",),
}
# Rows deleted with one of these are covered by its receiver.
CONTAINERS = {
    Recap: (Forum,),
    Theme: (Forum,),
    Appearance: (Forum,),
    TranscriptTurn: (Forum, Theme),
    Quote: (Forum,),
    Member: (Cohort,),
    Milestone: (Cohort,),
    Deliverable: (Cohort, Milestone),
}
# What the public sees of a member; a save of other fields (a calendar token) touches nothing.
MEMBER_PUBLIC_FIELDS = {
    "cohort",
    "topic",
    "name",
    "organisation",
    "title",
    "bio",
    "photo",
    "is_public",
    "is_organisation_public",
    "is_title_public",
    "is_bio_public",
    "is_photo_public",
    "is_demo",
    "removed_at",
}


def touch_forums(forum_ids):
    """Touch what these forums' content is shown on (for writes that send no signals)."""
    if pagecache.touching():
        pagecache.touch(*forum_tags(forum_ids))


# --- Receivers ----------------------------------------------------------------------------------


def saved(sender, instance, update_fields=None, **kwargs):
    if not pagecache.touching():
        return
    if sender is Member and update_fields and not set(update_fields) & MEMBER_PUBLIC_FIELDS:
        return
    pagecache.touch(*TAGS[sender](instance))


def moving(sender, instance, update_fields=None, **kwargs):
    """Before a save: if the row leaves its place (slug, forum, cohort), touch that place."""
    if not pagecache.touching() or instance._state.adding or instance.pk is None:
        return
    fields = PLACES[sender]
    if update_fields is not None and not names(fields) & names(update_fields):
        return
    before = sender._base_manager.filter(pk=instance.pk).first()
    if before and any(getattr(before, f) != getattr(instance, f) for f in fields):
        pagecache.touch(*TAGS[sender](before))


def names(fields):
    return {field.removesuffix("_id") for field in fields}


def deleting(sender, instance, origin=None, **kwargs):
    if not pagecache.touching():
        return
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if origin_model in CONTAINERS.get(sender, ()):
        return
    pagecache.touch(*TAGS[sender](instance))


def released_topics_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not pagecache.touching():
        return
    if not reverse and action in ("post_add", "post_remove", "post_clear"):
        touch_forums([instance.pk])
    elif reverse and action in ("post_add", "post_remove"):
        touch_forums(pk_set)
    elif reverse and action == "pre_clear":
        touch_forums(instance.released_at_forums.values_list("pk", flat=True))


def connect():
    for model in TAGS:
        post_save.connect(saved, sender=model, dispatch_uid=f"pagecache-saved-{model.__name__}")
        pre_delete.connect(
            deleting, sender=model, dispatch_uid=f"pagecache-deleting-{model.__name__}"
        )
    for model in PLACES:
        pre_save.connect(moving, sender=model, dispatch_uid=f"pagecache-moving-{model.__name__}")
    m2m_changed.connect(
        released_topics_changed,
        sender=Forum.released_topics.through,
        dispatch_uid="pagecache-released-topics",
    )
