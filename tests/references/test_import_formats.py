"""import_references: real RIS, Web of Science and PubMed (MEDLINE) exports read field by field
(the files are rispy's own test data, tests/data/README.md), matched to stored references like
BibTeX entries, previewed in the admin, and refused whole when anything is wrong."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.choices import ReviewStatus
from references.admin import IMPORT_SESSION_KEY
from references.choices import ReferenceKind
from references.formats import to_ris
from references.importer import ImportRefused, import_references, parse_references
from references.models import Author, Reference
from references.readers import MEDLINE, RIS, WOS, detect_format, read_records

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8-sig")


def imported(name: str, **kw):
    report = import_references(text=read(name), name=name, **kw)
    return report, [Reference.objects.get(pk=entry.reference_id) for entry in report.entries]


def authors(reference) -> list[tuple[str, str, bool]]:
    return [(a.family, a.given, a.is_corporate) for a in reference.ordered_authors]


def snapshot():
    return (
        sorted(Reference.objects.values_list("pk", "title", "doi", "status")),
        Author.objects.count(),
        Reference.history.count(),
    )


# -- format detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("rispy-example_pubmed.txt", MEDLINE),
        ("rispy-example_wos.ris", WOS),
        ("rispy-example_full.ris", RIS),
        ("rispy-example_endnote.ris", RIS),
        ("rispy-example_utf_chars.ris", RIS),
    ],
)
def test_the_format_is_detected_from_the_content(name, fmt):
    assert detect_format(read(name), name) == fmt
    assert detect_format(read(name), "export.txt") == fmt


# -- PubMed / MEDLINE (.nbib) -------------------------------------------------------------------


def test_pubmed_export_every_record():
    report, refs = imported("rispy-example_pubmed.txt")
    assert report.format == MEDLINE and len(refs) == 10
    assert [r.pmid for r in refs] == [
        "30922926",
        "37068225",
        "36448670",
        "26754250",
        "21251189",
        "35962036",
        "37464026",
        "33990610",
        "35444275",
        "36122246",
    ]
    assert [r.year for r in refs] == [2020, 2023, 2022, 2016, 2011, 2022, 2023, 2021, 2022, 2022]
    assert all(
        r.status == ReviewStatus.DRAFT and r.kind == ReferenceKind.JOURNAL_ARTICLE for r in refs
    )
    assert [len(r.ordered_authors) for r in refs] == [3, 11, 9, 4, 16, 5, 6, 6, 11, 17]


def test_pubmed_record_fields():
    _report, refs = imported("rispy-example_pubmed.txt")
    first = refs[0]
    # PubMed's closing full stop is dropped ("...prehistoric genomics." in the file).
    assert first.title == "Time lapse: A glimpse into prehistoric genomics"
    assert authors(first) == [
        ("Griffin", "Darren K", False),
        ("Larkin", "Denis M", False),
        ("O'Connor", "Rebecca E", False),
    ]
    assert (first.journal, first.volume, first.issue, first.pages) == (
        "Eur J Med Genet",
        "63",
        "2",
        "103640",
    )
    assert (first.doi, first.pmcid) == ("10.1016/j.ejmg.2019.03.004", "PMC7026692")
    second = refs[1]
    assert second.title == "Symbiosis between Cretaceous dinosaurs and feather-feeding beetles"
    assert authors(second)[0] == ("Peñalver", "Enrique", False)
    assert (second.journal, second.doi) == ("Proc Natl Acad Sci U S A", "10.1073/pnas.2217872120")
    # eLife gives no PG, only the article number as an unlabelled LID.
    assert (refs[2].title, refs[2].pages) == ("Spinosaurus is not an aquatic dinosaur", "e80092")
    # A wrapped title is one line; a page range gets the en dash the corpus uses.
    assert refs[4].title == "Biology of the sauropod dinosaurs: the evolution of gigantism"
    assert (refs[4].pages, refs[4].doi) == ("117–55", "10.1111/j.1469-185X.2010.00137.x")
    assert refs[8].pages == "684–688" and refs[8].issue == "7907"
    assert authors(refs[8])[1] == ("Nicolaï", "Michaël", False)


# -- RIS ------------------------------------------------------------------------------------------


def test_ris_full_example():
    fmt, parsed = parse_references(read("rispy-example_full.ris"), name="full.ris")
    assert fmt == RIS
    one, two = parsed.references
    assert (one.key, one.line, two.key, two.line) == ("marx2014title", 2, "marxus2006title", 27)
    assert (one.title, one.year, one.journal, one.volume, one.issue, one.pages) == (
        "Title of reference",
        2014,
        "Lorem",
        "9",
        "3",
        "e0815",
    )
    assert [(a.family, a.given) for a in one.authors] == [("Marx", "Karl"), ("Lindgren", "Astrid")]
    assert (one.publisher, one.url) == ("Fun Factory", "http://example_url.com")
    assert (two.title, two.year, two.pages, two.publisher) == (
        "The title of the reference",
        2006,
        "e0815341",
        "Dark Factory",
    )
    assert two.authors[0].family == "Marxus"
    assert one.doi == "" and one.pmid == "" and "doi" not in one.present


def test_ris_full_example_is_refused_for_its_urls():
    # "example_url.com" is no valid host name (an underscore): the reference's URL check
    # refuses it, as it would in a BibTeX file, for both records and before anything is saved.
    before = snapshot()
    with pytest.raises(ImportRefused) as exc:
        import_references(text=read("rispy-example_full.ris"))
    assert exc.value.problems == [
        "entry 'marx2014title' (line 2): url: Enter a valid URL.",
        "entry 'marxus2006title' (line 27): url: Enter a valid URL.",
    ]
    assert snapshot() == before


def test_ris_endnote_example():
    _report, (ref,) = imported("rispy-example_endnote.ris")
    assert ref.title == "EndNote: The Only Reference I Can Remember"
    assert ref.journal == "Journal of Reference Management"
    assert (ref.year, ref.volume, ref.issue, ref.pages) == (2024, "1", "42", "1–2")
    assert ref.doi == "10.1234/endnote.joke.2024"
    assert authors(ref) == [
        ("Smith", "A. Nonymous", False),
        ("Doe", "J.", False),
        ("End", "N. Ote", False),
        ("Ref", "E. Rence", False),
    ]


def test_ris_non_ascii_example():
    _report, (ref,) = imported("rispy-example_utf_chars.ris")
    # Its only title is ST (short title), in Cyrillic; VO is its volume.
    assert ref.title.startswith("Состояние рецепторного аппарата эндометрия")
    assert (ref.journal, ref.year, ref.volume, ref.issue, ref.pages) == (
        "Gynecology, Obstetrics and Perinatology",
        2009,
        "8",
        "3",
        "52–57",
    )
    assert authors(ref)[0] == ("Dobrokhotova", "Yu E.", False)
    assert len(authors(ref)) == 5


def test_web_of_science_example():
    report, (one, two) = imported("rispy-example_wos.ris")
    assert report.format == WOS
    assert one.title == (
        "Interactions stabilizing the structure of the core light-harvesting "
        "complex (LHl) of photosynthetic bacteria and its subunit (B820)"
    )
    assert authors(one) == [
        ("Parkes-Loach", "PS", False),
        ("Majeed", "AP", False),
        ("Law", "CJ", False),
        ("Loach", "PA", False),
    ]
    assert (one.journal, one.year, one.volume, one.issue, one.pages) == (
        "Biochemistry",
        2004,
        "43",
        "22",
        "7003–7016",
    )
    assert (one.doi, one.pmid) == ("10.1021/bi049798f", "15170338")
    assert (two.doi, two.pmid, two.pages) == ("10.1021/bi0497291", "15170339", "7017–7027")
    assert authors(two)[0] == ("Cao", "WX", False) and len(authors(two)) == 9


# -- matching, dry run, one transaction -----------------------------------------------------------


def test_importing_again_matches_every_record_and_changes_nothing():
    imported("rispy-example_pubmed.txt")
    before = snapshot()
    report = import_references(text=read("rispy-example_pubmed.txt"))
    assert len(report.unchanged) == 10
    assert {entry.matched_by for entry in report.entries} == {"DOI"}
    assert snapshot() == before


def test_a_pubmed_record_of_a_stored_reference_is_matched_by_pmid():
    oddis = Reference.objects.get(pmid="23124935")
    key, number, authors_before = oddis.bibtex_key, oddis.number, authors(oddis)
    # PubMed's record of the RIM trial as fixtures/references.bib describes it (no DOI line,
    # so the PMID is what matches).
    nbib = (
        "PMID- 23124935\nTI  - Rituximab in the treatment of refractory adult and juvenile "
        "dermatomyositis and adult\n      polymyositis: a randomized, placebo-phase trial.\n"
        "DP  - 2013 Feb\nTA  - Arthritis Rheum\nVI  - 65\nIP  - 2\nPG  - 314-24\n"
    )
    report = import_references(text=nbib, name="pubmed-23124935.nbib", dry_run=True)
    (entry,) = report.entries
    assert (entry.action, entry.matched_by, entry.reference_id) == ("updated", "PMID", oddis.pk)
    assert entry.changed == ["pages"]  # "314–24" for "314–324": the curator sees it first
    oddis.refresh_from_db()
    assert (oddis.bibtex_key, oddis.number, oddis.pages) == (key, number, "314–324")
    assert authors(oddis) == authors_before  # the record gives no authors: kept


def test_dry_run_saves_nothing():
    before = snapshot()
    report = import_references(text=read("rispy-example_wos.ris"), dry_run=True)
    assert len(report.created) == 2 and all(e.reference_id is None for e in report.entries)
    assert snapshot() == before


# -- bad input: refused whole, every problem named -----------------------------------------------


def test_a_record_without_title_refuses_the_whole_file():
    text = read("rispy-example_full.ris").replace("T1  - The title of the reference\n", "")
    before = snapshot()
    with pytest.raises(ImportRefused) as exc:
        import_references(text=text, name="refs.ris")
    assert exc.value.problems == ["record 2 (line 27): has no title"]
    assert snapshot() == before


def test_every_problem_of_a_bad_file_is_named():
    text = (
        read("rispy-example_full.ris")
        .replace("Y1  - 2006//", "Y1  - sometime")
        .replace("T1  - Title of reference\n", "")
        .replace("SN  - 1732-4208", "DO  - 11.1/x")
    )
    with pytest.raises(ImportRefused) as exc:
        import_references(text=text)
    assert exc.value.problems == [
        "record 1 (line 2): has no title",
        "record 2 (line 26): year 'sometime' is not a year such as 2013",
        "record 2 (line 26): DOI '11.1/x' does not look like 10.<registrant>/<suffix>",
    ]


def test_a_ris_record_that_does_not_end_is_refused():
    text = read("rispy-example_endnote.ris").replace("ER  -", "")
    with pytest.raises(ImportRefused) as exc:
        import_references(text=text, name="endnote.ris")
    assert exc.value.problems == [
        "record 1 (line 1) does not end with an 'ER  - ' line before "
        "the next record or the end of the file"
    ]


def test_medline_records_run_together_are_refused():
    text = read("rispy-example_pubmed.txt").replace("\n\nPMID- 37068225", "\nPMID- 37068225")
    with pytest.raises(ImportRefused) as exc:
        import_references(text=text, name="pubmed.nbib")
    assert exc.value.problems == [
        "record 1 (line 1) is not separated from the next by a blank line"
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.ris", "“notes.ris” is not a RIS file"),
        ("notes.nbib", "“notes.nbib” is not a PubMed (MEDLINE) file"),
        ("notes.txt", "“notes.txt” is not a BibTeX, RIS or PubMed (MEDLINE) file"),
    ],
)
def test_a_file_in_no_known_format_is_refused(name, expected):
    text = "Dear curator,\nplease add the rituximab trial.\n"
    with pytest.raises(ImportRefused) as exc:
        import_references(text=text, name=name)
    (problem,) = exc.value.problems
    assert problem.startswith(expected)


# -- the command and the admin -------------------------------------------------------------------


def test_the_command_detects_the_format_and_imports(tmp_path):
    out = StringIO()
    call_command("import_references", str(DATA / "rispy-example_wos.ris"), stdout=out)
    assert "Read as Web of Science." in out.getvalue()
    assert "2 entries: 2 created, 0 updated, 0 unchanged." in out.getvalue()
    assert Reference.objects.filter(pmid__in=["15170338", "15170339"]).count() == 2


def test_the_command_format_option_and_its_refusal(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(read("rispy-example_pubmed.txt"), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("import_references", str(path), "--format", "ris", stdout=StringIO())
    assert "nothing was saved" in str(exc.value) and "no RIS records" in str(exc.value)
    out = StringIO()
    call_command("import_references", str(path), "--format", "medline", "--dry-run", stdout=out)
    assert "10 entries: 10 created" in out.getvalue() and "dry run" in out.getvalue()


def test_import_bibtex_still_reads_only_bibtex(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("import_bibtex", str(DATA / "rispy-example_full.ris"), stdout=StringIO())
    assert "no BibTeX entries" in str(exc.value)


def test_admin_previews_and_imports_a_pubmed_file(client, curator):
    url = reverse("admin:references_reference_import")
    content = (DATA / "rispy-example_pubmed.txt").read_bytes()
    before = Reference.objects.count()
    preview = client.post(url, {"file": SimpleUploadedFile("pubmed.nbib", content)})
    text = preview.content.decode()
    assert "nothing is saved yet" in text and "Read as PubMed (MEDLINE)." in text
    assert "10 entries: 10 created" in text
    assert Reference.objects.count() == before
    digest = client.session[IMPORT_SESSION_KEY]["digest"]
    done = client.post(url, {"confirm": "1", "digest": digest})
    assert "Imported pubmed.nbib" in done.content.decode()
    ref = Reference.objects.get(pmid="30922926")
    assert ref.history.first().history_user == curator
    assert ref.history.first().history_change_reason == "Created by a PubMed (MEDLINE) import"


def test_admin_refuses_a_bad_ris_upload_naming_the_problem(client, curator):
    url = reverse("admin:references_reference_import")
    content = read("rispy-example_full.ris").replace("T1  - Title of reference\n", "")
    text = client.post(
        url, {"file": SimpleUploadedFile("refs.ris", content.encode())}
    ).content.decode()
    assert "nothing was saved" in text and "record 1 (line 2): has no title" in text
    assert IMPORT_SESSION_KEY not in client.session


# -- re-importing a stored reference: what the record cannot say is kept; no author dropped --


def test_reimporting_our_own_ris_export_keeps_et_al():
    """Reference [1] lists three authors "and others". Importing the site's own RIS export of it
    cleared the flag (RIS cannot say "et al."), so citations then claimed the three were all
    the authors: a round trip of the RIS export cleared it on 27 of the 61 references."""
    ref = Reference.objects.get(number=1)
    assert ref.authors_truncated
    before = authors(ref)

    report = import_references(text="".join(to_ris([ref])), fmt=RIS)

    (entry,) = report.entries
    ref.refresh_from_db()
    assert authors(ref) == before
    assert ref.authors_truncated, f"et al. dropped ({entry.describe()})"


@pytest.mark.parametrize(
    "fmt, text",
    [
        # Our own RIS export of reference [29] (TY JOUR: RIS has no guideline type).
        (RIS, None),
        # PubMed's record of the same guideline (PMID 22454268), as "Send to: Citation manager"
        # gives it: a journal, and publication types that say it is a guideline.
        (
            MEDLINE,
            "PMID- 22454268\n"
            "TI  - Evidence-based guideline: intravenous immunoglobulin in the treatment of\n"
            "      neuromuscular disorders: report of the Therapeutics and Technology\n"
            "      Assessment Subcommittee of the American Academy of Neurology.\n"
            "DP  - 2012 Mar 27\n"
            "TA  - Neurology\n"
            "VI  - 78\n"
            "IP  - 13\n"
            "PG  - 1009-15\n"
            "PT  - Journal Article\n"
            "PT  - Practice Guideline\n"
            "AID - 10.1212/WNL.0b013e31824de293 [doi]\n",
        ),
    ],
)
def test_a_ris_or_pubmed_record_keeps_a_curated_kind(fmt, text):
    """Reference [29] is curated as a guideline. Re-importing it from RIS (even our own export)
    or from PubMed rewrote it as a plain journal article: those records say no more than
    "journal article", which the BibTeX path already takes as saying nothing finer."""
    ref = Reference.objects.get(number=29)
    assert ref.kind == ReferenceKind.GUIDELINE
    if text is None:
        text = "".join(to_ris([ref]))

    report = import_references(text=text, fmt=fmt)

    (entry,) = report.entries
    ref.refresh_from_db()
    assert ref.kind == ReferenceKind.GUIDELINE, f"kind overwritten ({entry.describe()})"


def test_a_pubmed_record_with_a_collective_author_keeps_its_persons():
    """PubMed records before 2002 have only short person names (AU, no FAU); a group comes as
    CN. The reader read AU only when there was no FAU or CN line, so the group hid both
    persons."""
    record = (
        "PMID- 9000001\n"
        "TI  - A controlled trial of an example therapy in dermatomyositis.\n"
        "AU  - Smith J\n"
        "AU  - De Bleecker JL\n"
        "CN  - Example Myositis Study Group\n"
        "DP  - 1997 Mar\n"
        "TA  - Neurology\n"
        "VI  - 48\n"
        "PG  - 712-6\n"
    )

    (parsed,) = read_records(record, MEDLINE, max_records=10).references
    names = [(a.family, a.given, a.is_corporate) for a in parsed.authors]
    assert names == [
        ("Smith", "J", False),
        ("De Bleecker", "JL", False),
        ("Example Myositis Study Group", "", True),
    ]


def test_a_web_of_science_record_keeps_its_group_author():
    """Web of Science gives a group author in CA (the RIM trial: "RIM Study Grp"); the reader
    read only AF/AU and dropped it."""
    record = (
        "FN Clarivate Analytics Web of Science\n"
        "VR 1.0\n"
        "PT J\n"
        "AU Oddis, CV\n"
        "   Reed, AM\n"
        "AF Oddis, Chester V.\n"
        "   Reed, Ann M.\n"
        "CA RIM Study Grp\n"
        "TI Rituximab in the treatment of refractory adult and juvenile dermatomyositis\n"
        "SO ARTHRITIS AND RHEUMATISM\n"
        "PY 2013\n"
        "ER\n"
        "\n"
        "EF\n"
    )

    (parsed,) = read_records(record, WOS, max_records=10).references
    names = [(a.family, a.is_corporate) for a in parsed.authors]
    assert ("RIM Study Grp", True) in names, f"group author dropped: {names}"


def test_a_longer_author_list_ends_a_stored_et_al():
    """The stored "et al." stands for authors not stored: a record listing more authors than
    are stored replaces them, and the flag goes."""
    ref = Reference.objects.get(number=1)
    record = "".join(to_ris([ref])).replace(
        "ER  -", "AU  - Fourth, Author\nAU  - Fifth, Author\nER  -"
    )
    import_references(text=record, fmt=RIS)
    ref.refresh_from_db()
    assert [a[0] for a in authors(ref)][-2:] == ["Fourth", "Fifth"]
    assert not ref.authors_truncated
