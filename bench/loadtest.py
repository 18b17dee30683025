"""Load test with a database restart: does the app ride out PostgreSQL going away?

    .venv/bin/python bench/loadtest.py                 # 50 clients, 60 s, restart at 20 s
    .venv/bin/python bench/loadtest.py --clients 20 --duration 30 --restart-at 10

What it does, on this machine only (every request goes to 127.0.0.1):

1. Creates a throwaway PostgreSQL cluster on --pg-port (default 5433) with pg_createcluster, so
   restarting it disturbs nobody else's database; loads the corpus into it and collects the
   static files.
2. Starts gunicorn with gunicorn.conf.py in production mode (DJANGO_DEBUG=false; the HTTPS
   redirect off, as for any plain-HTTP benchmark; no page cache, so every request needs the
   database).
3. Runs --clients concurrent clients for --duration seconds over the public pages and the API.
   At --restart-at seconds it stops PostgreSQL (fast shutdown: open connections are cut), keeps
   it down for --down-for seconds, and starts it again. gunicorn is never restarted.
4. Prints a timeline per second and a summary: requests, status codes, errors, latency, how
   long the app answered 503 and how long after PostgreSQL was back the first (and every)
   answer was a 200 again. It fails (exit 1) on any 500, any connection error, any 503 without
   Retry-After, any traceback in a body, or no recovery.

Bounded: the clients stop at --duration, each request times out after 10 s, the whole run is
killed after --duration + 120 s. Needs root (pg_createcluster) and Debian's PostgreSQL tools.
Not part of the test suite (tests/core/test_db_unavailable.py covers the 503 without a real
restart).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
CLUSTER = "myoevidence_loadtest"
# What readers and integrators ask for, roughly in proportion.
URLS = [
    "/",
    "/therapies/",
    "/therapies/rituximab/",
    "/therapies/ivig/",
    "/subtypes/",
    "/subtypes/dermatomyositis/",
    "/designs/",
    "/studies/",
    "/studies/?design=rct_parallel",
    "/studies/?therapy=rituximab&ordering=-year",
    "/studies/?q=myositis",
    "/references/",
    "/references/1/",
    "/references/17/",
    "/search/?q=rituximab",
    "/search/?q=interstitial",
    "/about/",
    "/api/v1/studies/",
    "/api/v1/therapies/",
    "/api/v1/matrix/",
    "/api/v1/references/?year_min=2010",
    "/healthz",
]


@dataclass
class Result:
    started: float
    elapsed: float
    status: int | None
    url: str
    error: str = ""
    retry_after: bool = False
    traceback: bool = False


@dataclass
class Events:
    stop_sent: float | None = None
    stopped: float | None = None
    start_sent: float | None = None
    ready: float | None = None
    notes: list[str] = field(default_factory=list)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300, **kwargs)


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


class Cluster:
    """A PostgreSQL cluster of our own, on loopback, dropped at the end."""

    def __init__(self, port: int):
        self.port, self.version = port, pg_version()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/myoevidence_load"

    def create(self) -> None:
        self.drop()
        run(
            [
                "pg_createcluster",
                self.version,
                CLUSTER,
                "-p",
                str(self.port),
                "--start-conf",
                "manual",
                "--",
                "--auth=trust",
            ]
        )
        self.start()
        run(
            [
                "psql",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE myoevidence_load",
            ]
        )

    def ctl(self, action: str, *extra: str) -> None:
        run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, CLUSTER, action, *extra])

    def start(self) -> None:
        self.ctl("start")

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")

    def ready(self) -> bool:
        return (
            subprocess.run(
                ["pg_isready", "-q", "-t", "1", "-h", "127.0.0.1", "-p", str(self.port)], timeout=10
            ).returncode
            == 0
        )

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, CLUSTER], capture_output=True, timeout=120
        )


def app_env(database_url: str, static_root: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no TLS, so no redirect and no Secure-only cookies.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DATABASE_URL": database_url,
        "DJANGO_STATIC_ROOT": static_root,
        "CACHE_URL": "locmem://",
        "MYOEVIDENCE_PAGE_CACHE_SECONDS": "0",
        # Every client comes from 127.0.0.1: lift the per-address API limit for the test.
        "MYOEVIDENCE_API_ANON_RATE": "1000000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
        # No recycling during the run: any worker boot after the start would then be a crash.
        "GUNICORN_MAX_REQUESTS": "0",
    }


def prepare(env: dict[str, str]) -> None:
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["load_corpus", "-v0"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env)


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    process = subprocess.Popen(
        [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=BASE_DIR,
        env={**env, "GUNICORN_ACCESS_LOG": ""},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    stop_gunicorn(process)
    raise SystemExit(f"gunicorn did not become healthy; see {log}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def client_loop(
    port: int, until: float, results: list[Result], lock: threading.Lock, seed: int
) -> None:
    rng = random.Random(seed)
    connection = None
    while time.monotonic() < until:
        url = rng.choice(URLS)
        started = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", url, headers={"User-Agent": "myoevidence-loadtest"})
            response = connection.getresponse()
            body = response.read()
            result = Result(
                started,
                time.monotonic() - started,
                response.status,
                url,
                retry_after=response.getheader("Retry-After") is not None,
                traceback=b"Traceback" in body,
            )
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as exc:
            result = Result(
                started, time.monotonic() - started, None, url, error=f"{type(exc).__name__}: {exc}"
            )
            if connection is not None:
                connection.close()
            connection = None
        with lock:
            results.append(result)


def restart_database(cluster: Cluster, events: Events, down_for: float) -> None:
    events.stop_sent = time.monotonic()
    cluster.stop()
    events.stopped = time.monotonic()
    time.sleep(down_for)
    events.start_sent = time.monotonic()
    # pg_ctlcluster returns a while after the server accepts connections: poll meanwhile.
    starting = subprocess.Popen(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster.version, CLUSTER, "start"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not cluster.ready():
        time.sleep(0.05)
    events.ready = time.monotonic()
    starting.wait(timeout=120)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _by_url(results: list[Result]) -> dict[str, list[float]]:
    found = collections.defaultdict(list)
    for r in results:
        if r.status == 200:
            found[r.url].append(r.elapsed * 1000)
    return found


def report(results: list[Result], events: Events, t0: float, args) -> bool:
    def rel(t):
        return t - t0 if t is not None else float("nan")

    print(
        f"MyoEvidence load test: {args.clients} clients for {args.duration:.0f} s against "
        f"gunicorn (gunicorn.conf.py defaults: {os.cpu_count() * 2 + 1} workers x 4 threads) "
        f"+ PostgreSQL {pg_version()} on loopback; PostgreSQL stopped at "
        f"{rel(events.stop_sent):.1f} s (fast shutdown), started again at "
        f"{rel(events.start_sent):.1f} s, accepting connections at {rel(events.ready):.1f} s."
    )
    print()
    print(
        "Answers per second (by the time each answer arrived; a request waits in gunicorn's "
        "queue under this load, so some sent before the stop were answered after it):"
    )
    print(" second | answers |  200 |  503 | other 4xx | 5xx not 503 | errors | p50 ms | max ms")
    per_second = collections.defaultdict(list)
    for r in results:
        per_second[int(r.started + r.elapsed - t0)].append(r)
    for second in sorted(per_second):
        rows = per_second[second]
        codes = collections.Counter(r.status for r in rows)
        other4 = sum(n for s, n in codes.items() if s and 400 <= s < 500)
        other5 = sum(n for s, n in codes.items() if s and s >= 500 and s != 503)
        lat = [r.elapsed * 1000 for r in rows]
        print(
            f" {second:6d} | {len(rows):7d} | {codes[200]:4d} | {codes[503]:4d} | "
            f"{other4:9d} | {other5:11d} | {codes[None]:6d} | {statistics.median(lat):6.0f} "
            f"| {max(lat):6.0f}"
        )
    codes = collections.Counter(r.status for r in results)
    errors = collections.Counter(r.error for r in results if r.error)
    bad_5xx = [r for r in results if r.status and r.status >= 500 and r.status != 503]
    # /healthz is for load balancers: its 503 is a plain "database unavailable".
    no_retry = [r for r in results if r.status == 503 and not r.retry_after and r.url != "/healthz"]
    tracebacks = [r for r in results if r.traceback]
    unavailable = [r for r in results if r.status == 503 and r.url != "/healthz"]
    after_ready = [r for r in results if events.ready and r.started >= events.ready]
    first_ok = next(
        (r for r in sorted(after_ready, key=lambda r: r.started) if r.status == 200), None
    )
    last_bad = max(
        (
            r.started + r.elapsed
            for r in results
            if r.status != 200 and r.started >= (events.stop_sent or 0)
        ),
        default=None,
    )
    ok_latency = [r.elapsed * 1000 for r in results if r.status == 200]
    print()
    print(
        f"Requests: {len(results)} ({len(results) / args.duration:.0f}/s); status codes: "
        + ", ".join(
            f"{code or 'no answer'}: {n}"
            for code, n in sorted(codes.items(), key=lambda item: item[0] or 0)
        )
    )
    print(
        f"Latency of 200s: p50 {percentile(ok_latency, 0.5):.0f} ms, p95 "
        f"{percentile(ok_latency, 0.95):.0f} ms, p99 {percentile(ok_latency, 0.99):.0f} ms, "
        f"max {max(ok_latency, default=0):.0f} ms"
    )
    print(
        "200s by URL (p50 / p95 ms): "
        + "; ".join(
            f"{url} {percentile(lat, 0.5):.0f}/{percentile(lat, 0.95):.0f}"
            for url, lat in sorted(
                _by_url(results).items(), key=lambda item: -percentile(item[1], 0.95)
            )[:6]
        )
        + " ..."
    )
    print(
        f"Connection errors: {sum(errors.values())}"
        + ("".join(f"\n  {n} x {e}" for e, n in errors.most_common(5)) if errors else "")
    )
    print(
        f"5xx other than 503: {len(bad_5xx)}; 503 without Retry-After: {len(no_retry)}; "
        f"bodies with a traceback: {len(tracebacks)}"
    )
    if unavailable:
        ends = [r.started + r.elapsed for r in unavailable]
        print(
            f"503 answers: {len(unavailable)} (plus /healthz), answered from {rel(min(ends)):.1f}"
            f" s to {rel(max(ends)):.1f} s; PostgreSQL was stopping or down from "
            f"{rel(events.stop_sent):.1f} s to {rel(events.ready):.1f} s"
        )
    recovered = first_ok is not None
    if recovered:
        # pg_isready is polled every 50 ms: an answer can beat it by that much.
        print(
            f"Recovery: first 200 {max(0, first_ok.started - events.ready):.2f} s after "
            f"PostgreSQL accepted connections again (pg_isready); every answer a 200 again "
            f"{max(0, (last_bad or events.ready) - events.ready):.2f} s after it; gunicorn "
            f"was not restarted."
        )
    else:
        print("Recovery: NONE - no 200 after PostgreSQL came back.")
    ok = recovered and not bad_5xx and not no_retry and not tracebacks and not errors
    print("Result: " + ("PASS" if ok else "FAIL"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--restart-at", type=float, default=20)
    parser.add_argument("--down-for", type=float, default=5)
    parser.add_argument("--port", type=int, default=8899, help="gunicorn's port (loopback)")
    parser.add_argument("--pg-port", type=int, default=5433, help="the throwaway cluster's port")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and logs")
    args = parser.parse_args()
    if args.clients > 200 or args.duration > 600:
        parser.error("bounded: at most 200 clients and 600 seconds")
    # Stops the whole run however it goes.
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(SystemExit("timed out")))
    signal.alarm(int(args.duration) + 300)

    work = Path(tempfile.mkdtemp(prefix="myoevidence-loadtest-"))
    cluster = Cluster(args.pg_port)
    gunicorn = None
    try:
        cluster.create()
        env = app_env(cluster.url, str(work / "static"))
        prepare(env)
        gunicorn = start_gunicorn(env, args.port, work / "gunicorn.log")
        results: list[Result] = []
        lock = threading.Lock()
        events = Events()
        t0 = time.monotonic()
        until = t0 + args.duration
        threads = [
            threading.Thread(
                target=client_loop, args=(args.port, until, results, lock, i), daemon=True
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.restart_at)
        restart_database(cluster, events, args.down_for)
        for thread in threads:
            thread.join(timeout=args.duration + 30)
        ok = report(results, events, t0, args)
        log = (work / "gunicorn.log").read_text(errors="replace")
        lines = [line for line in log.splitlines() if line.strip()]
        json_lines = sum(1 for line in lines if line.startswith("{"))
        errors = [
            json.loads(line) for line in lines if line.startswith("{") and '"exception"' in line
        ]
        for entry in errors[:3]:  # what went wrong, for any 500
            print(
                f"Logged error: {entry['message']}\n  "
                + "\n  ".join(entry["exception"].splitlines()[-4:])
            )
        print(
            f"Application log: {len(lines)} lines, {json_lines} JSON; "
            f"{log.count('Database unavailable')} 'Database unavailable' (one per 503), "
            f"{log.count('Traceback')} tracebacks; gunicorn workers restarted: "
            f"{log.count('Booting worker') - (os.cpu_count() * 2 + 1)}"
        )
        return 0 if ok else 1
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if not args.keep:
            cluster.drop()
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"Kept: cluster {CLUSTER} on port {args.pg_port}, logs in {work}")


if __name__ == "__main__":
    sys.exit(main())
