"""The studies CSV read as plain values per batch of studies (issue 16): the batches join up
in the queryset's order, whatever their size; its bytes are compared with the instance-based
writer's in tests/test_render_identity.py."""

import csv
import io

import pytest

from evidence import exports
from evidence.models import Study

pytestmark = pytest.mark.django_db


def csv_text(studies, **kwargs) -> str:
    return "".join(exports.studies_csv(studies, base_url="https://example.org", **kwargs))


def test_batches_join_up_in_the_querysets_order(monkeypatch):
    studies = Study.objects.published().order_by("-reference__year", "pk")
    whole = csv_text(studies)
    monkeypatch.setattr(exports, "BATCH_ROWS", 7)  # 43 studies: six full batches and a short one
    assert csv_text(studies) == whole
    ids = [int(row[0]) for row in list(csv.reader(io.StringIO(whole)))[1:]]
    assert ids == list(studies.values_list("pk", flat=True))


def test_a_row_reads_what_the_study_holds():
    study = Study.objects.published().get(key="ref02-aza-prednisone-trial")
    text = csv_text(Study.objects.filter(pk=study.pk), curator=True)
    header, row = csv.reader(io.StringIO(text))
    cells = dict(zip(header, row, strict=True))
    assert cells["id"] == str(study.pk) and cells["label"] == study.label
    assert cells["url"] == f"https://example.org/studies/{study.pk}/"
    assert cells["background"] == "glucocorticoids" and cells["subtype_counts"] == "pm 16"
    assert cells["level_reason"] == study.level_reason
    assert (cells["key"], cells["status"]) == ("ref02-aza-prednisone-trial", "published")
