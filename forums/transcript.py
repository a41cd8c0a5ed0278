"""The recap page's transcript as HTML, written in Python.

A recap holds hundreds of turns. Loaded as model instances (and their speakers) and
written by template tags, they cost more than the rest of the page together; here they
are read as rows of (theme, speaker's name, text) and written with the same markup, every
text escaped.
"""

from html import escape
from itertools import groupby
from operator import itemgetter

from django.utils.safestring import mark_safe

from forums.models import TranscriptTurn, split_paragraphs


def transcripts(forum):
    """{theme id: the HTML of its turns, in order} for the forum's themes: one query."""
    rows = (
        TranscriptTurn.objects.filter(theme__forum=forum)
        .order_by("theme_id", "position")
        .values_list("theme_id", "speaker__name", "body")
    )
    return {
        theme_id: transcript_html((name, body) for _theme, name, body in turns)
        for theme_id, turns in groupby(rows, key=itemgetter(0))
    }


def transcript_html(turns):
    """(speaker's name, text) pairs as blocks of paragraphs, each block opening with the
    speaker's name."""
    return mark_safe("\n".join(turn_html(name or "", body) for name, body in turns))


def turn_html(name, body):
    paragraphs = split_paragraphs(body)
    if not paragraphs:
        return '<div class="turn"></div>'
    first, *rest = (escape(paragraph) for paragraph in paragraphs)
    speaker = f'<strong class="turn__speaker">{escape(name)}：</strong>'
    return (
        f'<div class="turn"><p>{speaker}{first}</p>'
        + "".join(f"<p>{paragraph}</p>" for paragraph in rest)
        + "</div>"
    )
