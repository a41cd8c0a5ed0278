"""The demo programme: the seed forum, the six topics, a demo cohort and demo accounts.

Everything comes from the data files in `demo/`. Loading is idempotent: a row that
exists already (matched by its slug, email or position) is left as it is, so running
the loader again neither duplicates nor overwrites anything, edits included.
"""

import datetime
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import Role, User, role_group
from cohorts.models import Cohort, Member
from cohorts.schedule import generate_default_schedule
from forums import search
from forums.models import Appearance, Forum, Quote, Recap, Speaker, Theme, TranscriptTurn
from topics.models import Topic

DEMO_DIR = Path(settings.BASE_DIR) / "demo"


@dataclass
class DemoResult:
    """What a load created, and the passwords of the demo accounts it created."""

    created: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)
    existing_accounts: list[str] = field(default_factory=list)


def read_demo_file(name):
    with open(DEMO_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def load_demo(*, start=None, password=None):
    """Load the demo programme starting on `start` (default: today in the programme's zone).

    Side effects: creates rows in every app and the three role groups. Returns a
    DemoResult; demo accounts that exist keep their passwords.
    """
    seed = read_demo_file("seed_forum.json")
    programme = read_demo_file("programme.json")
    result = DemoResult()
    with transaction.atomic():
        for role in Role:
            role_group(role)
        topics = load_topics(programme["topics"], result)
        speakers = load_speakers(seed["speakers"], result)
        forum = load_forum(seed, speakers=speakers, topics=topics, result=result)
        search.schedule_forum_reindex(forum)
        cohort = load_cohort(
            programme, speakers=speakers, topics=topics, start=start, result=result
        )
        load_accounts(programme["accounts"], cohort=cohort, password=password, result=result)
    return result


def load_topics(rows, result):
    topics = {}
    for position, row in enumerate(rows, start=1):
        topic, created = Topic.objects.get_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "brief": row["brief"],
                "position": position,
            },
        )
        if created:
            result.created.append(f"topic {topic.name}")
        topics[topic.slug] = topic
    return topics


def load_speakers(rows, result):
    speakers = {}
    for row in rows:
        speaker, created = Speaker.objects.get_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "organisation": row["organisation"],
                "title": row["title"],
                "bio": row.get("bio", ""),
            },
        )
        if created:
            result.created.append(f"speaker {speaker.name}")
        speakers[speaker.slug] = speaker
    return speakers


def load_forum(seed, *, speakers, topics, result):
    """The seed forum with its recap; left alone entirely when its slug exists."""
    data = seed["forum"]
    if Forum.objects.filter(slug=data["slug"]).exists():
        return Forum.objects.get(slug=data["slug"])
    forum = Forum.objects.create(
        title=data["title"],
        slug=data["slug"],
        starts_at=datetime.datetime.fromisoformat(data["starts_at"]),
        format=data["format"],
        lede=data["lede"],
    )
    forum.released_topics.set(topics[slug] for slug in data["released_topics"])
    Appearance.objects.bulk_create(
        Appearance(
            forum=forum,
            speaker=speakers[row["speaker"]],
            role=row["role"],
            organisation=row["organisation"],
            title=row["title"],
            is_cohort_representative=row["is_cohort_representative"],
            position=position,
        )
        for position, row in enumerate(seed["appearances"], start=1)
    )
    for theme_position, theme_data in enumerate(seed["themes"], start=1):
        theme = Theme.objects.create(
            forum=forum, title=theme_data["title"], position=theme_position
        )
        TranscriptTurn.objects.bulk_create(
            TranscriptTurn(
                theme=theme,
                position=turn_position,
                speaker=speakers[turn["speaker"]],
                body="\n\n".join(turn["paragraphs"]),
            )
            for turn_position, turn in enumerate(theme_data["turns"], start=1)
        )
    Quote.objects.bulk_create(
        Quote(
            forum=forum,
            speaker=speakers[row["speaker"]],
            text=row["text"],
            state=Quote.State.APPROVED,
            is_featured=True,
            highlight_position=position,
        )
        for position, row in enumerate(seed["highlights"], start=1)
    )
    recap = seed["recap"]
    Recap.objects.create(
        forum=forum,
        headline=recap["headline"],
        body=recap.get("body", ""),
        status=recap["status"],
        published_at=datetime.datetime.fromisoformat(recap["published_at"]),
    )
    result.created.append(f"forum {forum.title}")
    return forum


def load_cohort(programme, *, speakers, topics, start, result):
    """The demo cohort, full to capacity, with the default schedule; left alone when it exists."""
    data = programme["cohort"]
    existing = Cohort.objects.filter(slug=data["slug"]).first()
    if existing:
        return existing
    zone_name = data["time_zone"]
    cohort = Cohort(
        name=data["name"],
        slug=data["slug"],
        length_months=data["length_months"],
        capacity=data["capacity"],
        time_zone=zone_name,
        description=data["description"],
    )
    cohort.starts_on = start or datetime.datetime.now(cohort.zone).date()
    cohort.full_clean()
    cohort.save()

    members = [
        Member(
            cohort=cohort,
            topic=topics[row["topic"]],
            speaker=speakers[row["speaker"]],
            name=speakers[row["speaker"]].name,
            organisation=speakers[row["speaker"]].organisation,
            title=speakers[row["speaker"]].title,
            # Representatives speak at forums: their organisation and title are public there.
            is_public=row["is_public"],
            is_organisation_public=row["is_public"],
            is_title_public=row["is_public"],
        )
        for row in programme["representatives"]
    ]
    members += demo_members(programme["demo_members"], cohort, topics, taken=members)
    Member.objects.bulk_create(members)
    generate_default_schedule(cohort)
    result.created.append(f"cohort {cohort.name} ({len(members)} members)")
    return cohort


def demo_members(spec, cohort, topics, *, taken):
    """Fill the cohort to capacity, each new member joining the smallest topic group."""
    sizes = dict.fromkeys(topics, 0)
    for member in taken:
        sizes[member.topic.slug] += 1
    members = []
    for number in range(1, cohort.capacity - len(taken) + 1):
        slug = min(sizes, key=lambda s: (sizes[s], topics[s].position))
        sizes[slug] += 1
        members.append(
            Member(
                cohort=cohort,
                topic=topics[slug],
                name=spec["name"].format(n=number),
                organisation=spec["organisation"].format(n=number),
                title=spec["title"],
                is_public=number % spec["public_every"] == 1,
                is_organisation_public=number % spec["public_every"] == 1,
                is_demo=True,
            )
        )
    return members


def load_accounts(rows, *, cohort, password, result):
    for row in rows:
        user = User.objects.filter(email=row["email"]).first()
        if user:
            result.existing_accounts.append(user.email)
            continue
        new_password = password or secrets.token_urlsafe(9)
        user = User.objects.create_user(
            row["email"],
            new_password,
            name=row["name"],
            is_staff=row.get("is_superuser", False),
            is_superuser=row.get("is_superuser", False),
        )
        user.groups.add(role_group(row["role"]))
        if "member" in row:
            # The demo member account is the first demo member of the cohort.
            member = cohort.members.filter(is_demo=True, user=None).order_by("id").first()
            if member:
                member.user = user
                member.save(update_fields=["user"])
        result.passwords[user.email] = new_password
        result.created.append(f"account {user.email}")
