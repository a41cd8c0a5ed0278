"""Search of recaps, transcript turns, quotes and speakers, in Chinese as in English.

Chinese is written without spaces between words, so every text is cut into words by jieba
(through its Rust binding, rjieba) and kept, space-joined, in a SearchEntry. PostgreSQL
searches those words with a full-text GIN index (see migration 0004); SQLite, the embedded
default, looks for them as substrings and ranks a capped set of candidates in Python.

The entries are derived data: they are rebuilt from their rows after every write that
changes them. Write paths call `schedule_forum_reindex` (or `schedule_speaker_reindex`),
which reindexes once the transaction commits, once however often it was asked. Edits made
elsewhere (the Django admin, the shell) show after `manage.py rebuild_search_index`.
"""

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import reduce
from operator import or_

import rjieba
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils.html import strip_tags

from forums.models import Forum, Quote, SearchEntry, Speaker, TranscriptTurn
from forums.sanitize import render_markdown

Kind = SearchEntry.Kind

MAX_QUERY_LENGTH = 100
MAX_TERMS = 10
# SQLite ranks in Python: only this many matching entries are ranked.
MAX_CANDIDATES = 300
SNIPPET_LENGTH = 160
SNIPPET_LEAD = 30  # characters shown before the first match

# Letters and digits of any script; punctuation, symbols, spaces and "_" separate words.
WORD = re.compile(r"[^\W_]+")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Dropped from a query (unless it has nothing else): they match nearly every text.
STOP_WORDS = {
    "的", "地", "得", "了", "着", "和", "与", "及", "或", "是", "在", "也", "就", "都",
    "而", "把", "被", "对", "从", "向", "之",
    "a", "an", "and", "or", "the", "of", "to", "in", "on", "at", "for", "by", "is", "are",
}  # fmt: skip
# Among equal ranks: recaps, speakers, quotes, turns; then the latest forum first.
ORDER = [
    Case(*(When(kind=kind, then=Value(position)) for position, kind in enumerate(Kind))),
    F("forum__starts_at").desc(nulls_last=True),
    "id",
]


# --- Words --------------------------------------------------------------------------------


def words(text, *, for_search=True):
    """The words of `text`, lower-cased, without punctuation or spaces.

    Han text is cut by jieba: `for_search` (indexing) also yields the shorter words inside
    a long one, so that 智慧城市 is found by 智慧 and by 城市. Other scripts are split at
    spaces and punctuation. Full-width letters and digits count as their ASCII forms.
    """
    tokens = []
    for run in WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if not HAN.search(run):
            tokens.append(run)
            continue
        cut = rjieba.cut_for_search(run) if for_search else rjieba.cut(run)
        tokens.extend(token for token in cut if WORD.fullmatch(token))
    return tokens


def segment(*texts):
    """The texts as one string of space-separated words: what an entry's index is built on."""
    return " ".join(word for text in texts for word in words(text or ""))


def query_terms(query):
    """The words searched for: at most MAX_TERMS, from the first MAX_QUERY_LENGTH characters."""
    unique = list(dict.fromkeys(words(query[:MAX_QUERY_LENGTH], for_search=False)))
    meaningful = [word for word in unique if word not in STOP_WORDS] or unique
    return meaningful[:MAX_TERMS]


