"""The API's written-out study representation equals DRF's generic one (issue 16)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from evidence.api.serializers import PUBLIC_VERIFIER, StudySerializer
from evidence.models import Provenance, Study

pytestmark = pytest.mark.django_db


def both(study, request):
    """(written out, DRF's generic walk over the declared fields) as rendered JSON."""
    serializer = StudySerializer(context={"request": request})
    generic = serializers.ModelSerializer.to_representation(serializer, study)
    fast = serializer.to_representation(study)
    return JSONRenderer().render(fast), JSONRenderer().render(generic)


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_study_of_the_corpus_is_represented_as_drf_would(rf, curator, signed_in):
    # Verified provenance shows the curator's name to curators only: one verified record.
    record = Provenance.objects.filter(study__outcomes__isnull=False).first()
    record.verified, record.verified_by = True, "alice"
    record.verified_at = timezone.now()
    record.save()
    request = rf.get("/api/v1/studies/")
    request.user = curator if signed_in else AnonymousUser()
    studies = list(Study.objects.for_detail().order_by("pk"))
    assert len(studies) > 40
    for study in studies:
        fast, generic = both(study, request)
        assert fast == generic, study.key
    fast, _ = both(Study.objects.for_detail().get(pk=record.study_id), request)
    assert (b'"alice"' in fast) is signed_in
    assert (PUBLIC_VERIFIER.encode() in fast) is not signed_in


def test_without_a_request_the_page_url_is_a_path():
    study = Study.objects.for_detail().first()
    serializer = StudySerializer(context={})
    assert serializer.to_representation(study) == (
        serializers.ModelSerializer.to_representation(serializer, study)
    )
    assert serializer.to_representation(study)["page_url"] == f"/studies/{study.pk}/"


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_page_read_as_values_is_represented_as_drf_would(rf, curator, signed_in):
    """The list reads outcomes, provenance, arms and links as plain values, one query each."""
    record = Provenance.objects.filter(study__arms__therapy__isnull=True).first()
    record.verified, record.verified_by, record.verified_at = True, "alice", timezone.now()
    record.save()
    request = rf.get("/api/v1/studies/")
    request.user = curator if signed_in else AnonymousUser()
    rows = list(Study.objects.select_related("reference", "trial"))
    page = StudySerializer(rows, many=True, context={"request": request}).data
    serializer = StudySerializer(context={"request": request})
    generic = [
        serializers.ModelSerializer.to_representation(serializer, study)
        for study in Study.objects.for_detail()
    ]
    assert JSONRenderer().render(page) == JSONRenderer().render(generic)
    assert (b'"alice"' in JSONRenderer().render(page)) is signed_in
    assert any(arm["therapy"] is None for study in page for arm in study["arms"])


def test_a_page_of_studies_reads_its_related_rows_in_one_query_each(rf, django_assert_num_queries):
    request = rf.get("/api/v1/studies/")
    request.user = AnonymousUser()
    rows = list(Study.objects.select_related("reference", "trial"))
    # therapies, subtypes, outcomes, provenance, arms, counts per subtype
    with django_assert_num_queries(6):
        data = StudySerializer(rows, many=True, context={"request": request}).data
    assert len(data) == len(rows)
