"""Several app processes sharing a database: a change made by any process reaches every other
at once, although each had the page cached, and so do the per-generation values of the data
cache. With Redis (the processes share cached entries through it) and without (the default:
each process keeps its own, checked against the content generation in the database).

Real processes, not the test client: two gunicorn servers on free ports and a third Python
process (or one of the servers) that changes a therapy, all on a throwaway SQLite file and, for
the Redis tests, the Redis at 127.0.0.1:6379 (a key prefix of their own, removed afterwards).
The Redis tests need it: .ci/run starts it; without it they fail and say so.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REDIS = ("127.0.0.1", 6379)
PROJECT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # the Host header both instances see, as behind one load balancer
STARTUP_SECONDS = 20

SETUP = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from therapies.services import upsert_drug_class, upsert_therapy
upsert_drug_class(slug="test-class", name="Test class", status="published")
upsert_therapy(slug="alphamab", drug_class="test-class", name="Alphamab",
               position="investigational", status="published")
"""
CHANGE = """
import django; django.setup()
from therapies.services import upsert_therapy
upsert_therapy(slug="alphamab", drug_class="test-class", name="Betamab",
               position="investigational", status="published")
"""

ADD_STUDY = """
import django; django.setup()
from django.db import transaction
from evidence.models import Study
from references.models import Reference
from therapies.models import Therapy
with transaction.atomic():
    reference = Reference.objects.create(title="Alphamab in myositis", bibtex_key="alpha2026",
                                         year=2026, status="published")
    study = Study.objects.create(key="alphamab-series", reference=reference, level=4,
                                 label="Alphamab case series", design="case_series",
                                 result="benefit", summary="Made for the test.",
                                 status="published")
    study.therapies.add(Therapy.objects.get(slug="alphamab"))
"""


def redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": HOST, **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def run(code: str, env: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def base_env(tmp_path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "MYOEVIDENCE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        # Development mode (the settings default to production, which needs a secret key).
        DJANGO_DEBUG="true",
        # A throwaway file: durability is irrelevant, so no fsync (keeps the test to seconds).
        DATABASE_URL=f"sqlite:///{tmp_path / 'instances.db'}"
        "?init_command=PRAGMA%20synchronous%3DOFF",
        MYOEVIDENCE_PAGE_CACHE_SECONDS="300",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture
def local_env(tmp_path):
    """The default configuration: no CACHE_URL, so each process caches in its own memory."""
    return base_env(tmp_path)


@pytest.fixture
def shared_env(tmp_path):
    if not redis_reachable():
        pytest.fail(
            f"Redis is not reachable at {REDIS[0]}:{REDIS[1]}; the cross-instance cache test "
            "needs it. Start it (.ci/run does): redis-server --daemonize yes --bind 127.0.0.1 "
            "--port 6379 --save '' --appendonly no"
        )
    prefix = f"test-instances-{uuid.uuid4().hex[:12]}"
    env = base_env(tmp_path)
    env.update(CACHE_URL=f"redis://{REDIS[0]}:{REDIS[1]}/0", CACHE_KEY_PREFIX=prefix)
    yield env
    import redis

    client = redis.Redis(*REDIS)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def two_instances(shared_env):
    yield from start_two(shared_env)


@pytest.fixture
def two_local_instances(local_env):
    yield from start_two(local_env)


