"""Add from PMID or DOI: the client reads recorded PubMed and Crossref answers (tests/data/lookup,
served by a local HTTP server in place of the services), says so in one sentence when there is
no network, and the admin prefills the add form without saving anything."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from references.lookup import (
    CROSSREF,
    PUBMED,
    InvalidIdentifier,
    NotFound,
    Unavailable,
    lookup,
    parse_identifier,
)
from references.models import Reference

pytestmark = pytest.mark.django_db

RECORDED = Path(__file__).resolve().parent.parent / "data" / "lookup"
RIM = (
    "Rituximab in the treatment of refractory adult and juvenile dermatomyositis and adult "
    "polymyositis: a randomized, placebo-phase trial"
)
SIX = [
    ("Oddis", "CV"),
    ("Reed", "AM"),
    ("Aggarwal", "R"),
    ("Rider", "LG"),
    ("Ascherman", "DP"),
    ("Levesque", "MC"),
]


class Recorded(BaseHTTPRequestHandler):
    requests: list = []

    def do_GET(self):
        url = urlparse(self.path)
        Recorded.requests.append((url.path, parse_qs(url.query), dict(self.headers)))
        if url.path == "/eutils/esummary.fcgi":
            name = {"23124935": "esummary-23124935.json"}.get(
                parse_qs(url.query)["id"][0], "esummary-not-found.json"
            )
            self._send(200, name, "application/json")
        elif url.path == "/works/10.1002/art.37754":
            self._send(200, "crossref-10.1002-art.37754.json", "application/json")
        else:
            self._send(404, "crossref-not-found.txt", "text/plain")

    def _send(self, status, name, content_type):
        body = (RECORDED / name).read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def services(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    settings.MYOEVIDENCE_NCBI_BASE_URL = f"{base}/eutils"
    settings.MYOEVIDENCE_CROSSREF_BASE_URL = base
    settings.MYOEVIDENCE_CONTACT_EMAIL = "curators@example.org"
    settings.MYOEVIDENCE_NCBI_API_KEY = "test-key"
    Recorded.requests = []
    yield Recorded.requests
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused(settings):
    """A port nothing listens on: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MYOEVIDENCE_NCBI_BASE_URL = f"http://127.0.0.1:{port}/eutils"
    settings.MYOEVIDENCE_CROSSREF_BASE_URL = f"http://127.0.0.1:{port}"


