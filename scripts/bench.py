"""`make bench`: the portal's pages under load on a large programme, beside a static baseline.

    .venv/bin/python scripts/bench.py                                  # the reference run
    .venv/bin/python scripts/bench.py --scale 0.05 --seconds 3 --soak-seconds 20   # a try

1. Starts a PostgreSQL cluster of its own (fsync on, as production) and a Redis, and fills a
   database with the bench data (`scripts/bench_data.py`: 500 forums, 3,000 speakers, 30,000
   quotes, 200,000 transcript turns, 50 cohorts of 35 members, 20,000 submissions at scale
   1). With `--data-dir DIR` the cluster lives in DIR and is used again by the next run of
   the same scale and seed, instead of being generated again.
2. Counts each page's queries in-process with the portal's settings (`bench_data.py probe`).
3. Serves the portal with gunicorn as production does (DEBUG=0, `--workers` sync workers,
   CACHE_URL on the Redis) twice, with the page cache off (PAGE_CACHE_SECONDS=0) and on
   (300), and drives each page with wrk from another process on 127.0.0.1 (`-t2 -c16`, a
   warm-up, then `--seconds`), sampling the resident memory of gunicorn's master and workers.
4. Serves the same pages, saved as files, with whitenoise under the same gunicorn and
   workers (`scripts/bench_static.py`): the baseline each page is compared with.
5. Runs a mixed load over every page for `--soak-seconds` and samples memory every 10 s.
6. Times the reminder sweep over 100 cohorts × 35 members × 40 milestones
   (`scripts/bench_reminders.py`) in a throwaway database of the same cluster.

Prints the figures beside their targets, writes them as JSON (`--json`) and as Markdown
between the markers of docs/benchmarks.md (`--markdown`). A target missed never fails the
run: the exit status is 1 only when something broke (a page not answering 200, wrk errors).
"""

import argparse
import contextlib
import datetime
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.stack import (
    ROOT,
    Portal,
    PostgresCluster,
    RedisServer,
    collect_static,
    manage,
    portal_environment,
    resident_mb,
    wait_until,
)

LUA = ROOT / "scripts" / "bench.lua"
DOCS = ROOT / "docs"
BEGIN = (
    "<!-- bench:begin: written by scripts/bench.py, everything down to bench:end is replaced -->"
)
END = "<!-- bench:end -->"
DATABASE = "wecity_bench"
CACHED_SECONDS = 300
# Targets of the performance issue: shown beside the figures, never enforced.
TARGETS = {
    "cached_ratio": 0.5,  # a public page's req/s once cached, as a share of its baseline's
    "cached_p95_ms": 50,
    "uncached_p95_ms": 150,
    "queries": 12,
    "sweep_seconds": 10,
    "sweep_queries_per_1000": 5,
    "memory_growth": 0.10,
    "soak_seconds": 300,
}


# --- Servers ------------------------------------------------------------------------------


class KeptCluster(PostgresCluster):
    """A durable cluster in a folder that outlives the run (`--data-dir`), started again by
    the next run."""

    def __init__(self, folder):
        super().__init__(durable=True)
        shutil.rmtree(self.folder, ignore_errors=True)  # the temporary one PostgresCluster made
        self.folder = Path(folder).resolve()
        self.data = self.folder / "data"

    @property
    def exists(self):
        return (self.data / "PG_VERSION").exists()

    def start(self):
        if self.exists:
            self.pg_ctl("start")
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        return super().start()

    def stop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "fast")


