"""The data of `make bench`, the pages it measures, and what each page costs in queries.

    DATABASE_URL=postgres://… .venv/bin/python scripts/bench_data.py generate --scale 1.0
    DATABASE_URL=postgres://… .venv/bin/python scripts/bench_data.py probe --json probe.json

`generate` fills an empty, migrated database with a programme many years old (at scale 1:
500 forums, 3,000 speakers, 30,000 quotes, 200,000 transcript turns, 50 cohorts of 35
members with their schedules and deliverables, 20,000 versions handed in, their reviews,
and the search index), by bulk inserts in one transaction. `--scale 0.05` makes a twentieth
of it (a cohort keeps its 35 members). The text is Chinese-looking nonsense from a small
vocabulary, random but the same at every run (`--seed`).

`probe` runs in the portal's own settings (the environment `scripts/bench.py` gives it):
it signs the bench member in (a session row, for wrk's Cookie header) and counts the
queries of each measured page through Django's test client, twice: the first request and
the next, so that a page cache (PAGE_CACHE_SECONDS) shows as a cold and a warm count.

Nothing here is used by the portal: it is the benchmark's, see docs/benchmarks.md.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")

import django
from django.apps import apps

if not apps.ready:  # imported by the tests, Django is set up already
    django.setup()

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Role, User, role_group
from cohorts.models import Cohort, Member, Milestone, Notification
from cohorts.schedule import DEFAULT_SCHEDULE, local_datetime
from forums import search
from forums.models import (
    Appearance,
    Forum,
    Quote,
    Recap,
    SearchEntry,
    Speaker,
    Theme,
    TranscriptTurn,
)
from topics.models import Deliverable, Review, Submission, Topic

UTC = datetime.UTC
ROOT = Path(__file__).resolve().parent.parent
BATCH = 2000
TIMED_REQUESTS = 5

# What the performance issue asks for at scale 1.
FULL_SIZE = {
    "forums": 500,
    "speakers": 3000,
    "quotes": 30_000,
    "turns": 200_000,
    "cohorts": 50,
    "submissions": 20_000,
}
MEMBERS_PER_COHORT = 35
THEMES_PER_FORUM = 4
SPEAKERS_PER_FORUM = 10
HIGHLIGHTS_PER_FORUM = 8
PUBLISHED_SHARE = 0.9  # the rest are drafts
REVIEWED_SHARE = 0.4
# The member whose dashboard is measured (in the latest cohort) and the organiser who reviews.
BENCH_MEMBER = "bench-member@bench.example"
BENCH_ORGANISER = "bench-organiser@bench.example"

WORDS = [
    "智慧",
    "城市",
    "数据",
    "治理",
    "平台",
    "政务",
    "服务",
    "交通",
    "医疗",
    "社区",
    "建筑",
    "教育",
    "出行",
    "安全",
    "隐私",
    "协同",
    "创新",
    "场景",
    "运营",
    "模式",
    "技术",
    "算法",
    "标准",
    "共享",
    "开放",
    "产业",
    "生态",
    "融合",
    "应用",
    "落地",
    "居民",
    "企业",
    "政府",
    "园区",
    "能源",
    "低碳",
    "感知",
    "孪生",
    "物联网",
    "云计算",
    "人工智能",
    "大模型",
    "数字化",
    "精细化",
    "网格",
    "应急",
    "调度",
    "决策",
    "分析",
    "实时",
    "体验",
    "效率",
    "成本",
    "试点",
    "推广",
    "合作",
    "伙伴",
    "需求",
    "痛点",
    "方案",
    "价值",
    "基础设施",
    "互联互通",
    "一网通办",
    "一网统管",
    "便民",
    "养老",
    "健康",
    "学校",
    "课堂",
    "医院",
    "停车",
    "公交",
    "地铁",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯晨"
CITIES = [
    "深圳",
    "广州",
    "北京",
    "上海",
    "杭州",
    "成都",
    "武汉",
    "西安",
    "南京",
    "重庆",
    "苏州",
    "天津",
    "长沙",
    "厦门",
]
ORG_KINDS = ["科技有限公司", "研究院", "大学", "集团", "数据局", "信息中心", "设计院", "咨询公司"]
TITLES = [
    "创始人",
    "首席执行官",
    "技术总监",
    "副院长",
    "教授",
    "总经理",
    "首席架构师",
    "产品负责人",
    "主任",
]
ZONES = ["Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Hong_Kong"]


def sizes(scale):
    """How many rows of each kind at `scale` (1.0: the issue's figures); never too few to
    show every page."""
    size = {name: max(1, round(count * scale)) for name, count in FULL_SIZE.items()}
    size["forums"] = max(2, size["forums"])
    size["speakers"] = max(SPEAKERS_PER_FORUM * 2, size["speakers"])
    size["turns"] = max(size["forums"] * THEMES_PER_FORUM, size["turns"])
    size["quotes"] = max(size["forums"] * (HIGHLIGHTS_PER_FORUM + 2), size["quotes"])
    size["members"] = size["cohorts"] * MEMBERS_PER_COHORT
    return size


def spread(total, parts):
    """`total` split into `parts` whole shares that differ by at most one."""
    share, extra = divmod(total, parts)
    return [share + (1 if n < extra else 0) for n in range(parts)]


# --- Text ---------------------------------------------------------------------------------


class Text:
    """Chinese-looking sentences, names and organisations from a seeded generator."""

    def __init__(self, rng):
        self.rng = rng

    def words(self, count):
        return "".join(self.rng.choice(WORDS) for _ in range(count))

    def sentence(self):
        parts = [self.words(self.rng.randint(3, 7)) for _ in range(self.rng.randint(1, 3))]
        return "，".join(parts) + "。"

    def paragraph(self, sentences=None):
        return "".join(self.sentence() for _ in range(sentences or self.rng.randint(2, 4)))

    def name(self):
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))
        return self.rng.choice(SURNAMES) + given

    def organisation(self):
        return self.rng.choice(CITIES) + self.words(1) + self.rng.choice(ORG_KINDS)

    def title(self):
        return self.rng.choice(TITLES)


# --- Generating ---------------------------------------------------------------------------


class Writer:
    """Rows queued per model and written in batches of BATCH (ids set on PostgreSQL and
    SQLite alike, so later rows can point at them)."""

    def __init__(self):
        self.pending = {}
        self.written = {}

    def add(self, row):
        rows = self.pending.setdefault(type(row), [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush(type(row))
        return row

    def flush(self, model=None):
        for kind in [model] if model else list(self.pending):
            rows = self.pending.pop(kind, [])
            if rows:
                kind.objects.bulk_create(rows, batch_size=BATCH)
                meta = kind._meta
                with translation.override("en"):
                    name = meta.model_name if meta.auto_created else str(meta.verbose_name_plural)
                self.written[name] = self.written.get(name, 0) + len(rows)


def generate(*, scale=1.0, seed=2026, now=None, log=print):
    """Fill an empty, migrated database with the bench programme at `scale`.

    Side effects: inserts rows in every app (one transaction) and the three role groups.
    Returns {"scale", "sizes", "rows": {model: count}, "seconds": {phase: s}}. Raises
    RuntimeError when the database holds forums or cohorts already.
    """
    if Forum.objects.exists() or Cohort.objects.exists():
        raise RuntimeError("The database has forums or cohorts already: use an empty one.")
    now = now or timezone.now()
    rng = random.Random(seed)
    text = Text(rng)
    size = sizes(scale)
    timings = {}
    writer = Writer()

    def phase(name, function, *args):
        started = time.perf_counter()
        result = function(*args)
        writer.flush()
        timings[name] = round(time.perf_counter() - started, 2)
        log(f"  {name}: {timings[name]} s")
        return result

    with transaction.atomic():
        staff = phase("accounts and topics", make_staff_and_topics)
        topics = staff["topics"]
        speakers = phase("speakers", make_speakers, writer, text, size)
        forums = phase("forums and recaps", make_forums, writer, text, rng, size, topics, now)
        phase(
            "themes, appearances, turns, quotes",
            make_forum_content,
            writer,
            text,
            rng,
            size,
            forums,
            speakers,
        )
        cohorts = phase(
            "cohorts, members, schedules", make_cohorts, writer, text, size, topics, now
        )
        phase(
            "submissions and reviews",
            make_submissions,
            writer,
            text,
            rng,
            size,
            cohorts,
            staff["organiser"],
            now,
        )
        phase("search index", make_search_index, writer)
    return {"scale": scale, "sizes": size, "rows": writer.written, "seconds": timings}


def make_staff_and_topics():
    for role in Role:
        role_group(role)
    programme = json.loads((ROOT / "demo" / "programme.json").read_text(encoding="utf-8"))
    Topic.objects.bulk_create(
        Topic(
            slug=row["slug"],
            name=row["name"],
            name_en=row["name_en"],
            brief=row["brief"],
            position=position,
        )
        for position, row in enumerate(programme["topics"], start=1)
    )
    organiser = User.objects.create_user(BENCH_ORGANISER, None, name="基准组织者")
    organiser.groups.add(role_group(Role.ORGANISER))
    return {"topics": list(Topic.objects.order_by("position", "id")), "organiser": organiser}


def make_speakers(writer, text, size):
    for n in range(size["speakers"]):
        writer.add(
            Speaker(
                name=text.name(),
                slug=f"bench-speaker-{n}",
                organisation=text.organisation(),
                title=text.title(),
                bio=text.paragraph(2),
            )
        )
    writer.flush()
    return list(Speaker.objects.order_by("id"))


def make_forums(writer, text, rng, size, topics, now):
    """A forum a week, the latest three days ago; most recaps published, some drafts."""
    count = size["forums"]
    forums = []
    for n in range(count):
        starts_at = (now - datetime.timedelta(days=3 + 7 * (count - 1 - n))).replace(
            hour=6, minute=0, second=0, microsecond=0
        )
        forums.append(
            writer.add(
                Forum(
                    title=f"{rng.choice(CITIES)}{text.words(2)}线上圆桌论坛（第{n + 1}期）",
                    slug=f"bench-forum-{n:04d}",
                    starts_at=starts_at,
                    ends_at=starts_at + datetime.timedelta(hours=3),
                    format=rng.choice(Forum.Format.values),
                    lede=text.paragraph(3),
                )
            )
        )
    writer.flush()
    released = Forum.released_topics.through
    for forum in forums:
        for topic in rng.sample(topics, 2):
            writer.add(released(forum_id=forum.pk, topic_id=topic.pk))
        # The latest forum is published: the home page shows it.
        published = forum is forums[-1] or rng.random() < PUBLISHED_SHARE
        body = "\n\n".join(
            [text.paragraph(4), f"## {text.words(3)}", text.paragraph(5), text.paragraph(4)]
        )
        writer.add(
            Recap(
                forum=forum,
                headline=f"{text.words(4)}：{text.words(3)}",
                body=body,
                status=Recap.Status.PUBLISHED if published else Recap.Status.DRAFT,
                published_at=forum.starts_at + datetime.timedelta(days=2) if published else None,
            )
        )
    return forums


def make_forum_content(writer, text, rng, size, forums, speakers):
    """Each forum's themes, speakers by role, transcript turns and quotes."""
    roles = [Appearance.Role.OPENING_ADDRESS, Appearance.Role.HOST]
    roles += [Appearance.Role.PANELIST] * (SPEAKERS_PER_FORUM - 4)
    roles += [Appearance.Role.TOPIC_RELEASE] * 2
    turn_counts = spread(size["turns"], len(forums))
    quote_counts = spread(size["quotes"], len(forums))
    for forum, turn_count, quote_count in zip(forums, turn_counts, quote_counts, strict=True):
        themes = [
            writer.add(Theme(forum=forum, title=f"议题{k}：{text.words(3)}", position=k))
            for k in range(1, THEMES_PER_FORUM + 1)
        ]
        cast = rng.sample(speakers, SPEAKERS_PER_FORUM)
        for position, (speaker, role) in enumerate(zip(cast, roles, strict=True), start=1):
            writer.add(
                Appearance(
                    forum=forum,
                    speaker=speaker,
                    role=role,
                    organisation=speaker.organisation,
                    title=speaker.title,
                    position=position,
                    is_cohort_representative=role == Appearance.Role.PANELIST and position <= 4,
                )
            )
        writer.flush(Theme)
        turns = []
        for theme, count in zip(themes, spread(turn_count, len(themes)), strict=True):
            for position in range(1, count + 1):
                body = "\n\n".join(text.paragraph() for _ in range(rng.randint(1, 3)))
                turns.append(
                    writer.add(
                        TranscriptTurn(
                            theme=theme, position=position, speaker=rng.choice(cast), body=body
                        )
                    )
                )
        writer.flush(TranscriptTurn)
        for n in range(quote_count):
            turn = rng.choice(turns)
            quote = Quote(
                forum=forum,
                speaker=turn.speaker,
                theme=turn.theme,
                turn=turn if rng.random() < 0.7 else None,
                text=text.sentence() + text.sentence(),
            )
            roll = rng.random()
            if n < HIGHLIGHTS_PER_FORUM:
                quote.state, quote.is_featured, quote.highlight_position = "approved", True, n + 1
            elif roll < 0.6:
                quote.state = Quote.State.APPROVED
            elif roll < 0.85:
                quote.state = Quote.State.PROPOSED
            else:
                quote.state, quote.rejection_reason = Quote.State.REJECTED, "与议题关系不大"
            writer.add(quote)


def make_cohorts(writer, text, size, topics, now):
    """Cohorts starting every two months back from 30 days ago, full, with their schedules."""
    cohorts = [
        writer.add(
            Cohort(
                name=f"WeCity加速器 第{size['cohorts'] - n}期",
                slug=f"bench-cohort-{n:02d}",
                starts_on=(now - datetime.timedelta(days=30 + 61 * n)).date(),
                time_zone=ZONES[n % len(ZONES)],
                description=text.paragraph(2),
            )
        )
        for n in range(size["cohorts"])
    ]
    writer.flush()
    member_group = role_group(Role.MEMBER)
    users, members = [], []
    for c, cohort in enumerate(cohorts):
        for m in range(MEMBERS_PER_COHORT):
            email = BENCH_MEMBER if (c, m) == (0, 0) else f"member-{c:02d}-{m:02d}@bench.example"
            name = text.name()
            user = writer.add(User(email=email, name=name, password="!"))
            users.append(user)
            members.append(
                Member(
                    cohort=cohort,
                    user=user,
                    topic=topics[m % len(topics)],
                    name=name,
                    organisation=text.organisation(),
                    title=text.title(),
                    bio=text.paragraph(2),
                    is_public=m % 2 == 0,
                    is_organisation_public=m % 2 == 0,
                    is_title_public=m % 4 == 0,
                )
            )
    writer.flush()
    for user in users:
        writer.add(User.groups.through(user_id=user.pk, group_id=member_group.pk))
    for member in members:
        writer.add(member)
    deadlines = []
    with translation.override(settings.LANGUAGE_CODE):
        for cohort in cohorts:
            for entry in DEFAULT_SCHEDULE:
                starts_at = local_datetime(
                    cohort.starts_on + datetime.timedelta(days=entry.day), entry.time, cohort.zone
                )
                milestone = writer.add(
                    Milestone(
                        cohort=cohort,
                        kind=entry.kind,
                        title=str(entry.title),
                        starts_at=starts_at,
                        ends_at=starts_at + datetime.timedelta(hours=entry.hours)
                        if entry.hours
                        else None,
                        location=str(entry.location),
                    )
                )
                if entry.deliverable:
                    deadlines.append((milestone, [str(part) for part in entry.deliverable]))
    writer.flush()
    for milestone, (title, description) in deadlines:
        for topic in topics:
            writer.add(
                Deliverable(milestone=milestone, topic=topic, title=title, description=description)
            )
    bench_user = next(user for user in users if user.email == BENCH_MEMBER)
    for _n in range(5):
        writer.add(Notification(recipient=bench_user, text=f"提醒：{text.words(4)}", url="/"))
    return cohorts


def make_submissions(writer, text, rng, size, cohorts, organiser, now):
    """Versions spread over every deliverable, by members of its group; some reviewed."""
    deliverables = list(
        Deliverable.objects.filter(milestone__cohort__in=cohorts)
        .select_related("milestone")
        .order_by("id")
    )
    groups = {}
    for member in Member.objects.filter(cohort__in=cohorts).order_by("id"):
        groups.setdefault((member.cohort_id, member.topic_id), []).append(member)
    submissions = []
    for deliverable, count in zip(
        deliverables, spread(size["submissions"], len(deliverables)), strict=True
    ):
        authors = groups[(deliverable.milestone.cohort_id, deliverable.topic_id)]
        due = min(deliverable.milestone.starts_at, now)
        for version in range(1, count + 1):
            submitted_at = due - datetime.timedelta(
                days=count - version + 1, hours=rng.randint(0, 8)
            )
            submissions.append(
                writer.add(
                    Submission(
                        deliverable=deliverable,
                        member=rng.choice(authors),
                        version=version,
                        kind=Submission.Kind.TEXT,
                        text=text.paragraph(5),
                        comment=text.sentence() if rng.random() < 0.3 else "",
                        submitted_at=submitted_at,
                    )
                )
            )
    writer.flush()
    for submission in submissions:
        if rng.random() < REVIEWED_SHARE:
            writer.add(
                Review(
                    submission=submission,
                    reviewer=organiser,
                    status=rng.choice(Review.Status.values),
                    feedback=text.paragraph(2),
                )
            )


def make_search_index(writer):
    """The entries `forums.search` would write, built in bulk (same fields, same words)."""
    published = set(Forum.objects.published().values_list("pk", flat=True))
    forums = {forum.pk: forum for forum in Forum.objects.select_related("recap")}
    urls = {pk: forum.get_absolute_url() for pk, forum in forums.items()}
    for pk, forum in forums.items():
        recap = forum.recap
        title = recap.headline or forum.title
        body = "\n\n".join(part for part in (forum.lede, search.markdown_text(recap.body)) if part)
        writer.add(
            SearchEntry(
                kind=SearchEntry.Kind.RECAP,
                object_id=recap.pk,
                forum_id=pk,
                title=title,
                text=body,
                segmented=search.segment(title, body),
                url=urls[pk],
                is_public=pk in published,
            )
        )
    turns = TranscriptTurn.objects.select_related("theme", "speaker").order_by("id")
    for turn in turns.iterator(chunk_size=BATCH):
        forum_id = turn.theme.forum_id
        writer.add(
            SearchEntry(
                kind=SearchEntry.Kind.TURN,
                object_id=turn.pk,
                forum_id=forum_id,
                speaker_id=turn.speaker_id,
                title=turn.speaker.name,
                text=turn.body,
                segmented=search.segment(turn.speaker.name, turn.body),
                url=f"{urls[forum_id]}#theme-{turn.theme.position}",
                is_public=forum_id in published,
            )
        )
    quotes = Quote.objects.filter(state=Quote.State.APPROVED).select_related("speaker")
    for quote in quotes.order_by("id").iterator(chunk_size=BATCH):
        writer.add(
            SearchEntry(
                kind=SearchEntry.Kind.QUOTE,
                object_id=quote.pk,
                forum_id=quote.forum_id,
                speaker_id=quote.speaker_id,
                title=quote.speaker.name,
                text=quote.text,
                segmented=search.segment(quote.speaker.name, quote.text),
                url=f"{quote.speaker.get_absolute_url()}#quotes-title",
                is_public=quote.forum_id in published,
            )
        )
    writer.flush()
    public = set(search.public_speakers().values_list("pk", flat=True))
    for speaker in Speaker.objects.order_by("id").iterator(chunk_size=BATCH):
        writer.add(search.speaker_entry(speaker, is_public=speaker.pk in public))


# --- The pages measured -------------------------------------------------------------------


def pages():
    """The pages `make bench` measures: [{"name", "label", "path", "signed_in", "public"}].

    The recap is the latest one (the home page's), the speaker the one who spoke at the
    most forums, the topic the first, the dashboard the bench member's.
    """
    forum = Forum.objects.published().order_by("-starts_at", "-id").first()
    speaker = (
        Speaker.objects.annotate(forums=Count("appearances")).order_by("-forums", "id").first()
    )
    topic = Topic.objects.order_by("position", "id").first()
    rows = [
        ("home", "home page", "/", False),
        ("recap", "a recap", forum.get_absolute_url(), False),
        ("speakers", "speaker directory", "/speakers/", False),
        ("speaker", "a speaker", speaker.get_absolute_url(), False),
        ("topic", "a topic", topic.get_absolute_url(), False),
        ("dashboard", "a member's dashboard", "/programme/", True),
        ("api-forums", "API: forums", "/api/v1/forums/", False),
        ("api-speakers", "API: speakers", "/api/v1/speakers/", False),
    ]
    return [
        {
            "name": name,
            "label": label,
            "path": path,
            "signed_in": signed_in,
            "public": not signed_in,
        }
        for name, label, path, signed_in in rows
    ]


def sign_in_session(email=BENCH_MEMBER):
    """A new session of this user, as django.contrib.auth.login stores it: its key."""
    user = User.objects.get(email=email)
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def count_queries(measured, *, session_key, host="127.0.0.1"):
    """Each page's status and queries: the first request after the cache is cleared and the
    next one, with its X-Page-Cache header; and the median time of TIMED_REQUESTS more,
    in-process, one at a time."""
    cache.clear()
    results = {}
    for page in measured:
        client = Client(HTTP_HOST=host)
        if page["signed_in"]:
            client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        counts, responses, times = [], [], []
        for _attempt in range(2):
            with CaptureQueriesContext(connection) as queries:
                responses.append(client.get(page["path"]))
            counts.append(len(queries.captured_queries))
        for _attempt in range(TIMED_REQUESTS):
            started = time.perf_counter()
            client.get(page["path"])
            times.append(time.perf_counter() - started)
        results[page["name"]] = {
            "status": responses[-1].status_code,
            "queries_first": counts[0],
            "queries": counts[1],
            "ms": round(statistics.median(times) * 1000, 1),
            "page_cache": responses[-1].headers.get("X-Page-Cache"),
            "bytes": len(responses[-1].content),
        }
    return results


def probe():
    """The pages, a signed-in member's session key, and each page's queries."""
    measured = pages()
    session_key = sign_in_session()
    return {
        "pages": measured,
        "session_key": session_key,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "queries": count_queries(measured, session_key=session_key),
        "page_cache_seconds": getattr(settings, "PAGE_CACHE_SECONDS", None),
        "database": connection.vendor,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="fill an empty, migrated database")
    make.add_argument("--scale", type=float, default=1.0)
    make.add_argument("--seed", type=int, default=2026)
    make.add_argument("--json", help="write the counts and timings to this file")
    look = commands.add_parser("probe", help="pages, a member's session, queries per page")
    look.add_argument("--json", help="write the result to this file")
    args = parser.parse_args()

    if args.command == "generate":
        started = time.perf_counter()
        print(f"Generating the bench data at scale {args.scale} on {connection.vendor}")
        result = generate(scale=args.scale, seed=args.seed)
        result["seconds"]["total"] = round(time.perf_counter() - started, 1)
        print(f"  total: {result['seconds']['total']} s; rows: {result['rows']}")
    else:
        result = probe()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
