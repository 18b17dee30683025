"""The BibTeX, RIS and CSL-JSON exports keep PMID, PMCID and DOI in their standard fields."""

import json

import bibtexparser
import pytest
import rispy

from references.models import Reference

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    found = Reference.objects.published().exclude(pmid="").exclude(doi="").exclude(pmcid="").first()
    assert found is not None, "the corpus has a reference with PMID, PMCID and DOI"
    return found


def export(client, fmt, reference):
    response = client.get(f"/references/export/{fmt}/", {"q": reference.title[:40]})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_bibtex_keeps_identifiers(client, reference):
    entries = {
        e.key: e for e in bibtexparser.parse_string(export(client, "bibtex", reference)).entries
    }
    fields = {f.key: f.value for f in entries[reference.bibtex_key].fields}
    assert fields["doi"] == reference.doi
    assert fields["pmid"] == reference.pmid
    assert fields["pmcid"] == reference.pmcid


def test_ris_keeps_identifiers(client, reference):
    records = rispy.loads(export(client, "ris", reference))
    record = next(r for r in records if r.get("doi") == reference.doi)
    assert record["accession_number"] == f"PMID:{reference.pmid}"
    # rispy names the C2 tag "custom2": NCBI's RIS puts the PMCID there.
    assert record["custom2"] == reference.pmcid


def test_csljson_keeps_identifiers(client, reference):
    items = json.loads(export(client, "csljson", reference))
    item = next(i for i in items if i["id"] == reference.bibtex_key)
    assert (item["DOI"], item["PMID"], item["PMCID"]) == (
        reference.doi,
        reference.pmid,
        reference.pmcid,
    )
