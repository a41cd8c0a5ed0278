"""Load and soak: a mixed run against the portal under gunicorn and PostgreSQL, on 127.0.0.1.

    .venv/bin/python scripts/soak.py                      # 10 minutes at concurrency 32
    .venv/bin/python scripts/soak.py --minutes 2          # a shorter check

Starts its own PostgreSQL cluster (durable: fsync on) and the portal as production runs it
(gunicorn, 3 sync workers, DEBUG=0), loads the demo programme and 32 member accounts, then
runs `--concurrency` clients until `--minutes` have passed or `--max-requests` were sent:

- readers: the public pages, search, feeds;
- members: sign in (again every few rounds), their dashboard and workspace, and hand-ins
  of a new version (a write);
- organisers: propose quotes (a write) and open their pages;
- admins: the curation queue, and approve or reject proposed quotes (a write).

At the end it prints the errors (5xx, unexpected answers, connections refused or timed
out), the lost writes (every write the portal confirmed is looked up in the database), the
latency percentiles and the resident memory of gunicorn and PostgreSQL sampled during the
run. Exits 1 if there was an error or a lost write. Not part of CI (see docs/soak.md).
"""

import argparse
import collections
import json
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.stack import (
    Portal,
    PostgresCluster,
    collect_static,
    manage,
    portal_environment,
    resident_mb,
)

PASSWORD = "soak-pass-城市-2026"
SETUP = """
import json
from allauth.account.models import EmailAddress
from accounts.models import Role, User, role_group
from cohorts.models import Member
from forums.models import Forum
from topics.models import Deliverable
password = %(password)r
members = []
for number, member in enumerate(
    Member.objects.filter(is_demo=True, user=None).select_related("cohort", "topic")[:%(count)d]
):
    user = User.objects.create_user(f"soak{number}@example.com", password, name=member.name)
    user.groups.add(role_group(Role.MEMBER))
    member.user = user
    member.save(update_fields=["user"])
    deliverable = Deliverable.objects.filter(
        milestone__cohort=member.cohort, topic=member.topic
    ).order_by("id")[0]
    members.append({
        "email": user.email,
        "dashboard": "/programme/",
        "deliverable": deliverable.get_absolute_url(),
        "workspace": f"/programme/groups/{member.cohort.slug}/{member.topic.slug}/",
    })
for user in User.objects.all():
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
forum = Forum.objects.exclude(recap=None).order_by("id")[0]
print(json.dumps({
    "members": members,
    "forum": forum.pk,
    "forum_url": forum.get_absolute_url(),
    "speakers": list(forum.appearances.values_list("speaker_id", flat=True).distinct()),
    "cohort": f"/cohorts/{members[0]['workspace'].split('/')[3]}/",
}))
"""
VERIFY = """
import json
from forums.models import CurationEntry, Quote
from topics.models import Submission
sent = json.load(open(%(path)r))
hand_ins = Submission.objects.filter(text__in=sent["hand_ins"])
found_hand_ins = set(hand_ins.values_list("text", flat=True))
proposals = Quote.objects.filter(text__in=sent["proposals"])
found_proposals = set(proposals.values_list("text", flat=True))
acted = [quote for quote, _action in sent["curation"]]
acts = set(CurationEntry.objects.filter(quote_id__in=acted).values_list("quote_id", "action"))
print(json.dumps({
    "hand_ins": [
        len(sent["hand_ins"]),
        len(sent["hand_ins"]) - len(found_hand_ins),
        hand_ins.count() - len(found_hand_ins),
    ],
    "proposals": [len(sent["proposals"]), len(sent["proposals"]) - len(found_proposals)],
    "curation": [
        len(sent["curation"]),
        len([1 for quote, action in sent["curation"] if (quote, action) not in acts]),
    ],
}))
"""
QUOTE_LINK = re.compile(r"/curate/quotes/(\d+)/approve/")
PUBLIC_PAGES = [
    "/",
    "/forums/",
    "/speakers/",
    "/topics/",
    "/cohorts/",
    "/search/?q=城市",
    "/search/?q=数据+价值",
    "/feeds/recaps.rss",
    "/sitemap.xml",
]