def start_two(env: dict):
    run(SETUP, env)
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for port, server in zip(ports, servers, strict=True):
            while True:
                try:
                    if get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"instance on port {port} did not start: "
                        f"{server.stderr.read().decode()[-2000:]}"
                    )
                time.sleep(0.1)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def test_a_change_made_elsewhere_reaches_every_instance_at_once(shared_env, two_instances):
    first, second = two_instances
    status, headers, body = get(first, "/therapies/")
    assert status == 200 and "Alphamab" in body
    assert headers["X-Page-Cache"] == "miss"
    # The page the first instance rendered is the second's too: the cache is shared.
    assert get(second, "/therapies/")[1]["X-Page-Cache"] == "hit"
    assert get(first, "/therapies/")[1]["X-Page-Cache"] == "hit"

    run(CHANGE, shared_env)  # a third process, through the service

    # The next read anywhere renders afresh (a miss: the generation moved on); the fresh page
    # is then shared, so the other instance may serve it from the cache, but never the old one.
    status, headers, body = get(second, "/therapies/")
    assert headers["X-Page-Cache"] == "miss", "the second instance served a stale page"
    assert "Betamab" in body and "Alphamab" not in body
    status, headers, body = get(first, "/therapies/")
    assert "Betamab" in body and "Alphamab" not in body, "the first instance served a stale page"
    assert headers["X-Page-Cache"] == "hit"


def test_aggregates_computed_on_one_instance_are_fresh_on_every_instance(shared_env, two_instances):
    import json

    import redis

    first, second = two_instances
    # A session cookie keeps the page cache out of the way: every request is rendered, and
    # the study count comes from the data cache (core.caching.data.count_by).
    rendered = {"Cookie": "sessionid=none"}

    def study_count(port):
        status, headers, body = get(port, "/api/v1/therapies/alphamab/", rendered)
        assert status == 200 and "X-Page-Cache" not in headers
        return json.loads(body)["study_count"]

    assert study_count(first) == 0
    assert study_count(second) == 0
    stored = list(redis.Redis(*REDIS).scan_iter(match=f"{shared_env['CACHE_KEY_PREFIX']}:*:data:*"))
    assert stored, "the instances did not keep the count in the shared data cache"

    run(ADD_STUDY, shared_env)  # a third process adds a study of the therapy

    assert study_count(second) == 1, "the second instance served a stale count"
    assert study_count(first) == 1, "the first instance served a stale count"


EDITOR = """
import django; django.setup()
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_superuser("editor", password="not-used")
Token.objects.create(user=user, key=TOKEN)
"""
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # made up for the throwaway database


def send(port: int, method: str, path: str, body: dict, headers: dict) -> int:
    import json

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Host": HOST, "Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_without_redis_a_write_through_one_process_reaches_the_other_at_once(
    local_env, two_local_instances
):
    """The default configuration: each process caches pages and values in its own memory,
    checked against the generation in the database, which the write moves on."""
    first, second = two_local_instances
    run(f"TOKEN = {TOKEN!r}\n" + EDITOR, local_env)
    rendered = {"Cookie": "sessionid=none"}  # past the page cache: the data cache's count
    for port in (first, second):
        assert get(port, "/therapies/")[1]["X-Page-Cache"] == "miss"
        status, headers, body = get(port, "/therapies/")
        assert headers["X-Page-Cache"] == "hit" and "Alphamab" in body
        assert '"study_count":0' in get(port, "/api/v1/therapies/alphamab/", rendered)[2]

    # The write, through the first process's API, as an integrator makes it.
    auth = {"Authorization": f"Token {TOKEN}"}
    etag = get(first, "/api/v1/therapies/alphamab/", auth)[1]["ETag"]
    assert (
        send(
            first,
            "PATCH",
            "/api/v1/therapies/alphamab/",
            {"name": "Betamab"},
            {**auth, "If-Match": etag},
        )
        == 200
    )

    # The second process held the page and had not seen the write: its next request is fresh.
    status, headers, body = get(second, "/therapies/")
    assert headers["X-Page-Cache"] == "miss", "the second process served a stale page"
    assert "Betamab" in body and "Alphamab" not in body
    assert get(second, "/therapies/")[1]["X-Page-Cache"] == "hit"
    status, headers, body = get(first, "/therapies/")
    assert "Betamab" in body and "Alphamab" not in body, "the first process served a stale page"

    run(ADD_STUDY, local_env)  # a third process adds a study of the therapy
    for port in (second, first):
        body = get(port, "/api/v1/therapies/alphamab/", rendered)[2]
        assert '"study_count":1' in body, f"the process on {port} served a stale count"