@pytest.fixture
def silent(settings):
    """A server that accepts the connection and never answers: a timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    settings.MYOEVIDENCE_NCBI_BASE_URL = f"http://127.0.0.1:{sock.getsockname()[1]}/eutils"
    settings.MYOEVIDENCE_LOOKUP_TIMEOUT = 0.3
    yield
    sock.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23124935", ("pmid", "23124935")),
        (" PMID: 23124935 ", ("pmid", "23124935")),
        ("https://pubmed.ncbi.nlm.nih.gov/23124935/", ("pmid", "23124935")),
        ("10.1002/art.37754", ("doi", "10.1002/art.37754")),
        ("https://doi.org/10.1002/art.37754", ("doi", "10.1002/art.37754")),
        ("doi:10.1002/art.37754", ("doi", "10.1002/art.37754")),
    ],
)
def test_identifiers_are_recognised(text, expected):
    assert parse_identifier(text) == expected


@pytest.mark.parametrize("text", ["", "123456789", "PMC3602476", "10.12/x", "rituximab"])
def test_a_malformed_identifier_is_refused(text):
    with pytest.raises(InvalidIdentifier):
        parse_identifier(text)


def test_pubmed_esummary(services):
    parsed, service = lookup("23124935")
    assert service == PUBMED
    assert parsed.title == RIM  # NLM's closing full stop removed
    assert [(a.family, a.given) for a in parsed.authors] == SIX
    assert (parsed.journal, parsed.year, parsed.volume, parsed.issue, parsed.pages) == (
        "Arthritis Rheum",
        2013,
        "65",
        "2",
        "314–24",
    )
    assert (parsed.pmid, parsed.doi, parsed.pmcid) == ("23124935", "10.1002/art.37754", "")
    path, query, headers = services[0]
    assert path == "/eutils/esummary.fcgi"
    assert query == {
        "db": ["pubmed"],
        "id": ["23124935"],
        "retmode": ["json"],
        "tool": ["myoevidence"],
        "email": ["curators@example.org"],
        "api_key": ["test-key"],
    }


def test_crossref_work(services):
    parsed, service = lookup("https://doi.org/10.1002/art.37754")
    assert service == CROSSREF
    assert parsed.title == RIM
    assert [(a.family, a.given) for a in parsed.authors] == SIX
    assert (parsed.journal, parsed.year, parsed.volume, parsed.issue, parsed.pages) == (
        "Arthritis Rheum",
        2013,
        "65",
        "2",
        "314–324",
    )
    assert (parsed.doi, parsed.pmid) == ("10.1002/art.37754", "")
    path, query, headers = services[0]
    assert path == "/works/10.1002/art.37754" and query == {"mailto": ["curators@example.org"]}
    assert headers["User-Agent"] == "MyoEvidence/0.1 (mailto:curators@example.org)"


def test_not_found(services):
    with pytest.raises(NotFound, match=r"^PubMed has no record with PMID 99999998\.$"):
        lookup("99999998")
    with pytest.raises(NotFound, match=r"^Crossref has no record of the DOI 10\.9999/none\.$"):
        lookup("10.9999/none")


def test_no_network_connection_refused(refused):
    with pytest.raises(Unavailable) as exc:
        lookup("23124935")
    assert str(exc.value) == (
        "PubMed could not be reached (connection refused), so nothing "
        "was filled in: enter the reference by hand."
    )
    with pytest.raises(Unavailable, match=r"^Crossref could not be reached"):
        lookup("10.1002/art.37754")


def test_no_answer_times_out(silent):
    with pytest.raises(Unavailable) as exc:
        lookup("23124935")
    assert str(exc.value) == (
        "PubMed could not be reached (no answer within 0.3 s), so "
        "nothing was filled in: enter the reference by hand."
    )


# -- the admin -----------------------------------------------------------------------------------


def lookup_page(client, identifier):
    return client.post(
        reverse("admin:references_reference_lookup"), {"identifier": identifier}, follow=True
    )


def test_the_add_form_is_prefilled_and_nothing_is_saved(client, curator, services):
    before = Reference.objects.count()
    response = lookup_page(client, "23124935")
    assert response.redirect_chain[-1][0] == reverse("admin:references_reference_add") + "?lookup=1"
    text = response.content.decode()
    assert "Filled in from PubMed: check every field" in text
    form = response.context["adminform"].form
    assert form.initial["title"] == RIM
    assert (form.initial["pmid"], form.initial["doi"], form.initial["year"]) == (
        "23124935",
        "10.1002/art.37754",
        2013,
    )
    assert (form.initial["journal"], form.initial["pages"]) == ("Arthritis Rheum", "314–24")
    authors = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.model.__name__ == "Author"
    ).formset
    assert [
        (f.initial["position"], f.initial["family"], f.initial["given"]) for f in authors.forms
    ] == [(i, fam, giv) for i, (fam, giv) in enumerate(SIX, 1)]
    assert Reference.objects.count() == before


def test_a_stored_reference_is_pointed_to(client, curator, services):
    stored = Reference.objects.get(pmid="23124935")
    text = lookup_page(client, "10.1002/art.37754").content.decode()
    assert "This looks like a stored reference" in text
    assert reverse("admin:references_reference_change", args=[stored.pk]) in text


def test_no_network_says_so_and_leaves_the_form_empty(client, curator, refused):
    response = lookup_page(client, "23124935")
    assert response.redirect_chain[-1][0] == reverse("admin:references_reference_add")
    text = response.content.decode()
    assert "PubMed could not be reached (connection refused), so nothing was filled in" in text
    assert not response.context["adminform"].form.initial.get("title")


def test_malformed_and_not_found_are_form_errors(client, curator, services):
    text = lookup_page(client, "rituximab").content.decode()
    assert "is neither a PMID" in text and "errorlist" in text
    text = lookup_page(client, "99999998").content.decode()
    assert "PubMed has no record with PMID 99999998." in text


def test_the_changelist_links_to_the_lookup(client, curator):
    text = client.get(reverse("admin:references_reference_changelist")).content.decode()
    assert reverse("admin:references_reference_lookup") in text
