"""The recap page's transcript, written by forums/transcript.py."""

import pytest

from forums.transcript import transcripts
from tests.factories import ForumFactory, SpeakerFactory, ThemeFactory, TranscriptTurnFactory


@pytest.mark.django_db
def test_each_turn_is_a_block_of_paragraphs_opened_by_its_speaker(django_assert_num_queries):
    forum = ForumFactory()
    first, second = ThemeFactory(forum=forum, position=1), ThemeFactory(forum=forum, position=2)
    wang, ruan = SpeakerFactory(name="王正"), SpeakerFactory(name="阮佳")
    TranscriptTurnFactory(theme=first, position=2, speaker=ruan, body="好。")
    TranscriptTurnFactory(theme=first, position=1, speaker=wang, body="第一段。\n\n第二段。\n\n")
    TranscriptTurnFactory(theme=second, position=1, speaker=ruan, body="第二个主题。")
    TranscriptTurnFactory(theme=ThemeFactory(), position=1, speaker=wang, body="另一场论坛。")

    with django_assert_num_queries(1):
        html = transcripts(forum)

    assert html == {
        first.pk: '<div class="turn"><p><strong class="turn__speaker">王正：</strong>第一段。</p>'
        "<p>第二段。</p></div>\n"
        '<div class="turn"><p><strong class="turn__speaker">阮佳：</strong>好。</p></div>',
        second.pk: '<div class="turn"><p><strong class="turn__speaker">阮佳：</strong>'
        "第二个主题。</p></div>",
    }


@pytest.mark.django_db
def test_what_speakers_said_and_their_names_stay_text():
    theme = ThemeFactory()
    speaker = SpeakerFactory(name="<b>Eve</b>")
    TranscriptTurnFactory(theme=theme, speaker=speaker, body='<script>alert("x")</script>')

    html = transcripts(theme.forum)[theme.pk]

    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Eve&lt;/b&gt;：" in html
