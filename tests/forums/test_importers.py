"""The recap importer: the seed article and others of its format, refusals, and the command."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from forums.importers import (
    MAX_ARTICLE_BYTES,
    ImportedAppearance,
    ImportedQuote,
    ImportedTheme,
    ImportedTurn,
    ImportWarning,
    parse_article,
    read_article,
    save_import,
)
from forums.models import Appearance, Forum, Quote, Recap, Speaker, TranscriptTurn
from tests.factories import SpeakerFactory, UserFactory

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = DATA / "seed_article.txt"
MOBILITY = DATA / "articles" / "mobility_roundtable.txt"
HEALTH = DATA / "articles" / "health_forum.txt"
Role = Appearance.Role


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in their English source, whatever the catalogues say."""
    with translation.override("en"):
        yield


@pytest.fixture
def seed_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def demo_data():
    with open(Path(settings.BASE_DIR) / "demo" / "seed_forum.json", encoding="utf-8") as handle:
        return json.load(handle)


def known_speakers():
    return Speaker.objects.order_by("id").values_list("name", "organisation", "title")


def saved_transcript(forum):
    return [
        (
            theme.title,
            [
                (turn.speaker.name, turn.paragraphs)
                for turn in theme.turns.select_related("speaker").order_by("position")
            ],
        )
        for theme in forum.themes.order_by("position")
    ]


def saved_appearances(forum):
    return [
        (a.speaker.name, a.role, a.organisation + a.title, a.is_cohort_representative)
        for a in forum.appearances.select_related("speaker").order_by("position")
    ]


def saved_quotes(forum):
    return [
        (quote.text, quote.speaker.name)
        for quote in forum.quotes.select_related("speaker").order_by("id")
    ]


# The seed article ---------------------------------------------------------------------


def test_parse_article_reads_the_seed_without_warnings(seed_text):
    imported = parse_article(seed_text)

    assert imported.warnings == []
    assert imported.headline == "如何加速智慧城市建设进程"
    assert [(a.name, a.role) for a in imported.appearances] == [
        ("穆亦飞", Role.OPENING_ADDRESS),
        ("邬贺铨", Role.PANELIST),
        ("司晓", Role.PANELIST),
        ("安韧", Role.PANELIST),
        ("贾西贝", Role.PANELIST),
        ("黄先锋", Role.PANELIST),
        ("王景田", Role.HOST),
        ("王莹", Role.TOPIC_RELEASE),
    ]
    assert [a.line_number for a in imported.appearances] == [7, 9, 10, 11, 12, 13, 15, 17]
    assert [(q.speaker_name, q.line_number) for q in imported.highlights][:2] == [
        ("邬贺铨", 19),
        ("穆亦飞", 21),
    ]
    assert [(t.title, len(t.turns)) for t in imported.themes] == [
        ("城市与未来", 11),
        ("数据与价值", 5),
        ("机会与贡献", 4),
    ]


@pytest.mark.django_db
def test_save_import_of_the_seed_is_the_demo_forum(seed_text, demo_data):
    names = {row["slug"]: row["name"] for row in demo_data["speakers"]}
    organiser = UserFactory()

    forum = save_import(parse_article(seed_text), user=organiser)

    assert forum.title == demo_data["recap"]["headline"]
    assert forum.recap.headline == demo_data["recap"]["headline"]
    assert forum.recap.status == Recap.Status.DRAFT
    assert forum.recap.updated_by == organiser
    assert forum.lede.split("\n\n") == demo_data["forum"]["lede"].split("\n\n")
    assert forum.format == Forum.Format.ONLINE
    assert saved_transcript(forum) == [
        (
            theme["title"],
            [(names[turn["speaker"]], turn["paragraphs"]) for turn in theme["turns"]],
        )
        for theme in demo_data["themes"]
    ]
    assert saved_appearances(forum) == [
        (
            names[row["speaker"]],
            row["role"],
            row["organisation"] + row["title"],
            row["is_cohort_representative"],
        )
        for row in demo_data["appearances"]
    ]
    assert saved_quotes(forum) == [
        (row["text"], names[row["speaker"]]) for row in demo_data["highlights"]
    ]
    assert (
        list(forum.quotes.values_list("state", "is_featured", "proposed_by"))
        == [(Quote.State.PROPOSED, False, organiser.pk)] * 8
    )
    assert Speaker.objects.count() == 8
    assert sorted(Speaker.objects.values_list("slug", flat=True)) == sorted(names.values())


