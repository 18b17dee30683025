"""import_bibtex: reads real-world biblatex correctly, matches existing references, refuses a bad
file whole (naming entry and line, no traceback, nothing saved), and stays safe with hostile
input."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import transaction

from core.choices import ReviewStatus
from core.workflow import CURATORS
from references.choices import ReferenceKind
from references.importer import ImportRefused, import_bibtex
from references.models import Author, Reference

pytestmark = pytest.mark.django_db

# biblatex's own example database, vendored unmodified (LPPL): tests/data/README.md.
EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "biblatex-examples.bib"


def snapshot():
    return (
        sorted(Reference.objects.values_list("pk", "title", "doi", "number", "status")),
        sorted(Author.objects.values_list("pk", "family")),
        Reference.history.count(),
    )


def write(tmp_path: Path, text: str, name: str = "refs.bib") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path, *args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_bibtex", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# -- the biblatex examples ---------------------------------------------------------------------


@pytest.fixture(scope="class")
def examples(django_db_setup, django_db_blocker):
    """The references the examples created, by key, and the command's output.

    Imported once for the class inside a transaction rolled back afterwards (each test still
    runs in its own savepoint), which keeps these tests fast.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        before = set(Reference.objects.values_list("pk", flat=True))
        output = run(EXAMPLES)
        yield {r.bibtex_key: r for r in Reference.objects.exclude(pk__in=before)}, output
        transaction.set_rollback(True)


@pytest.mark.usefixtures("examples")
class TestBiblatexExamples:
    def test_they_import_completely(self, examples):
        imported, output = examples
        assert len(imported) == 90
        assert "90 entries: 90 created, 0 updated, 0 unchanged; 2 skipped." in output
        assert "@set{set} (line 26) groups other entries" in output
        assert all(r.status == ReviewStatus.DRAFT for r in imported.values())

    def test_latex_accents_become_unicode_names(self, examples):
        imported = examples[0]
        assert [(a.family, a.given) for a in imported["aksin"].ordered_authors] == [
            ("Aksın", "Özge"),
            ("Türkmen", "Hayati"),
            ("Artok", "Levent"),
            ("Çetinkaya", "Bekir"),
            ("Ni", "Chaoying"),
            ("Büyükgüngör", "Orhan"),
            ("Özkal", "Erhan"),
        ]
        assert imported["malinowski"].first_author == "Malinowski"
        assert imported["malinowski"].authors.get().given == "Bronisław"
        assert [a.family for a in imported["vazques-de-parga"].ordered_authors] == [
            "Vázques de Parga",
            "Lacarra",
            "Uría Ríu",
        ]
        assert imported["angenendt"].journal == "Revue d'Histoire Ecclésiastique"

    def test_string_macros_are_expanded_including_concatenation(self, examples):
        imported = examples[0]
        assert imported["aksin"].journal == "J. Organomet. Chem."  # journaltitle = jomch
        assert imported["herrmann"].journal == "Angew. Chem. Int. Ed."
        # publisher = dtv # { and Walter de Gruyter}
        assert (
            imported["nietzsche:ksa"].publisher
            == "Deutscher Taschenbuch-Verlag and Walter de Gruyter"
        )

    def test_the_exotic_doi_is_kept_exactly(self, examples):
        sigfridsson = examples[0]["sigfridsson"]
        assert sigfridsson.doi == "10.1002/(SICI)1096-987X(199803)19:4<377::AID-JCC1>3.0.CO;2-P"
        assert sigfridsson.journal == "Journal of Computational Chemistry"
        assert sigfridsson.year == 1998

    def test_years_come_from_biblatex_dates(self, examples):
        imported = examples[0]
        assert imported["shore"].year == 1991  # date = {1991-03}
        assert imported["knuth:ct"].year == 1984  # date = {1984/1986}
        assert imported["aksin"].year == 2006  # date = 2006

    def test_entry_types_map_to_kinds(self, examples):
        kinds = {key: ref.kind for key, ref in examples[0].items()}
        assert {key: kinds[key] for key in EXPECTED_KINDS} == EXPECTED_KINDS

    def test_titles_subtitles_logos_and_crossref(self, examples):
        imported = examples[0]
        assert imported["knuth:ct:b"].title == "TeX: The Program"
        assert imported["kastenholz"].title.startswith("Computation of methodology-independent")
        chapter = imported["westfahl:space"]
        assert chapter.title == (
            "The True Frontier: Confronting and Avoiding the Realities of "
            "Space in American Science Fiction Films"
        )
        assert chapter.journal == "Space and Beyond"  # the crossref'd collection's title
        assert chapter.year == 2000  # inherited too

    def test_importing_them_again_changes_nothing(self, examples):
        before = snapshot()
        output = run(EXAMPLES)
        assert "90 entries: 0 created, 0 updated, 90 unchanged" in output
        assert snapshot() == before

    def test_same_title_and_year_entries_stay_separate_and_are_reported(self, examples):
        imported, output = examples
        assert {"baez/article", "baez/online"} <= set(imported)
        assert (
            "baez/online (line 1386): same title and year as entry 'baez/article' "
            "(line 68)" in output
        )


