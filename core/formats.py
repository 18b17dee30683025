"""The export formats of the site, in one table, and the one way a download is answered.

Every download (a page's "Download as CSV" or "Cite as BibTeX" link, an API ``?format=``, an
admin action, a release's frozen files) names its format here: the media type, the file
extension and the label readers see come from this table, so a format cannot be spelled two
ways in two places. The API's renderers are built from it (``core.api.renderers``), the pages'
links are drawn from it (``CITATION_FORMATS``), the releases record its media types.

The writers stay in the apps whose models they write (dependencies point one way: ``core``
knows no content app): ``references.formats.WRITERS`` (BibTeX, RIS, CSL-JSON),
``evidence.exports`` (the studies CSV), ``evidence.fhir`` (FHIR R5) and ``core.csvfile`` (the
one CSV writer under all of them). Each writer's table is keyed by the names used here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from core.http import attach
from core.streaming import joined


@dataclass(frozen=True)
class ExportFormat:
    """One export format: ``name`` is what ``?format=`` and the page URLs say."""

    name: str
    label: str
    media_type: str
    extension: str
    charset: str = "utf-8"

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset={self.charset}"

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.extension}"


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("json", "JSON", "application/json", "json"),
        ExportFormat("csv", "CSV", "text/csv", "csv"),
        ExportFormat("bibtex", "BibTeX", "application/x-bibtex", "bib"),
        ExportFormat("ris", "RIS", "application/x-research-info-systems", "ris"),
        ExportFormat("csljson", "CSL-JSON", "application/vnd.citationstyles.csl+json", "json"),
        ExportFormat("fhir", "FHIR R5", "application/fhir+json", "json"),
    )
}

# The citation formats a reference (or a list of them) is offered in, in the order the pages
# list them.
CITATION_FORMATS = tuple(FORMATS[name] for name in ("bibtex", "ris", "csljson"))


def download(chunks: Iterable[str] | str, fmt: str, stem: str, *, stream: bool = True):
    """The response for a download of ``chunks`` (text) in format ``fmt``, named
    ``stem.<extension>``.

    Streamed by default, so a large export never sits in memory; ``stream=False`` (or a
    ``str``) gives a plain response, for small bodies a caller wants to hash or test.
    """
    export_format = FORMATS[fmt]
    if isinstance(chunks, str):
        chunks, stream = [chunks], False
    if stream:
        response = StreamingHttpResponse(
            joined(chunks, charset=export_format.charset), content_type=export_format.content_type
        )
    else:
        response = HttpResponse(
            "".join(chunks).encode(export_format.charset), content_type=export_format.content_type
        )
    return attach(response, export_format.filename(stem))


def download_file(handle: BinaryIO, fmt: str, stem: str) -> FileResponse:
    """The same download as ``download`` gives (type and file name), sent from a file already
    written (``handle``, open for reading; the response closes it)."""
    export_format = FORMATS[fmt]
    response = FileResponse(handle, content_type=export_format.content_type)
    return attach(response, export_format.filename(stem))