@pytest.mark.django_db
def test_save_import_of_the_seed_over_the_demo_matches_its_speakers(seed_text, demo_data):
    call_command("load_demo", password="x", stdout=StringIO())
    existing = {row["slug"]: row for row in demo_data["speakers"]}
    imported = parse_article(seed_text, known_speakers=known_speakers())

    forum = save_import(imported, user=None)

    assert imported.warnings == []
    assert Speaker.objects.count() == 8
    assert [
        (a.speaker.slug, a.organisation, a.title)
        for a in forum.appearances.select_related("speaker").order_by("position")
    ] == [
        (
            row["speaker"],
            existing[row["speaker"]]["organisation"],
            existing[row["speaker"]]["title"],
        )
        for row in demo_data["appearances"]
    ]
    assert Forum.objects.count() == 2
    assert forum.slug == "如何加速智慧城市建设进程"


@pytest.mark.django_db
def test_save_import_twice_gives_the_second_forum_a_numbered_slug(seed_text):
    imported = parse_article(seed_text)
    first = save_import(imported, user=None)

    second = save_import(imported, user=None)

    assert (first.slug, second.slug) == ("如何加速智慧城市建设进程", "如何加速智慧城市建设进程-2")
    assert Speaker.objects.count() == 8
    assert TranscriptTurn.objects.filter(theme__forum=second).count() == 20


# Other articles of the same format ----------------------------------------------------


def test_parse_article_reads_speakers_with_and_without_a_space():
    imported = parse_article(MOBILITY.read_text(encoding="utf-8"))

    assert imported.appearances == [
        ImportedAppearance("欧阳明远", "鹏城交通研究院", "院长", Role.OPENING_ADDRESS, False, 6),
        ImportedAppearance("林小雨", "城联出行", "联合创始人", Role.PANELIST, True, 8),
        ImportedAppearance("高峰", "北辰数据科技有限公司", "CTO", Role.PANELIST, False, 9),
        ImportedAppearance("程诺", "星河智库", "副主任", Role.HOST, False, 11),
    ]


def test_parse_article_reads_two_themes_with_continuation_paragraphs_and_ascii_colons():
    imported = parse_article(MOBILITY.read_text(encoding="utf-8"))

    assert imported.headline == "智慧出行如何走进社区"
    assert imported.lede == [
        "本期圆桌在深圳举行，嘉宾们讨论了出行数据如何服务社区。",
        "两位学员代表分享了小组的研究。",
    ]
    assert imported.themes == [
        ImportedTheme(
            "出行与社区",
            [
                ImportedTurn("程诺", ["今天我们先谈社区出行。"], 18),
                ImportedTurn(
                    "林小雨",
                    [
                        "根据我们学员共同研讨的结果，社区出行有三个痛点。",
                        "第一是停车难。",
                        "第二是接驳难。",
                    ],
                    19,
                ),
                ImportedTurn("高峰", ["数据共享是关键。"], 22),
            ],
            17,
        ),
        ImportedTheme(
            "数据与治理",
            [
                ImportedTurn("程诺", ["数据如何治理？"], 24),
                ImportedTurn("周一鸣", ["我补充一点，治理需要标准。"], 25),
                ImportedTurn("高峰", ["同意。"], 26),
            ],
            23,
        ),
    ]


def test_parse_article_warns_of_an_unknown_attribution_and_a_speaker_in_no_role_block():
    imported = parse_article(MOBILITY.read_text(encoding="utf-8"))

    assert imported.highlights == [
        ImportedQuote("出行数据要先服务于居民，再服务于管理。", "林小雨", 13),
        ImportedQuote("社区是智慧出行的最后一公里。", None, 15),
    ]
    assert imported.warnings == [
        ImportWarning(
            16,
            "——某某研究中心主任赵无名",
            "This attribution names none of the article's speakers; "
            "the highlight before it is left out.",
        ),
        ImportWarning(
            25,
            "周一鸣：我补充一点，治理需要标准。",
            "“周一鸣” speaks here but is in no role block; their turns are kept, "
            "with no appearance at this forum.",
        ),
    ]


@pytest.mark.django_db
def test_save_import_skips_the_unattributed_highlight_and_gives_no_appearance_to_the_stranger():
    forum = save_import(parse_article(MOBILITY.read_text(encoding="utf-8")), user=None)

    assert saved_quotes(forum) == [("出行数据要先服务于居民，再服务于管理。", "林小雨")]
    assert saved_appearances(forum) == [
        ("欧阳明远", Role.OPENING_ADDRESS, "鹏城交通研究院院长", False),
        ("林小雨", Role.PANELIST, "城联出行联合创始人", True),
        ("高峰", Role.PANELIST, "北辰数据科技有限公司CTO", False),
        ("程诺", Role.HOST, "星河智库副主任", False),
    ]
    second_theme = forum.themes.get(position=2)
    assert [turn.speaker.name for turn in second_theme.turns.order_by("position")] == [
        "程诺",
        "周一鸣",
        "高峰",
    ]
    assert Speaker.objects.get(name="周一鸣").appearances.count() == 0
    assert not Speaker.objects.filter(name="赵无名").exists()


