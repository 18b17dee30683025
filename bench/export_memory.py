"""Do the full exports stream with flat memory? Peak Python memory per corpus size.

    bench/export_memory.py [--sizes 1000,10000] [--database NAME] [--keep-db]

Run by ``bench/run.sh`` after the load benchmark, or on its own (with the project's Python).
It creates a PostgreSQL database of its own (``myoevidence_bench_memory`` unless told, dropped
at the end), migrates it and loads the real corpus, then, for the real corpus and after adding
synthetic studies up to each size (``generate_synthetic --force``, seeded), downloads each full
export once through the app's own view (the Django test client, production settings: debug
off, so no query log grows) in a fresh process per size and export, and reports the peak of
Python memory allocated while the response streamed (``tracemalloc``, above what the process
held before the request). A first request that reads one chunk warms imports and caches, so
the peak is the streaming itself.

"Flat" means the peak does not grow with the number of studies: each export PASSes when its
peak at the largest size is at most ``FLAT_RATIO`` times the peak at the smallest synthetic
size, while the bytes streamed grow with the corpus. Memory is what this measures, not speed:
the machine running it may be shared.

The caches are as in production: Redis as the shared cache (a key prefix of its own, removed at
the end), so the data cache holds the per-content-change aggregates. The FHIR export reads one
of them, the certainty of every therapy x subtype cell (the evidence matrix, which every page
with the matrix shares); the warm-up computes it as the first page after a change would. Its
computation reads a fact row per study, so it does grow with the corpus: it is measured apart
(``certainty matrix``, the data cache off) and reported as a NOTE, not as part of the export.

The result is printed and written into bench/RESULTS.md between the export-memory markers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
PYTHON = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
FLAT_RATIO = 1.5
EXPORTS = [
    ("FHIR R5 Bundle (full)", "/api/fhir/Bundle/all"),
    ("CSV export (full)", "/studies/export.csv"),
    ("BibTeX export (full)", "/references/export/bibtex/"),
]
START, END = "<!-- export-memory:start -->", "<!-- export-memory:end -->"

# Runs in a child process: one export, one download, its peak memory as a JSON line.
MEASURE = """
import json, sys, time, tracemalloc
import django
django.setup()
from django.test import Client

path = sys.argv[1]
client = Client()
warm = client.get(path)
assert warm.status_code == 200, warm.status_code
next(iter(warm.streaming_content))
warm.close()
# The shared aggregates a page after a content change computes (the evidence matrix).
from evidence.fhir import certainty_cells
certainty_cells()

tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
started = time.monotonic()
response = client.get(path)
assert response.status_code == 200, response.status_code
streaming = getattr(response, "streaming", False)
size = 0
for chunk in response.streaming_content if streaming else [response.content]:
    size += len(chunk)
response.close()
peak = tracemalloc.get_traced_memory()[1] - before
tracemalloc.stop()
print(json.dumps({"bytes": size, "peak": peak, "streamed": streaming,
                  "seconds": time.monotonic() - started}))
"""

# The evidence matrix computed afresh (what the first request after a content change pays).
MATRIX = """
import json, time, tracemalloc
import django
django.setup()
from evidence.fhir import certainty_cells
from evidence.models import Study

Study.objects.first()  # connect and import before measuring
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
started = time.monotonic()
cells = certainty_cells()
peak = tracemalloc.get_traced_memory()[1] - before
print(json.dumps({"bytes": 0, "peak": peak, "streamed": True, "cells": len(cells),
                  "seconds": time.monotonic() - started}))
