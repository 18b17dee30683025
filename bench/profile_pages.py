#!/usr/bin/env python
"""Per-request time of the hot pages, rendered in-process with every cache off (issue 16).

Production settings (DEBUG off, so Django's cached template loader), SQLite by default, the
page and data caches off: what a request costs when no cache can answer it. Requests go
through the whole stack (middleware included) with Django's test client, so the numbers
leave out only the HTTP server. The machine is shared: compare pages and before/after
measured in one run, not absolute numbers across runs.

    bench/profile_pages.py                       # median ms per request of each page
    bench/profile_pages.py --profile /therapies/rituximab/   # pyinstrument call tree of one page
    bench/profile_pages.py --db /tmp/x.sqlite3 --repeat 50

It builds its own SQLite database (migrate + load_corpus) and static files (collectstatic)
beside it unless they exist.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ("home", "/"),
    ("about (near-static)", "/about/"),
    ("therapy page", "/therapies/rituximab/"),
    ("summary of findings", "/therapies/rituximab/dermatomyositis/"),
    ("filtered study list", "/studies/?subtype=dm&design=case_report"),
    ("references", "/references/"),
    ("search", "/search/?q=rituximab"),
    ("API study list", "/api/v1/studies/"),
]


def setup(db: Path, data_cache: bool = False, page_cache: bool = False) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="profile-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{db}",
        CACHE_URL="locmem://",
        MYOEVIDENCE_PAGE_CACHE_SECONDS="300" if page_cache else "0",
        MYOEVIDENCE_DATA_CACHE_SECONDS="3600" if data_cache else "0",
        MYOEVIDENCE_API_ANON_RATE="1000000/minute",
        DJANGO_LOG_LEVEL="WARNING",
        # Production serves hashed file names from a manifest: collected once, beside the db.
        DJANGO_STATIC_ROOT=str(db.with_suffix(".static")),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if not (db.with_suffix(".static") / "staticfiles.json").exists():
        call_command("collectstatic", verbosity=0, interactive=False)
    if not db.exists():
        call_command("migrate", verbosity=0)
        call_command("load_corpus", verbosity=0)


def get(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/myoevidence-profile.sqlite3"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", metavar="URL", help="print a pyinstrument tree of URL")
    parser.add_argument(
        "--data-cache",
        action="store_true",
        help="keep the per-generation data cache on (the page cache stays off)",
    )
    parser.add_argument(
        "--page-cache", action="store_true", help="the page cache on too (a hit after the first)"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="the data cache on, and every request the first after a content change (the "
        "benchmark's 'first request after a content change')",
    )
    args = parser.parse_args()
    setup(
        args.db,
        data_cache=args.data_cache or args.page_cache or args.cold,
        page_cache=args.page_cache,
    )
    from django.test import Client

    client = Client()
    if args.cold:
        from core.caching.generation import content_changed

        def request(client, url: str) -> None:
            content_changed()
            get(client, url)

    else:
        request = get
    if args.profile:
        from pyinstrument import Profiler

        request(client, args.profile)
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(args.repeat):
                request(client, args.profile)
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return
    for _, url in PAGES:  # warm: imports, template compilation, connection
        request(client, url)
    # Interleaved rounds, so a burst of load from another process hits every page alike.
    # CPU time of this process (SQLite runs in it) as well as wall time: on a shared machine
    # the wall time also counts the time other processes held the CPU.
    cpu: dict[str, list[float]] = {url: [] for _, url in PAGES}
    wall: dict[str, list[float]] = {url: [] for _, url in PAGES}
    for _ in range(args.repeat):
        for _, url in PAGES:
            start, start_cpu = time.perf_counter(), time.process_time()
            request(client, url)
            cpu[url].append((time.process_time() - start_cpu) * 1000)
            wall[url].append((time.perf_counter() - start) * 1000)
    # The minimum as well: other processes only ever add time, so the fastest of the
    # interleaved rounds is the steadiest figure on a busy machine.
    print(f"{'page':22} {'CPU min':>7} {'CPU med':>7} {'wall med':>8}  ({args.repeat} rounds)")
    for name, url in PAGES:
        print(
            f"{name:22} {min(cpu[url]):7.1f} {statistics.median(cpu[url]):7.1f} "
            f"{statistics.median(wall[url]):8.1f}  {url}"
        )


if __name__ == "__main__":
    main()
