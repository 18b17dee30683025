"""Property-based contract test: Schemathesis sends requests generated from our own OpenAPI
schema, valid ones and invalid ones, to every operation (reads anonymously, writes with an
editor's token) and checks that no answer is a server error and that every answer matches
the schema: status code, content type, headers and body.

Schemathesis drives Hypothesis directly here (its pytest plugin's parametrize does not run
under pytest 9). Examples are few and derandomised, so the run is quick and repeatable;
raise MAX_EXAMPLES locally to dig deeper.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import staff

MAX_EXAMPLES = 6
READS = ("GET", "HEAD")


@pytest.fixture
def api_schema(request, db, settings, fresh_throttle):
    # Thousands of requests in one test: lift the rate limits (tested elsewhere).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    # Requests go straight to the WSGI application, outside Django's test client: keep it from
    # closing the test's database connection at each request, as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request.addfinalizer(
        lambda: (
            signals.request_started.connect(close_old_connections),
            signals.request_finished.connect(close_old_connections),
        )
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    # If-Match is required and checked before the body (RFC 9110): an invalid write without it
    # is refused with 428, and with a stale or made-up ETag with 412; both are rejections too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "412", "428"]
    return schema


def run_operation(operation, mode, headers) -> str | None:
    # A write naming a therapy, subtype or reference that does not exist is rightly a 400,
    # though the schema cannot list every id: "valid data accepted" is checked on reads only.
    excluded = [] if operation.method.upper() in READS else [positive_data_acceptance]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        # Nothing invalid can be sent (e.g. a path parameter that takes any text): no case.
        assert mode is GenerationMode.NEGATIVE, operation.label
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # collected so that one run reports every failing operation
        return f"{operation.label} [{mode.value}]: {type(exc).__name__}: {exc}"
    return None


def test_api_honours_its_schema(api_schema):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff("schemathesis", "Editors")).key
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    assert any(op.method.upper() == "POST" for op in operations)
    failures = []
    for operation in operations:
        headers = {} if operation.method.upper() in READS else {"Authorization": f"Token {token}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = run_operation(operation, mode, headers)
            if failure:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)