EXPECTED_KINDS = {
    "aksin": ReferenceKind.JOURNAL_ARTICLE,
    "moraux": ReferenceKind.CONFERENCE_PAPER,
    "geer": ReferenceKind.THESIS,
    "chiu": ReferenceKind.REPORT,
    "ctan": ReferenceKind.ONLINE,
    "aristotle:rhetoric": ReferenceKind.BOOK,
    "westfahl:space": ReferenceKind.BOOK_CHAPTER,
    "almendro": ReferenceKind.OTHER,
}


def test_long_imports_show_progress(tmp_path, capsys):
    bib = "\n".join(f"@misc{{m{i}, title = {{Item {i}}}, year = 2001}}" for i in range(50))
    call_command("import_bibtex", str(write(tmp_path, bib)))
    err = capsys.readouterr().err
    assert "5/50 entries (10%)" in err and "50/50 entries (100%)" in err


# -- matching stored references -----------------------------------------------------------------


def test_matches_by_doi_then_pmid_then_title_and_update_only_what_the_entry_gives(tmp_path):
    ref1, ref2, ref3 = (Reference.objects.get(number=n) for n in (1, 2, 3))
    bib = f"""@article{{zotero1,
  title = {{{ref1.title}}},
  doi = {{{ref1.doi.upper()}}},
  pages = {{314--999}},
}}
@article{{zotero2,
  title = {{Different title, same PMID}},
  pmid = {{{ref2.pmid}}},
  year = {ref2.year},
}}
@article{{zotero3,
  title = {{{ref3.title.upper()}}},
  year = {ref3.year},
  author = {{{ref3.authors.first().family}, X}},
}}
@article{{brandnew,
  title = {{Nobody has this}},
  year = 2025,
}}
"""
    assert ref2.pmid, "reference 2 needs a PMID for this test"
    output = run(write(tmp_path, bib))
    assert (
        "updated   zotero1 (line 1): matched reference [1] by DOI; changed: pages; keeps "
        "its key 'oddis2013rituximab'" in output
    )
    assert "matched reference [2] by PMID; changed: title" in output
    assert "matched reference [3] by title and year" in output
    assert "created   brandnew" in output
    ref1.refresh_from_db()
    assert ref1.pages == "314–999" and ref1.number == 1 and ref1.role == "treatment"
    assert ref1.bibtex_key == "oddis2013rituximab" and ref1.status == ReviewStatus.PUBLISHED
    assert ref1.authors_truncated  # the entry gave no authors: kept
    assert Reference.objects.get(bibtex_key="brandnew").status == ReviewStatus.DRAFT


def test_two_entries_for_the_same_doi_refuse_the_file(tmp_path):
    bib = """@article{a, title = {One}, doi = {10.9999/same}, year = 2020}
@article{b, title = {Two}, doi = {10.9999/SAME}, year = 2021}
"""
    before = snapshot()
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, bib))
    assert "entry 'b' (line 2): same DOI as entry 'a' (line 1)" in str(info.value)
    assert snapshot() == before


def test_a_new_entry_whose_key_is_taken_gets_a_free_one(tmp_path):
    output = run(write(tmp_path, "@article{oddis2013rituximab, title = {Unrelated}, year = 1999}"))
    assert "saved as 'oddis2013rituximab-2'" in output
    assert Reference.objects.get(bibtex_key="oddis2013rituximab-2").title == "Unrelated"
    assert "unchanged" in run(
        write(tmp_path, "@article{oddis2013rituximab, title = {Unrelated}, year = 1999}")
    )


def test_a_curator_cannot_change_a_published_reference_by_import():
    curator = User.objects.create_user("curator", is_staff=True)
    curator.groups.add(Group.objects.get(name=CURATORS))
    ref = Reference.objects.get(number=1)
    bib = f"@article{{x, title = {{{ref.title}}}, doi = {{{ref.doi}}}, pages = {{1--2}}}}"
    with pytest.raises(ImportRefused) as info:
        import_bibtex(text=bib, user=curator)
    assert "would change reference [1], which is Published" in str(info.value)


