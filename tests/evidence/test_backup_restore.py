"""export_corpus writes everything; load_corpus restores it into an empty database, identically.

The round trip runs for real: the corpus (with curators' changes: statuses, verification, an
unnumbered reference) is exported here, then a separate process migrates a brand-new database
of the same kind (a new PostgreSQL database, or a new SQLite file), loads the export, exports
again and counts its rows. The two exports must be the same byte for byte, and the counts equal.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from core.choices import ReviewStatus
from evidence.models import Provenance, Statement, Study
from evidence.services.backup import table_counts
from evidence.services.studies import upsert_study
from references.bibtex import ParsedAuthor, ParsedReference
from references.models import Reference
from references.services import create_reference, upsert_reference
from tests.evidence.roundtrip import backup_and_restore, differences, dump
from therapies.models import DrugClass, Therapy
from therapies.services import set_rationale

pytestmark = pytest.mark.django_db

RESTORE = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from evidence.services.backup import table_counts
call_command("migrate", verbosity=0, interactive=False)
call_command("load_corpus", sys.argv[1], verbosity=0)
call_command("export_corpus", sys.argv[2], verbosity=0)
print(json.dumps(table_counts()))
"""


@pytest.fixture
def curated():
    """The corpus after some curation: what the fixtures alone would not restore."""
    study = (
        Study.objects.filter(provenance__isnull=False, statements__isnull=True)
        .order_by("pk")
        .first()
    )
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT, verified=True)
    Provenance.objects.filter(pk=study.provenance.order_by("pk").first().pk).update(
        verified=True,
        verified_by="curator",
        verified_at=datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC),
    )
    # Entries that no published entry shows (a published entry shows only published ones).
    Reference.objects.filter(number=9).update(status=ReviewStatus.WITHDRAWN)
    Therapy.objects.filter(slug="tacrolimus").update(status=ReviewStatus.SUBMITTED)
    statement = Statement.objects.order_by("pk").first()
    Statement.objects.filter(pk=statement.pk).update(status=ReviewStatus.REJECTED, order=99)
    DrugClass.objects.filter(slug="anti-cd20").update(
        mechanism="Depletes B cells — “quoted”, {braced} & 100% <b>markup</b>, ü."
    )
    added = upsert_reference(
        parsed=ParsedReference(
            key="newcase2026",
            entry_type="article",
            line=1,
            title="A new case of anti-SRP myopathy treated with rituximab",
            year=2026,
            journal="Neuromuscul Disord",
            authors=[
                ParsedAuthor("Müller", "A"),
                ParsedAuthor("Muscle Study Group", is_corporate=True),
            ],
        ),
        status=ReviewStatus.DRAFT,
    ).reference
    upsert_study(
        key="newcase2026-rtx",
        reference=added,
        therapies=["rituximab"],
        subtypes=["anti-srp"],
        label="New case 2026",
        design="case_report",
        result="benefit",
        summary="One patient improved.",
        status=ReviewStatus.DRAFT,
        outcomes=[{"measure": "ck", "value": "normal at 6 months"}],
        provenance=[{"source": "abstract", "note": "seen"}],
    )
    set_rationale(therapy=Therapy.objects.get(slug="rituximab"), reference=added, pathway="CD20")
    return added


