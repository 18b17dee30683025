"""Every page runs a bounded number of SQL queries, whatever the number of studies."""

import pytest

from tests.factories import make_studies

pytestmark = pytest.mark.django_db

# page -> the most queries it may run (the same bound with 45 or 345 studies).
BUDGETS = {
    "/": 12,
    "/therapies/": 4,
    "/therapies/rituximab/": 16,
    "/subtypes/": 4,
    "/subtypes/dermatomyositis/": 8,
    "/designs/": 4,
    "/designs/case-report/": 8,
    "/studies/": 10,
    "/studies/?therapy=rituximab&subtype=dm&ordering=-year": 12,
    "/studies/export.csv": 12,
    "/references/": 6,
    "/references/?therapy=abatacept": 6,
    "/references/export/bibtex/": 6,
    "/references/1/": 10,
    "/search/?q=rituximab": 10,
}


def fetch(client, url):
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return response


@pytest.mark.parametrize("url,budget", BUDGETS.items())
def test_query_budget_is_independent_of_corpus_size(client, django_assert_max_num_queries,
                                                    url, budget):
    with django_assert_max_num_queries(budget):
        fetch(client, url)
    make_studies(300)
    with django_assert_max_num_queries(budget):
        fetch(client, url)
