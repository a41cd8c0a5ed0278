"""Import a forum recap from the text of an article in the seed's format.

The article is plain text with no field names: a headline, lede paragraphs, role blocks
(【研讨嘉宾】 and one speaker per line), 亮点速读 with quote / ——attribution pairs, then
themes whose transcript turns start with `姓名：`. The parser knows no names in advance:
it learns them from the transcript, from the attributions and from the speakers already
in the database, and says in a warning, with the line number, whatever it could not place.

`read_article` checks an upload or a paste, `parse_article` reads it without touching the
database, and `save_import` is the one write path that turns the result into rows.
"""

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import reduce
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from forums import search
from forums.models import Appearance, Forum, Quote, Recap, Speaker, Theme, TranscriptTurn
from forums.services import record_revision

MAX_ARTICLE_BYTES = 1_048_576
ARTICLE_EXTENSIONS = (".txt", ".md")
HEADLINE_MAX = Recap._meta.get_field("headline").max_length
SLUG_MAX = Forum._meta.get_field("slug").max_length

Role = Appearance.Role

# Role blocks are recognised by a word of their label, so 【主持人】 and 【圆桌主持人】 are
# both the host; the order matters (致辞嘉宾 is an opening address, not a panelist).
ROLE_WORDS = [
    ("主持", Role.HOST),
    ("致辞", Role.OPENING_ADDRESS),
    ("课题", Role.TOPIC_RELEASE),
    ("发布", Role.TOPIC_RELEASE),
    ("嘉宾", Role.PANELIST),
    ("研讨", Role.PANELIST),
    ("对话", Role.PANELIST),
]

# Job titles, matched as the longest suffix of "organisation + title" (联合创始人 before
# 创始人, 副总裁 before 总裁); what is left before the title is the organisation.
TITLE_WORDS = (
    "院士", "院长", "副院长", "董事长", "副董事长", "董事", "执行董事", "总裁", "副总裁",
    "执行总裁", "总经理", "副总经理", "经理", "联合创始人", "创始人", "首席执行官",
    "首席技术官", "首席运营官", "首席财务官", "首席信息官", "首席科学家", "首席专家",
    "首席架构师", "科学家", "主任", "副主任", "主任委员", "委员", "教授", "副教授", "研究员",
    "副研究员", "秘书长", "副秘书长", "书记", "党委书记", "总监", "合伙人", "主席", "副主席",
    "所长", "副所长", "局长", "副局长", "处长", "副处长", "厅长", "副厅长", "部长", "副部长",
    "市长", "副市长", "区长", "副区长", "县长", "理事长", "副理事长", "理事", "会长", "副会长",
    "总工程师", "工程师", "架构师", "总架构师", "专家", "负责人", "总编辑", "主编", "社长",
    "校长", "副校长", "行长", "副行长", "顾问", "助理", "主管", "馆长", "站长", "博士生导师",
    "CEO", "CTO", "COO", "CFO", "CIO", "CMO", "CSO", "VP", "SVP", "EVP", "President", "Founder",
    "Co-founder", "Director", "Partner", "Professor", "Chairman",
)  # fmt: skip
TITLE_MODIFIERS = ("执行", "常务", "高级", "资深", "首席", "名誉", "荣誉", "特聘", "客座")
TITLE_JOINERS = ("兼", "、", "/", "&", "，", ",")

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
NAME = re.compile(rf"[{CJK}]{{2,4}}|[{CJK}]{{1,6}}(?:[·・•][{CJK}]{{1,6}}){{1,2}}")
SPACED_NAME = re.compile(rf"^([{CJK}]{{2,4}})[\s，,、|｜]+(\S.*)$")
LATIN_LEAD = re.compile(r"^[A-Za-z][A-Za-z .'’-]*")
TURN_START = re.compile(r"^(?P<name>[^：:]{1,40})[：:](?P<rest>.*)$")
BRACKETED = re.compile(r"^[【〖\[［]\s*(?P<label>[^】〗\]］]{1,20}?)\s*[】〗\]］]$")
HIGHLIGHTS_MARKER = re.compile(
    r"^[【\[]?\s*(?:精彩|精选|嘉宾)?(?:亮点|观点|金句|语录)(?:速读|速览|回顾|摘录|集锦)?\s*[】\]]?$"
)
ATTRIBUTION = re.compile(r"^(?:[—―─]{1,3}|[-－–]{2,3})\s*(?P<tail>\S.*)$")
THEME_PREFIX = re.compile(r"^(?:议题|话题|主题|环节|板块|第[一二三四五六七八九十\d]+)")
# A name is never one of these words, nor has one of these characters in it.
NOT_NAMES = frozenset({
    "首先", "其次", "再次", "然后", "最后", "另外", "此外", "同时", "总之", "总结", "例如",
    "比如", "比如说", "包括", "具体", "具体来说", "问", "答", "提问", "回答", "注", "备注",
    "说明", "其中", "一是", "二是", "三是", "四是", "五是", "一方面", "另一方面", "结论",
    "观点", "问题", "背景", "目标", "方法", "结果", "时间", "地点", "地址", "主办", "承办",
    "来源", "作者", "编辑", "记者", "原标题", "责任编辑",
})  # fmt: skip
NOT_NAME_CHARACTERS = set("的了们这那我你")
SENTENCE_END = "。！？!?；;，,、…：:."
NO_COLONS = str.maketrans("", "", "：:")
INTRO_END = re.compile(r"(?:观点|如下|以下|名单|摘要|精华|实录|整理|分享|介绍|嘉宾)[：:]?$|[：:]$")
# Words with which a panelist says they present the cohort's discussion (学员代表).
COHORT_MARKERS = ("学员共同研讨", "班级研讨", "学员研讨", "我们研讨", "学员代表")

