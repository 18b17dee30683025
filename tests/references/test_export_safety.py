"""BibTeX and RIS exports: no stored value can end an entry or record, or add a field; read
back by independent readers (bibtexparser, rispy) the export is one record with its fields."""

import bibtexparser
import pytest
import rispy
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from references.models import Reference
from tests.helpers import body

pytestmark = pytest.mark.django_db

BIBTEX_BREAKOUT = "Rituximab}\n@misc{evil,\n  title = {Forged}"
RIS_BREAKOUT = "Rituximab\nER  - \nTY  - JOUR\nTI  - Forged"


@pytest.fixture
def reference():
    """Reference 1 with hostile values stored past validation (as an old row could be)."""
    Reference.objects.filter(number=1).update(
        title=BIBTEX_BREAKOUT + " " + RIS_BREAKOUT,
        journal="J }, author = {Mallory",
        pages="1}, note = {x",
        doi="10.1000/x},note={y",
        url="https://ex.org/a}b\\",
        notes="line one\r\n@comment{x}\n}",
        identifier_sources=["https://ex.org/}{"],
        bibtex_key="ref1,\n  title = {Forged}",
    )
    return Reference.objects.get(number=1)


def test_the_bibtex_export_is_one_entry_with_its_own_fields(client, reference):
    text = body(client.get("/references/1/cite/bibtex/"))
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    [entry] = library.entries
    assert [b for b in library.blocks if b is not entry] == []
    assert "evil" not in [e.key for e in library.entries] and "," not in entry.key
    assert set(entry.fields_dict) <= {
        "author",
        "title",
        "journal",
        "publisher",
        "year",
        "volume",
        "number",
        "pages",
        "doi",
        "pmid",
        "pmcid",
        "url",
        "reviewnumber",
        "kind",
        "role",
        "idsources",
        "annote",
    }
    assert entry["doi"] == "10.1000/x,note=y"  # braces that could end the field are dropped
    assert entry["url"] == "https://ex.org/a%7Db%5C"
    assert "Forged" in entry["title"] and "Mallory" in entry["journal"]
    # No line of the export starts a new entry except the entry itself.
    assert [line for line in text.splitlines() if line.lstrip().startswith("@")] == [
        text.splitlines()[0]
    ]


def test_a_bibtex_export_imports_back_as_the_same_title(client, reference, tmp_path):
    from references.bibtex import parse_bibtex

    text = body(client.get("/references/1/cite/bibtex/"))
    [parsed] = parse_bibtex(text).references
    # Its lines too (each written \newline{}, so no line of the export starts an entry); in a
    # line, runs of spaces fold, as BibTeX folds them.
    lines = reference.title.replace("\r\n", "\n").split("\n")
    assert parsed.title == "\n".join(" ".join(line.split()) for line in lines)
    assert parsed.journal == reference.journal


def test_the_ris_export_is_one_record_with_the_right_fields(client, reference):
    text = body(client.get("/references/1/cite/ris/"))
    [record] = rispy.loads(text)
    assert record["type_of_reference"] == "JOUR"
    assert record["title"] == " ".join((BIBTEX_BREAKOUT + " " + RIS_BREAKOUT).split())
    assert record["notes"] == ["line one @comment{x} }"]
    assert record["doi"] == reference.doi
    assert record["authors"] == [f"{a.family}, {a.given}" for a in reference.ordered_authors]
    assert sum(line.startswith("TY  - ") for line in text.splitlines()) == 1
    assert sum(line.startswith("ER  -") for line in text.splitlines()) == 1


def test_the_list_export_keeps_one_record_per_reference(client, reference):
    text = body(client.get("/references/export/ris/"))
    assert len(rispy.loads(text)) == Reference.objects.published().count()
    library = bibtexparser.parse_string(body(client.get("/references/export/bibtex/")))
    assert not library.failed_blocks
    assert len(library.entries) == Reference.objects.published().count()


# -- input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("bibtex_key", "a,b", "A BibTeX key is letters, digits"),
        ("bibtex_key", "x}\n@misc{y", "A BibTeX key is letters, digits"),
        ("url", "javascript:alert(1)", "Only http:// and https:// addresses"),
        ("url", "ftp://example.org/file", "Only http:// and https:// addresses"),
        (
            "identifier_sources",
            ["https://ok.org", "javascript:alert(1)"],
            "'javascript:alert(1)' is not an http:// or https:// address",
        ),
        ("identifier_sources", "https://ok.org", "Give a list"),
    ],
)
def test_the_model_refuses_unsafe_keys_and_urls(field, value, message):
    reference = Reference.objects.get(number=1)
    setattr(reference, field, value)
    with pytest.raises(ValidationError) as info:
        reference.full_clean()
    assert any(message in m for m in info.value.message_dict[field])


def test_the_api_refuses_a_url_that_is_not_http(client, editor):
    response = client.post(
        "/api/v1/references/",
        {"title": "T", "url": "ftp://example.org/x", "bibtex_key": "ok2020"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Only http:// and https:// addresses are accepted." in str(response.json())
    assert not Reference.objects.filter(bibtex_key="ok2020").exists()


def test_the_api_refuses_an_unsafe_key(client, editor):
    response = client.post(
        "/api/v1/references/",
        {"title": "T", "bibtex_key": "a b,c"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "BibTeX key is letters" in str(response.json())


def test_a_provenance_url_must_be_http():
    from evidence.models import Provenance

    provenance = Provenance.objects.first()
    provenance.url = "javascript:alert(document.cookie)"
    with pytest.raises(ValidationError) as info:
        provenance.full_clean()
    assert "Only http:// and https://" in " ".join(info.value.message_dict["url"])


# Characters escaping is about, and some it leaves alone, so that drawn values hit both often.
_TRICKY = "\\~^{}&%$#_-'`?!\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029 aZé–"


@given(st.text(alphabet=st.sampled_from(_TRICKY) | st.characters(), max_size=12))
@settings(max_examples=2000, deadline=None)
def test_the_quick_check_for_values_to_escape_is_the_rules_own(value):
    # A value the quick check lets through is written as it is: it must be one that the rule
    # (_PLAIN_RE, the characters and pairs the escaping functions change) finds nothing in.
    from references.formats import _PLAIN_RE, _needs_escaping

    assert _needs_escaping(value) == bool(_PLAIN_RE.search(value))