def export(directory: Path) -> None:
    call_command("export_corpus", str(directory), verbosity=0)


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database of the kind the suite runs on, dropped afterwards."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg2

    params = connection.settings_dict
    name = f"{params['NAME']}_restore"[:63]
    admin = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"] or 5432,
        password=params["PASSWORD"] or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    yield f"postgres://{user}@{params['HOST']}:{params['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_export_then_restore_into_an_empty_database_is_identical(
    curated, tmp_path, empty_database_url
):
    first, second = tmp_path / "first", tmp_path / "second"
    export(first)
    expected = table_counts()

    env = {
        **os.environ,
        "DATABASE_URL": empty_database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", RESTORE, str(first), str(second)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    restored = json.loads(result.stdout.strip().splitlines()[-1])

    assert tree(second) == tree(first)
    assert restored == expected
    # What the fixtures alone would lose is there.
    assert expected["evidence.Study draft"] >= 2 and expected["verified provenance"] >= 1
    assert expected["references.Reference withdrawn"] == 1


def test_the_export_holds_statuses_verification_and_unnumbered_references(curated, tmp_path):
    export(tmp_path)
    statuses = json.loads((tmp_path / "reference_status.json").read_text())["references"]
    assert statuses["newcase2026"] == "draft"
    assert statuses[Reference.objects.get(number=9).bibtex_key] == "withdrawn"
    studies = json.loads((tmp_path / "studies" / "corpus.json").read_text())["studies"]
    new = next(s for s in studies if s["key"] == "newcase2026-rtx")
    assert new["reference"] == "newcase2026" and new["status"] == "draft"
    verified = [p for s in studies for p in s["provenance"] if p["verified"]]
    assert verified[0]["verified_by"] == "curator"
    assert verified[0]["verified_at"] == "2026-05-04T03:02:01.123456+00:00"
    bib = (tmp_path / "references.bib").read_text()
    assert "@article{newcase2026," in bib and "{Muscle Study Group}" in bib
    rationale = json.loads((tmp_path / "rationale.json").read_text())["rationale"]
    assert {
        "reference": "newcase2026",
        "therapy": "rituximab",
        "pathway": "CD20",
        "note": "",
    } in rationale


def test_reloading_the_export_over_its_own_data_changes_nothing(curated, tmp_path):
    export(tmp_path)
    before = table_counts(), Study.history.count(), Reference.history.count()
    call_command("load_corpus", str(tmp_path), verbosity=0)
    assert (table_counts(), Study.history.count(), Reference.history.count()) == before


def test_loading_the_fixtures_keeps_a_curators_verification():
    """The fixtures carry no verified flags: loading them must not clear the curators'."""
    study = (
        Study.objects.filter(provenance__isnull=False, statements__isnull=True)
        .order_by("pk")
        .first()
    )
    Study.objects.filter(pk=study.pk).update(verified=True)
    study.provenance.update(verified=True, verified_by="curator")
    call_command("load_corpus", verbosity=0)
    study.refresh_from_db()
    assert study.verified
    assert all(p.verified and p.verified_by == "curator" for p in study.provenance.all())


def test_export_refuses_a_non_empty_directory_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match="is not empty; choose a new directory"):
        export(tmp_path)
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "old.json").write_text("{}")
    call_command("export_corpus", str(tmp_path), "--force", verbosity=0)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert [p.name for p in (tmp_path / "studies").iterdir()] == ["corpus.json"]


def test_a_bad_status_in_a_backup_refuses_the_load(tmp_path):
    export(tmp_path)
    path = tmp_path / "therapies.json"
    data = json.loads(path.read_text())
    data["therapies"][0]["status"] = "lost"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(tmp_path), verbosity=0)
    assert "therapies.json therapies[0]" in str(info.value)
    assert "'lost' is not a valid choice" in str(info.value)


# -- every value back, by natural key (tests/evidence/roundtrip.py) -----------------------------


def test_a_restore_gives_back_every_value_of_the_corpus(tmp_path):
    before = dump()
    backup_and_restore(tmp_path / "backup")
    assert differences(before, dump()) == []


def test_restore_keeps_two_references_that_share_a_title_and_year(tmp_path):
    """A conference abstract and its paper may share title and year (the admin saves such a
    pair with "Not a duplicate"). The loader matched each entry by number, DOI, PMID, then
    title and year: the second of the pair, whose DOI was not in the new database yet, matched
    the first (written a moment before) and overwrote it. Entries now match by BibTeX key
    first, and never one this load has written."""
    for key, doi, kind in (
        ("smith2019abstract", "10.1136/annrheumdis-2019-eular.1", "conference_abstract"),
        ("smith2019rituximab", "10.1016/j.jaut.2019.01.001", "journal_article"),
    ):
        create_reference(
            bibtex_key=key,
            title="Rituximab in refractory anti-SRP myopathy",
            year=2019,
            journal="Ann Rheum Dis",
            doi=doi,
            kind=kind,
            authors=[ParsedAuthor("Smith", "J")],
        )
    before = dump()
    backup_and_restore(tmp_path / "backup")
    assert differences(before, dump()) == []