THEME_TITLE_MAX = 24
INTRO_MAX = 30
SPEAKER_LINE_MAX = 80


@dataclass
class ImportWarning:
    line_number: int | None
    line: str
    message: str


@dataclass
class ImportedAppearance:
    name: str
    organisation: str
    title: str
    role: str
    is_cohort_representative: bool = False
    line_number: int | None = None


@dataclass
class ImportedQuote:
    text: str
    speaker_name: str | None
    line_number: int | None = None


@dataclass
class ImportedTurn:
    speaker_name: str
    paragraphs: list[str] = field(default_factory=list)
    line_number: int | None = None


@dataclass
class ImportedTheme:
    title: str
    turns: list[ImportedTurn] = field(default_factory=list)
    line_number: int | None = None


@dataclass
class ImportedRecap:
    headline: str = ""
    lede: list[str] = field(default_factory=list)
    appearances: list[ImportedAppearance] = field(default_factory=list)
    highlights: list[ImportedQuote] = field(default_factory=list)
    themes: list[ImportedTheme] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)

    @property
    def speaker_names(self):
        """Every name the article gives a speaker, in article order, each once."""
        names = [a.name for a in self.appearances]
        names += [turn.speaker_name for theme in self.themes for turn in theme.turns]
        names += [q.speaker_name for q in self.highlights if q.speaker_name]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Line:
    number: int
    text: str


# Reading ------------------------------------------------------------------------------


