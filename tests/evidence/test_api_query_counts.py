"""Every API list runs a bounded number of queries, whatever the amount of data: the same
bound holds with 10 and with 1,000 published studies (NetBox pins its counts likewise)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.models import DiseaseSubtype, Outcome, Provenance, Study
from references.models import Reference
from tests.evidence.test_query_counts import keep_published
from tests.factories import client_for
from tests.helpers import content
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

# (url, bound): the bound is what the endpoint needs today plus one. Every list and export
# reads the time of the last content change (one query, core/conditional.py: its ETag and
# Last-Modified must change when a related row does): that query is part of "today".
LISTS = [
    # Studies carry their arms and subtype counts (issue 13): two more prefetch queries.
    ("/api/v1/studies/?page_size=500", 10),
    ("/api/v1/studies/?therapy=rituximab&subtype=dm&page_size=500", 13),
    ("/api/v1/studies/?format=csv", 10),
    ("/api/v1/studies/counts/", 8),
    ("/api/v1/outcomes/?page_size=500", 3),
    ("/api/v1/references/?page_size=500", 4),
    ("/api/v1/references/?format=bibtex", 4),
    ("/api/v1/references/?format=csv", 4),
    ("/api/v1/therapies/?page_size=500", 4),
    ("/api/v1/drug-classes/", 4),
    ("/api/v1/subtypes/", 4),
    ("/api/v1/designs/", 3),
    ("/api/v1/statements/", 5),
    # The synthesis reads six kinds of study facts, the overrides and the cut-off.
    ("/api/v1/matrix/", 12),
    ("/api/v1/trials/", 4),
    ("/api/v1/summary/rituximab/dm/", 21),
    # Statements, outcomes and trials (issue 17), and the studies the trial hits open.
    ("/api/v1/search/?q=rituximab", 9),
]


# Every request may read the content generation once (core/caching/generation.py: a row in the
# database since issue 15, no longer a key in the cache): lists and exports always do (their
# ETag carries it), the rest when the caches are on. One query, never more, added to each bound.
GENERATION_READ = 1
LISTS = [(url, bound + GENERATION_READ) for url, bound in LISTS]


def queries_for(url: str) -> int:
    client = client_for()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        content(response)  # a streamed export runs its queries while it is read
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def add_studies(n: int) -> None:
    reference = Reference.objects.get(number=1)
    therapies = list(Therapy.objects.all()[:3])
    subtypes = list(DiseaseSubtype.objects.all()[:3])
    studies = Study.objects.bulk_create(
        [
            Study(
                key=f"bulk-{i}",
                reference=reference,
                label=f"Bulk study {i}",
                design="case_series",
                result="benefit",
                summary="Made for the query-count test.",
                status="published",
                sample_size=i,
                level=4,
            )
            for i in range(n)
        ]
    )
    Study.therapies.through.objects.bulk_create(
        [Study.therapies.through(study=s, therapy=t) for s in studies for t in therapies]
    )
    Study.subtypes.through.objects.bulk_create(
        [Study.subtypes.through(study=s, diseasesubtype=d) for s in studies for d in subtypes]
    )
    Outcome.objects.bulk_create(
        [Outcome(study=s, measure="mmt8", responders=1, n=2) for s in studies]
    )
    Provenance.objects.bulk_create([Provenance(study=s, source="abstract") for s in studies])


# Streamed exports read the rows in chunks of 500 (core.api.exports.CHUNK_SIZE), each with
# its own prefetch queries: at 1,000 studies, one more chunk's worth, never one per row.
EXPORT_CHUNK_QUERIES = {"/api/v1/studies/?format=csv": 7}


@pytest.mark.parametrize("url, bound", LISTS)
def test_list_queries_do_not_grow_with_the_data(url, bound, django_assert_max_num_queries):
    keep_published(10)
    with django_assert_max_num_queries(bound):
        queries_for(url)
    add_studies(990)
    assert Study.objects.published().count() == 1000
    with django_assert_max_num_queries(bound + EXPORT_CHUNK_QUERIES.get(url, 0)):
        queries_for(url)
