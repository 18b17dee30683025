"""export_bibtex: export → import → export gives the same set of entries."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from core.choices import ReviewStatus
from evidence.models import Study
from references.bibtex import ParsedAuthor
from references.formats import bibtex_entry
from references.importer import import_references
from references.models import Reference
from references.readers import RIS
from references.services import update_reference
from tests.evidence.roundtrip import backup_and_restore
from therapies.models import TherapyRationale

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = StringIO()
    call_command("export_bibtex", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def entries(text: str) -> set[str]:
    return {block.strip() for block in re.split(r"\n(?=@)", text) if block.strip()}


def test_export_then_import_changes_nothing_and_exports_the_same(tmp_path):
    first = export()
    count = Reference.objects.count()
    assert len(entries(first)) == count >= 60
    path = tmp_path / "all.bib"
    path.write_text(first, encoding="utf-8")
    out = StringIO()
    call_command("import_bibtex", str(path), stdout=out, stderr=StringIO())
    assert f"{count} entries: 0 created, 0 updated, {count} unchanged." in out.getvalue()
    assert export() == first


def test_the_export_rebuilds_the_bibliography_from_nothing(tmp_path):
    path = tmp_path / "all.bib"
    call_command("export_bibtex", str(path), stderr=StringIO())
    first = path.read_text(encoding="utf-8")
    count = Reference.objects.count()
    TherapyRationale.objects.all().delete()
    Study.objects.all().delete()
    Reference.objects.all().delete()
    call_command("import_bibtex", str(path), stdout=StringIO(), stderr=StringIO())
    assert Reference.objects.count() == count
    assert entries(export()) == entries(first)


def round_trip(tmp_path, title: str) -> str:
    Reference.objects.create(title=title, bibtex_key="odd2020", year=2020)
    first = export()
    path = tmp_path / "odd.bib"
    path.write_text(first, encoding="utf-8")
    call_command("import_bibtex", str(path), stdout=StringIO(), stderr=StringIO())
    assert export() == first
    return Reference.objects.get(bibtex_key="odd2020").title


def test_markup_and_tex_special_characters_round_trip(tmp_path):
    title = "<script>x</script> 50% & {braces} $x$ #1 a_b"
    assert round_trip(tmp_path, title) == title


@pytest.mark.parametrize("title", ["back \\ slash", "approx ~5 mg"])
def test_a_backslash_and_a_tilde_round_trip(tmp_path, title):
    assert round_trip(tmp_path, title) == title


def test_only_published_references_with_the_flag():
    Reference.objects.filter(number=60).update(status=ReviewStatus.DRAFT)
    text = export("--published")
    assert len(entries(text)) == Reference.objects.published().count()
    assert "reviewnumber = {60}" not in text


def test_an_unwritable_path_is_a_clear_error(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="cannot be written"):
        call_command("export_bibtex", str(tmp_path / "missing" / "x.bib"), stderr=StringIO())


# -- the writers read a queryset as plain values ------------------------------------------------


def library_entry_text(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    """The entry as bibtexparser writes it (what references.formats._entry_text reproduces)."""
    from bibtexparser import Library
    from bibtexparser.model import Entry, Field
    from bibtexparser.writer import write

    from references.formats import _FORMAT

    entry = Entry(entry_type=entry_type, key=key, fields=[Field(key=k, value=v) for k, v in fields])
    return write(Library([entry]), bibtex_format=_FORMAT).strip() + "\n\n"


def test_every_entry_is_laid_out_as_bibtexparser_lays_it_out():
    from references.formats import BIBTEX_TYPES, _entry_text, bibtex_entry, bibtex_key

    references = list(Reference.objects.with_authors())
    assert len(references) >= 60
    for reference in references:
        text = bibtex_entry(reference)
        entry_type = BIBTEX_TYPES.get(reference.kind, "misc")
        fields = re.findall(r"^  (\w+) = (.*?),?$", text, flags=re.MULTILINE)
        assert fields, text
        assert library_entry_text(entry_type, bibtex_key(reference), fields) == text
    # One field, and none at all.
    for fields in ([("title", "{T}")], []):
        assert _entry_text("misc", "k", fields) == library_entry_text("misc", "k", fields)


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csljson"])
def test_a_queryset_is_written_as_its_instances_are(fmt, django_assert_max_num_queries):
    from references.formats import WRITERS

    queryset = Reference.objects.with_authors().order_by("-year", "pk")
    instances = "".join(WRITERS[fmt](list(queryset)))
    # Keys, then per batch of 1,000 the authors and the references: a few queries in all.
    with django_assert_max_num_queries(3):
        values = "".join(WRITERS[fmt](queryset))
    assert values == instances
    assert values.count("Oddis") >= 1


@pytest.mark.parametrize(
    ("field", "value", "written"),
    [
        ("title", "a & b", r"title = {a \& b}"),
        ("journal", "J_Med", r"journal = {J\_Med}"),
        ("publisher", "50% Press", r"publisher = {50\% Press}"),
        ("volume", "#3", r"volume = {\#3}"),
        ("issue", "$4", r"number = {\$4}"),
        ("notes", "line one\nline two", "annote = {line one\\newline{}line two}"),
        ("doi", "10.1000/a\\b", "doi = {10.1000/ab}"),
        ("pages", "1}-2", "pages = {1-2}"),
        ("author_given", "J&K", r"author = {Smith, J\&K}"),
        ("author_family", "O_Neil", r"author = {O\_Neil, J}"),
    ],
)
def test_one_special_character_anywhere_is_escaped(field, value, written):
    """A value is escaped even when it is the entry's only one that needs it (the writer
    skips escaping for entries that need none)."""
    from references.formats import bibtex_entry
    from references.models import Author

    fields = {"title": "Plain title", "bibtex_key": "plain2020", "year": 2020}
    if not field.startswith("author_"):
        fields[field] = value
    reference = Reference.objects.create(**fields)
    Author.objects.create(
        reference=reference,
        position=0,
        family=value if field == "author_family" else "Smith",
        given=value if field == "author_given" else "J",
    )
    reference = Reference.objects.with_authors().get(pk=reference.pk)
    assert written in bibtex_entry(reference)


# -- names that must come back as they went out (a backup is BibTeX) ----------------------------


def test_a_name_suffix_comes_back_in_place(tmp_path):
    """The importers keep a suffix after the given names ("Chester V, Jr"). The export wrote
    "Oddis, Chester V, Jr", which BibTeX reads as "Last, Jr, First": each backup and restore
    swapped them. It writes "Oddis, Jr, Chester V" now."""
    import_references(
        text=(
            "TY  - JOUR\nAU  - Oddis, Chester V, Jr\nAU  - Aggarwal, Rohit\n"
            "TI  - A reference with a name suffix\nPY  - 2020\nJO  - Arthritis Rheumatol\nER  - \n"
        ),
        fmt=RIS,
    )
    reference = Reference.objects.get(title="A reference with a name suffix")
    assert "author = {Oddis, Jr, Chester V and Aggarwal, Rohit}" in bibtex_entry(reference)
    backup_and_restore(tmp_path / "backup")
    restored = Reference.objects.get(title="A reference with a name suffix")
    assert [(a.family, a.given) for a in restored.ordered_authors] == [
        ("Oddis", "Chester V, Jr"),
        ("Aggarwal", "Rohit"),
    ]


def test_a_person_known_by_a_surname_of_several_words_stays_a_person(tmp_path):
    """ "De Bleecker" with no given names was written "{De Bleecker}", which reads back as a
    group (a wholly braced name): after a restore the person was cited and sorted as one."""
    reference = Reference.objects.get(number=6)
    authors = [ParsedAuthor(a.family, a.given, a.is_corporate) for a in reference.ordered_authors]
    update_reference(reference=reference, authors=[*authors, ParsedAuthor("De Bleecker", "")])
    before = [(a.family, a.given, a.is_corporate) for a in reference.authors.order_by("position")]
    assert "{De Bleecker}, {}" in bibtex_entry(reference)
    backup_and_restore(tmp_path / "backup")
    restored = Reference.objects.get(number=6)
    assert [
        (a.family, a.given, a.is_corporate) for a in restored.authors.order_by("position")
    ] == before


def test_a_curators_note_comes_back_from_a_restore_as_written(tmp_path):
    """A note's lines folded into one, and TeX read "--" as an en dash, "''" as a closing
    quote and the escaped caret as U+02C6: a restore changed what the curator wrote."""
    notes = (
        "Printed as vol. 12 -- corrected from PubMed.\n"
        "Lymphocytes below 0.5 x 10^9/L were excluded; the ''responders'' are the authors'."
    )
    reference = Reference.objects.get(number=5)
    update_reference(reference=reference, notes=notes)
    backup_and_restore(tmp_path / "backup")
    assert Reference.objects.get(number=5).notes == notes