def read_article(data, *, filename=""):
    """The text of an uploaded or pasted article; ValidationError when it cannot be one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if filename and PurePath(filename).suffix.lower() not in ARTICLE_EXTENSIONS:
        raise ValidationError(
            _("Only .txt and .md files can be imported; “%(name)s” is neither.")
            % {"name": filename},
            code="extension",
        )
    if len(data) > MAX_ARTICLE_BYTES:
        raise ValidationError(
            _("The article is %(size)s bytes long; the limit is %(limit)s bytes (1 MB).")
            % {"size": len(data), "limit": MAX_ARTICLE_BYTES},
            code="too_large",
        )
    if not data.strip():
        raise ValidationError(_("The article is empty."), code="empty")
    text = decode_text(data)
    if text is None:
        raise ValidationError(
            _("This is not a text file. Save the article as plain text (UTF-8) and try again."),
            code="binary",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValidationError(_("The article is empty."), code="empty")
    if not looks_like_recap(text):
        raise ValidationError(
            _(
                "This does not look like a forum recap: it has no role block such as "
                "【研讨嘉宾】 and no transcript turn such as “姓名：…”."
            ),
            code="not_a_recap",
        )
    return text


def decode_text(data):
    """UTF-8 (with or without a BOM), else GB18030; None for anything that is not text."""
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if has_control_characters(text) else text
    return None


def has_control_characters(text):
    return any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text)


def looks_like_recap(text):
    lines = [line.strip() for line in text.splitlines()]
    return any(role_of_block(line) or turn_start(line) for line in lines if line)


# Recognising lines --------------------------------------------------------------------


def role_of_block(text):
    """The role of a role-block line such as 【研讨嘉宾】, or None."""
    match = BRACKETED.match(text)
    if not match:
        return None
    return next((role for word, role in ROLE_WORDS if word in match["label"]), None)


def attribution_tail(text):
    match = ATTRIBUTION.match(text)
    return match["tail"].strip() if match else None


def looks_like_name(name):
    return bool(
        NAME.fullmatch(name)
        and name not in NOT_NAMES
        and not THEME_PREFIX.match(name)
        and not NOT_NAME_CHARACTERS & set(name)
    )


def turn_start(text, known_names=frozenset()):
    """(name, rest of the line) when the line starts a turn with `姓名：`, else None."""
    match = TURN_START.match(text)
    if not match:
        return None
    name = match["name"].strip().strip("*_").strip()
    if name in known_names or looks_like_name(name):
        return name, match["rest"].strip().lstrip("*_").strip()
    return None


def title_suffix(text):
    """The job title that ends `text`: the longest lexicon word, with the titles, modifiers
    and joiners before it (董事总经理, 执行副总裁, 副总裁兼总经理, Co-founder & CEO)."""
    text = text.rstrip()
    rest = text
    while word := longest_title_word(rest):
        rest = rest[: -len(word)]
        while modifier := next((m for m in TITLE_MODIFIERS if rest.endswith(m)), ""):
            rest = rest[: -len(modifier)]
        trimmed = rest.rstrip()
        joiner = next((j for j in TITLE_JOINERS if trimmed.endswith(j)), "")
        if joiner and longest_title_word(trimmed[: -len(joiner)].rstrip()):
            rest = trimmed[: -len(joiner)].rstrip()
    return text[len(rest) :].strip()


def longest_title_word(text):
    best = ""
    for word in TITLE_WORDS:
        if len(word) <= len(best) or len(word) > len(text):
            continue
        end = text[-len(word) :]
        if word.isascii():
            before = text[-len(word) - 1 : -len(word)]
            if end.lower() != word.lower() or (before.isascii() and before.isalpha()):
                continue
        elif end != word:
            continue
        best = word
    return best


def compact(text):
    return "".join(text.split())


# Parsing ------------------------------------------------------------------------------


def parse_article(text, *, known_speakers=()):
    """Read an article into an ImportedRecap, with a warning for whatever it could not place.

    `known_speakers`: (name, organisation, title) of the speakers already known; the first
    listing of a name wins. Touches no database.
    """
    return ArticleParser(text, known_speakers).parse()


class ArticleParser:
    LEDE, ROLES, HIGHLIGHTS, THEMES = "lede", "roles", "highlights", "themes"

    def __init__(self, text, known_speakers):
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        self.lines = [
            Line(number, raw.strip())
            for number, raw in enumerate(text.split("\n"), start=1)
            if raw.strip()
        ]
        self.known = {}
        for name, organisation, title in known_speakers:
            self.known.setdefault(name, (organisation or "", title or ""))
        self.line_at = {line.number: line for line in self.lines}
        self.recap = ImportedRecap()
        self.lede = []  # Lines
        self.role_lines = []  # (Line, role)
        self.attributions = []  # (Line, tail, ImportedQuote)
        self.pending_quote = []
        self.state = self.LEDE
        self.role = None
        self.theme = None
        self.turn = None
        self.seen_role_block = False

    def warn(self, line, message):
        self.recap.warnings.append(
            ImportWarning(line.number if line else None, line.text if line else "", message)
        )

    def parse(self):
        if not self.lines:
            self.warn(None, _("The article has no headline."))
        else:
            first = self.lines[0]
            if self.is_structure(0):
                self.warn(first, _("The article has no headline: it starts with this line."))
                start = 0
            else:
                self.recap.headline = first.text
                start = 1
                if len(first.text) > HEADLINE_MAX:
                    self.warn(
                        first,
                        _("The headline is longer than %(limit)s characters.")
                        % {"limit": HEADLINE_MAX},
                    )
            for index in range(start, len(self.lines)):
                self.read_line(index)
        self.end_quote()
        self.end_lede()
        self.resolve()
        self.recap.warnings.sort(key=lambda w: w.line_number or 0)
        return self.recap

    def is_structure(self, index):
        text = self.lines[index].text
        return bool(BRACKETED.match(text) or attribution_tail(text) or turn_start(text, self.known))

    def next_is_attribution(self, index):
        return index + 1 < len(self.lines) and bool(attribution_tail(self.lines[index + 1].text))

    def is_theme_title(self, index):
        """A short line that is no sentence; before the transcript, a turn must follow it,
        for speaker lines and quotes are short too."""
        text = self.lines[index].text
        if len(text) > THEME_TITLE_MAX or text[-1] in SENTENCE_END or text[0] in "（(":
            return False
        if ("：" in text or ":" in text) and not THEME_PREFIX.match(text):
            return False
        if self.state == self.THEMES or THEME_PREFIX.match(text):
            return True
        if self.state == self.ROLES and title_suffix(text):
            return False  # a speaker line right before a transcript with no theme title
        following = index + 1 < len(self.lines) and self.lines[index + 1].text
        return bool(following and turn_start(following, self.known))

    def read_line(self, index):
        line = self.lines[index]
        text = line.text
        before_themes = self.state != self.THEMES
        if BRACKETED.match(text) and not HIGHLIGHTS_MARKER.match(text):
            self.read_block_line(line)
        elif before_themes and HIGHLIGHTS_MARKER.match(text):
            self.enter(self.HIGHLIGHTS)
        elif before_themes and attribution_tail(text):
            self.read_attribution(line)
        elif before_themes and self.next_is_attribution(index):
            self.enter(self.HIGHLIGHTS)
            self.pending_quote.append(line)
        elif self.is_theme_title(index):
            self.enter(self.THEMES)
            self.theme = ImportedTheme(text, line_number=line.number)
            self.recap.themes.append(self.theme)
            self.turn = None
        elif turn_start(text, self.known):
            self.read_turn_start(line)
        elif self.state == self.LEDE:
            self.lede.append(line)
        elif self.state == self.ROLES:
            self.read_speaker_line(line)
        elif self.state == self.HIGHLIGHTS:
            self.pending_quote.append(line)
        elif self.turn:
            self.turn.paragraphs.append(text)
        else:
            self.warn(
                line,
                _(
                    "This paragraph of the theme “%(theme)s” comes before any speaker "
                    "(a line starting with “姓名：”); it is left out."
                )
                % {"theme": self.theme.title},
            )

    def enter(self, state):
        if self.state == self.LEDE and state != self.LEDE:
            self.end_lede()
        if state != self.HIGHLIGHTS:
            self.end_quote()
        self.state = state

    def end_lede(self):
        """Leave out a short line introducing what follows (以下是精选的嘉宾观点)."""
        if self.state != self.LEDE or not self.lede:
            return
        self.recap.lede = [line.text for line in self.lede]
        last = self.lede[-1]
        if len(last.text) > INTRO_MAX or last.text[-1] in SENTENCE_END.translate(NO_COLONS):
            return
        if INTRO_END.search(last.text):
            self.recap.lede.pop()
        else:
            self.warn(
                last,
                _(
                    "This short line ends the lede; it may be an introduction to what follows "
                    "rather than part of the lede. It is kept in the lede."
                ),
            )

    def end_quote(self):
        if self.pending_quote:
            for line in self.pending_quote:
                self.warn(
                    line,
                    _(
                        "This highlight has no attribution line (starting with ——) after it; "
                        "it is left out."
                    ),
                )
            self.pending_quote = []

    def read_block_line(self, line):
        role = role_of_block(line.text)
        self.enter(self.ROLES)
        self.role = role
        if role:
            self.seen_role_block = True
        else:
            self.warn(
                line,
                _(
                    "“%(label)s” is not a role block such as 【研讨嘉宾】 or 【圆桌主持人】; "
                    "the lines under it are left out."
                )
                % {"label": BRACKETED.match(line.text)["label"]},
            )

    def read_attribution(self, line):
        if not self.pending_quote:
            self.warn(line, _("This attribution follows no quote; it is left out."))
            return
        quote = ImportedQuote(
            "\n\n".join(quote_line.text for quote_line in self.pending_quote),
            None,
            self.pending_quote[0].number,
        )
        self.pending_quote = []
        self.recap.highlights.append(quote)
        self.attributions.append((line, attribution_tail(line.text), quote))

    def read_turn_start(self, line):
        self.enter(self.THEMES)
        name, rest = turn_start(line.text, self.known)
        if self.theme is None:
            self.warn(
                line,
                _(
                    "This turn comes before any theme title; the turns before the first theme "
                    "are put in a theme named after the headline."
                ),
            )
            self.theme = ImportedTheme(self.recap.headline or name, line_number=line.number)
            self.recap.themes.append(self.theme)
        self.turn = ImportedTurn(name, [rest] if rest else [], line.number)
        self.theme.turns.append(self.turn)

    def read_speaker_line(self, line):
        if self.role is None:
            return  # under an unknown block, warned about once
        if len(line.text) > SPEAKER_LINE_MAX:
            self.warn(
                line,
                _(
                    "This line under %(role)s is too long to be a speaker's name, organisation "
                    "and title; it is left out."
                )
                % {"role": Role(self.role).label},
            )
            return
        self.role_lines.append((line, self.role))

    # Once every line is read: names, speakers, attributions, representatives.

    def resolve(self):
        turn_names = list(
            dict.fromkeys(turn.speaker_name for theme in self.recap.themes for turn in theme.turns)
        )
        known_names = set(self.known) | set(turn_names) | self.names_from_attributions()
        for line, role in self.role_lines:
            self.recap.appearances.append(self.split_speaker_line(line, role, known_names))
        self.drop_repeated_appearances()
        self.mark_cohort_representatives()
        speaker_names = [a.name for a in self.recap.appearances]
        self.attribute_highlights(set(speaker_names) | set(turn_names) | set(self.known))
        self.check_turn_speakers(set(speaker_names))
        self.check_theme_titles()
        self.check_sections()

    def names_from_attributions(self):
        """Names found where a role line and an attribution are the same words rotated.

        黄先锋武汉大势智慧科技有限公司CEO and ——武汉大势智慧科技有限公司CEO黄先锋 share every
        character; the name is what moved from the front to the end.
        """
        names = set()
        tails = {compact(tail) for _line, tail, _quote in self.attributions}
        for line, _role in self.role_lines:
            squeezed = compact(line.text)
            for tail in tails:
                if len(tail) != len(squeezed) or tail == squeezed or tail not in squeezed * 2:
                    continue
                size = next(
                    k for k in range(1, len(squeezed)) if squeezed[k:] + squeezed[:k] == tail
                )
                names.add(prefix_of_length(line.text, size))
        return names

    def split_speaker_line(self, line, role, known_names):
        text = line.text
        spaced = SPACED_NAME.match(text)
        prefixes = [name for name in known_names if name and text.startswith(name)]
        if spaced:
            name, rest = spaced[1], spaced[2]
        elif prefixes:
            name = max(prefixes, key=len)
            rest = text[len(name) :]
        elif NAME.fullmatch(text):
            name, rest = text, ""
        else:
            latin = LATIN_LEAD.match(text)
            name = latin[0].strip() if latin else text[:3]
            rest = text[len(name) :]
            self.warn(
                line,
                _(
                    "Could not tell where the name ends in this speaker line; guessed "
                    "“%(name)s”. Check the name, organisation and title."
                )
                % {"name": name},
            )
        rest = rest.strip(" \t\u3000,，、|｜")
        organisation, title = self.split_organisation(name, rest, line)
        return ImportedAppearance(name, organisation, title, role, line_number=line.number)

    def split_organisation(self, name, rest, line):
        """The article does not say where the organisation ends: a known speaker's says."""
        known_organisation = self.known.get(name, ("", ""))[0]
        if known_organisation and rest.startswith(known_organisation):
            return known_organisation, rest[len(known_organisation) :].strip()
        title = title_suffix(rest)
        if title:
            return rest[: len(rest) - len(title)].strip(" \t\u3000,，、|｜"), title
        if rest:
            self.warn(
                line,
                _(
                    "No job title (such as 总经理 or 教授) ends this speaker line; "
                    "“%(rest)s” is taken as the organisation and the title is left empty."
                )
                % {"rest": rest},
            )
        return rest, ""

    def drop_repeated_appearances(self):
        seen = set()
        kept = []
        for appearance in self.recap.appearances:
            key = (appearance.name, appearance.role)
            if key in seen:
                self.warn(
                    self.line_at[appearance.line_number],
                    _("“%(name)s” is listed twice under %(role)s; the second is left out.")
                    % {"name": appearance.name, "role": Role(appearance.role).label},
                )
                continue
            seen.add(key)
            kept.append(appearance)
        self.recap.appearances = kept

    def mark_cohort_representatives(self):
        spoken = {}
        for theme in self.recap.themes:
            for turn in theme.turns:
                spoken.setdefault(turn.speaker_name, []).extend(turn.paragraphs)
        for appearance in self.recap.appearances:
            paragraphs = spoken.get(appearance.name, [])
            appearance.is_cohort_representative = appearance.role == Role.PANELIST and any(
                marker in paragraph for paragraph in paragraphs for marker in COHORT_MARKERS
            )

    def attribute_highlights(self, names):
        for line, tail, quote in self.attributions:
            squeezed = compact(tail).rstrip("。.，,;；")
            ends = [n for n in names if n and squeezed.endswith(compact(n))]
            starts = [n for n in names if n and squeezed.startswith(compact(n))]
            if ends or starts:
                quote.speaker_name = max(ends or starts, key=len)
            else:
                self.warn(
                    line,
                    _(
                        "This attribution names none of the article's speakers; the highlight "
                        "before it is left out."
                    ),
                )

    def check_turn_speakers(self, speaker_names):
        warned = set()
        for theme in self.recap.themes:
            for turn in theme.turns:
                if turn.speaker_name in speaker_names or turn.speaker_name in warned:
                    continue
                warned.add(turn.speaker_name)
                self.warn(
                    self.line_at[turn.line_number],
                    _(
                        "“%(name)s” speaks here but is in no role block; their turns are kept, "
                        "with no appearance at this forum."
                    )
                    % {"name": turn.speaker_name},
                )

    def check_theme_titles(self):
        seen = set()
        for theme in self.recap.themes:
            if theme.title in seen:
                title = next(
                    f"{theme.title}（{n}）"
                    for n in range(2, 1000)
                    if f"{theme.title}（{n}）" not in seen
                )
                self.warn(
                    self.line_at[theme.line_number],
                    _("The theme title “%(title)s” is used twice; this one is saved as “%(new)s”.")
                    % {"title": theme.title, "new": title},
                )
                theme.title = title
            seen.add(theme.title)

    def check_sections(self):
        if not self.seen_role_block:
            self.warn(
                None,
                _("No role block such as 【研讨嘉宾】 was found; the forum has no speakers."),
            )
        if not self.recap.highlights:
            self.warn(
                None,
                _("No highlights were found (a quote line followed by a line starting with ——)."),
            )
        if not self.recap.themes:
            self.warn(
                None,
                _("No theme was found (a short title line followed by turns such as “姓名：…”)."),
            )


