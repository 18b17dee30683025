"""The MyoEvidence benchmark: the app as deployed, under load, on the real corpus and at scale.

Run it with ``bench/run.sh`` (which checks wrk, PostgreSQL and Redis first). It

1. creates a PostgreSQL database of its own (``myoevidence_bench``, dropped at the end), migrates,
   collects the static files and loads the real corpus;
2. serves the app with gunicorn in production mode (DJANGO_DEBUG=false, a generated secret key,
   DJANGO_ALLOWED_HOSTS=127.0.0.1, whitenoise for static files, Redis as the shared cache;
   plain HTTP, so DJANGO_SECURE_SSL_REDIRECT=false: TLS ends at a proxy in production), with
   the project's gunicorn.conf.py (gthread workers, keep-alive) but no worker recycling;
3. drives each endpoint with wrk from a second process at fixed concurrency, twice: with the
   page cache on (the production configuration) and off (every request rendered; the data
   cache of per-generation aggregates stays on), next to a static asset served by the same
   server, the ceiling; with the page cache off it also times the first request after a
   content change: an editor edits a published therapy's summary through the API (the
   generation moves on, so every cached page, fragment and value is old), and the time of
   that edit's own request, which renders the pages readers needed again (refresh ahead,
   core/caching/refresh.py);
4. adds the synthetic corpus (``generate_synthetic``, 100k studies by default) and measures
   again, then downloads the full BibTeX, CSV and FHIR exports, each twice: the first after the
   last content change, sampling the gunicorn workers' resident memory (VmRSS in
   /proc/<pid>/status), renders it (and keeps BibTeX and CSV as files,
   core/caching/downloads.py); the second is what the readers after it get;
5. prints the table with PASS/FAIL lines for the targets, and writes it with the machine's
   description and the key query plans (bench/explain.py) to bench/RESULTS.md and to the
   performance page, docs/benchmark.md (between the bench:start/end markers); the raw numbers go to
   bench/results/latest.json.

One deliberate difference from production: the anonymous API rate limit (120/minute per client
address by default) is raised, since every request of a load test comes from one address.
An endpoint whose single request takes longer than SLOW_SECONDS is measured with that one
request rather than under load (queued requests would spill into the next measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg2

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
PYTHON = sys.executable
DB_NAME = "myoevidence_bench"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
SLOW_SECONDS = 3.0
# Single requests after a change, the median reported: five, since with three, two slow
# spells of the machine (one request in eight or so takes 3-4× its usual time here, on any
# worker, changed content or not) decided the target.
COLD_RUNS = 5
STATIC = "static asset (ceiling)"

# (name, path, kind): every page and API list is held to the throughput and scaling targets,
# "search" to its latency target too. Exports are downloaded once each at scale (EXPORTS).
ENDPOINTS = [
    ("home (matrix)", "/", "page"),
    ("therapy page", "/therapies/rituximab/", "page"),
    ("summary of findings", "/therapies/rituximab/dermatomyositis/", "page"),
    ("filtered study list", "/studies/?subtype=dm&design=case_report", "page"),
    ("references", "/references/", "page"),
    ("search", "/search/?q=rituximab", "search"),
    ("API study list", "/api/v1/studies/", "api"),
]
# The three configurations of issue 16, each measured on both corpora with its own static
# ceiling: (name, label, environment).
CONFIGS = [
    (
        "on",
        "page cache on, Redis",
        {"CACHE_URL": REDIS_URL, "MYOEVIDENCE_PAGE_CACHE_SECONDS": "300"},
    ),
    (
        "off",
        "page cache off, Redis",
        {"CACHE_URL": REDIS_URL, "MYOEVIDENCE_PAGE_CACHE_SECONDS": "0"},
    ),
    ("local", "default, no Redis", {"CACHE_URL": "locmem://"}),
]
CONFIG_LABEL = {name: label for name, label, _ in CONFIGS}
WARM_RUNS = 7
WARMUP_SECONDS = 2
# Unmeasured warm-up runs, with WARMUP_SPREAD times the connections, until every worker has
# served the endpoint (at most WARMUP_RUNS runs): a worker that served requests in a run used
# at least SERVED_TICKS of CPU (1/100 s each); an idle one uses next to none.
WARMUP_RUNS = 5
WARMUP_SPREAD = 4
SERVED_TICKS = 5
# A measured run in which one worker used more than this share of the workers' CPU served most
# connections on one core (see measure); it is run again, at most ONE_WORKER_REPEATS times per
# endpoint, the same rule for the static ceiling and for the pages.
ONE_WORKER_SHARE = 0.6
ONE_WORKER_REPEATS = 3
EXPORTS = [
    ("BibTeX export (full)", "/references/export/bibtex/"),
    ("CSV export (full)", "/studies/export.csv"),
    ("FHIR R5 Bundle (full)", "/api/fhir/Bundle/all"),
]


@dataclass
class Result:
    endpoint: str
    corpus: str
    cache: str
    requests: int = 0
    rps: float = 0.0
    p50: float | None = None  # milliseconds
    p95: float | None = None
    p99: float | None = None
    errors: int = 0
    note: str = ""
    cold_ms: float | None = None  # first request after a content change (median of COLD_RUNS)
    change_ms: float | None = None  # the request that made the change (median of COLD_RUNS)
    warm_ms: float | None = None  # one request alone, nothing changed (median of WARM_RUNS)


@dataclass
class Memory:
    export: str
    seconds: float
    megabytes: float
    baseline_mb: float
    peak_mb: float
    at_quarters_mb: list[float] = field(default_factory=list)
    peak_at: float = 0.0  # the share of the bytes sent when the peak was sampled
    # The next download of the same export (the first one kept it as a file when the view
    # keeps its full downloads: core/caching/downloads.py), and whether it was that file.
    again_seconds: float = 0.0
    again_kept: bool = False


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the machine, the database, the commands --------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "load_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "postgresql": admin_query("SHOW server_version")[0][0],
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        .stdout.split("\n")[0]
        .split(" Copyright")[0],
    }


def admin_query(sql: str):
    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None
    finally:
        conn.close()


def create_database() -> None:
    admin_query(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin_query(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    admin_query(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
    )
    admin_query(f"DROP DATABASE IF EXISTS {DB_NAME}")


def vacuum() -> None:
    conn = psycopg2.connect(f"{PG}/{DB_NAME}")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    conn.close()


def manage(env: dict, *args: str, quiet: bool = True) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=None if not quiet else subprocess.PIPE,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr or ''}")
    return result.stdout


# The content change the benchmark makes: an editor edits a published therapy's summary through
# the API, as curators do (the admin and the API share the write services). It moves the
# content generation on, so every cached page and value is old, in every process; the request
# that made it renders again the pages readers needed (core.caching.refresh) before it answers.
CHANGED = "/api/v1/therapies/rituximab/"
CHANGE_MARK = " [edited by the benchmark]"


def editor_token(env: dict) -> str:
    """An API token of a member of Editors, created in the benchmark's database."""
    code = (
        "from django.contrib.auth.models import Group, User\n"
        "from rest_framework.authtoken.models import Token\n"
        "from core.workflow import EDITORS\n"
        "user = User.objects.create_user('bench-editor', is_staff=True)\n"
        "user.groups.add(Group.objects.get(name=EDITORS))\n"
        "print(Token.objects.create(user=user).key)\n"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def request(url: str, token: str, method: str = "GET", body: dict | None = None, **headers):
    """Status, headers and parsed JSON of one API request as the editor."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Token {token}")
    req.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=600) as response:
        return response.status, dict(response.headers), json.loads(response.read())


def change_content(server: Server, token: str, restore: bool = False) -> float:
    """Edit the therapy's summary (add the mark, or take it away); the edit's own seconds.
    With ``restore``, only take a mark away that is there."""
    url = server.url(CHANGED)
    _, headers, therapy = request(url, token)
    summary = therapy["review_summary"]
    marked = summary.endswith(CHANGE_MARK)
    if restore and not marked:
        return 0.0
    summary = summary[: -len(CHANGE_MARK)] if marked else summary + CHANGE_MARK
    started = time.monotonic()
    status, _, _ = request(
        url, token, "PATCH", {"review_summary": summary}, **{"If-Match": headers["ETag"]}
    )
    seconds = time.monotonic() - started
    if status != 200:
        raise SystemExit(f"the benchmark's content change failed: {status}")
    return seconds


def clear_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


# -- the server -------------------------------------------------------------------------------


class Server:
    """gunicorn serving config.wsgi; ``workers()`` lists its worker processes."""

    def __init__(self, env: dict, port: int, workers: int):
        self.env, self.port, self.workers_n = env, port, workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        # The project's production gunicorn settings (gunicorn.conf.py: gthread workers with
        # keep-alive), told where to listen and to keep quiet.
        env = dict(
            self.env,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_ACCESS_LOG="",
            GUNICORN_LOG_LEVEL="warning",
            GUNICORN_WORKERS=str(self.workers_n),
        )
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "-c",
                str(PROJECT / "gunicorn.conf.py"),
                "--no-control-socket",
                "config.wsgi",
            ],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if fetch(self.url("/healthz"))[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                break
        raise SystemExit("gunicorn did not start (see its messages above)")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self) -> list[int]:
        master = self.process.pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return pids


def fetch(url: str, timeout: float = 600) -> tuple[int, dict, int, float]:
    """Status, headers, body size and seconds for one GET."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        size = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
        return response.status, dict(response.headers), size, time.monotonic() - started


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def wait_idle(server: Server, limit: float = 60) -> None:
    """Wait until the workers stop using CPU (or ``limit`` seconds)."""
    pids = server.workers()
    deadline = time.monotonic() + limit
    last = cpu_ticks(pids)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_ticks(pids)
        if now == last:
            return
        last = now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- measuring --------------------------------------------------------------------------------


def wrk(url: str, seconds: int, concurrency: int, *, new_connections: bool = False) -> dict:
    """One wrk run; ``new_connections``: a connection per request (``Connection: close``)
    instead of keep-alive."""
    headers = ["-H", "Connection: close"] if new_connections else []
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            *headers,
            "-s",
            str(BENCH / "latency.lua"),
            url,
        ],
        capture_output=True,
        text=True,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed for {url}:\n{result.stdout}\n{result.stderr}")
    return json.loads(line.removeprefix("WRK_JSON "))