def test_the_user_is_recorded_in_the_history(tmp_path):
    User.objects.create_user("importer")
    run(
        write(tmp_path, "@article{hist, title = {T}, year = 2001, author = {Doe, J}}"),
        "--user",
        "importer",
    )
    reference = Reference.objects.get(bibtex_key="hist")
    assert reference.history.get().history_user.username == "importer"
    assert reference.authors.get().history.get().history_user.username == "importer"


# -- bad files: refused whole, with entry and line, no traceback -------------------------------

GOOD_THEN_BAD = """@article{good, title = {Fine}, year = 2001}

@article{{key}, title = {{placeholder}}, year = 2002}}
"""


@pytest.mark.parametrize(
    "bad, expected",
    [
        (
            "@article{broken,\n  title = {{Unclosed,\n  year = 2002,\n}\n",
            "entry 'broken' starting on line 3: the file ends before the entry closes (unbalanced "
            "braces",
        ),
        (
            "@article{untitled,\n  author = {Doe, J},\n  year = 2002,\n}\n",
            "entry 'untitled' (line 3): has no title",
        ),
        (
            "@article{badyear,\n  title = {T},\n  year = {20x2},\n}\n",
            "entry 'badyear' (line 3): year '20x2' is not a year such as 2013",
        ),
        (
            "@article{short,\n  title = {T}},\n  year = 2002,\n}\n",
            "line 4: text after entry 'short' (line 3) looks like more of its fields",
        ),
        (
            "@article{macro, title = {T}, journal = undefinedjournal, year = 2002}\n",
            "field 'journal' uses @string 'undefinedjournal', which the file does not define",
        ),
        (
            "@article{long, title = {"
            + "x" * 20
            + "}, journal = {"
            + "j" * 300
            + "}, year = 2002}\n",
            "entry 'long' (line 3): journal: Ensure this value has at most 255 characters",
        ),
        (
            "@article{url, title = {T}, url = {javascript:alert(1)}, year = 2002}\n",
            "entry 'url' (line 3): url: Enter a valid URL.",
        ),
        (
            "@article{deep, title = {" + "{" * 2000 + "x" + "}" * 2000 + "}, year = 2002}\n",
            "entry 'deep' (line 3): braces are nested too deeply to read",
        ),
    ],
)
def test_a_bad_entry_refuses_the_whole_file(tmp_path, bad, expected):
    path = write(tmp_path, "@article{good, title = {Fine}, year = 2001}\n\n" + bad)
    before = snapshot()
    with pytest.raises(CommandError) as info:
        run(path)
    message = str(info.value)
    assert "was not imported; nothing was saved" in message
    assert expected in message
    assert snapshot() == before
    assert not Reference.objects.filter(bibtex_key="good").exists()


def test_every_problem_is_listed_at_once(tmp_path):
    bib = "@article{a, year = 2001}\n@article{b, title = {T}, year = {soon}}\n"
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, bib))
    assert "entry 'a' (line 1): has no title" in str(info.value)
    assert "entry 'b' (line 2): year 'soon'" in str(info.value)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "has no BibTeX entries"),
        (b"just some prose, not a bibliography", "has no BibTeX entries"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "is not a text file"),
        ("@article{x, title = {Caf\xe9}}".encode("latin-1"), "is not UTF-8 text"),
    ],
)
def test_files_that_are_not_bibtex_are_refused(tmp_path, content, expected):
    path = tmp_path / "odd.bib"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=expected):
        run(path)


def test_a_file_over_the_size_limit_is_refused(tmp_path, settings):
    settings.MYOEVIDENCE_IMPORT_MAX_BYTES = 1000  # a small limit keeps the test fast
    path = write(tmp_path, "@article{x, title = {T}, year = 2001}\n" + "%" * 2000)
    with pytest.raises(CommandError, match="the import limit is 1,000 bytes"):
        run(path)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.bib")


def test_the_command_exits_non_zero_without_a_traceback(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, "@article{untitled, year = 2001}")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_bibtex", str(path), "--dry-run"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "entry 'untitled' (line 1): has no title" in result.stderr
    assert "Traceback" not in result.stderr


# -- dry run and hostile content -----------------------------------------------------------------


def test_a_dry_run_reports_but_saves_nothing(tmp_path):
    before = snapshot()
    output = run(write(tmp_path, "@article{dry, title = {Dry}, year = 2001}"), "--dry-run")
    assert "created   dry" in output and "dry run: nothing was saved" in output
    assert snapshot() == before