def prefix_of_length(text, size):
    """The start of `text` that holds `size` characters other than spaces."""
    count = 0
    for index, character in enumerate(text):
        if not character.isspace():
            count += 1
            if count == size:
                return text[: index + 1]
    return text


# Saving -------------------------------------------------------------------------------

SAVE_ATTEMPTS = 3


def save_import(imported, *, user, slug=None):
    """Create a forum with a draft recap, themes, speakers, appearances, turns and quotes.

    Side effects: new Speaker rows for names not in the database (matched by exact name);
    the highlights become PROPOSED quotes for the admins to curate, and a highlight with
    no known speaker is skipped. Raises ValidationError for a missing or overlong headline
    or a slug that is taken or invalid; saves nothing then.
    """
    headline = imported.headline.strip()
    if not headline:
        raise ValidationError(_("The article has no headline; nothing was saved."), code="headline")
    if len(headline) > HEADLINE_MAX:
        raise ValidationError(
            _("The headline is longer than %(limit)s characters; nothing was saved.")
            % {"limit": HEADLINE_MAX},
            code="headline",
        )
    if slug:
        validate_unicode_slug(slug)
        if len(slug) > SLUG_MAX or Forum.objects.filter(slug=slug).exists():
            raise slug_taken(slug)
    # Slugs are picked before they are written, so an import saved at the same moment can
    # take one first: then the whole import is tried again with fresh slugs.
    for _attempt in range(SAVE_ATTEMPTS - 1):
        try:
            with transaction.atomic():
                return write_import(imported, headline=headline, user=user, slug=slug)
        except IntegrityError as error:
            if slug:
                raise slug_taken(slug) from error
    with transaction.atomic():
        return write_import(imported, headline=headline, user=user, slug=slug)