def test_parse_article_reads_variants_of_role_blocks_attributions_and_theme_titles():
    imported = parse_article(HEALTH.read_text(encoding="utf-8"))

    assert [
        (a.name, a.organisation, a.title, a.role, a.is_cohort_representative)
        for a in imported.appearances
    ] == [
        ("苏晴岚", "华康医疗集团", "首席技术官", Role.PANELIST, True),
        ("钱多多", "多元资本", "合伙人", Role.PANELIST, False),
        ("孟凡", "华康医疗集团", "", Role.HOST, False),
    ]
    assert [(q.text, q.speaker_name) for q in imported.highlights] == [
        ("数据不出院，价值可以出院。", "苏晴岚"),
        ("好的问题比答案更重要。", "孟凡"),
    ]
    assert imported.themes == [
        ImportedTheme(
            "议题一：智慧医院",
            [
                ImportedTurn("孟凡", ["请谈谈智慧医院。"], 17),
                ImportedTurn(
                    "苏晴岚",
                    [
                        "我们班级研讨的结论是，智慧医院先要打通数据。",
                        "数据打通之后，才谈得上智能。",
                    ],
                    18,
                ),
            ],
            16,
        )
    ]
    assert [(w.line_number, w.message) for w in imported.warnings] == [
        (
            6,
            "Could not tell where the name ends in this speaker line; guessed “钱多多”. "
            "Check the name, organisation and title.",
        ),
        (
            8,
            "No job title (such as 总经理 or 教授) ends this speaker line; “华康医疗集团” "
            "is taken as the organisation and the title is left empty.",
        ),
    ]


def test_parse_article_warns_of_an_unknown_block_and_of_repeats():
    article = (
        "标题\n导语。\n【研讨嘉宾】\n张三 甲公司总裁\n张三 甲公司总裁\n【特别鸣谢】\n某某单位\n"
        "【主持人】\n李四 乙公司总监\n城市\n李四：我们研讨一下。\n张三：好。\n城市\n张三：再谈。\n"
    )

    imported = parse_article(article)

    assert [(a.name, a.role, a.is_cohort_representative) for a in imported.appearances] == [
        ("张三", Role.PANELIST, False),
        ("李四", Role.HOST, False),
    ]
    assert [t.title for t in imported.themes] == ["城市", "城市（2）"]
    assert [(w.line_number, w.message) for w in imported.warnings if w.line_number] == [
        (5, "“张三” is listed twice under Panelist; the second is left out."),
        (
            6,
            "“特别鸣谢” is not a role block such as 【研讨嘉宾】 or 【圆桌主持人】; "
            "the lines under it are left out.",
        ),
        (13, "The theme title “城市” is used twice; this one is saved as “城市（2）”."),
    ]


def test_parse_article_finds_highlights_without_their_heading():
    article = (
        "标题\n导语。\n【研讨嘉宾】\n张三 甲公司总裁\n城市要以人为本。\n——甲公司总裁张三\n"
        "城市\n张三：好。\n"
    )

    imported = parse_article(article)

    assert [a.name for a in imported.appearances] == ["张三"]
    assert imported.highlights == [ImportedQuote("城市要以人为本。", "张三", 5)]
    assert [t.title for t in imported.themes] == ["城市"]
    assert imported.warnings == []


def test_parse_article_splits_a_known_speaker_as_their_organisation_says():
    article = "标题\n导语。\n【课题发布】\n王莹 腾讯云生态建设总经理\n议题\n王莹：发布课题。\n"

    unknown = parse_article(article)
    known = parse_article(article, known_speakers=[("王莹", "腾讯云", "生态建设总经理")])

    assert (unknown.appearances[0].organisation, unknown.appearances[0].title) == (
        "腾讯云生态建设",
        "总经理",
    )
    assert (known.appearances[0].organisation, known.appearances[0].title) == (
        "腾讯云",
        "生态建设总经理",
    )


def test_parse_article_takes_the_longest_title_with_what_joins_it():
    article = (
        "标题\n导语。\n【研讨嘉宾】\n"
        "甲乙丙 某科技联合创始人\n丁戊 某集团执行副总裁兼总经理\n己庚 某研究院董事总经理\n"
    )

    imported = parse_article(article)

    assert [(a.organisation, a.title) for a in imported.appearances] == [
        ("某科技", "联合创始人"),
        ("某集团", "执行副总裁兼总经理"),
        ("某研究院", "董事总经理"),
    ]