class StaticServer(Portal):
    """The baseline: `scripts/bench_static.py` under the same gunicorn, workers and options."""

    def __init__(self, root, env, *, workers):
        super().__init__({**env, "BENCH_STATIC_ROOT": str(root)}, workers=workers)
        self.ready_path = "/" + sorted(p.name for p in Path(root).iterdir())[0]

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    str(gunicorn),
                    "scripts.bench_static:application",
                    *("--bind", f"127.0.0.1:{self.port}"),
                    *("--workers", str(self.workers), "--threads", str(self.threads)),
                    *("--timeout", "60", "--control-socket", str(self.folder / "control.sock")),
                    *("--error-logfile", "-"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(lambda: fetch(self.port, self.ready_path)[0] == 200, timeout=60):
            self.stop()
            raise RuntimeError(f"the static server did not answer:\n{self.log.read_text()}")
        return self


def fetch(port, path, *, cookie=None, timeout=30):
    """(status, headers, body bytes) of a GET, or (None, {}, error) when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except OSError as error:
        return None, {}, repr(error).encode()
    finally:
        connection.close()


# --- Measuring ----------------------------------------------------------------------------


class MemorySampler:
    """Samples the resident memory of a server's processes in a thread, until stopped."""

    def __init__(self, server, every):
        self.server, self.every = server, every
        self.samples = []  # (seconds since start, MB)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        started = time.monotonic()
        while True:
            self.samples.append(
                (round(time.monotonic() - started, 1), round(resident_mb(self.server.pids()), 1))
            )
            if self.stopping.wait(self.every):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()

    @property
    def peak(self):
        return max((mb for _t, mb in self.samples), default=0)


def parse_wrk(output):
    """The figures bench.lua printed (its "BENCH-JSON {…}" line) from wrk's output."""
    for line in output.splitlines():
        if line.startswith("BENCH-JSON "):
            figures = json.loads(line.removeprefix("BENCH-JSON "))
            duration = figures["duration_s"] or 1
            figures["rps"] = round(figures["requests"] / duration, 1)
            figures["errors"] = (
                figures["non_2xx_3xx"] + figures["socket_errors"] + figures["timeouts"]
            )
            if not figures["requests"]:
                # Nothing answered within the run: wrk's empty histogram says 0 ms.
                figures["latency_ms"] = dict.fromkeys(figures["latency_ms"])
            return figures
    raise ValueError(f"no BENCH-JSON line in wrk's output:\n{output}")


def wrk(port, paths, *, seconds, connections, threads):
    """Run wrk against these paths ("path" or "path|cookie"); its figures."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}/",
        "--",
        *paths,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def measure(server, paths, args):
    """A warm-up, then `args.seconds` of wrk with the server's memory sampled."""
    load = {"connections": args.connections, "threads": args.threads}
    if args.warmup_seconds:
        wrk(server.port, paths, seconds=args.warmup_seconds, **load)
    with MemorySampler(server, every=0.25) as memory:
        figures = wrk(server.port, paths, seconds=args.seconds, **load)
    figures["peak_mb"] = memory.peak
    return figures


def wrk_path(page, session):
    return f"{page['path']}|{session}" if page["signed_in"] else page["path"]


def baseline_name(page):
    return f"{page['name']}.json" if page["path"].startswith("/api/") else f"{page['name']}.html"


def measure_portal(env, pages, session, args, *, mode, saved_to=None):
    """Every page under the portal started with `env`; saves each answer into `saved_to`."""
    portal = Portal(env, workers=args.workers).start()
    results = {}
    try:
        for page in pages:
            cookie = session if page["signed_in"] else None
            fetch(portal.port, page["path"], cookie=cookie)  # fills the page cache, if any
            status, headers, body = fetch(portal.port, page["path"], cookie=cookie)
            if status != 200:
                raise RuntimeError(f"{page['path']} answered {status} ({mode}): {body[:300]}")
            if saved_to:
                (saved_to / baseline_name(page)).write_bytes(body)
            figures = measure(portal, [wrk_path(page, session)], args)
            figures["x_page_cache"] = headers.get("X-Page-Cache")
            results[page["name"]] = figures
            report_line(page, mode, figures)
    finally:
        portal.stop()
    return results


def measure_baseline(folder, env, pages, args):
    server = StaticServer(folder, env, workers=args.workers).start()
    results = {}
    try:
        for page in pages:
            figures = measure(server, ["/" + baseline_name(page)], args)
            results[page["name"]] = figures
            report_line(page, "baseline", figures)
    finally:
        server.stop()
    return results


def soak(env, pages, session, args):
    """Every page in turn for `--soak-seconds`; memory sampled about every 10 s."""
    portal = Portal(env, workers=args.workers).start()
    paths = [wrk_path(page, session) for page in pages]
    every = min(10, max(1, args.soak_seconds / 12))
    try:
        load = {"connections": args.connections, "threads": args.threads}
        wrk(portal.port, paths, seconds=max(1, args.warmup_seconds), **load)
        with MemorySampler(portal, every=every) as memory:
            figures = wrk(portal.port, paths, seconds=args.soak_seconds, **load)
    finally:
        portal.stop()
    figures.update(memory_trend(memory.samples, args.soak_seconds))
    figures["sample_every_s"] = every
    return figures


def memory_trend(samples, seconds):
    """First and last window's mean memory (a minute, or a third of a shorter run)."""
    window = min(60, seconds / 3)
    first = [mb for t, mb in samples if t <= window] or [samples[0][1]]
    last = [mb for t, mb in samples if t >= seconds - window] or [samples[-1][1]]
    first_mb, last_mb = statistics.mean(first), statistics.mean(last)
    return {
        "memory_samples": samples,
        "window_s": round(window, 1),
        "first_window_mb": round(first_mb, 1),
        "last_window_mb": round(last_mb, 1),
        "peak_mb": max(mb for _t, mb in samples),
        "growth": round((last_mb - first_mb) / first_mb, 4) if first_mb else 0,
    }


def report_line(page, mode, figures):
    latency = {key: number(value) for key, value in figures["latency_ms"].items()}
    print(
        f"  {page['name']:<13} {mode:<9} {figures['rps']:>8.1f} req/s  p50 {latency['p50']:>7}  "
        f"p95 {latency['p95']:>7}  p99 {latency['p99']:>7} ms  peak {figures['peak_mb']:>6.1f} MB"
        f"  errors {figures['errors']}  cache hits {figures['cache_hits']}",
        flush=True,
    )


# --- Targets ------------------------------------------------------------------------------


def below(latency, limit):
    # None: no request finished during the run, so the latency was longer than the run.
    return latency is not None and latency < limit


def page_targets(page):
    """[(what, target, value, met)] of one page; `met` None when it could not be measured."""
    cached, uncached = page.get("cached"), page.get("uncached")
    rows = []
    if page["public"] and cached:
        ratio = page.get("ratio_cached")
        rows.append(
            (
                "req/s cached ≥ ½ baseline",
                f"≥ {TARGETS['cached_ratio']}",
                ratio,
                None if ratio is None else ratio >= TARGETS["cached_ratio"],
            )
        )
        p95 = cached["latency_ms"]["p95"]
        rows.append(("p95 cached", f"< {TARGETS['cached_p95_ms']} ms", p95, below(p95, 50)))
    if uncached:
        p95 = uncached["latency_ms"]["p95"]
        limit = TARGETS["uncached_p95_ms"]
        rows.append(("p95 uncached", f"< {limit} ms", p95, below(p95, limit)))
    queries = page.get("queries", {})
    worst = max(
        (n for n in (queries.get("uncached"), queries.get("cached_first")) if n is not None),
        default=None,
    )
    if worst is not None:
        rows.append(("queries", f"≤ {TARGETS['queries']}", worst, worst <= TARGETS["queries"]))
    return rows


def reminder_targets(reminders):
    """The sweep's targets for each scenario measured, named after it when there are two
    (results written before the aligned intake was measured have only the staggered one).
    """
    scenarios = [
        (key, label)
        for key, label in (("sweep", "staggered"), ("aligned_sweep", "aligned intake"))
        if key in reminders
    ]
    rows = []
    for key, label in scenarios:
        sweep = reminders[key]
        prefix = f"{label}: " if len(scenarios) > 1 else ""
        per_1000 = (
            round(sweep["queries"] / sweep["claimed"] * 1000, 2) if sweep["claimed"] else None
        )
        rows += [
            (
                f"{prefix}sweep time",
                f"< {TARGETS['sweep_seconds']} s",
                sweep["seconds"],
                sweep["seconds"] < TARGETS["sweep_seconds"],
            ),
            (
                f"{prefix}queries per 1,000 claimed",
                f"< {TARGETS['sweep_queries_per_1000']}",
                per_1000,
                None if per_1000 is None else per_1000 < TARGETS["sweep_queries_per_1000"],
            ),
        ]
    return rows


def soak_targets(soak_figures):
    growth = soak_figures["growth"]
    return [
        (
            "memory, last window vs first",
            f"within {TARGETS['memory_growth']:.0%}",
            f"{growth:+.1%}",
            abs(growth) <= TARGETS["memory_growth"],
        )
    ]


def verdict(met):
    return "n/a" if met is None else ("pass" if met else "**miss**")


# --- The machine --------------------------------------------------------------------------


def command_output(*command, pattern=None):
    """The first line a command prints (`wrk --version` exits 1), or what `pattern` finds."""
    with contextlib.suppress(OSError, IndexError):
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        text = (done.stdout or done.stderr).strip()
        if pattern:
            found = re.search(pattern, text)
            return found.group(1) if found else None
        return text.splitlines()[0]
    return None


def cpu_speed_ms():
    """A fixed pure-Python loop (sum(range(10**7))), best of 5, in ms: the CPU time a page
    costs scales with it, so runs on different machines (or the same cloud machine on
    different days) compare by it."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(range(10**7))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def machine(postgres_bin=None):
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    release = Path("/etc/os-release")
    os_name = (
        re.search(r'^PRETTY_NAME="?([^"\n]+)', release.read_text(), re.M)
        if release.exists()
        else None
    )
    commit = command_output("git", "rev-parse", "--short", "HEAD", pattern=r"^([0-9a-f]+)$")
    dirty = command_output(
        "git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"
    )
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "python_loop_ms": cpu_speed_ms(),
        "memory_gb": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "os": f"{os_name.group(1) if os_name else platform.system()} ({platform.release()})",
        "python": platform.python_version(),
        "postgresql": command_output(
            str(Path(postgres_bin) / "postgres"), "--version", pattern=r"\) ([\d.]+)"
        )
        if postgres_bin
        else None,
        "redis": command_output("redis-server", "--version", pattern=r"v=([\d.]+)"),
        "wrk": command_output("wrk", "--version", pattern=r"^wrk \S*?([\d.]+)"),
        "django": importlib.metadata.version("django"),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": f"{commit}{' + uncommitted changes' if dirty else ''}" if commit else None,
        "load_average": [round(n, 2) for n in os.getloadavg()],
    }


# --- Writing ------------------------------------------------------------------------------


def number(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def run_row(label, figures, queries, ratio):
    if not figures:
        return f"| {label} | — | — | — | — | {number(queries)} | — | — | — |"
    latency = figures["latency_ms"]
    return (
        f"| {label} | {number(figures['rps'])} | {number(latency['p50'])} | "
        f"{number(latency['p95'])} | {number(latency['p99'])} | {number(queries)} | "
        f"{number(figures['peak_mb'])} | {figures['errors']} | {number(ratio, 2)} |"
    )


def render_markdown(results):
    """The generated part of docs/benchmarks.md, from the results `main` builds."""
    settings = results["settings"]
    lines = [BEGIN, ""]
    if settings["scale"] < 1:
        lines += [
            f"> **Small-scale try (scale {settings['scale']}, {settings['seconds']} s per "
            "measurement): not the reference figures.** The reference run is `make bench` at "
            "scale 1 on a quiet machine.",
            "",
        ]
    lines += [f"## Results of {results['machine']['date'][:10]}", ""]
    m = results["machine"]
    lines += [
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {m['cpu']} × {m['cpus']} |",
        f"| CPU speed | {number(m.get('python_loop_ms'))} ms for `sum(range(10**7))` in Python "
        "(best of 5; compare runs by it) |",
        f"| memory | {number(m['memory_gb'])} GB |",
        f"| OS | {m['os']} |",
        f"| software | Python {m['python']}, Django {m['django']}, gunicorn {m['gunicorn']}, "
        f"PostgreSQL {m['postgresql']}, Redis {m['redis']}, wrk {m['wrk']} |",
        f"| date, commit | {m['date']}, {m['git_commit']} |",
        f"| load average at start / end | {results['load_average_start']} / {m['load_average']} |",
        "",
        f"Command: `{results['command']}`",
        "",
    ]
    dataset = results["dataset"]
    rows = dataset.get("rows", {})
    lines += [
        f"**Data** (scale {settings['scale']}): "
        + ", ".join(f"{number(count)} {name}" for name, count in sorted(rows.items()))
        + ". "
        + (
            "Reused from the kept cluster."
            if dataset.get("reused")
            else f"Generated in {number(dataset.get('seconds', {}).get('total'))} s."
        ),
        "",
        f"**Load**: gunicorn {settings['workers']} sync workers (DEBUG=0, PostgreSQL "
        f"{settings['database']}, cache on Redis), wrk `-t{settings['threads']} "
        f"-c{settings['connections']}` from another process on 127.0.0.1, "
        f"{settings['warmup_seconds']} s warm-up then {settings['seconds']} s per run. "
        f"*Cached*: PAGE_CACHE_SECONDS={CACHED_SECONDS}; *uncached*: PAGE_CACHE_SECONDS=0; "
        "*baseline*: the page as the portal answered it, saved to a file and served by "
        "whitenoise under the same gunicorn. "
        + (
            "The page cache was active (answers carried `X-Page-Cache: hit`)."
            if settings["page_cache_active"]
            else "**The page cache was not active**: no answer carried `X-Page-Cache: hit`, "
            "so *cached* measures the same portal as *uncached*."
        ),
        "",
        "Queries are counted in-process on the same database and settings (the second "
        "request of a page; *cached* also shows the first, which fills the cache). "
        "Peak MB is the resident memory of gunicorn's master and workers.",
        "",
        "### Summary",
        "",
        "| page | req/s cached | × baseline | p95 cached ms | p95 uncached ms | queries "
        "| targets |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for page in results["pages"]:
        targets = page_targets(page)
        met = [t[3] for t in targets if t[3] is not None]
        summary = f"{sum(met)}/{len(met)} pass" if met else "n/a"
        cached, uncached = page.get("cached") or {}, page.get("uncached") or {}
        lines.append(
            f"| {page['label']} `{page['path']}` | {number(cached.get('rps'))} | "
            f"{number(page.get('ratio_cached'), 2)} | "
            f"{number(cached.get('latency_ms', {}).get('p95'))} | "
            f"{number(uncached.get('latency_ms', {}).get('p95'))} | "
            f"{number(page.get('queries', {}).get('uncached'))} | {summary} |"
        )
    for page in results["pages"]:
        queries = page.get("queries", {})
        lines += [
            "",
            f"### {page['label'].capitalize()}: `{page['path']}`",
            "",
            "| run | req/s | p50 ms | p95 ms | p99 ms | queries | peak MB | errors | "
            "req/s portal / baseline |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            run_row(
                "portal, cached",
                page.get("cached"),
                f"{number(queries.get('cached'))} ({number(queries.get('cached_first'))} first)"
                if "cached" in queries
                else None,
                page.get("ratio_cached"),
            ),
            run_row(
                "portal, uncached",
                page.get("uncached"),
                queries.get("uncached"),
                page.get("ratio_uncached"),
            ),
            run_row("baseline (static file)", page.get("baseline"), None, None),
            "",
            "Targets: "
            + "; ".join(
                f"{what} {target}: {number(value, 2)} {verdict(met)}"
                for what, target, value, met in page_targets(page)
            )
            + ("" if page["public"] else " (signed in: the cached-page targets do not apply)"),
        ]
        in_process = page.get("in_process_ms")
        if in_process:
            lines += [
                "",
                f"One request at a time, in-process (median of 5): "
                f"{number(in_process.get('uncached'))} ms with the page cache off, "
                f"{number(in_process.get('cached'))} ms with it on.",
            ]
    soak_figures = results.get("soak")
    if soak_figures:
        samples = ", ".join(f"{t:g} s {mb:g}" for t, mb in soak_figures["memory_samples"])
        lines += [
            "",
            "### Memory over time",
            "",
            f"Every page in turn for {settings['soak_seconds']} s (page cache off, so each "
            f"request renders), wrk `-c{settings['connections']}`: "
            f"{number(soak_figures['rps'])} req/s, p95 {number(soak_figures['latency_ms']['p95'])} "
            f"ms, {soak_figures['errors']} errors. Resident MB of gunicorn (master and workers) "
            f"every {number(soak_figures['sample_every_s'])} s: {samples}.",
            "",
            "| first window mean | last window mean | window | peak | growth | target |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {soak_figures['first_window_mb']} MB | {soak_figures['last_window_mb']} MB | "
            f"{soak_figures['window_s']:g} s | {soak_figures['peak_mb']} MB | "
            f"{soak_figures['growth']:+.1%} | within {TARGETS['memory_growth']:.0%} over "
            f"{TARGETS['soak_seconds']} s: "
            f"{verdict(soak_targets(soak_figures)[0][3])}"
            + (
                f" (this run: {settings['soak_seconds']} s)"
                if settings["soak_seconds"] < TARGETS["soak_seconds"]
                else ""
            )
            + " |",
        ]
    reminders = results.get("reminders")
    if reminders:
        sweep, aligned = reminders["sweep"], reminders.get("aligned_sweep")
        about = (
            f"{reminders['cohorts']} cohorts × {reminders['members']} members × "
            f"{reminders['milestones']} milestones on {reminders['database']} (a throwaway "
            f"database of the same cluster, built in {reminders['build_seconds']} s), started on "
            f"30 different days in four time zones: the 09:05 sweep in Shanghai finds the "
            f"reminders of a few of them."
        )
        if aligned:
            about += (
                f" Then another {reminders['cohorts']} cohorts as one intake, all starting on "
                f"the same day in Asia/Shanghai on the same schedule, swept at 09:05 on its "
                f"busiest morning (day {aligned['day']}), when every cohort's reminders are "
                f"due at once; a sweep claims at most {number(aligned['limit'])} "
                f"(REMINDER_SWEEP_LIMIT) and the next sweep the rest."
            )
        if 0 < sweep["claimed"] < 1000:
            about += (
                f" A sweep's queries are nearly all a fixed cost, whatever is due, so the "
                f"staggered sweep's queries per 1,000 claimed is that cost ({sweep['queries']} "
                f"queries) divided by the {sweep['claimed']} rows it claimed, fewer than 1,000."
            )
        lines += [
            "",
            "### Reminder sweep",
            "",
            about,
            "",
            "| step | seconds | queries | |",
            "| --- | --- | --- | --- |",
            f"| staggered: sweep, reminders due | {sweep['seconds']} | {sweep['queries']} | "
            f"created {sweep['created']}, claimed {sweep['claimed']} in {sweep['chunks']} chunks |",
            f"| sending what it claimed (in-memory mail) | {reminders['send']['seconds']} | "
            f"{reminders['send']['queries']} | sent {reminders['send']['sent']} |",
            f"| next sweep, nothing new | {reminders['next_sweep']['seconds']} | "
            f"{reminders['next_sweep']['queries']} | |",
            f"| sweep, nothing due | {reminders['quiet_sweep']['seconds']} | "
            f"{reminders['quiet_sweep']['queries']} | |",
        ]
        if aligned:
            lines.append(
                f"| aligned intake: sweep, reminders due | {aligned['seconds']} | "
                f"{aligned['queries']} | created {number(aligned['created'])}, claimed "
                f"{number(aligned['claimed'])} in {aligned['chunks']} chunks, "
                f"{number(aligned['left_pending'])} left pending |"
            )
        rest = reminders.get("aligned_next_sweep")
        if rest:
            lines.append(
                f"| aligned intake: next sweep, the rest | {rest['seconds']} | "
                f"{rest['queries']} | claimed {number(rest['claimed'])} in {rest['chunks']} "
                f"chunks |"
            )
        lines += [
            "",
            "Targets: "
            + "; ".join(
                f"{what} {target}: {number(value, 2)} {verdict(met)}"
                for what, target, value, met in reminder_targets(reminders)
            ),
        ]
    if results.get("notes"):
        lines += ["", "### Notes", ""] + [f"- {note}" for note in results["notes"]]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_markdown(path, generated):
    """Replace the generated part of `path`, keeping what is written by hand around it."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + generated + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + generated
    path.write_text(text)


def print_summary(results):
    print("\npage            run        req/s    p50     p95     p99  queries  peak MB  ratio")
    for page in results["pages"]:
        queries = page.get("queries", {})
        for run, ratio, count in (
            ("cached", page.get("ratio_cached"), queries.get("cached")),
            ("uncached", page.get("ratio_uncached"), queries.get("uncached")),
            ("baseline", None, None),
        ):
            figures = page.get(run)
            if not figures:
                continue
            latency = {key: number(value) for key, value in figures["latency_ms"].items()}
            print(
                f"{page['name']:<15} {run:<9} {figures['rps']:>7.1f} {latency['p50']:>6} "
                f"{latency['p95']:>7} {latency['p99']:>7} {number(count):>8} "
                f"{figures['peak_mb']:>8.1f} {number(ratio, 2):>6}"
            )
        for what, target, value, met in page_targets(page):
            print(f"{'':<15} target {what} {target}: {number(value, 2)} {verdict(met)}")
    if results.get("soak"):
        for what, target, value, met in soak_targets(results["soak"]):
            print(f"memory: {what} {target}: {value} {verdict(met)}")
    if results.get("reminders"):
        for what, target, value, met in reminder_targets(results["reminders"]):
            print(f"reminders: {what} {target}: {number(value, 2)} {verdict(met)}")


# --- The run ------------------------------------------------------------------------------


def django_step(env, *arguments, json_out):
    """Run `scripts/bench_data.py` (or another Django script) in the portal's settings and
    read the JSON it wrote."""
    command = [sys.executable, *arguments, "--json", str(json_out)]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return json.loads(Path(json_out).read_text())


def database_options(cluster):
    return ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]