def slug_taken(slug):
    return ValidationError(
        _("The address “%(slug)s” is taken or too long; choose another.") % {"slug": slug},
        code="slug",
    )


def write_import(imported, *, headline, user, slug):
    lede = "\n\n".join(imported.lede)
    forum = Forum(title=headline, lede=lede)
    forum.slug = slug or free_slugs(Forum, [slugify(headline, allow_unicode=True) or "forum"])[0]
    # A lede that says 线上 means an online forum, which is the model's default already;
    # an on-site forum is marked by the organiser, the article rarely says so plainly.
    forum.save()
    Recap.objects.create(forum=forum, headline=headline, status=Recap.Status.DRAFT, updated_by=user)
    speakers = speakers_for(imported)
    Appearance.objects.bulk_create(
        Appearance(
            forum=forum,
            speaker=speakers[a.name],
            role=a.role,
            organisation=a.organisation,
            title=a.title,
            position=position,
            is_cohort_representative=a.is_cohort_representative,
        )
        for position, a in enumerate(imported.appearances, start=1)
    )
    for theme_position, imported_theme in enumerate(imported.themes, start=1):
        theme = Theme.objects.create(
            forum=forum, title=imported_theme.title, position=theme_position
        )
        TranscriptTurn.objects.bulk_create(
            TranscriptTurn(
                theme=theme,
                position=position,
                speaker=speakers[turn.speaker_name],
                body="\n\n".join(turn.paragraphs),
            )
            for position, turn in enumerate(imported_theme.turns, start=1)
        )
    Quote.objects.bulk_create(
        Quote(
            forum=forum,
            speaker=speakers[quote.speaker_name],
            text=quote.text,
            state=Quote.State.PROPOSED,
            proposed_by=user,
        )
        for quote in imported.highlights
        if quote.speaker_name
    )
    # The recap's history starts with what was imported.
    record_revision(forum, user=user)
    search.schedule_forum_reindex(forum)
    return forum