def test_parse_article_keeps_an_unclear_short_line_in_the_lede_with_a_warning():
    article = "标题\n导语一。\n欢迎阅读\n【研讨嘉宾】\n张三 某公司总裁\n"

    imported = parse_article(article)

    assert imported.lede == ["导语一。", "欢迎阅读"]
    assert [w for w in imported.warnings if w.line_number] == [
        ImportWarning(
            3,
            "欢迎阅读",
            "This short line ends the lede; it may be an introduction to what follows rather "
            "than part of the lede. It is kept in the lede.",
        )
    ]


def test_parse_article_warns_of_a_paragraph_before_any_speaker_and_of_missing_sections():
    article = "标题\n导语。\n\n城市\n张三：第一段。\n未来\n没有说话人的一段。\n李四：第二段。\n"

    imported = parse_article(article)

    assert [t.title for t in imported.themes] == ["城市", "未来"]
    assert [(w.line_number, w.message) for w in imported.warnings] == [
        (None, "No role block such as 【研讨嘉宾】 was found; the forum has no speakers."),
        (None, "No highlights were found (a quote line followed by a line starting with ——)."),
        (
            5,
            "“张三” speaks here but is in no role block; their turns are kept, "
            "with no appearance at this forum.",
        ),
        (
            7,
            "This paragraph of the theme “未来” comes before any speaker "
            "(a line starting with “姓名：”); it is left out.",
        ),
        (
            8,
            "“李四” speaks here but is in no role block; their turns are kept, "
            "with no appearance at this forum.",
        ),
    ]


def test_parse_article_puts_turns_before_any_theme_title_in_a_theme_named_after_the_headline():
    article = "标题\n【研讨嘉宾】\n张三 某公司总裁\n张三：开场。\n"

    imported = parse_article(article)

    assert imported.themes == [ImportedTheme("标题", [ImportedTurn("张三", ["开场。"], 4)], 4)]
    assert [w.line_number for w in imported.warnings] == [None, 4]
    assert imported.warnings[1].message == (
        "This turn comes before any theme title; the turns before the first theme are put "
        "in a theme named after the headline."
    )


# Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "", "The article is empty."),
        (b"  \n\t\r\n ", "recap.txt", "The article is empty."),
        ("\ufeff\u3000\n".encode(), "", "The article is empty."),
        (
            b"a" * (MAX_ARTICLE_BYTES + 1),
            "",
            "The article is 1048577 bytes long; the limit is 1048576 bytes (1 MB).",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "",
            "This is not a text file. Save the article as plain text (UTF-8) and try again.",
        ),
        (
            b"\x89PNG\r\n\x1a\n",
            "logo.txt",
            "This is not a text file. Save the article as plain text (UTF-8) and try again.",
        ),
        (
            "王景田：你好\x00".encode(),
            "recap.txt",
            "This is not a text file. Save the article as plain text (UTF-8) and try again.",
        ),
        (
            b"%PDF-1.7",
            "recap.pdf",
            "Only .txt and .md files can be imported; “recap.pdf” is neither.",
        ),
        (
            b"PK\x03\x04",
            "recap.docx",
            "Only .txt and .md files can be imported; “recap.docx” is neither.",
        ),
        (
            "一篇文章\n没有嘉宾，也没有发言。\n".encode(),
            "notes.md",
            "This does not look like a forum recap: it has no role block such as 【研讨嘉宾】 "
            "and no transcript turn such as “姓名：…”.",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "bom-and-ideographic-space",
        "too-large",
        "png",
        "png-signature-without-nul",
        "nul",
        "pdf",
        "docx",
        "no-structure",
    ],
)
def test_read_article_refuses_what_is_not_a_recap_with_its_reason(data, filename, message):
    with pytest.raises(ValidationError) as error:
        read_article(data, filename=filename)

    assert error.value.messages == [message]


def test_read_article_accepts_exactly_one_megabyte():
    data = "【研讨嘉宾】\n".encode().ljust(MAX_ARTICLE_BYTES, b" ")

    text = read_article(data, filename="recap.md")

    assert text.strip() == "【研讨嘉宾】"


def test_read_article_decodes_the_seed_in_gb18030(seed_text):
    text = read_article(seed_text.encode("gb18030"), filename="seed.txt")

    assert text == seed_text


def test_read_article_strips_a_utf8_byte_order_mark_and_windows_line_ends(seed_text):
    data = b"\xef\xbb\xbf" + seed_text.replace("\n", "\r\n").encode("utf-8")

    text = read_article(data, filename="SEED.TXT")

    assert text == seed_text