def measure(
    server: Server, name: str, path: str, corpus: str, cache: str, args: argparse.Namespace
) -> Result:
    result = Result(endpoint=name, corpus=corpus, cache=cache)
    url = server.url(path)
    try:
        status, headers, _, seconds = fetch(url)
        if seconds > SLOW_SECONDS or (
            cache in ("on", "local") and headers.get("X-Page-Cache") == "miss"
        ):
            # The first request computes what the later ones find (a value, a fragment, the
            # page): the measured state is the one after it. Only a second slow request
            # means the endpoint is too slow to load; the cold state is measured apart.
            status, headers, _, seconds = fetch(url)
        if seconds > SLOW_SECONDS and cache == "local":
            # Without Redis every worker computes its own copy once; the second request may
            # have gone to another worker. Give every worker its first request (warm_up)
            # before calling it too slow.
            warm_up(server, url, args.concurrency)
            status, headers, _, seconds = fetch(url)
    except urllib.error.HTTPError as exc:
        result.note = f"answered {exc.code}"
        return result
    if seconds > SLOW_SECONDS:
        result.requests, result.rps = 1, 1 / seconds
        result.p50 = result.p95 = result.p99 = seconds * 1000
        result.note = "one request (too slow to load)"
        return result
    # Several runs, each on new connections: a gthread worker accepts as many connections as
    # it is offered, and in one run in three or four a single worker takes most of the 8
    # keep-alive connections and serves them on one core (half the throughput or less). Such
    # a run is run again (ONE_WORKER_SHARE); the median run is reported, every kept run's
    # req/s in the note.
    # Every worker process keeps its own copies (and, without Redis, computes them itself):
    # short unmeasured runs first, so that the runs measure the warm state of every worker.
    # The cold state is measured on its own (cold_latency).
    warmups = warm_up(server, url, args.concurrency)
    runs = []
    repeated = 0
    pids = server.workers()
    while len(runs) < args.runs:
        before = {pid: cpu_ticks([pid]) for pid in pids}
        data = wrk(url, args.seconds, args.concurrency)
        wait_idle(server)  # requests still running when wrk stopped must not slow the next
        duration = data["duration_us"] / 1e6
        result.requests += data["requests"]
        result.errors += data["errors"] + data["non_2xx"]
        used = [cpu_ticks([pid]) - before[pid] for pid in pids]
        if sum(used) and max(used) > ONE_WORKER_SHARE * sum(used) and repeated < ONE_WORKER_REPEATS:
            # Most of the keep-alive connections went to one worker, which served them on
            # one core: gunicorn's accept lottery, not the endpoint (behind nginx, which opens
            # a connection per request, it does not happen). Run again; the note says so.
            repeated += 1
            continue
        runs.append((data["requests"] / duration if duration else 0, data))
    runs.sort(key=lambda run: run[0])
    result.rps, data = runs[len(runs) // 2]
    if data["requests"]:
        result.p50, result.p95, result.p99 = (
            data[k] / 1000 for k in ("p50_us", "p95_us", "p99_us")
        )
    notes = []
    if warmups > 1:
        notes.append(f"{warmups} warm-up runs")
    if repeated:
        notes.append(f"{repeated} run(s) on one worker repeated")
    if cache in ("on", "local") and "X-Page-Cache" in headers:
        notes.append(f"page cache {headers['X-Page-Cache']}")
    if len(runs) > 1:
        notes.append("runs " + " / ".join(fmt(rps, 0) for rps, _ in runs) + " req/s")
    result.note = "; ".join(notes)
    return result


def warm_up(server: Server, url: str, concurrency: int) -> int:
    """Unmeasured wrk runs until every worker has served ``url`` (at most WARMUP_RUNS); how
    many ran.

    Without Redis each worker computes its own copy of a page's values on its first request
    (at +100k a search takes about 0.6 s). The warm-up opens a connection per request: with
    keep-alive a gthread worker keeps every connection it accepted for the whole run, and the
    same workers tend to win the next run's connections too (three 2-second runs of 32
    connections on 5 workers: two workers served nothing after the first run; with a connection
    per request each of the five served a fifth of every run). A worker's first computation inside
    a measured run would be a cold request counted as a warm one, and more than one: wrk
    corrects for coordinated omission (a request that took 600 ms where they take 2 ms adds
    samples for the ~300 requests its connection could not send), so a single one puts the
    run's p95 at hundreds of milliseconds. The cold state is measured apart (cold_latency)."""
    pids = set(server.workers())
    served: set[int] = set()
    runs = 0
    while runs < WARMUP_RUNS and served != pids:
        before = {pid: cpu_ticks([pid]) for pid in pids}
        # More connections than the measured runs: spread over more workers.
        wrk(url, WARMUP_SECONDS, concurrency * WARMUP_SPREAD, new_connections=True)
        wait_idle(server, limit=300)
        served |= {pid for pid in pids if cpu_ticks([pid]) - before[pid] >= SERVED_TICKS}
        runs += 1
    if served != pids:
        log(f"  warm-up: {len(pids - served)} of {len(pids)} workers not reached in {runs} runs")
    return runs


def cold_latency(server: Server, path: str, token: str) -> tuple[float, float]:
    """Milliseconds for one request right after a content change, and for the request that
    made the change (medians of COLD_RUNS)."""
    times, changes = [], []
    for _ in range(COLD_RUNS):
        changes.append(change_content(server, token) * 1000)
        # The serving processes hear of the new generation from PostgreSQL's notification
        # (core.caching.listener) at the commit, before the change's response is sent.
        times.append(fetch(server.url(path))[3] * 1000)
    change_content(server, token, restore=True)
    return sorted(times)[len(times) // 2], sorted(changes)[len(changes) // 2]


def warm_latency(server: Server, path: str) -> float:
    """Milliseconds for one request alone when nothing has changed (median of WARM_RUNS)."""
    fetch(server.url(path))
    times = sorted(fetch(server.url(path))[3] * 1000 for _ in range(WARM_RUNS))
    return times[len(times) // 2]


def measure_pass(
    server: Server, corpus: str, cache: str, static_path: str, args: argparse.Namespace, token: str
) -> list[Result]:
    results = []
    log(f"{corpus}, {cache}: {STATIC}")
    results.append(measure(server, STATIC, static_path, corpus, cache, args))
    for name, path, _ in ENDPOINTS:
        log(f"{corpus}, {cache}: {name}")
        result = measure(server, name, path, corpus, cache, args)
        if cache == "off":
            # Every page rendered: the first request after a content change (every cached
            # value and fragment old) against one alone when nothing changed; and what the
            # change's own request cost (it renders again the pages readers needed).
            result.warm_ms = warm_latency(server, path)
            result.cold_ms, result.change_ms = cold_latency(server, path, token)
        results.append(result)
    # The ceiling is measured before and after the pages, and the pages are compared with the
    # higher of the two (a slow spell during one of them must not flatter the pages).
    log(f"{corpus}, {cache}: {STATIC}, again")
    before, after = results[0], measure(server, STATIC, static_path, corpus, cache, args)
    best = max(before, after, key=lambda r: r.rps)
    before.note = (
        f"the higher of {fmt(before.rps, 0)} (before the pages) and "
        f"{fmt(after.rps, 0)} req/s (after), each the median of its runs"
    )
    before.requests += after.requests
    before.errors += after.errors
    before.rps, before.p50, before.p95, before.p99 = best.rps, best.p50, best.p95, best.p99
    return results


def export_memory(server: Server, name: str, path: str) -> Memory:
    """Download an export once, sampling every worker's VmRSS; report the busiest worker."""
    pids = server.workers()
    baseline = {pid: rss_mb(pid) for pid in pids}
    ticks_before = {pid: cpu_ticks([pid]) for pid in pids}  # the serving worker uses the CPU
    peaks = dict(baseline)
    progress = {"bytes": 0}
    series: dict[int, list[tuple[int, float]]] = {pid: [] for pid in pids}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in pids:
                rss = rss_mb(pid)
                peaks[pid] = max(peaks[pid], rss)
                series[pid].append((progress["bytes"], rss))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    with urllib.request.urlopen(server.url(path), timeout=1800) as response:
        while chunk := response.read(1 << 16):
            progress["bytes"] += len(chunk)
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    # One sample once everything is sent: the sampler's last one may have come before the
    # last bytes, and the 100% point must be measured, not stood in for by the peak.
    for pid in pids:
        rss = rss_mb(pid)
        peaks[pid] = max(peaks[pid], rss)
        series[pid].append((progress["bytes"], rss))
    busiest = max(pids, key=lambda pid: cpu_ticks([pid]) - ticks_before[pid])
    total = progress["bytes"]
    # The same download again: what every reader after the first gets until the content
    # changes (a file sent as it is, when the export is kept; rendered again otherwise).
    started = time.monotonic()
    again = 0
    with urllib.request.urlopen(server.url(path), timeout=1800) as response:
        kept = response.headers.get("Content-Length") is not None  # streamed ones have none
        while chunk := response.read(1 << 16):
            again += len(chunk)
    again_seconds = time.monotonic() - started
    if again != total:
        raise RuntimeError(f"{path}: the second download has {again} bytes, the first {total}")
    quarters = []
    for fraction in (0.25, 0.5, 0.75, 1.0):
        reached = [rss for sent, rss in series[busiest] if sent >= fraction * total]
        quarters.append(reached[0])
    peak_at = next(sent for sent, rss in series[busiest] if rss == peaks[busiest])
    return Memory(
        export=name,
        seconds=seconds,
        megabytes=total / 1e6,
        baseline_mb=baseline[busiest],
        peak_mb=peaks[busiest],
        at_quarters_mb=quarters,
        peak_at=peak_at / total if total else 0.0,
        again_seconds=again_seconds,
        again_kept=kept,
    )


def rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


# -- the report -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(results: list[Result], corpus_label: dict[str, str]) -> list[str]:
    lines = [
        "| endpoint | corpus | configuration | req/s | p50 ms | p95 ms | p99 ms | "
        "× static | alone, ms | first after a change, ms | the change, ms | requests | errors | "
        "note |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    statics = {(r.corpus, r.cache): r.rps for r in results if r.endpoint == STATIC}
    for r in results:
        ceiling = statics.get((r.corpus, r.cache))
        ratio = "" if r.endpoint == STATIC or not ceiling else f"{r.rps / ceiling:.2f}"
        lines.append(
            f"| {r.endpoint} | {corpus_label[r.corpus]} | {CONFIG_LABEL[r.cache]} | "
            f"{fmt(r.rps)} | {fmt(r.p50)} | {fmt(r.p95)} | {fmt(r.p99)} | {ratio} | "
            f"{'' if r.warm_ms is None else fmt(r.warm_ms)} | "
            f"{'' if r.cold_ms is None else fmt(r.cold_ms)} | "
            f"{'' if r.change_ms is None else fmt(r.change_ms, 0)} | {r.requests} | "
            f"{r.errors} | {r.note} |"
        )
    return lines


def verdicts(results: list[Result], memory: list[Memory]) -> list[str]:
    """The targets of issue 16, one line each."""
    by = {(r.endpoint, r.corpus, r.cache): r for r in results}
    lines = []

    def verdict(ok: bool | None, text: str) -> None:
        lines.append(f"{'PASS' if ok else ('FAIL' if ok is not None else 'N/A ')}  {text}")

    def throughput(cache: str, corpus: str, share: float) -> None:
        static = by.get((STATIC, corpus, cache))
        for name, _, _ in ENDPOINTS:
            r = by.get((name, corpus, cache))
            if not r or not static or not static.rps:
                continue
            verdict(
                r.rps / static.rps >= share,
                f"[{CONFIG_LABEL[cache]}] {name} ({corpus_name(corpus)}): {fmt(r.rps)} req/s = "
                f"{r.rps / static.rps:.2f}× the static asset's {fmt(static.rps)} "
                f"(target ≥ {share}×)",
            )

    def scaling(cache: str) -> None:
        for name, _, _ in ENDPOINTS:
            real, big = by.get((name, "real", cache)), by.get((name, "big", cache))
            if real and big and real.p95 and big.p95:
                ratio = big.p95 / real.p95
                verdict(
                    ratio <= 2,
                    f"[{CONFIG_LABEL[cache]}] {name}: p95 at scale {fmt(big.p95)} ms = "
                    f"{ratio:.1f}× the real corpus's {fmt(real.p95)} ms (target ≤ 2×)",
                )

    throughput("off", "real", 0.1)
    scaling("off")
    for corpus in ("real", "big"):
        throughput("on", corpus, 0.8)
    for corpus in ("real", "big"):
        throughput("local", corpus, 0.5)
    scaling("local")
    for name, _, kind in ENDPOINTS:
        big = by.get((name, "big", "local"))
        if kind == "search" and big and big.p95:
            verdict(
                big.p95 <= 100,
                f"[{CONFIG_LABEL['local']}] {name}: p95 at scale {fmt(big.p95)} ms "
                "(target ≤ 100 ms)",
            )
    for corpus in ("real", "big"):
        for name, _, _ in ENDPOINTS:
            r = by.get((name, corpus, "off"))
            if r and r.cold_ms and r.warm_ms:
                verdict(
                    r.cold_ms <= 3 * r.warm_ms,
                    f"[{CONFIG_LABEL['off']}] {name} ({corpus_name(corpus)}): first request "
                    f"after a content change {fmt(r.cold_ms)} ms = {r.cold_ms / r.warm_ms:.1f}× "
                    f"one alone ({fmt(r.warm_ms)} ms) (target ≤ 3×); the change itself "
                    f"{fmt(r.change_ms, 0)} ms",
                )
    for m in memory:
        # Both downloads must reach the target: the first after a change (rendered) and the
        # next (the file the first kept, when the export is kept; rendered again otherwise).
        rate = m.megabytes / m.again_seconds if m.again_seconds else 0
        first = m.megabytes / m.seconds if m.seconds else 0
        how = "sent from the file the first download kept" if m.again_kept else "rendered"
        verdict(
            min(rate, first) >= 10,
            f"{m.export} at scale streams at {fmt(first)} MB/s the first time after a change "
            f"(rendered, {fmt(m.megabytes)} MB in {fmt(m.seconds)} s) and {fmt(rate)} MB/s the "
            f"next ({fmt(m.again_seconds)} s, {how}) (target ≥ 10 MB/s, both)",
        )
        growth = m.at_quarters_mb[-1] - m.at_quarters_mb[0]
        quarters = "/".join(fmt(q) for q in m.at_quarters_mb)
        verdict(
            growth < 10,
            f"{m.export} at scale streams with flat memory: worker RSS "
            f"{fmt(m.baseline_mb)} MB before, {quarters}"
            f" MB at 25/50/75/100% of {fmt(m.megabytes)} MB sent, peak "
            f"{fmt(m.peak_mb)} MB at {m.peak_at:.0%} (target: < 10 MB growth from 25% to 100%)",
        )
    errors = sum(r.errors for r in results)
    verdict(errors == 0, f"no failed or non-2xx responses under load ({errors})")
    return lines


def corpus_name(corpus: str) -> str:
    return "real corpus" if corpus == "real" else "at scale"


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark MyoEvidence under load.")
    parser.add_argument(
        "--studies",
        type=int,
        default=100_000,
        help="synthetic studies for the scale run (default 100000)",
    )
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="wrk runs per endpoint, each on new connections; the median run "
        "is reported (default 3)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn workers (default 2 × CPUs + 1, as gunicorn.conf.py)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="GUNICORN_MAX_REQUESTS (default 0: no recycling; gunicorn.conf.py's 1000 restarts "
        "every worker every few seconds at these rates, which is measured as ~1 s tails)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite bench/RESULTS.md from the last run "
        "(bench/results/latest.json)",
    )
    args = parser.parse_args()
    if args.render_only:
        last = json.loads((BENCH / "results" / "latest.json").read_text())
        write_results(last["machine"], last["report"], last["explain"], last["deploy_check"])
        write_readme(last["results"], last["report"], last["machine"]["finished"])
        return 0

    started = time.monotonic()
    info = machine()
    info.update(
        gunicorn_workers=args.workers,
        concurrency=args.concurrency,
        seconds=args.seconds,
        runs=args.runs,
        studies=args.studies,
        max_requests=args.max_requests,
        threads=int(os.environ.get("GUNICORN_THREADS", "4")),
    )
    prefix = f"bench-{secrets.token_hex(4)}"
    static_root = Path(tempfile.mkdtemp(prefix="myoevidence-bench-static-"))
    # Kept exports (core/caching/downloads.py) in a folder of the run's own.
    downloads = Path(tempfile.mkdtemp(prefix="myoevidence-bench-downloads-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_", "MYOEVIDENCE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"{PG}/{DB_NAME}",
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=prefix,
        MYOEVIDENCE_API_ANON_RATE="100000000/minute",
        DJANGO_LOG_LEVEL="WARNING",
        # Plain HTTP on loopback: no TLS proxy in front to redirect to.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_STATIC_ROOT=str(static_root),
        MYOEVIDENCE_DOWNLOAD_DIR=str(downloads),
        GUNICORN_MAX_REQUESTS=str(args.max_requests),
    )
    labels = {"real": "real", "big": f"+{args.studies // 1000}k"}
    results: list[Result] = []
    memory: list[Memory] = []
    explain = ""
    deploy_check = ""
    try:
        log(f"database {DB_NAME}: create, migrate, collectstatic, load the corpus")
        create_database()
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage(env, "load_corpus")
        token = editor_token(env)
        deploy_check = subprocess.run(
            [PYTHON, "manage.py", "check", "--deploy"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
        ).stderr.strip()
        manifest = json.loads((static_root / "staticfiles.json").read_text())
        static_path = "/static/" + manifest["paths"]["css/site.css"]
        vacuum()
        port = free_port()
        for corpus in ("real", "big"):
            if corpus == "big":
                log(f"generate_synthetic --studies {args.studies}")
                manage(
                    env,
                    "generate_synthetic",
                    "--studies",
                    str(args.studies),
                    "--force",
                    "--seed",
                    "1",
                    quiet=False,
                )
                vacuum()
            for cache, _, config_env in CONFIGS:
                with Server(dict(env, **config_env), port, args.workers) as server:
                    results += measure_pass(server, corpus, cache, static_path, args, token)
        # On a fresh server, so that no worker carries the memory of an earlier big page.
        with Server(env, port, args.workers) as server:
            for name, path in EXPORTS:
                log(f"{labels['big']}: {name}, one download, sampling RSS")
                memory.append(export_memory(server, name, path))
        log("EXPLAIN of the list pages' queries at scale")
        explain = subprocess.run(
            [
                PYTHON,
                str(BENCH / "explain.py"),
                "/studies/",
                "/studies/?subtype=dm&design=case_report",
                "/references/",
                "/api/v1/studies/",
            ],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        clear_redis(prefix)
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)
        if not args.keep_db:
            drop_database()

    elapsed = time.monotonic() - started
    info["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")  # noqa: UP017
    report = render(info, results, memory, labels, elapsed)
    print("\n".join(report))
    write_results(info, report, explain, deploy_check)
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "latest.json").write_text(
        json.dumps(
            {
                "machine": info,
                "report": report,
                "explain": explain,
                "deploy_check": deploy_check,
                "results": [asdict(r) for r in results],
                "memory": [asdict(m) for m in memory],
            },
            indent=2,
        )
    )
    write_readme([asdict(r) for r in results], report, info["finished"])
    return 0


def render(info, results, memory, labels, elapsed) -> list[str]:
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram_gb']} GB RAM; "
        f"load average {info['load_at_start']:.2f} at start; Python {info['python']}, "
        f"PostgreSQL {info['postgresql']}, {info['wrk']}.",
        f"Server: gunicorn.conf.py ({info['gunicorn_workers']} gthread workers × "
        f"{info['threads']} threads, keep-alive, max_requests {info['max_requests']}), "
        f"DJANGO_DEBUG=false, whitenoise; three configurations: the page cache on with Redis, "
        f"off with Redis (the data cache and fragments on), and the default without Redis "
        f"(per-process caches). "
        f"Load: wrk, {info['concurrency']} connections, "
        f"{info.get('runs', 1)} runs of {info['seconds']} s per endpoint (the median run "
        f"shown), same machine. Corpus at scale: real + "
        f"{info['studies']:,} synthetic studies. Run took {elapsed / 60:.1f} min.",
        "",
        *table(results, labels),
        "",
    ]
    for m in memory:
        lines.append(
            f"{m.export} at scale ({labels['big']}): {fmt(m.megabytes)} MB; the first download "
            f"after a change (rendered) in {fmt(m.seconds)} s "
            f"({fmt(m.megabytes / m.seconds)} MB/s), worker RSS {fmt(m.baseline_mb)} MB before, "
            f"peak {fmt(m.peak_mb)} MB at {m.peak_at:.0%} of the bytes sent; the next in "
            f"{fmt(m.again_seconds)} s ({fmt(m.megabytes / m.again_seconds)} MB/s, "
            + ("the kept file)." if m.again_kept else "rendered again).")
        )
    lines += ["", *verdicts(results, memory)]
    return lines


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def as_markdown(report: list[str]) -> list[str]:
    """The printed report for a README: the table as a Markdown table, the rest verbatim."""
    table_lines = [line for line in report if line.startswith("|")]
    first = report.index(table_lines[0]) if table_lines else len(report)
    header = [line for line in report[:first] if line]
    rest = [line for line in report[first + len(table_lines) :]]
    while rest and not rest[0]:
        rest.pop(0)
    return [*header, "", *table_lines, "", "```", *rest, "```"]


def summary(results: list[dict], verdict_lines: list[str], when: str) -> list[str]:
    """The README's short form: one row per endpoint, the ratios the targets are about."""
    by = {(r["endpoint"], r["corpus"], r["cache"]): r for r in results}

    def share(name, corpus, cache):
        r, static = by.get((name, corpus, cache)), by.get((STATIC, corpus, cache))
        return f"{r['rps'] / static['rps']:.2f}×" if r and static and static["rps"] else "–"

    def p95s(name, cache):
        real, big = by.get((name, "real", cache)), by.get((name, "big", cache))
        if not (real and big and real["p95"] and big["p95"]):
            return "–"
        return f"{fmt(real['p95'])} → {fmt(big['p95'])}"

    def cold(name, corpus):
        r = by.get((name, corpus, "off"))
        if not (r and r["cold_ms"] and r["warm_ms"]):
            return "–"
        return f"{fmt(r['cold_ms'])} / {fmt(r['warm_ms'])}"

    passed = sum(line.startswith("PASS") for line in verdict_lines)
    others = [line for line in verdict_lines if not line.startswith("PASS")]
    outcome = (
        [f"{passed} of {len(verdict_lines)} targets PASS; not yet:", "", "```", *others, "```"]
        if others
        else [f"All {passed} targets PASS."]
    )
    return [
        f"`bench/run.sh`, {when} (2 CPUs; full table, every PASS/FAIL line and method in "
        "[bench/RESULTS.md](bench/RESULTS.md)). × static: the endpoint's req/s over a static "
        "file's, same server, same pass; p95 in ms, real corpus → +100k studies; first request "
        "after a content change / one alone, ms (page cache off).",
        "",
        "| endpoint | page cache off (≥ 0.1×) | on, Redis (≥ 0.8×) | default, no Redis (≥ 0.5×) "
        "| p95 no Redis (≤ 2×) | p95 cache off (≤ 2×) | after a change (≤ 3×) |",
        "|---|--:|--:|--:|--:|--:|--:|",
        *(
            f"| {name} | {share(name, 'real', 'off')} | {share(name, 'real', 'on')} | "
            f"{share(name, 'real', 'local')} | {p95s(name, 'local')} | {p95s(name, 'off')} | "
            f"{cold(name, 'real')} |"
            for name, _, _ in ENDPOINTS
        ),
        "",
        *outcome,
    ]


def write_readme(results: list[dict], report: list[str], when: str) -> None:
    verdict_lines = [line for line in report if line.startswith(("PASS", "FAIL", "N/A"))]
    path = PROJECT / "README.md"
    text = path.read_text()
    if START in text and END in text:
        block = "\n".join([START, *summary(results, verdict_lines, when), END])
        path.write_text(text[: text.index(START)] + block + text[text.index(END) + len(END) :])


def write_results(info, report, explain, deploy_check) -> None:
    """Replace the generated part of bench/RESULTS.md (between the markers); what is written
    around it by hand (the reading of the numbers) stays."""
    when = info.get("finished") or datetime.now(timezone.utc).strftime(  # noqa: UP017
        "%Y-%m-%d %H:%M UTC"
    )
    generated = "\n".join(
        [
            START,
            f"Latest run of `bench/run.sh`, {when}, on {info['nproc']} CPUs ({info['cpu']}) with "
            f"{info['ram_gb']} GB RAM. The table and the PASS/FAIL lines are the script's output, "
            "unedited.",
            "",
            *as_markdown(report),
            "",
            "### Key query plans at scale (bench/explain.py)",
            "",
            "Each list page's slowest queries under `EXPLAIN ANALYZE`, on the benchmark's database "
            "with the synthetic corpus.",
            "",
            "```",
            explain.strip(),
            "```",
            "",
            "### `manage.py check --deploy` with the benchmark's production settings",
            "",
            "```",
            deploy_check or "no issues",
            "```",
            END,
        ]
    )
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + generated + text[text.index(END) + len(END) :]
    else:
        text = f"# Benchmark results\n\n{generated}\n"
    path.write_text(text)
    # The performance page carries the same block, between the same markers.
    readme = PROJECT / "docs" / "benchmark.md"
    text = readme.read_text()
    if START in text and END in text:
        readme.write_text(
            text[: text.index(START)] + generated + text[text.index(END) + len(END) :]
        )


if __name__ == "__main__":
    sys.exit(main())