def speakers_for(imported):
    """Speaker rows by name: existing ones matched by exact name (the oldest), new ones made."""
    names = imported.speaker_names
    speakers = {}
    for speaker in Speaker.objects.filter(name__in=names).order_by("id"):
        speakers.setdefault(speaker.name, speaker)
    missing = [name for name in names if name not in speakers]
    introduced = {}
    for appearance in imported.appearances:
        introduced.setdefault(appearance.name, appearance)
    slugs = free_slugs(
        Speaker, [slugify(name, allow_unicode=True) or "speaker" for name in missing]
    )
    new = []
    for name, slug in zip(missing, slugs, strict=True):
        appearance = introduced.get(name)
        new.append(
            Speaker(
                name=name,
                slug=slug,
                organisation=appearance.organisation if appearance else "",
                title=appearance.title if appearance else "",
            )
        )
    for speaker in Speaker.objects.bulk_create(new):
        speakers[speaker.name] = speaker
    return speakers


def free_slugs(model, bases):
    """One unused slug per base: the base itself, else the base with -2, -3 …"""
    longest = model._meta.get_field("slug").max_length - 10  # room for a number
    bases = [base[:longest].strip("-") or model._meta.model_name for base in bases]
    if not bases:
        return []
    starts = reduce(operator.or_, (Q(slug__startswith=base) for base in set(bases)))
    taken = set(model.objects.filter(starts).values_list("slug", flat=True))
    slugs = []
    for base in bases:
        slug = base
        number = 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        slugs.append(slug)
    return slugs