def prepare_data(cluster, env, args, folder):
    """Migrate, then generate the data, or reuse the kept cluster's of the same scale."""
    marker = Path(args.data_dir) / "dataset.json" if args.data_dir else None
    if marker and marker.exists():
        dataset = json.loads(marker.read_text())
        if dataset["scale"] == args.scale and dataset.get("seed") == args.seed:
            print(f"Reusing the bench data of {marker} (scale {args.scale})")
            manage("migrate", "--noinput", "-v0", env=env)
            return {**dataset, "reused": True}
        raise SystemExit(
            f"{args.data_dir} holds data of scale {dataset['scale']}, seed {dataset.get('seed')}: "
            "choose another --data-dir or delete it."
        )
    # A kept cluster without its marker holds what a failed run left: start again.
    subprocess.run(
        [str(cluster.bin / "dropdb"), "--if-exists", *database_options(cluster), DATABASE],
        check=True,
    )
    cluster.create_database(DATABASE)
    manage("migrate", "--noinput", "-v0", env=env)
    started = time.perf_counter()
    dataset = django_step(
        env,
        "scripts/bench_data.py",
        "generate",
        "--scale",
        str(args.scale),
        "--seed",
        str(args.seed),
        json_out=folder / "dataset.json",
    )
    dataset["seconds"]["total"] = round(time.perf_counter() - started, 1)
    dataset["seed"] = args.seed
    if marker:
        marker.write_text(json.dumps(dataset, indent=2))
    return {**dataset, "reused": False}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of the data (1: the issue's)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seconds", type=int, default=15, help="per measurement")
    parser.add_argument("--warmup-seconds", type=int, default=3)
    parser.add_argument("--soak-seconds", type=int, default=300, help="0: no memory run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (production: 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's")
    parser.add_argument("--pages", help="only these pages, by name (comma-separated)")
    parser.add_argument("--skip-reminders", action="store_true")
    parser.add_argument("--data-dir", help="keep the cluster here and reuse it next time")
    parser.add_argument("--json", default=str(DOCS / "benchmarks.json"))
    parser.add_argument("--markdown", default=str(DOCS / "benchmarks.md"))
    parser.add_argument(
        "--render", metavar="JSON", help="only write --markdown again from these results"
    )
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(Path(args.render).read_text())
        write_markdown(args.markdown, render_markdown(results))
        print(f"Wrote {args.markdown} from {args.render}")
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    results = {
        "command": shlex.join(
            [os.path.relpath(sys.executable, ROOT), "scripts/bench.py", *sys.argv[1:]]
        ),
        "load_average_start": [round(n, 2) for n in os.getloadavg()],
        "targets": TARGETS,
        "notes": [],
    }
    folder = Path(tempfile.mkdtemp(prefix="wecity-bench-"))
    cluster = KeptCluster(args.data_dir) if args.data_dir else PostgresCluster(durable=True)
    redis = RedisServer()
    try:
        cluster.start()
        redis.start()
        results["machine"] = machine(cluster.bin)
        env = portal_environment(
            cluster.url(DATABASE),
            folder,
            CACHE_URL=redis.url(1),
            # The API's throttles stay on (their cache round trips are part of a request),
            # at a rate the load never reaches.
            API_THROTTLE_ANON_RATE="100000/second",
            API_THROTTLE_USER_RATE="100000/second",
        )
        collect_static(env)
        print(f"Bench data: scale {args.scale}, cluster in {cluster.folder}", flush=True)
        results["dataset"] = prepare_data(cluster, env, args, folder)

        uncached_env = {**env, "PAGE_CACHE_SECONDS": "0"}
        cached_env = {**env, "PAGE_CACHE_SECONDS": str(CACHED_SECONDS)}
        # The probe clears its cache: a database index of the Redis the servers do not use.
        probes = {
            mode: django_step(
                {**mode_env, "CACHE_URL": redis.url(2)},
                "scripts/bench_data.py",
                "probe",
                json_out=folder / f"probe-{mode}.json",
            )
            for mode, mode_env in (("uncached", uncached_env), ("cached", cached_env))
        }
        pages = probes["cached"]["pages"]
        if args.pages:
            wanted = set(args.pages.split(","))
            pages = [page for page in pages if page["name"] in wanted]
        session = f"{probes['cached']['session_cookie']}={probes['cached']['session_key']}"
        for page in pages:
            page["queries"] = {
                "uncached": probes["uncached"]["queries"][page["name"]]["queries"],
                "cached_first": probes["cached"]["queries"][page["name"]]["queries_first"],
                "cached": probes["cached"]["queries"][page["name"]]["queries"],
            }
            page["in_process_ms"] = {
                mode: probes[mode]["queries"][page["name"]]["ms"] for mode in probes
            }
            for mode in probes:
                status = probes[mode]["queries"][page["name"]]["status"]
                if status != 200:
                    raise RuntimeError(f"{page['path']} answered {status} in-process ({mode})")
        results["settings"] = {
            "scale": args.scale,
            "seed": args.seed,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "soak_seconds": args.soak_seconds,
            "workers": args.workers,
            "connections": args.connections,
            "threads": args.threads,
            "database": results["machine"]["postgresql"],
        }

        print("\nPortal, page cache off (PAGE_CACHE_SECONDS=0)", flush=True)
        saved = folder / "pages"
        saved.mkdir()
        uncached = measure_portal(
            uncached_env, pages, session, args, mode="uncached", saved_to=saved
        )
        print(f"\nPortal, page cache on (PAGE_CACHE_SECONDS={CACHED_SECONDS})", flush=True)
        cached = measure_portal(cached_env, pages, session, args, mode="cached")
        print("\nBaseline: the same pages as files, whitenoise under gunicorn", flush=True)
        baseline = measure_baseline(saved, env, pages, args)
        for page in pages:
            name = page["name"]
            page.update(cached=cached[name], uncached=uncached[name], baseline=baseline[name])
            base_rps = baseline[name]["rps"] or None
            page["ratio_cached"] = round(cached[name]["rps"] / base_rps, 3) if base_rps else None
            page["ratio_uncached"] = (
                round(uncached[name]["rps"] / base_rps, 3) if base_rps else None
            )
        results["pages"] = pages
        hits = sum(page["cached"]["cache_hits"] for page in pages)
        results["settings"]["page_cache_active"] = hits > 0
        if not hits:
            results["notes"].append(
                "No answer carried `X-Page-Cache: hit`: the page cache is not in this "
                "checkout (or not enabled by PAGE_CACHE_SECONDS), so *cached* = *uncached*."
            )

        if args.soak_seconds:
            print(f"\nMemory over time: every page in turn for {args.soak_seconds} s", flush=True)
            results["soak"] = soak(uncached_env, pages, session, args)
            trend = results["soak"]
            print(
                f"  {trend['rps']} req/s, memory {trend['first_window_mb']} → "
                f"{trend['last_window_mb']} MB ({trend['growth']:+.1%}), peak {trend['peak_mb']}"
            )
        if not args.skip_reminders:
            print("\nReminder sweep (scripts/bench_reminders.py)", flush=True)
            results["reminders"] = django_step(
                env, "scripts/bench_reminders.py", json_out=folder / "reminders.json"
            )
    finally:
        redis.stop()
        cluster.stop()
        if not args.data_dir:
            shutil.rmtree(cluster.folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)

    results["machine"]["load_average"] = [round(n, 2) for n in os.getloadavg()]
    busiest = max(results["load_average_start"][0], results["machine"]["load_average"][0])
    if busiest > (os.cpu_count() or 1) / 2:
        results["notes"].append(
            f"The machine was busy (load average up to {busiest} on {os.cpu_count()} cores "
            "at the start or end of the run): the figures are lower and noisier than on a "
            "quiet machine, the portal's more than the baseline's."
        )
    errors = sum(page[run]["errors"] for page in results["pages"] for run in ("cached", "uncached"))
    errors += results.get("soak", {}).get("errors", 0)
    if errors:
        results["notes"].append(f"{errors} requests failed (not 2xx/3xx, refused or timed out).")
    print_summary(results)
    Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_markdown(args.markdown, render_markdown(results))
    print(f"\nWrote {args.json} and {args.markdown}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
