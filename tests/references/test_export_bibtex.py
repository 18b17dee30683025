"""export_bibtex: export → import → export gives the same set of entries."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from core.choices import ReviewStatus
from evidence.models import Study
from references.models import Reference
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