# Markup stays text --------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
MARKUP_ARTICLE = f"""{SCRIPT}智慧城市
导语{SCRIPT}。
【研讨嘉宾】
张三 {SCRIPT}公司总裁
亮点速读
{SCRIPT}
——公司总裁张三
城市
张三：{SCRIPT}
"""


@pytest.mark.django_db
def test_markup_in_an_article_is_stored_as_the_literal_text():
    forum = save_import(parse_article(MARKUP_ARTICLE), user=None)

    assert forum.recap.headline == f"{SCRIPT}智慧城市"
    assert forum.lede == f"导语{SCRIPT}。"
    assert list(forum.appearances.values_list("organisation", "title")) == [
        (f"{SCRIPT}公司", "总裁")
    ]
    assert list(forum.quotes.values_list("text", flat=True)) == [SCRIPT]
    assert [turn.body for turn in TranscriptTurn.objects.filter(theme__forum=forum)] == [SCRIPT]


@pytest.mark.django_db
def test_markup_in_an_imported_recap_is_escaped_on_the_public_page(client):
    forum = save_import(parse_article(MARKUP_ARTICLE), user=None)
    Recap.objects.filter(forum=forum).update(
        status=Recap.Status.PUBLISHED, published_at=timezone.now()
    )
    forum.quotes.update(state=Quote.State.APPROVED, is_featured=True, highlight_position=1)

    html = client.get(forum.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;智慧城市" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;公司" in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5
    assert "<script>alert" not in html


# The command --------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_recap_command_saves_a_draft_and_prints_the_warnings():
    out = StringIO()

    call_command("import_recap", str(MOBILITY), stdout=out)

    forum = Forum.objects.get()
    printed = out.getvalue()
    assert forum.recap.status == Recap.Status.DRAFT
    assert "Panelist: 2, cohort representatives: 1" in printed
    assert "Themes: 2 (6 turns)" in printed
    assert "line 16:" in printed
    assert "This attribution names none of the article's speakers" in printed
    assert "line 25:" in printed
    assert forum.get_absolute_url() in printed


@pytest.mark.django_db
def test_import_recap_command_uses_the_slug_given():
    call_command("import_recap", str(HEALTH), slug="health-2026", stdout=StringIO())

    assert list(Forum.objects.values_list("slug", "format")) == [
        ("health-2026", Forum.Format.ONLINE)
    ]


@pytest.mark.django_db
def test_import_recap_command_dry_run_saves_nothing():
    SpeakerFactory(name="林小雨")
    out = StringIO()

    call_command("import_recap", str(MOBILITY), dry_run=True, stdout=out)

    assert Forum.objects.count() == 0
    assert Speaker.objects.count() == 1
    assert "Dry run: nothing was saved." in out.getvalue()


@pytest.mark.django_db
def test_import_recap_command_refuses_a_bad_file(tmp_path):
    path = tmp_path / "recap.pdf"
    path.write_bytes(b"%PDF-1.7")

    with pytest.raises(CommandError) as error:
        call_command("import_recap", str(path), stdout=StringIO())

    assert str(error.value) == "Only .txt and .md files can be imported; “recap.pdf” is neither."
    assert Forum.objects.count() == 0


@pytest.mark.django_db
def test_import_recap_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_recap", str(tmp_path / "none.txt"), stdout=StringIO())

    assert str(error.value) == f"Cannot read {tmp_path / 'none.txt'}: No such file or directory"


@pytest.mark.django_db
def test_save_import_refuses_a_missing_headline_and_a_taken_slug(seed_text):
    save_import(parse_article(seed_text), user=None, slug="seed")

    with pytest.raises(ValidationError) as no_headline:
        save_import(parse_article("【研讨嘉宾】\n张三 某公司总裁\n"), user=None)
    with pytest.raises(ValidationError) as taken:
        save_import(parse_article(seed_text), user=None, slug="seed")

    assert no_headline.value.messages == ["The article has no headline; nothing was saved."]
    assert taken.value.messages == ["The address “seed” is taken or too long; choose another."]
    assert Forum.objects.count() == 1


def test_save_import_starts_the_recap_history(db, organiser):
    imported = parse_article(SEED.read_text(encoding="utf-8"))

    forum = save_import(imported, user=organiser)

    revision = forum.recap.revisions.get()
    assert (revision.number, revision.author) == (1, organiser)
    assert [t["title"] for t in revision.snapshot["themes"]] == [
        "城市与未来",
        "数据与价值",
        "机会与贡献",
    ]
