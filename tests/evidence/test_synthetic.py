"""generate_synthetic: a load-testing corpus drawn from the real one, kept apart from it."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from core.caching import generation
from evidence.levels import effective_level
from evidence.models import Outcome, Provenance, Study
from evidence.services.synthetic import PREFIX, real_distributions
from references.models import Author, Reference
from references.validators import normalise_title

pytestmark = pytest.mark.django_db


def generate(n: int, *args: str) -> None:
    call_command(
        "generate_synthetic",
        "--studies",
        str(n),
        "--force",
        "--seed",
        "1",
        "--workers",
        "1",
        *args,
        verbosity=0,
    )


def real_counts() -> dict[str, int]:
    return {
        "studies": Study.objects.exclude(key__startswith=PREFIX).count(),
        "references": Reference.objects.exclude(bibtex_key__startswith=PREFIX).count(),
        "authors": Author.objects.exclude(reference__bibtex_key__startswith=PREFIX).count(),
        "outcomes": Outcome.objects.exclude(study__key__startswith=PREFIX).count(),
    }


def test_it_refuses_a_database_holding_the_published_real_corpus():
    with pytest.raises(CommandError, match="published real corpus"):
        call_command("generate_synthetic", "--studies", "10", verbosity=0)
    assert not Study.objects.filter(key__startswith=PREFIX).exists()


def test_it_adds_the_requested_studies_with_everything_hanging_off_them():
    before = real_counts()
    generate(250)
    studies = Study.objects.filter(key__startswith=PREFIX)
    assert studies.count() == 250
    assert studies.filter(status="published").count() == 250
    references = Reference.objects.filter(bibtex_key__startswith=PREFIX)
    assert 0 < references.count() <= 250
    assert not studies.exclude(reference__bibtex_key__startswith=PREFIX).exists()
    # Every study has at least one therapy and one subtype, as the real ones do.
    assert not studies.annotate(n=Count("therapies")).filter(n=0).exists()
    assert not studies.annotate(n=Count("subtypes")).filter(n=0).exists()
    assert Outcome.objects.filter(study__in=studies).exists()
    assert Provenance.objects.filter(study__in=studies).exists()
    assert real_counts() == before  # the real corpus is untouched


def test_synthetic_rows_keep_the_model_rules():
    generate(200)
    for study in Study.objects.filter(key__startswith=PREFIX):
        assert study.level == effective_level(study.design, study.level_override)
        assert study.level_override is None or study.level_override_reason
        assert len(study.label) <= 200
        study.full_clean()
    for reference in Reference.objects.filter(bibtex_key__startswith=PREFIX):
        assert reference.title_normalised == normalise_title(reference.title)[:500]
        first = reference.authors.order_by("position").first()
        assert first is not None and reference.first_author == first.family
        reference.full_clean()
    for outcome in Outcome.objects.filter(study__key__startswith=PREFIX):
        assert outcome.responders is None or outcome.n is None or outcome.responders <= outcome.n


def test_values_come_from_the_real_corpus():
    dist = real_distributions()
    generate(300)
    synthetic = Study.objects.filter(key__startswith=PREFIX)
    real_designs = set(dist.designs)
    assert set(synthetic.values_list("design", flat=True)) <= real_designs
    real_therapies = set(
        Study.objects.exclude(key__startswith=PREFIX).values_list("therapies", flat=True)
    )
    assert set(synthetic.values_list("therapies", flat=True)) <= real_therapies
    # The most common real design is the most common synthetic one (300 draws are plenty).
    top_real = max(real_designs, key=dist.designs.count)
    top_synthetic = (
        synthetic.values("design").annotate(n=Count("pk")).order_by("-n").first()["design"]
    )
    assert top_synthetic == top_real


def test_a_second_run_adds_more_with_new_keys():
    generate(30)
    generate(30)
    assert Study.objects.filter(key__startswith=PREFIX).count() == 60


def test_clear_removes_every_synthetic_row_and_keeps_the_real_corpus():
    before = real_counts()
    generate(120)
    call_command("generate_synthetic", "--clear", verbosity=0)
    assert not Study.objects.filter(key__startswith=PREFIX).exists()
    assert not Reference.objects.filter(bibtex_key__startswith=PREFIX).exists()
    assert not Author.objects.filter(reference__bibtex_key__startswith=PREFIX).exists()
    assert not Outcome.objects.filter(study__key__startswith=PREFIX).exists()
    assert real_counts() == before


def test_generating_invalidates_cached_pages(django_capture_on_commit_callbacks):
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        generate(10)  # bulk inserts send no signals: the service bumps itself
    assert generation.current() > before
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("generate_synthetic", "--clear", verbosity=0)
    assert generation.current() > before


def test_bad_arguments_are_clear_errors():
    with pytest.raises(CommandError, match="how many"):
        call_command("generate_synthetic", verbosity=0)
    with pytest.raises(CommandError, match="positive"):
        call_command("generate_synthetic", "--studies", "0", "--force", verbosity=0)
    with pytest.raises(CommandError, match="not both"):
        call_command("generate_synthetic", "--studies", "5", "--clear", verbosity=0)
