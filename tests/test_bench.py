"""`make bench`'s pieces, cheaply: the data at a tiny scale, the pages it measures, wrk's
output and the Markdown it writes. No figure of speed is asserted here, ever."""

import copy

import pytest

from cohorts.models import Member
from forums.models import Appearance, Forum, Quote, SearchEntry, Speaker, TranscriptTurn
from scripts import bench, bench_data, bench_static
from topics.models import Deliverable, Submission

TINY = 0.001

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:40123/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    4.02ms  48.20ms   80.12%
    Req/Sec   650.11     50.23   720.00     70.00%
  3900 requests in 3.00s, 44.10MB read
Requests/sec:   1300.00
Transfer/sec:     14.70MB
BENCH-JSON {"requests": 3900, "duration_s": 3.000, "bytes": 46242201, "responses": 3900, \
"non_2xx_3xx": 2, "cache_hits": 3890, "socket_errors": 1, "timeouts": 0, "latency_ms": \
{"mean": 12.310, "max": 48.200, "p50": 11.800, "p90": 17.100, "p95": 19.400, "p99": 31.250}}
"""


@pytest.fixture
def bench_programme(db):
    return bench_data.generate(scale=TINY, log=lambda _line: None)


def test_bench_data_makes_the_sizes_asked_for(bench_programme):
    size = bench_data.sizes(TINY)

    counts = {
        "forums": Forum.objects.count(),
        "speakers": Speaker.objects.count(),
        "quotes": Quote.objects.count(),
        "turns": TranscriptTurn.objects.count(),
        "members": Member.objects.count(),
        "submissions": Submission.objects.count(),
    }

    assert counts == {name: size[name] for name in counts}
    assert size["members"] == size["cohorts"] * bench_data.MEMBERS_PER_COHORT


def test_bench_data_fills_every_forum_and_cohort_like_the_portal_would(bench_programme):
    size = bench_data.sizes(TINY)

    highlights = Quote.objects.filter(is_featured=True).count()
    appearances = Appearance.objects.count()
    deliverables = Deliverable.objects.count()
    turn_entries = SearchEntry.objects.filter(kind=SearchEntry.Kind.TURN).count()
    latest = Forum.objects.order_by("-starts_at").first()

    assert highlights == size["forums"] * bench_data.HIGHLIGHTS_PER_FORUM
    assert appearances == size["forums"] * bench_data.SPEAKERS_PER_FORUM
    assert deliverables == size["cohorts"] * 4 * 6  # four deadlines, six topics
    assert turn_entries == size["turns"]
    assert Forum.objects.published().filter(pk=latest.pk).exists()


def test_bench_data_refuses_a_database_with_data(bench_programme):
    with pytest.raises(RuntimeError, match="use an empty one"):
        bench_data.generate(scale=TINY)


def test_benchmarked_pages_answer_on_the_bench_data(bench_programme):
    pages = bench_data.pages()
    session_key = bench_data.sign_in_session()

    queries = bench_data.count_queries(pages, session_key=session_key)

    assert [page["name"] for page in pages] == [
        "home",
        "recap",
        "speakers",
        "speaker",
        "topic",
        "dashboard",
        "api-forums",
        "api-speakers",
    ]
    assert {name: figures["status"] for name, figures in queries.items()} == dict.fromkeys(
        queries, 200
    )


def wsgi_get(app, path):
    """(status, content type, body) of a GET on a WSGI app, closing what it answers with."""
    started = {}

    def start_response(status, headers):
        started.update(status=status, type=dict(headers)["Content-Type"])

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.url_scheme": "http"}
    answer = app(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    return started["status"], started["type"], body


def test_static_baseline_serves_saved_pages_as_they_were(tmp_path):
    (tmp_path / "home.html").write_bytes("<p>首页</p>".encode())
    (tmp_path / "api-forums.json").write_bytes(b'{"count": 1}')
    app = bench_static.static_site(tmp_path)

    answers = {path: wsgi_get(app, path) for path in ("/home.html", "/api-forums.json", "/x")}

    assert answers == {
        "/home.html": ("200 OK", 'text/html; charset="utf-8"', "<p>首页</p>".encode()),
        "/api-forums.json": ("200 OK", "application/json", b'{"count": 1}'),
        "/x": ("404 Not Found", "text/plain; charset=utf-8", b"not found\n"),
    }


def test_parse_wrk_reads_the_lua_script_line():
    figures = bench.parse_wrk(WRK_OUTPUT)

    assert figures["rps"] == 1300.0
    assert figures["errors"] == 3
    assert figures["cache_hits"] == 3890
    assert figures["latency_ms"] == {
        "mean": 12.31,
        "max": 48.2,
        "p50": 11.8,
        "p90": 17.1,
        "p95": 19.4,
        "p99": 31.25,
    }


def test_parse_wrk_has_no_latency_when_nothing_answered():
    output = WRK_OUTPUT.replace('"requests": 3900', '"requests": 0')

    figures = bench.parse_wrk(output)

    assert figures["rps"] == 0
    assert set(figures["latency_ms"].values()) == {None}


def test_parse_wrk_without_the_line_says_so():
    with pytest.raises(ValueError, match="no BENCH-JSON line"):
        bench.parse_wrk("Running 3s test @ http://127.0.0.1:1/\n")


def run_figures(rps, p95, **extra):
    latency = {"mean": p95 / 2, "max": p95 * 2, "p50": p95 / 2, "p90": p95, "p95": p95}
    latency["p99"] = p95 * 1.5
    return {
        "rps": rps,
        "latency_ms": latency,
        "peak_mb": 300.5,
        "errors": 0,
        "cache_hits": 0,
        **extra,
    }


SAMPLE_RESULTS = {
    "command": ".venv/bin/python scripts/bench.py --scale 0.05",
    "load_average_start": [0.1, 0.2, 0.3],
    "machine": {
        "cpu": "AMD EPYC",
        "cpus": 2,
        "python_loop_ms": 287.4,
        "memory_gb": 24.0,
        "os": "Debian GNU/Linux 12 (bookworm) (6.1)",
        "python": "3.11.7",
        "postgresql": "15.20",
        "redis": "7.0.15",
        "wrk": "4.1.0",
        "django": "5.2.19",
        "gunicorn": "27.0.1",
        "date": "2026-11-27T12:00:00+00:00",
        "git_commit": "5230050",
        "load_average": [0.4, 0.5, 0.6],
    },
    "settings": {
        "scale": 0.05,
        "seed": 2026,
        "seconds": 3,
        "warmup_seconds": 3,
        "soak_seconds": 20,
        "workers": 3,
        "connections": 16,
        "threads": 2,
        "database": "15.20",
        "page_cache_active": True,
    },
    "dataset": {"rows": {"forums": 25, "transcript turns": 10000}, "seconds": {"total": 12.5}},
    "pages": [
        {
            "name": "home",
            "label": "home page",
            "path": "/",
            "signed_in": False,
            "public": True,
            "queries": {"uncached": 4, "cached_first": 5, "cached": 0},
            "cached": run_figures(900.0, 20.0, cache_hits=2700),
            "uncached": run_figures(60.0, 180.0),
            "baseline": run_figures(1500.0, 15.0),
            "ratio_cached": 0.6,
            "ratio_uncached": 0.04,
        },
        {
            "name": "dashboard",
            "label": "a member's dashboard",
            "path": "/programme/",
            "signed_in": True,
            "public": False,
            "queries": {"uncached": 13, "cached_first": 13, "cached": 13},
            "cached": run_figures(50.0, 120.0),
            "uncached": run_figures(50.0, 130.0),
            "baseline": run_figures(1400.0, 16.0),
            "ratio_cached": 0.036,
            "ratio_uncached": 0.036,
        },
    ],
    "soak": {
        **run_figures(70.0, 200.0),
        "memory_samples": [[0, 400.0], [10, 404.0], [20, 405.0]],
        "window_s": 6.7,
        "first_window_mb": 400.0,
        "last_window_mb": 405.0,
        "peak_mb": 405.0,
        "growth": 0.0125,
        "sample_every_s": 1.7,
    },
    "reminders": {
        "cohorts": 100,
        "members": 35,
        "milestones": 40,
        "database": "postgresql",
        "build_seconds": 3.1,
        "sweep": {"seconds": 0.5, "queries": 17, "created": 929, "claimed": 929, "chunks": 19},
        "send": {"seconds": 20.0, "queries": 4600, "sent": 929},
        "next_sweep": {"seconds": 0.03, "queries": 10},
        "quiet_sweep": {"seconds": 0.03, "queries": 10},
    },
    "notes": [],
}


def test_markdown_shows_each_run_of_a_page_with_its_targets():
    text = bench.render_markdown(SAMPLE_RESULTS)

    lines = text.splitlines()
    assert (
        "| portal, cached | 900.0 | 10.0 | 20.0 | 30.0 | 0 (5 first) | 300.5 | 0 | 0.60 |" in lines
    )
    assert "| portal, uncached | 60.0 | 90.0 | 180.0 | 270.0 | 4 | 300.5 | 0 | 0.04 |" in lines
    assert "| baseline (static file) | 1,500.0 | 7.5 | 15.0 | 22.5 | — | 300.5 | 0 | — |" in lines
    assert (
        "Targets: req/s cached ≥ ½ baseline ≥ 0.5: 0.60 pass; p95 cached < 50 ms: 20.00 pass; "
        "p95 uncached < 150 ms: 180.00 **miss**; queries ≤ 12: 5 pass"
    ) in lines
    assert (
        "Targets: p95 uncached < 150 ms: 130.00 pass; queries ≤ 12: 13 **miss** "
        "(signed in: the cached-page targets do not apply)"
    ) in lines
    assert (
        "Targets: sweep time < 10 s: 0.50 pass; queries per 1,000 claimed < 5: 18.30 **miss**"
    ) in lines


def test_markdown_marks_a_small_scale_run_and_names_the_machine():
    text = bench.render_markdown(SAMPLE_RESULTS)

    assert text.startswith(bench.BEGIN)
    assert text.rstrip().endswith(bench.END)
    assert "**Small-scale try (scale 0.05, 3 s per measurement): not the reference" in text
    assert "| CPU | AMD EPYC × 2 |" in text.splitlines()
    assert "| CPU speed | 287.4 ms for `sum(range(10**7))` in Python" in text


def test_cpu_speed_is_the_best_of_five_timings_of_the_loop_in_ms(monkeypatch):
    # Each timing reads the clock twice, before and after the loop: 0.5, 0.3, 0.4 … seconds.
    readings = iter([0, 0.5, 1, 1.3, 2, 2.4, 3, 3.35, 4, 4.6])
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(readings))

    assert bench.cpu_speed_ms() == 300.0
    assert next(readings, "all read") == "all read"


def test_markdown_of_a_full_run_is_not_marked_small():
    results = copy.deepcopy(SAMPLE_RESULTS)
    results["settings"]["scale"] = 1.0

    text = bench.render_markdown(results)

    assert "Small-scale" not in text


def test_write_markdown_replaces_only_the_generated_part(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(f"# Benchmarks\n\nHow to read it.\n\n{bench.BEGIN}\nold figures\n{bench.END}\n")

    bench.write_markdown(path, f"{bench.BEGIN}\nnew figures\n{bench.END}\n")

    assert path.read_text() == (
        f"# Benchmarks\n\nHow to read it.\n\n{bench.BEGIN}\nnew figures\n{bench.END}\n"
    )


def test_memory_trend_compares_the_first_and_last_window():
    samples = [(0, 400.0), (10, 410.0), (20, 420.0), (30, 430.0), (40, 440.0), (50, 460.0)]

    trend = bench.memory_trend(samples, 50)

    assert (trend["first_window_mb"], trend["last_window_mb"], trend["growth"]) == (
        405.0,
        450.0,
        0.1111,
    )
