"""python manage.py corpus_report: coverage numbers match the database; --strict fails on problems.

Expected numbers are computed from the loaded corpus in each test, never written down, so the
tests keep holding as curation goes on.
"""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from evidence.models import DiseaseSubtype, Provenance, Statement, Study
from references.models import Reference
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("corpus_report", *args, stdout=out, no_color=True)
    return out.getvalue()


def value_of(report: str, label: str) -> str:
    """The value printed after a label, e.g. 'with PMID' -> '27 of 60 (45%)'."""
    match = re.search(rf"^\s+{re.escape(label)}\s{{2,}}(.+)$", report, re.MULTILINE)
    assert match, f"no line for {label!r} in:\n{report}"
    return match.group(1).strip()


def table(report: str, title: str) -> dict[str, str]:
    """The rows printed under a sub-heading such as 'per design:' (label -> value)."""
    lines = report.splitlines()
    start = lines.index(f"  {title}:") + 1
    rows = {}
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        label, value = line.strip().rsplit(None, 1)
        rows[label] = value
    return rows


@pytest.fixture
def report() -> str:
    return run()


def test_reference_coverage_matches_the_database(report):
    total = Reference.objects.count()
    assert value_of(report, "total").startswith(str(total))
    for label, filled in (("with PMID", "pmid"), ("with DOI", "doi"), ("with PMCID", "pmcid")):
        n = Reference.objects.exclude(**{filled: ""}).count()
        assert value_of(report, label).startswith(f"{n} of {total} ")
    roles = table(report, "by role")
    for role, n in Reference.objects.values_list("role").annotate(n=Count("pk")):
        assert roles[role or "unclassified"] == str(n)


def test_study_counts_per_facet_match_the_database(report):
    totals = re.findall(r"^\s+total\s{2,}(\d+)$", report, re.MULTILINE)
    assert totals == [str(Reference.objects.count()), str(Study.objects.count())]
    therapies = table(report, "per therapy")
    assert therapies == {
        t.slug: str(t.n) for t in Therapy.objects.annotate(n=Count("studies")).filter(n__gt=0)
    }
    subtypes = table(report, "per subtype")
    assert subtypes == {
        s.code: str(s.n) for s in DiseaseSubtype.objects.annotate(n=Count("studies"))
    }
    designs = table(report, "per design")
    for design, n in Study.objects.values_list("design").annotate(n=Count("pk")):
        assert designs[design] == str(n)
    assert sum(map(int, designs.values())) == Study.objects.count()
    results = table(report, "per result")
    for result, n in Study.objects.values_list("result").annotate(n=Count("pk")):
        assert results[result] == str(n)
    levels = table(report, "per level (Oxford CEBM 2011)")
    for level, n in Study.objects.values_list("level").annotate(n=Count("pk")):
        assert levels["not graded" if level is None else f"level {level}"] == str(n)


def test_therapies_without_studies_are_listed(report):
    missing = sorted(Therapy.objects.filter(studies=None).values_list("slug", flat=True))
    assert missing, "the review discusses therapies with no cited study (e.g. fingolimod)"
    assert value_of(report, "therapies with no study") == ", ".join(missing)


def test_sample_size_and_provenance_counts_match_the_database(report):
    studies = Study.objects.count()
    with_size = Study.objects.exclude(sample_size=None).count()
    assert value_of(report, "with sample size").startswith(f"{with_size} of {studies} ")
    assert value_of(report, "sample size not reported") == str(studies - with_size)
    verified = Provenance.objects.filter(verified=True)
    unverified = Provenance.objects.filter(verified=False)
    assert value_of(report, "provenance records verified") == str(verified.count())
    assert value_of(report, "provenance records unverified") == str(unverified.count())
    facts = sum(len(p.facts) for p in unverified)
    assert value_of(report, "facts unverified") == str(facts)


def test_verifying_a_record_moves_its_facts_to_verified():
    row = Provenance.objects.filter(study__key="ref01-rim-trial").first()
    before = value_of(run(), "facts verified")
    row.verified = True
    row.save()
    after = run()
    assert int(value_of(after, "facts verified")) == int(before) + len(row.facts)
    assert value_of(after, "provenance records verified") == "1"


def test_statements_are_counted(report):
    assert value_of(report, "statements") == str(Statement.objects.count())
    therapies = Statement.objects.values("therapy").distinct().count()
    assert value_of(report, "therapies with a statement") == str(therapies)


def test_strict_fails_only_on_the_record_urls_curators_have_not_replaced_yet(report):
    """Honest expectation (issue 13): the record-url rule still flags the provenance and
    identifier-source URLs for which the curators found no scholarly copy; every other rule is
    clean. When a curator replaces one, lower KNOWN_UNREPLACED_RECORD_URLS."""
    from tests.evidence.test_data_quality import KNOWN_UNREPLACED_RECORD_URLS

    known = KNOWN_UNREPLACED_RECORD_URLS
    assert f"Data-quality problems: {known}" in report
    assert (
        f"[record-url] record URLs on bare IP addresses, downloads or document-sharing/shop "
        f"sites: {known}" in report
    )
    with pytest.raises(CommandError, match=f"{known} data-quality problem"):
        run("--strict")


def test_problems_are_listed_and_strict_fails():
    from tests.evidence.test_data_quality import KNOWN_UNREPLACED_RECORD_URLS

    Reference.objects.create(number=61, title="Uncurated", bibtex_key="z2020x", role="treatment")
    report = run()  # without --strict the report still completes
    assert f"Data-quality problems: {KNOWN_UNREPLACED_RECORD_URLS + 1}" in report
    assert "reference 61: has role 'treatment' but reports no study" in report
    with pytest.raises(CommandError, match=f"{KNOWN_UNREPLACED_RECORD_URLS + 1} data-quality"):
        run("--strict")


def test_json_output_carries_the_same_numbers():
    data = json.loads(run("--json"))
    coverage = data["coverage"]
    assert coverage["references_total"] == Reference.objects.count()
    assert coverage["references_with_doi"] == Reference.objects.exclude(doi="").count()
    assert coverage["studies_total"] == Study.objects.count()
    assert (
        coverage["studies_per_therapy"]["rituximab"]
        == Study.objects.filter(therapies__slug="rituximab").count()
    )
    assert set(data["problems"]) == {
        "provenance",
        "identifier-format",
        "identifier-duplicate",
        "therapies-subtypes",
        "reference-without-study",
        "harm-description",
        "level-design",
        "record-url",
    }
    assert all(found == [] for code, found in data["problems"].items() if code != "record-url")
