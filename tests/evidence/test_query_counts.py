"""Every page runs a bounded number of SQL queries, whatever the number of studies."""

import pytest

from core.choices import ReviewStatus
from evidence.models import Study
from tests.factories import make_studies

pytestmark = pytest.mark.django_db

# page -> the most queries it may run (the same bound with 10 or 1,000 published studies).
BUDGETS = {
    # The synthesis (issue 13) reads six kinds of study facts, the overrides and the cut-off;
    # the therapy page adds its row of the matrix and its safety signals.
    "/": 16,
    "/therapies/": 4,
    "/therapies/rituximab/": 24,
    "/therapies/rituximab/dermatomyositis/": 19,
    "/therapies/ivig/polymyositis/": 19,
    "/about/": 5,
    "/subtypes/": 4,
    "/subtypes/dermatomyositis/": 10,
    "/designs/": 4,
    "/designs/case-report/": 8,
    "/studies/": 10,
    # The active-filter chips name each filtered field's values: one query per field.
    "/studies/?therapy=rituximab&subtype=dm&ordering=-year": 14,
    "/studies/export.csv": 12,
    "/references/": 6,
    "/references/?therapy=abatacept": 7,
    "/references/export/bibtex/": 6,
    "/references/1/": 10,
    "/search/?q=rituximab": 10,
}
# Every page's footer names the latest data release and whether published changes exist
# since: one query (memoized per content generation outside the tests; releases app).
RELEASE_FOOTER = 1
# With the caches on (MYOEVIDENCE_TEST_CACHES=on, as in production) every request reads the
# content generation once (core/caching/generation.py: a row in the database since issue 15):
# one query, never more.
GENERATION_READ = 1
BUDGETS = {
    page: budget + (RELEASE_FOOTER if "export" not in page else 0) + GENERATION_READ
    for page, budget in BUDGETS.items()
}


def fetch(client, url):
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return response


# Streamed exports read the rows in chunks of 500 (flat memory), each chunk with its own
# prefetch queries: at 1,000 studies they may run one more chunk's worth, never one per row.
EXPORT_CHUNK_QUERIES = {"/studies/export.csv": 7, "/references/export/bibtex/": 1}


def keep_published(count: int) -> None:
    """Leave ``count`` published studies (the rest become drafts, which readers do not see)."""
    keep = list(Study.objects.published().values_list("pk", flat=True)[:count])
    Study.objects.published().exclude(pk__in=keep).update(status=ReviewStatus.DRAFT)
    assert Study.objects.published().count() == count


@pytest.mark.parametrize("url,budget", BUDGETS.items())
def test_query_budget_is_independent_of_corpus_size(
    client, django_assert_max_num_queries, url, budget
):
    keep_published(10)
    with django_assert_max_num_queries(budget):
        fetch(client, url)
    make_studies(990)
    assert Study.objects.published().count() == 1000
    with django_assert_max_num_queries(budget + EXPORT_CHUNK_QUERIES.get(url, 0)):
        fetch(client, url)
