"""Full exports kept as files per content generation (core/caching/downloads.py)."""

import pytest
from django.http import FileResponse, StreamingHttpResponse

from core.caching import downloads, generation
from core.choices import ReviewStatus
from evidence.models import Study
from references.models import Reference

pytestmark = pytest.mark.django_db

EXPORTS = ["/studies/export.csv", "/references/export/bibtex/"]


@pytest.fixture
def folder(settings, tmp_path):
    settings.MYOEVIDENCE_DOWNLOAD_DIR = str(tmp_path / "downloads")
    return tmp_path / "downloads"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def kept(folder):
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("url", EXPORTS)
def test_the_first_download_is_kept_and_the_next_is_sent_from_the_file(client, folder, url):
    first = client.get(url)
    assert isinstance(first, StreamingHttpResponse)
    data = body(first)
    assert len(data) > 10_000
    [path] = kept(folder)
    assert path.read_bytes() == data
    assert not [p for p in folder.iterdir() if p.name.startswith(".part-")]

    second = client.get(url)
    assert isinstance(second, FileResponse)
    assert body(second) == data
    assert int(second["Content-Length"]) == len(data)
    for header in ("ETag", "Last-Modified", "Content-Type", "Content-Disposition", "Vary"):
        assert second[header] == first[header], header
    # The validators still answer a client that holds the download.
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_new_generation_is_rendered_again_and_replaces_the_old_file(client, folder, monkeypatch):
    url = EXPORTS[0]
    data = body(client.get(url))
    [old] = kept(folder)
    now = generation.current()
    generation.forget()
    monkeypatch.setattr(generation, "current", lambda using="default": now + 1)
    again = client.get(url)
    assert isinstance(again, StreamingHttpResponse)  # rendered, not the old file
    assert body(again) == data  # the same content, under another generation
    [new] = kept(folder)
    assert new != old and not old.exists()


def test_code_that_changed_never_sends_a_file_the_old_code_wrote(client, folder, monkeypatch):
    url = EXPORTS[1]
    body(client.get(url))
    [old] = kept(folder)
    monkeypatch.setattr(downloads, "_code_digest", lambda: "another deployment")
    again = client.get(url)
    assert isinstance(again, StreamingHttpResponse)  # rendered by the code now running
    body(again)
    [new] = kept(folder)
    assert new.name != old.name and new.name.split("-")[0] == old.name.split("-")[0]


def test_an_unfinished_download_leaves_nothing(client, folder):
    response = client.get(EXPORTS[0])
    pieces = iter(response.streaming_content)
    next(pieces)
    response.close()  # the client went away
    # Neither a file nor its temporary part is left (no next request here: on PostgreSQL the
    # test client closes the connection whose server-side cursor the stopped download held).
    assert list(folder.iterdir()) == []


def test_filtered_and_curators_downloads_are_not_kept(client, folder, curator):
    draft = Study.objects.published().first()
    Study.objects.filter(pk=draft.pk).update(status=ReviewStatus.DRAFT)
    generation.content_changed()
    # Read by a curator: the draft is in it; nothing kept.
    assert draft.label.encode() in body(client.get(EXPORTS[0]))
    client.logout()
    assert not folder.exists() or kept(folder) == []
    # A reader's own filters: not kept either.
    assert isinstance(client.get(EXPORTS[0] + "?design=rct_parallel"), StreamingHttpResponse)
    assert not folder.exists() or kept(folder) == []


def test_a_change_in_this_transaction_is_never_kept_nor_hidden_by_a_file(client, folder):
    url = EXPORTS[1]
    body(client.get(url))  # kept under the current generation
    reference = Reference.objects.published().exclude(title="").first()
    reference.title = "A title changed before the download"
    reference.save()  # moves the generation, uncommitted (the test's transaction)
    again = client.get(url)
    assert isinstance(again, StreamingHttpResponse)
    assert b"A title changed before the download" in body(again)
    assert len(kept(folder)) == 1  # the older file only, not one for a number that may repeat


def test_a_folder_that_cannot_be_used_still_gives_the_download(client, settings, tmp_path):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    settings.MYOEVIDENCE_DOWNLOAD_DIR = str(blocked / "downloads")
    response = client.get(EXPORTS[0])
    assert response.status_code == 200 and b"Rituximab" in body(response)


def test_a_folder_of_another_user_is_not_used(client, folder, monkeypatch):
    folder.mkdir()
    monkeypatch.setattr(downloads.os, "getuid", lambda: 12345)
    assert isinstance(client.get(EXPORTS[0]), StreamingHttpResponse)
    assert isinstance(client.get(EXPORTS[0]), StreamingHttpResponse)
    assert list(folder.iterdir()) == []


def test_turned_off_nothing_is_kept(client, settings):
    settings.MYOEVIDENCE_DOWNLOAD_DIR = ""
    assert isinstance(client.get(EXPORTS[0]), StreamingHttpResponse)
    assert isinstance(client.get(EXPORTS[0]), StreamingHttpResponse)