"""
MATRIX_NAME = "certainty matrix (once per content change)"
REDIS_URL = "redis://127.0.0.1:6379/0"


def admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def run(env: dict, *args: str) -> str:
    result = subprocess.run([PYTHON, *args], cwd=PROJECT, env=env, text=True, capture_output=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def environment(database: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_", "MYOEVIDENCE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        # Production settings (no query log), answering the test client's host over HTTP.
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=f"{PG}/{database}",
        # Production's shared cache (aggregates computed once per content change); pages
        # are not cached, so that every download is rendered.
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=f"myo-export-memory-{secrets.token_hex(4)}",
        MYOEVIDENCE_DATA_CACHE_SECONDS="3600",
        MYOEVIDENCE_PAGE_CACHE_SECONDS="0",
        MYOEVIDENCE_API_ANON_RATE="100000000/minute",
        # Each size's downloads are the first after its change: rendered, and kept as files
        # as they stream (core/caching/downloads.py), in a folder of this run's own.
        MYOEVIDENCE_DOWNLOAD_DIR=tempfile.mkdtemp(prefix="myoevidence-export-memory-"),
    )
    return env


def clear_cache(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def kib(value: float) -> str:
    return f"{value / 1024:,.0f}"


def report(rows: list[dict], sizes: list[int]) -> list[str]:
    lines = [
        "| export | synthetic studies | bytes streamed | peak Python memory, KiB | s |",
        "|---|--:|--:|--:|--:|",
    ]
    for row in rows:
        streamed = f"{row['bytes']:,}" if row["export"] != MATRIX_NAME else f"{row['cells']} cells"
        lines.append(
            f"| {row['export']} | {row['studies']:,} | {streamed} | {kib(row['peak'])} "
            f"| {row['seconds']:.1f} |"
        )
    lines.append("")
    small, large = min(s for s in sizes if s), max(sizes)
    for name, _ in EXPORTS:
        by_size = {r["studies"]: r for r in rows if r["export"] == name}
        a, b = by_size[small], by_size[large]
        ratio = b["peak"] / a["peak"]
        growth = b["bytes"] / a["bytes"]
        ok = ratio <= FLAT_RATIO and a["streamed"] and b["streamed"]
        lines.append(
            f"{'PASS' if ok else 'FAIL'}: {name}: peak {kib(b['peak'])} KiB at +{large:,} vs "
            f"{kib(a['peak'])} KiB at +{small:,} studies: ratio {ratio:.2f} (target <= "
            f"{FLAT_RATIO}) while the export grew {growth:.1f}x"
            + ("" if a["streamed"] and b["streamed"] else "; NOT streamed")
        )
    by_size = {r["studies"]: r for r in rows if r["export"] == MATRIX_NAME}
    if small in by_size and large in by_size:
        a, b = by_size[small], by_size[large]
        lines.append(
            f"NOTE: {MATRIX_NAME}: peak {kib(b['peak'])} KiB at +{large:,} vs "
            f"{kib(a['peak'])} KiB at +{small:,} studies (ratio {b['peak'] / a['peak']:.2f}): "
            "one fact row per study, computed once per content change and shared through the "
            "data cache, not per export"
        )
    return lines


def write_results(lines: list[str], when: str, machine: str) -> None:
    block = "\n".join(
        [
            START,
            f"Latest run of `bench/export_memory.py`, {when}, {machine}. The table and the "
            "PASS/FAIL lines are the script's output, unedited.",
            "",
            *[line for line in lines if line.startswith("|")],
            "",
            "```",
            *[line for line in lines if line and not line.startswith("|")],
            "```",
            END,
        ]
    )
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n## Full exports: memory at two corpus sizes\n\n"
        text += block + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000",
        help="synthetic studies added to the real corpus, smallest first (default 1000,10000)",
    )
    parser.add_argument("--database", default="myoevidence_bench_memory")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sizes = [0, *sorted(int(s) for s in args.sizes.split(","))]
    if len(sizes) < 3 or sizes[1] <= 0:
        parser.error("give at least two positive sizes, e.g. --sizes 1000,10000")
    env = environment(args.database)
    started = time.monotonic()
    rows = []
    admin(f"DROP DATABASE IF EXISTS {args.database}")
    admin(f"CREATE DATABASE {args.database}")
    try:
        print(f"database {args.database}: migrate, load the corpus", flush=True)
        run(env, "manage.py", "migrate", "--noinput")
        run(env, "manage.py", "load_corpus")
        added = 0
        for seed, size in enumerate(sizes):
            if size > added:
                print(f"generate_synthetic: up to {size:,} synthetic studies", flush=True)
                run(
                    env,
                    "manage.py",
                    "generate_synthetic",
                    "--studies",
                    str(size - added),
                    "--force",
                    "--seed",
                    str(seed),
                )
                added = size
            for name, path in EXPORTS:
                found = json.loads(run(env, "-c", MEASURE, path).strip().splitlines()[-1])
                rows.append({"export": name, "studies": size, **found})
                print(
                    f"  +{size:,}: {name}: {found['bytes']:,} bytes, peak {kib(found['peak'])} KiB",
                    flush=True,
                )
            uncached = dict(env, MYOEVIDENCE_DATA_CACHE_SECONDS="0")
            found = json.loads(run(uncached, "-c", MATRIX).strip().splitlines()[-1])
            rows.append({"export": MATRIX_NAME, "studies": size, **found})
            print(f"  +{size:,}: {MATRIX_NAME}: peak {kib(found['peak'])} KiB", flush=True)
    finally:
        clear_cache(env["CACHE_KEY_PREFIX"])
        shutil.rmtree(env["MYOEVIDENCE_DOWNLOAD_DIR"], ignore_errors=True)
        if not args.keep_db:
            admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{args.database}' AND pid <> pg_backend_pid()"
            )
            admin(f"DROP DATABASE IF EXISTS {args.database}")
    lines = report(rows, sizes)
    lines.append(f"Run took {(time.monotonic() - started) / 60:.1f} min.")
    print("\n".join(lines))
    if not args.no_write:
        machine = (
            f"on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, PostgreSQL, Redis "
            "as the shared cache, the real corpus plus the synthetic studies shown"
        )
        write_results(lines, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), machine)
    return 0 if all(not line.startswith("FAIL") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