class Run:
    """What the clients did: every answer, and every write the portal confirmed."""

    def __init__(self, deadline, max_requests):
        self.deadline, self.max_requests = deadline, max_requests
        self.lock = threading.Lock()
        self.count = 0
        self.errors = collections.Counter()
        self.error_samples = []
        self.kinds = collections.Counter()
        self.latencies = []
        self.hand_ins, self.proposals, self.curation = [], [], []
        self.sign_ins = 0

    def going(self):
        return time.monotonic() < self.deadline and self.count < self.max_requests

    def ask(self, session, kind, method, url, *, expect=(200,), **kwargs):
        started = time.monotonic()
        try:
            response = session.request(method, url, timeout=30, allow_redirects=False, **kwargs)
            status = response.status_code
        except requests.RequestException as error:
            response, status = None, type(error).__name__
        with self.lock:
            self.count += 1
            self.kinds[kind] += 1
            self.latencies.append(time.monotonic() - started)
            if status not in expect:
                self.errors[f"{kind} {status}"] += 1
                if len(self.error_samples) < 5 and response is not None:
                    self.error_samples.append((kind, url, status, response.text[:300]))
        return response if status in expect else None


def post(run, session, kind, url, data, *, expect=(302,)):
    data = {**data, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")}
    return run.ask(session, kind, "POST", url, data=data, expect=expect)


def sign_in(run, base, email):
    session = requests.Session()
    run.ask(session, "sign-in page", "GET", f"{base}/accounts/login/")
    if post(
        run, session, "sign in", f"{base}/accounts/login/", {"login": email, "password": PASSWORD}
    ):
        with run.lock:
            run.sign_ins += 1
    return session


def reader(run, base, facts):
    session = requests.Session()
    pages = [*PUBLIC_PAGES, facts["forum_url"], facts["cohort"]]
    while run.going():
        run.ask(session, "read", "GET", base + random.choice(pages))


def member(run, base, facts, account):
    session = sign_in(run, base, account["email"])
    rounds = 0
    while run.going():
        rounds += 1
        roll = random.random()
        if roll < 0.55:
            page = random.choice(["dashboard", "workspace", "deliverable"])
            run.ask(session, "member page", "GET", base + account[page])
        elif roll < 0.9:
            marker = f"soak hand-in {uuid.uuid4()}"
            url = base + account["deliverable"]
            if post(run, session, "hand in", url, {"kind": "text", "text": marker}):
                with run.lock:
                    run.hand_ins.append(marker)
        else:
            run.ask(
                session,
                "sign out",
                "POST",
                f"{base}/accounts/logout/",
                expect=(302,),
                data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
            )
            session = sign_in(run, base, account["email"])


def organiser(run, base, facts):
    session = sign_in(run, base, "organiser@wecity.example")
    while run.going():
        if random.random() < 0.5:
            marker = f"soak quote {uuid.uuid4()}"
            data = {
                "forum": facts["forum"],
                "speaker": random.choice(facts["speakers"]),
                "text": marker,
            }
            if post(run, session, "propose", f"{base}/curate/quotes/new/", data):
                with run.lock:
                    run.proposals.append(marker)
        else:
            page = random.choice(["/organise/", f"/organise/forums/{facts['forum']}/edit/"])
            run.ask(session, "organiser page", "GET", base + page)


def admin(run, base, facts):
    session = sign_in(run, base, "admin@wecity.example")
    while run.going():
        queue = run.ask(session, "curation queue", "GET", f"{base}/curate/?state=proposed")
        ids = QUOTE_LINK.findall(queue.text) if queue is not None else []
        if not ids:
            run.ask(session, "curation log", "GET", f"{base}/curate/log/")
            time.sleep(0.2)
            continue
        quote = int(random.choice(ids))
        if random.random() < 0.6:
            url, data, action = f"{base}/curate/quotes/{quote}/approve/", {}, "approve"
        else:
            url, data, action = (
                f"{base}/curate/quotes/{quote}/reject/",
                {"reason": "不切题"},
                "reject",
            )
        # Another admin may have acted on it first: then the page says so (200), no write.
        answer = post(run, session, "curate", url, data, expect=(302, 200))
        if answer is not None and answer.status_code == 302:
            with run.lock:
                run.curation.append((quote, action))


def sampler(run, portal, cluster, samples, every):
    while run.going():
        samples.append(
            (
                round(time.monotonic() - run.started),
                round(resident_mb(portal.pids()), 1),
                round(resident_mb(cluster.pids()), 1),
                run.count,
            )
        )
        time.sleep(every)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (production: 3)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    cluster = PostgresCluster(durable=True).start()
    folder = Path(tempfile.mkdtemp(prefix="wecity-soak-"))
    portal = None
    try:
        env = portal_environment(
            cluster.create_database("wecity"),
            folder,
            RATE_LIMIT_LOGIN="100000/m/ip",
            RATE_LIMIT_LOGIN_FAILED="100000/m/ip",
        )
        collect_static(env)
        manage("migrate", "--noinput", "-v0", env=env)
        manage("load_demo", "--password", PASSWORD, env=env)
        setup = SETUP % {"password": PASSWORD, "count": 32}
        facts = json.loads(manage("shell", "-c", setup, env=env).stdout.strip().splitlines()[-1])
        portal = Portal(env, workers=args.workers).start()
        base = portal.url

        run = Run(time.monotonic() + args.minutes * 60, args.max_requests)
        run.started = time.monotonic()
        n = args.concurrency
        shares = {"member": n * 5 // 16, "organiser": max(1, n // 16), "admin": max(1, n // 16)}
        shares["reader"] = n - sum(shares.values())
        threads = [
            threading.Thread(target=reader, args=(run, base, facts))
            for _ in range(shares["reader"])
        ]
        threads += [
            threading.Thread(
                target=member, args=(run, base, facts, facts["members"][i % len(facts["members"])])
            )
            for i in range(shares["member"])
        ]
        threads += [
            threading.Thread(target=organiser, args=(run, base, facts))
            for _ in range(shares["organiser"])
        ]
        threads += [
            threading.Thread(target=admin, args=(run, base, facts)) for _ in range(shares["admin"])
        ]
        samples = []
        every = max(5, int(args.minutes * 60 / 24))
        watcher = threading.Thread(target=sampler, args=(run, portal, cluster, samples, every))
        for thread in [*threads, watcher]:
            thread.start()
        for thread in threads:
            thread.join()
        watcher.join()
        elapsed = time.monotonic() - run.started

        sent = folder / "sent.json"
        sent.write_text(
            json.dumps(
                {"hand_ins": run.hand_ins, "proposals": run.proposals, "curation": run.curation}
            )
        )
        verified = json.loads(
            manage("shell", "-c", VERIFY % {"path": str(sent)}, env=env)
            .stdout.strip()
            .splitlines()[-1]
        )
        gunicorn_mb = [s[1] for s in samples]
        figures = {
            "minutes": round(elapsed / 60, 2),
            "concurrency": n,
            "clients": shares,
            "gunicorn_workers": args.workers,
            "requests": run.count,
            "requests_per_second": round(run.count / elapsed, 1),
            "by_kind": dict(run.kinds),
            "sign_ins": run.sign_ins,
            "errors": sum(run.errors.values()),
            "errors_by_kind": dict(run.errors),
            "error_samples": run.error_samples,
            "writes_confirmed_lost_duplicated": verified,
            "latency_ms": {
                "p50": round(percentile(run.latencies, 0.5) * 1000),
                "p95": round(percentile(run.latencies, 0.95) * 1000),
                "p99": round(percentile(run.latencies, 0.99) * 1000),
                "max": round(max(run.latencies, default=0) * 1000),
            },
            "memory_samples_s_gunicorn_mb_postgres_mb_requests": samples,
            "gunicorn_mb_first_last_max": [gunicorn_mb[0], gunicorn_mb[-1], max(gunicorn_mb)]
            if gunicorn_mb
            else [],
        }
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        lost = verified["hand_ins"][1] + verified["proposals"][1] + verified["curation"][1]
        return 1 if figures["errors"] or lost or verified["hand_ins"][2] else 0
    finally:
        if portal:
            portal.stop()
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
