"""Full exports kept as files: rendered once per content generation, then sent as they are.

The full BibTeX or CSV download of a large corpus is rendered row by row in Python (at +100k
studies 34 and 72 MB, several seconds of one core). Its bytes are fixed by what its ETag
digests (the path, the format, the reader's scope, the count, the last change and the content
generation, ``core.conditional.collection_etag``), by the site address its links are written
with, and by the code that writes it. So the first request streams the download as before
and writes the same bytes to a file as they go; once the last byte is written, the file is
put in place (``os.replace``: whole or not at all), and the next requests for the same
download, from any process of this machine, are sent that file (``FileResponse``: the
server's ``sendfile``), until the generation moves on. A download stopped before its end
leaves nothing behind.

Kept only when nothing can make two readers' bytes differ:

* the full export, no query string (a reader's own filters are not kept: there is no bound on
  their number, and they are smaller);
* a reader who sees published entries only (``core.workflow.is_curator`` false, as the ETag's
  scope): a curator's export holds drafts and depends on their group's rights;
* not inside a transaction that has changed content (``generation.uncommitted_changes``): its
  generation number may be rolled back and used again for other content.

One file per download ("slot": path, format and site address); writing a new version removes
the slot's older ones, so the folder holds at most one file per full export. The file's name
digests the ETag and a digest of the project's code (``_code_digest``), so a deployment that
changes how an export is written never sends a file written by the code before it.

``MYOEVIDENCE_DOWNLOAD_DIR`` names the folder ("" turns this off). Written by hand: the
pieces (a tee into a temporary file, an atomic rename, ``FileResponse``) are a few lines of
the standard library and Django, and no library keeps a streamed response as a file keyed by
a validator.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from django.conf import settings

from core.caching import generation
from core.formats import FORMATS, download, download_file
from core.workflow import is_curator

logger = logging.getLogger(__name__)

# The project's own packages: their code writes the exports (writers, models' display rules,
# settings).
_PACKAGES = ("config", "core", "evidence", "references", "releases", "therapies")


@cache
def _code_digest() -> str:
    """A digest of every Python file of the project's packages, read once per process."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((Path(settings.BASE_DIR) / package).rglob("*.py")):
            digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def folder() -> Path | None:
    """The folder, made on first use for this user alone; None when turned off, or when it
    belongs to another user (who could put files there for readers to be sent)."""
    value = getattr(settings, "MYOEVIDENCE_DOWNLOAD_DIR", "")
    if not value:
        return None
    path = Path(value)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = path.stat().st_uid
    except OSError:
        logger.warning("download folder %s cannot be made", path, exc_info=True)
        return None
    if owner != os.getuid():
        logger.warning("download folder %s belongs to another user: not used", path)
        return None
    return path


def keeping_folder(request) -> Path | None:
    """Where this request's download is kept, or None when it may not be (see the module)."""
    if request.GET or is_curator(request.user) or generation.uncommitted_changes():
        return None
    return folder()


def kept_download(request, *, etag: str, chunks: Callable[[], Iterable[str]], fmt: str, stem: str):
    """The download of ``chunks()`` in format ``fmt`` (``core.formats.download``): sent from
    its kept file when there is one, and kept as it streams when there is none."""
    base = keeping_folder(request)
    if base is None:
        return download(chunks(), fmt, stem)
    slot = _digest(request.path, fmt, request.build_absolute_uri("/"))
    path = base / f"{slot}-{_digest(etag, _code_digest())}.{FORMATS[fmt].extension}"
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("kept download %s could not be read", path, exc_info=True)
    else:
        return download_file(handle, fmt, stem)
    response = download(chunks(), fmt, stem)
    response.streaming_content = _kept(response.streaming_content, path, slot)
    return response


def _kept(pieces: Iterable[bytes], path: Path, slot: str) -> Iterator[bytes]:
    """Yield ``pieces`` and write them to a temporary file beside ``path``; once the last one
    is written, the file becomes ``path`` and the slot's other versions go. A failure to write
    (a full disk) stops the writing, never the download."""
    part = None
    try:
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
        part = os.fdopen(descriptor, "wb")
    except OSError:
        logger.warning("kept download %s could not be started", path, exc_info=True)
    complete = False
    try:
        for piece in pieces:
            if part is not None:
                try:
                    part.write(piece)
                except OSError:
                    logger.warning("kept download %s could not be written", path, exc_info=True)
                    part.close()
                    os.unlink(name)
                    part = None
            yield piece
        complete = True
    finally:
        if part is not None:
            part.close()
            try:
                if complete:
                    os.replace(name, path)
                    _drop_older(path, slot)
                else:  # the client went away, or rendering failed: nothing half-written is kept
                    os.unlink(name)
            except OSError:
                logger.warning("kept download %s could not be put in place", path, exc_info=True)


def _drop_older(path: Path, slot: str) -> None:
    for other in path.parent.glob(f"{slot}-*"):
        if other != path:
            other.unlink(missing_ok=True)