# --- Searching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """One entry found, ready to show: title and snippet as (text, is_match) parts.

    The parts are plain text; the template escapes each one and wraps matches in <mark>.
    """

    kind: str
    kind_label: str
    title: str
    title_parts: list
    url: str
    snippet: list
    context: str
    is_public: bool
    rank: float

    @property
    def snippet_text(self):
        return "".join(text for text, _is_match in self.snippet)


def uses_full_text():
    return connection.vendor == "postgresql"


def ts_query(terms):
    # Each term is letters and digits only (see WORD), so quoting it cannot break the
    # query; `:*` also finds words the term begins (数据 in 数据库, as SQLite's substrings do).
    raw = " & ".join(f"'{term}':*" for term in terms)
    return SearchQuery(raw, search_type="raw", config="simple")


def ts_vector():
    # Compiles to the expression of the GIN index in migration 0004.
    return SearchVector("segmented", config="simple")


def matching(entries, terms):
    """`entries` that contain every term."""
    if uses_full_text():
        return entries.alias(document=ts_vector()).filter(document=ts_query(terms))
    return entries.filter(*(Q(segmented__contains=term) for term in terms))


def found_entries(terms, *, user, kind=None):
    """Entries `user` may see that contain every term: ranked on PostgreSQL, not on SQLite."""
    entries = matching(SearchEntry.objects.visible_to(user), terms).select_related("forum")
    if kind:
        entries = entries.filter(kind=kind)
    if uses_full_text():
        rank = SearchRank(ts_vector(), ts_query(terms))
        return entries.defer("segmented").annotate(rank=rank).order_by("-rank", *ORDER)
    return entries.order_by(*ORDER)


def search(query, *, user, limit=20, kind=None):
    """The `limit` best entries `user` may see for `query`, best first, as SearchResults.

    Ranked by how often the terms occur (see ORDER for ties). Costs one query, whatever
    the data size.
    """
    terms = query_terms(query)
    if not terms:
        return []
    entries = found_entries(terms, user=user, kind=kind)
    if uses_full_text():
        found = list(entries[:limit])
    else:
        found = list(entries[:MAX_CANDIDATES])
        for entry in found:
            entry.rank = sum(entry.segmented.count(term) for term in terms)
        found = sorted(found, key=lambda entry: -entry.rank)[:limit]  # stable: ties keep order
    pattern = highlight_pattern(terms)
    return [result_of(entry, pattern) for entry in found]


def count_matches(query, *, user):
    """How many entries `user` may see match `query`, by kind (kinds with none left out)."""
    terms = query_terms(query)
    if not terms:
        return {}
    rows = (
        matching(SearchEntry.objects.visible_to(user), terms)
        .values("kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["kind"]: row["count"] for row in rows}


def highlight_pattern(terms):
    # Longest first, so that a longer term wins over a shorter one inside it.
    alternatives = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in alternatives), re.IGNORECASE)


def marked(text, pattern):
    """`text` as (text, is_match) parts."""
    parts, last = [], 0
    for match in pattern.finditer(text):
        if match.start() > last:
            parts.append((text[last : match.start()], False))
        if parts and parts[-1][1] and match.start() == last:
            parts[-1] = (parts[-1][0] + match.group(), True)  # 智慧|城市 as one mark
        else:
            parts.append((match.group(), True))
        last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


def excerpt(text, pattern):
    """About SNIPPET_LENGTH characters of `text` around its first match, as marked parts."""
    text = " ".join(text.split())
    match = pattern.search(text)
    start = max(0, match.start() - SNIPPET_LEAD) if match else 0
    end = min(len(text), start + SNIPPET_LENGTH)
    start = max(0, min(start, end - SNIPPET_LENGTH))
    parts = marked(text[start:end], pattern)
    if start:
        parts.insert(0, ("…", False))
    if end < len(text):
        parts.append(("…", False))
    return parts


def result_of(entry, pattern):
    context = entry.forum.title if entry.forum and entry.kind != Kind.RECAP else ""
    return SearchResult(
        kind=entry.kind,
        kind_label=entry.get_kind_display(),
        title=entry.title,
        title_parts=marked(entry.title, pattern),
        url=entry.url,
        snippet=excerpt(entry.text, pattern),
        context=context,
        is_public=entry.is_public,
        rank=float(entry.rank),
    )


# --- Indexing -----------------------------------------------------------------------------

UPDATED_FIELDS = ["forum", "speaker", "title", "text", "segmented", "url", "is_public"]


def save_entries(entries):
    SearchEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=[*UPDATED_FIELDS, "updated_at"],
    )


def markdown_text(body):
    return html.unescape(strip_tags(render_markdown(body)))


def forum_entries(forum, *, is_public):
    """The entries of a forum's recap, transcript turns and approved quotes."""
    url = forum.get_absolute_url()
    entries = []
    recap = getattr(forum, "recap", None)
    if recap:
        title = recap.headline or forum.title
        text = "\n\n".join(part for part in (forum.lede, markdown_text(recap.body)) if part)
        entries.append(
            SearchEntry(
                kind=Kind.RECAP,
                object_id=recap.pk,
                forum=forum,
                title=title,
                text=text,
                segmented=segment(title, text),
                url=url,
                is_public=is_public,
            )
        )
    turns = (
        TranscriptTurn.objects.filter(theme__forum=forum)
        .select_related("theme", "speaker")
        .order_by("theme__position", "position")
    )
    for turn in turns:
        entries.append(
            SearchEntry(
                kind=Kind.TURN,
                object_id=turn.pk,
                forum=forum,
                speaker=turn.speaker,
                title=turn.speaker.name,
                text=turn.body,
                segmented=segment(turn.speaker.name, turn.body),
                url=f"{url}#theme-{turn.theme.position}",
                is_public=is_public,
            )
        )
    # Proposed and rejected quotes are the admins' work in progress: never searchable.
    quotes = forum.quotes.filter(state=Quote.State.APPROVED).select_related("speaker")
    for quote in quotes:
        entries.append(
            SearchEntry(
                kind=Kind.QUOTE,
                object_id=quote.pk,
                forum=forum,
                speaker=quote.speaker,
                title=quote.speaker.name,
                text=quote.text,
                segmented=segment(quote.speaker.name, quote.text),
                url=f"{quote.speaker.get_absolute_url()}#quotes-title",
                is_public=is_public,
            )
        )
    return entries


def speaker_entry(speaker, *, is_public):
    role = " ".join(part for part in (speaker.organisation, speaker.title) if part)
    text = "\n\n".join(part for part in (role, speaker.bio) if part)
    return SearchEntry(
        kind=Kind.SPEAKER,
        object_id=speaker.pk,
        speaker=speaker,
        title=speaker.name,
        text=text,
        segmented=segment(speaker.name, text),
        url=speaker.get_absolute_url(),
        is_public=is_public,
    )


