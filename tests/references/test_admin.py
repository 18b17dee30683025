"""The references admin: pages for curators and editors, duplicate warnings, exports, escaping,
protected deletes and the BibTeX upload with its preview step."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import workflow
from core.choices import ReviewStatus
from core.workflow import CURATORS
from references.admin import IMPORT_SESSION_KEY
from references.models import Author, Reference
from tests.factories import staff

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> Rituximab & friends"


def draft_reference(**fields) -> Reference:
    values = {"title": "A draft reference", "bibtex_key": "draft2024", "year": 2024}
    values.update(fields)
    reference = Reference.objects.create(**values)
    Author.objects.create(reference=reference, position=1, family="Curie", given="M")
    reference.refresh_first_author()
    return reference


@pytest.mark.parametrize("role", ["curator", "editor"])
def test_every_page_opens(client, request, role):
    request.getfixturevalue(role)
    reference = Reference.objects.get(number=1)
    author = reference.authors.first()
    for url in [
        reverse("admin:references_reference_changelist"),
        reverse("admin:references_reference_add"),
        reverse("admin:references_reference_change", args=[reference.pk]),
        reverse("admin:references_reference_history", args=[reference.pk]),
        reverse("admin:references_reference_review", args=[reference.pk]),
        reverse("admin:references_reference_import"),
        reverse("admin:references_author_changelist"),
        reverse("admin:references_author_add"),
        reverse("admin:references_author_change", args=[author.pk]),
        reverse("admin:references_reference_changelist") + "?q=rituximab&status=published",
    ]:
        assert client.get(url).status_code == 200, url


def test_the_changelist_query_count_is_pinned(client, editor, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:references_reference_changelist"))
    assert response.status_code == 200
    assert "Oddis" in response.content.decode()


def test_a_published_reference_is_read_only_for_a_curator(client, curator):
    reference = Reference.objects.get(number=1)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert "Published entries are changed by editors" in page
    assert client.post(url, {"title": "Changed"}).status_code == 403


def test_the_change_page_shows_the_studies_the_reference_reports(client, curator):
    reference = Reference.objects.get(number=1)
    page = client.get(reverse("admin:references_reference_change", args=[reference.pk]))
    text = page.content.decode()
    assert "studies it reports" in text.lower()
    study = reference.studies.first()
    assert reverse("admin:evidence_study_change", args=[study.pk]) in text


def form_data(reference=None, **fields) -> dict:
    data = {
        "number": "",
        "bibtex_key": "new2024",
        "kind": "journal_article",
        "role": "",
        "title": "A new trial of something",
        "authors_truncated": "",
        "journal": "J Test",
        "year": "2024",
        "volume": "",
        "issue": "",
        "pages": "",
        "publisher": "",
        "doi": "",
        "pmid": "",
        "pmcid": "",
        "url": "",
        "identifier_sources": "[]",
        "notes": "",
        "authors-TOTAL_FORMS": "1",
        "authors-INITIAL_FORMS": "0",
        "authors-MIN_NUM_FORMS": "0",
        "authors-MAX_NUM_FORMS": "1000",
        "authors-0-position": "1",
        "authors-0-family": "Bohr",
        "authors-0-given": "N",
        "studies-TOTAL_FORMS": "0",
        "studies-INITIAL_FORMS": "0",
        "studies-MIN_NUM_FORMS": "0",
        "studies-MAX_NUM_FORMS": "0",
    }
    data.update(fields)
    return data


def test_a_curator_adds_a_draft_reference_with_its_authors(client, curator):
    response = client.post(reverse("admin:references_reference_add"), form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    reference = Reference.objects.get(bibtex_key="new2024")
    assert reference.status == ReviewStatus.DRAFT
    assert reference.first_author == "Bohr"
    assert reference.history.first().history_user == curator


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("doi", "10.1002/ART.37754", "Another reference already has this DOI"),
        ("pmid", "23124935", "Another reference already has this PMID"),
    ],
)
def test_a_duplicate_identifier_is_refused_with_a_link(client, curator, field, value, message):
    existing = Reference.objects.get(number=1)
    response = client.post(reverse("admin:references_reference_add"), form_data(**{field: value}))
    text = response.content.decode()
    assert response.status_code == 200 and message in text
    assert f'href="{reverse("admin:references_reference_change", args=[existing.pk])}"' in text
    assert not Reference.objects.filter(bibtex_key="new2024").exists()


def test_a_same_title_and_year_is_a_warning_that_can_be_overruled(client, curator):
    existing = Reference.objects.get(number=1)
    data = form_data(title=existing.title.upper(), year=str(existing.year))
    response = client.post(reverse("admin:references_reference_add"), data)
    text = response.content.decode()
    assert "A reference with the same title and year exists" in text
    assert reverse("admin:references_reference_change", args=[existing.pk]) in text
    data["not_a_duplicate"] = "on"
    assert client.post(reverse("admin:references_reference_add"), data).status_code == 302
    assert Reference.objects.filter(bibtex_key="new2024").exists()


def test_markup_in_a_title_is_stored_as_text_and_escaped_where_shown(client, editor):
    reference = draft_reference(title=HOSTILE)
    admin_pages = [
        client.get(reverse("admin:references_reference_changelist")).content.decode(),
        client.get(
            reverse("admin:references_reference_change", args=[reference.pk])
        ).content.decode(),
        client.get(
            reverse("admin:references_reference_history", args=[reference.pk])
        ).content.decode(),
        client.get(
            reverse("admin:references_reference_review", args=[reference.pk])
        ).content.decode(),
    ]
    for page in admin_pages:
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page
    # A duplicate warning quotes the title inside its link: still escaped.
    page = client.post(
        reverse("admin:references_reference_add"), form_data(title=HOSTILE, year="2024")
    ).content.decode()
    assert "A reference with the same title and year exists" in page
    assert "<script>alert" not in page
    workflow.submit(reference, user=staff("someone", CURATORS))
    workflow.publish(reference, user=editor, comment="Test of escaping")
    client.logout()
    public = client.get(f"/references/id-{reference.pk}/")
    assert public.status_code == 200
    assert "<script>alert" not in public.content.decode()
    assert "&lt;script&gt;alert(" in public.content.decode()


def test_export_selected_as_bibtex_and_ris(client, curator):
    pks = list(Reference.objects.filter(number__in=[1, 2]).values_list("pk", flat=True))
    url = reverse("admin:references_reference_changelist")
    bib = client.post(url, {"action": "export_bibtex", "_selected_action": pks})
    assert bib["Content-Type"].startswith("application/x-bibtex")
    assert "attachment" in bib["Content-Disposition"]
    text = bib.content.decode()
    assert text.count("@article{") == 2 and "reviewnumber = {1}" in text
    ris = client.post(url, {"action": "export_ris", "_selected_action": pks}).content.decode()
    assert ris.count("ER  -") == 2 and "DO  - 10.1002/art.37754" in ris


def test_deleting_a_cited_reference_is_refused_naming_its_studies(client, editor):
    reference = Reference.objects.get(number=1)
    url = reverse("admin:references_reference_delete", args=[reference.pk])
    page = client.get(url).content.decode()
    assert "Cannot delete" in page or "protected" in page
    for study in reference.studies.all():
        assert study.label in page
    client.post(url, {"post": "yes"})
    assert Reference.objects.filter(pk=reference.pk).exists()


def test_curators_cannot_delete_references_but_editors_can_delete_unused_ones(client, editor):
    reference = draft_reference()
    curator = staff("curator", CURATORS)
    url = reverse("admin:references_reference_delete", args=[reference.pk])
    client.force_login(curator)
    assert client.get(url).status_code == 403
    client.force_login(editor)
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Reference.objects.filter(pk=reference.pk).exists()


# -- the upload form ---------------------------------------------------------------------------

GOOD = b"""@article{fresh2024,
  author = {M{\\"u}ller, Anna and {Muscle Study Group}},
  title = {A fresh trial},
  journal = {J Test},
  year = {2024},
}
@article{oddis-again,
  title = {Rituximab in the treatment of refractory adult and juvenile dermatomyositis and adult
           polymyositis: a randomized, placebo-phase trial},
  doi = {10.1002/art.37754},
  year = {2013},
  pages = {314--324},
}
"""


def upload(client, content: bytes, name: str = "refs.bib"):
    return client.post(
        reverse("admin:references_reference_import"), {"file": SimpleUploadedFile(name, content)}
    )


def test_upload_shows_a_preview_then_imports_on_confirmation(client, curator):
    before = Reference.objects.count()
    preview = upload(client, GOOD)
    text = preview.content.decode()
    assert "nothing is saved yet" in text
    assert "fresh2024" in text and "created" in text
    assert "matched by DOI" in text and "unchanged" in text
    assert Reference.objects.count() == before
    digest = client.session[IMPORT_SESSION_KEY]["digest"]
    done = client.post(
        reverse("admin:references_reference_import"), {"confirm": "1", "digest": digest}
    )
    assert done.status_code == 200
    assert "Imported refs.bib" in done.content.decode()
    fresh = Reference.objects.get(bibtex_key="fresh2024")
    assert fresh.status == ReviewStatus.DRAFT
    assert [a.family for a in fresh.ordered_authors] == ["Müller", "Muscle Study Group"]
    assert fresh.history.first().history_user == curator
    assert IMPORT_SESSION_KEY not in client.session


def test_a_stale_preview_is_not_imported(client, curator):
    upload(client, GOOD)
    response = client.post(
        reverse("admin:references_reference_import"),
        {"confirm": "1", "digest": "0" * 64},
        follow=True,
    )
    assert "no longer current" in response.content.decode()
    assert not Reference.objects.filter(bibtex_key="fresh2024").exists()


def test_a_malformed_upload_lists_its_problems_and_saves_nothing(client, curator):
    bad = b"@article{broken,\n  title = {{Unclosed,\n  year = 2001,\n}\n\n@article{x, year=1}\n"
    text = upload(client, bad).content.decode()
    assert "nothing was saved" in text
    assert "entry &#x27;broken&#x27; starting on line 1" in text
    assert IMPORT_SESSION_KEY not in client.session


def test_an_oversized_upload_is_refused_before_it_is_read(client, curator, settings):
    settings.MYOEVIDENCE_IMPORT_MAX_BYTES = 100  # tiny limit for the test
    text = upload(client, GOOD).content.decode()
    assert "the import limit is 100 bytes" in text


def test_the_upload_shows_markup_escaped(client, curator):
    bib = b"@article{evil, title = {<script>alert(1)</script>}, year = 2020}"
    text = upload(client, bib, name="<b>evil</b>.bib").content.decode()
    assert "<script>alert(1)" not in text and "<b>evil</b>" not in text


def test_two_authors_swap_places_in_the_admin(client, editor):
    """Saved one by one, the first author clashed with the second's stored position, and
    the admin answered 500: authors could not be reordered."""
    from tests.evidence.test_admin import change_form_data, row_prefix

    reference = Reference.objects.get(number=1)
    first, second = reference.authors.order_by("position")[:2]
    url = reverse("admin:references_reference_change", args=[reference.pk])
    data = change_form_data(client, url)
    data[f"{row_prefix(data, 'authors', first.pk)}-position"] = str(second.position)
    data[f"{row_prefix(data, 'authors', second.pk)}-position"] = str(first.position)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert [a.family for a in reference.ordered_authors[:2]] == [second.family, first.family]
