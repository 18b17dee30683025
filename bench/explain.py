"""Print the PostgreSQL plans of the queries behind the list pages, and flag sequential scans.

    DATABASE_URL=postgres://... .venv/bin/python bench/explain.py [--all] [URL ...]

Each URL is requested in-process (Django's test client, as an anonymous reader, page cache
off, data cache on in local memory) twice: the queries of the second request are those every
request runs; those only the first ran compute the per-generation aggregates (matrix, chart,
counts, search ranking), which run once per content change (core.caching.data.per_generation). Every
SELECT is then run again under EXPLAIN ANALYZE. By default only each page's slowest queries
are printed in full; --all prints every plan. A "Seq Scan" on a table of more than
SMALL_TABLE rows is flagged in the per-request queries: with the indexes in place there
should be none (small vocabulary tables such as therapies or subtypes are scanned whole,
rightly). The once-per-change aggregates read most of a table, where a sequential scan is the
right plan; they are listed with their time.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A developer's tool on a scratch database: the development settings (production, the default,
# would ask for a secret key and host names and redirect the test client to HTTPS).
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("MYOEVIDENCE_PAGE_CACHE_SECONDS", "0")
os.environ["CACHE_URL"] = "locmem://"  # a cache of this process's own, for the data cache
os.environ["MYOEVIDENCE_DATA_CACHE_SECONDS"] = "3600"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from core.caching.data import local_values  # noqa: E402

# The pages whose main queries grow with the corpus (the benchmark's and the other lists).
URLS = [
    "/",
    "/studies/",
    "/studies/?subtype=dm&design=case_report",
    "/studies/?therapy=rituximab&ordering=-size",
    "/therapies/rituximab/",
    "/designs/case-report/",
    "/subtypes/dermatomyositis/",
    "/references/",
    "/search/?q=rituximab",
    "/api/v1/studies/",
    "/api/v1/references/",
]
SMALL_TABLE = 1000
SHOWN_PER_PAGE = 3
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_live_tup FROM pg_stat_user_tables")
        return dict(cursor.fetchall())


def explain(sql: str) -> tuple[str, float]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    total = next(
        (
            float(m.group(1))
            for line in lines
            if (m := re.search(r"Execution Time: ([\d.]+) ms", line))
        ),
        0.0,
    )
    return "\n".join(lines), total


def selects(url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]


def queries_of(url: str) -> tuple[list[str], list[str]]:
    """(per request, once per content change): the second request's queries, and those only
    the first (cold) request ran."""
    cache.clear()
    local_values.clear()  # the data cache keeps its values in this process (core.caching.local)
    cold, warm = selects(url), selects(url)
    return warm, [sql for sql in cold if sql not in warm]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", default=URLS)
    parser.add_argument("--all", action="store_true", help="print every plan")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("EXPLAIN plans are for PostgreSQL: set DATABASE_URL to it.")
    settings.ALLOWED_HOSTS = ["testserver"]
    sizes = row_counts()
    flagged = []
    for url in args.urls:
        per_request, per_change = queries_of(url)
        plans = [(sql, *explain(sql)) for sql in per_request]
        total = sum(ms for _, _, ms in plans)
        print(
            f"\n{'=' * 100}\n{url}: {len(plans)} queries per request, {total:.1f} ms in the "
            "database"
        )
        shown = plans if args.all else sorted(plans, key=lambda p: -p[2])[:SHOWN_PER_PAGE]
        for sql, plan, ms in shown:
            print(f"\n-- {ms:.2f} ms: {sql[:300]}{' ...' if len(sql) > 300 else ''}\n{plan}")
        for sql, plan, _ in plans:
            big = [t for t in SEQ_SCAN.findall(plan) if sizes.get(t, 0) > SMALL_TABLE]
            if big:
                flagged.append((url, sorted(set(big)), sql[:160]))
        if per_change:
            timed = [(sql, explain(sql)[1]) for sql in per_change]
            print(
                f"\n-- once per content change (data cache): {len(timed)} queries, "
                f"{sum(ms for _, ms in timed):.1f} ms in the database"
            )
            for sql, ms in timed:
                print(f"   {ms:8.2f} ms: {sql[:140]}{' ...' if len(sql) > 140 else ''}")
    print(f"\n{'=' * 100}")
    for url, tables, sql in flagged:
        print(f"SEQ SCAN  {url}: {', '.join(tables)}  <- {sql}")
    print(
        "no sequential scan on a large table"
        if not flagged
        else f"{len(flagged)} queries scan a large table sequentially"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