def public_speakers():
    return Speaker.objects.visible_to(AnonymousUser())


def index_speakers(speakers):
    """Write the entries of these speakers, public when the public may see them."""
    speakers = list(speakers)
    public = set(
        public_speakers().filter(pk__in=[s.pk for s in speakers]).values_list("pk", flat=True)
    )
    save_entries([speaker_entry(s, is_public=s.pk in public) for s in speakers])


def index_speaker(speaker):
    index_speakers([speaker])


def refresh_speaker_visibility():
    """Correct `is_public` of every speaker entry: a speaker is public through any forum."""
    public = public_speakers().values("pk")
    speakers = SearchEntry.objects.filter(kind=Kind.SPEAKER)
    speakers.filter(is_public=True).exclude(speaker__in=public).update(is_public=False)
    speakers.filter(is_public=False, speaker__in=public).update(is_public=True)


def index_forum(forum):
    """Rebuild the entries of a forum, its recap, turns, approved quotes and speakers.

    Side effects: entries of turns and quotes that are gone (or no longer approved) are
    deleted; speaker entries everywhere get their visibility corrected.
    """
    with transaction.atomic():
        # One reindex of a forum at a time, each reading what the one before committed.
        forum = Forum.objects.select_for_update().filter(pk=forum.pk).first()
        if forum is None:
            return  # deleted: its entries went with it
        is_public = Forum.objects.published().filter(pk=forum.pk).exists()
        entries = forum_entries(forum, is_public=is_public)
        kept = {kind: [] for kind in (Kind.RECAP, Kind.TURN, Kind.QUOTE)}
        for entry in entries:
            kept[entry.kind].append(entry.object_id)
        gone = [Q(kind=kind) & ~Q(object_id__in=ids) for kind, ids in kept.items()]
        SearchEntry.objects.filter(Q(forum=forum), reduce(or_, gone)).delete()
        save_entries(entries)
        speakers = Speaker.objects.filter(
            Q(appearances__forum=forum) | Q(turns__theme__forum=forum)
        ).distinct()
        index_speakers(speakers)
        refresh_speaker_visibility()


def index_forum_speakers(speaker):
    """Reindex a speaker and every forum they speak at (after a merge moved their rows)."""
    forums = Forum.objects.filter(
        Q(appearances__speaker=speaker)
        | Q(themes__turns__speaker=speaker)
        | Q(quotes__speaker=speaker)
    ).distinct()
    for forum in forums:
        index_forum(forum)
    index_speaker(speaker)


def rebuild_index():
    """Every entry again from the database. Returns how many entries there are."""
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        for forum in Forum.objects.order_by("pk"):
            index_forum(forum)
        index_speakers(Speaker.objects.order_by("pk"))
    return SearchEntry.objects.count()


# --- Keeping the index fresh ----------------------------------------------------------------


class Reindex:
    """A reindex to run after commit; equal to another of the same forum or speaker."""

    def __init__(self, *, forum_id=None, speaker_id=None):
        self.forum_id, self.speaker_id = forum_id, speaker_id
        self.has_run = False

    def __eq__(self, other):
        return isinstance(other, Reindex) and (other.forum_id, other.speaker_id) == (
            self.forum_id,
            self.speaker_id,
        )

    def __hash__(self):
        return hash((self.forum_id, self.speaker_id))

    def __repr__(self):
        return f"Reindex(forum_id={self.forum_id}, speaker_id={self.speaker_id})"

    def __call__(self):
        self.has_run = True
        if self.forum_id is not None:
            index_forum(Forum(pk=self.forum_id))
        if self.speaker_id is not None:
            speaker = Speaker.objects.filter(pk=self.speaker_id).first()
            if speaker:
                index_forum_speakers(speaker)


def schedule(reindex):
    """Queue `reindex` for after commit, unless an equal one waits already."""
    # Django keeps the open transaction's callbacks as (savepoints, callback, robust) and
    # drops those of a savepoint rolled back, so a reindex skipped here is still queued.
    pending = getattr(transaction.get_connection(), "run_on_commit", [])
    if any(entry[1] == reindex and not entry[1].has_run for entry in pending):
        return
    # robust: a failing reindex is logged; it must not turn a saved edit into an error.
    transaction.on_commit(reindex, robust=True)


def schedule_forum_reindex(forum):
    """Reindex the forum once the current transaction commits (at once outside one)."""
    schedule(Reindex(forum_id=forum.pk))


def schedule_forums_reindex(forum_ids):
    for forum_id in forum_ids:
        schedule(Reindex(forum_id=forum_id))


def schedule_speaker_reindex(speaker):
    """Reindex the speaker and all their forums once the current transaction commits."""
    schedule(Reindex(speaker_id=speaker.pk))
