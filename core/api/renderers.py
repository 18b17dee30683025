"""Export formats and how a client picks one (``?format=`` or the Accept header).

The export renderers exist for content negotiation and the schema: views stream their bodies
with ``StreamingHttpResponse`` (see ``core.api.exports``), so ``render`` is only reached for
bodies that are already text.
"""

from rest_framework import renderers
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class ExportRenderer(renderers.BaseRenderer):
    """A streamed, unpaginated text format; ``extension`` names the downloaded file."""

    charset = "utf-8"
    extension = "txt"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return str(data or "").encode(self.charset)


class CSVRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"
    extension = "csv"


class BibTeXRenderer(ExportRenderer):
    media_type = "application/x-bibtex"
    format = "bibtex"
    extension = "bib"


class RISRenderer(ExportRenderer):
    media_type = "application/x-research-info-systems"
    format = "ris"
    extension = "ris"


class CSLJSONRenderer(ExportRenderer):
    media_type = "application/vnd.citationstyles.csl+json"
    format = "csljson"
    extension = "json"


class JSONRenderer(renderers.JSONRenderer):
    """Plain JSON (no browsable API: the interactive documentation is at /api/docs/)."""


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but an unknown ``?format=`` is a 406 naming the formats on offer
    (DRF alone answers 404, which reads as "no such resource")."""

    def filter_renderers(self, renderers, format):
        matching = [r for r in renderers if r.format == format]
        if not matching:
            offered = ", ".join(r.format for r in renderers)
            raise NotAcceptable(f"Unknown format '{format}'. This endpoint offers: {offered}.")
        return matching

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE, None) == "":
            offered = ", ".join(r.format for r in renderers)
            raise NotAcceptable(f"Empty format. This endpoint offers: {offered}.")
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable as exc:
            if "Unknown format" in str(exc.detail):
                raise
            offered = ", ".join(r.media_type for r in renderers)
            raise NotAcceptable(
                f"None of the media types in the Accept header is offered here. "
                f"Offered: {offered} (or use ?format=)."
            ) from None