def test_markup_is_stored_as_plain_text(tmp_path):
    bib = (
        "@article{evil, title = {<script>alert(1)</script> \\& <b>bold</b>}, "
        "author = {{<img src=x onerror=alert(1)>} and O'Brien, D}, year = 2001}"
    )
    run(write(tmp_path, bib))
    reference = Reference.objects.get(bibtex_key="evil")
    assert reference.title == "<script>alert(1)</script> & <b>bold</b>"
    assert reference.first_author == "<img src=x onerror=alert(1)>"


# -- robustness: linear time on any input, macros built from macros ---------------------------


def test_adversarial_files_up_to_the_size_limit_are_answered_quickly():
    """Each file is at the 5 MB limit (or just under the parser's cost bounds); each must be
    answered, imported or refused with a sentence, within a few seconds. The first case is
    the reported one: blank lines between two words after an entry made the stray-field
    check backtrack quadratically (200 kB held a worker for a minute)."""
    import time

    from references.bibtex import MAX_MARKS
    from references.importer import DEFAULT_MAX_BYTES

    size = DEFAULT_MAX_BYTES - 100
    head = "@article{adv, title = {Adversarial}, year = 2001}\n"
    under = MAX_MARKS - 100  # just under the mark budget, so the parser really runs
    cases = {
        "blank lines (reported)": head + "x" + "\n" * 200_000 + "y",
        "blank lines at the budget": head + "x" + "\n" * under + "y",
        "blank lines at the limit": head + "x" + "\n" * size + "y",
        "spaces and tabs": head + "x" + " \t" * (size // 2) + "y",
        "open braces": head + "{" * size,
        "close braces": head + "}" * under,
        "'@' runs": head + "@" * size,
        "'@' lines": head + "@\n" * (under // 1),
        "unterminated quote": '@article{q, title = "' + "a" * size,
        "nested braces": "@article{d, title = {"
        + "{" * (under // 2)
        + "x"
        + "}" * (under // 2)
        + "}}",
        "unclosed entry": "@article{u, title = {" + "x" * size,
        "LaTeX specials": "@article{l, title = {" + "~" * (size // 2) + "}}",
        "macros": "@article{m, title = " + " # ".join(["jan"] * (under // 2)) + "}",
    }
    for name, text in cases.items():
        assert len(text.encode()) <= DEFAULT_MAX_BYTES, name
        start = time.monotonic()
        try:
            report = import_bibtex(text=text, dry_run=True)
            outcome = report.summary()
        except ImportRefused as exc:
            outcome = str(exc)
            assert exc.problems and all(p.strip() for p in exc.problems), name
        elapsed = time.monotonic() - start
        assert elapsed < 5, f"{name}: {elapsed:.1f} s ({outcome[:100]})"
        assert outcome, name
    assert not Reference.objects.filter(bibtex_key__in=["adv", "q", "d", "u", "l", "m"]).exists()


def test_macros_built_from_macros_are_expanded(tmp_path):
    bib = """@string{jrnl = "Arthritis"}
@string{full = jrnl # " {\\&} Rheumatology"}
@string{fuller = "The " # full}
@article{nested, title = {T} # " on " # full, journal = fuller, year = 2013}
"""
    run(write(tmp_path, bib))
    reference = Reference.objects.get(bibtex_key="nested")
    assert reference.journal == "The Arthritis & Rheumatology"
    assert reference.title == "T on Arthritis & Rheumatology"


def test_a_javascript_url_in_idsources_is_refused_naming_the_entry(tmp_path):
    bib = (
        "@article{fine, title = {Fine}, year = 2001}\n"
        "@article{sly, title = {Sly}, year = 2002,\n"
        "  idsources = {https://pubmed.ncbi.nlm.nih.gov/1/ javascript:alert(1)}}\n"
    )
    before = snapshot()
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, bib))
    assert (
        "entry 'sly' (line 2): idsources: 'javascript:alert(1)' is not an http:// or "
        "https:// address"
    ) in str(info.value)
    assert snapshot() == before


@pytest.mark.parametrize("key", ["a b", "a;b", "<x>", "a&b", "ü2020"])
def test_an_unsafe_key_is_refused_naming_the_entry(key):
    with pytest.raises(ImportRefused) as info:
        import_bibtex(text=f"@article{{{key}, title = {{T}}, year = 2001}}")
    assert "the key may hold only letters, digits and : . / + _ -" in str(info.value)
