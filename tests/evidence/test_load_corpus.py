"""load_corpus: loads every fixture, idempotently, and refuses a broken corpus whole."""

import json
import shutil

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from evidence.models import Outcome, Provenance, Study
from references.models import Author, Reference
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

MODELS = [Reference, Author, Therapy, Study, Outcome, Provenance]


def snapshot():
    rows = {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in MODELS}
    history = {m.__name__: m.history.count() for m in MODELS}
    return rows, history


def test_loading_twice_changes_nothing(capsys):
    before = snapshot()
    call_command("load_corpus")
    assert snapshot() == before  # same rows, same ids, no new history
    assert "references: 61 loaded, 0 new" in capsys.readouterr().out  # 60 + the review


def test_corpus_is_published_and_complete():
    assert Reference.objects.published().exclude(number=None).count() == 60
    assert Reference.objects.get(number=None).role == "source_review"  # the review itself
    assert Study.objects.published().count() == Study.objects.count() > 30
    assert Therapy.objects.filter(slug="rituximab").exists()


@pytest.fixture
def broken_corpus(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def test_a_bad_study_refuses_the_whole_load_and_names_it(broken_corpus):
    path = broken_corpus / "studies" / "refs_01_15.json"
    data = json.loads(path.read_text())
    data["studies"][0]["therapies"] = ["no-such-drug"]
    data["studies"][0]["summary"] = "CHANGED"
    data["studies"][1]["sample_size"] = -4
    path.write_text(json.dumps(data))
    Study.objects.all().delete()  # start from no studies: nothing may appear
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(broken_corpus))
    message = str(info.value)
    assert "nothing was saved" in message
    assert "ref01-rim-trial): unknown therapy slug(s): no-such-drug" in message
    assert "sample_size" in message
    assert Study.objects.count() == 0


def test_a_malformed_bib_is_refused_with_its_line(broken_corpus):
    bib = broken_corpus / "references.bib"
    text = bib.read_text().replace("title = {Rituximab in the treatment", "title = {{Rituximab", 1)
    bib.write_text(text)
    before = snapshot()
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(broken_corpus))
    assert "line" in str(info.value) and "references.bib" in str(info.value)
    assert snapshot() == before


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("load_corpus", str(tmp_path / "nope"))
