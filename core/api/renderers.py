"""Export formats and how a client picks one (``?format=`` or the Accept header).

The export renderers exist for content negotiation and the schema: views stream their bodies
with ``StreamingHttpResponse`` (see ``core.api.exports``), so ``render`` is only reached for
bodies that are already text.
"""

from rest_framework import renderers
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation

from core.formats import FORMATS


class ExportRenderer(renderers.BaseRenderer):
    """A streamed, unpaginated text format; ``extension`` names the downloaded file.

    Subclasses are made by ``export_renderer`` from the site's table of formats
    (``core.formats``), so the API offers each format under the same name, media type and
    extension as the pages do.
    """

    charset = "utf-8"
    extension = "txt"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return str(data or "").encode(self.charset)


def export_renderer(name: str) -> type[ExportRenderer]:
    """The renderer class of export format ``name`` (one of ``core.formats.FORMATS``)."""
    spec = FORMATS[name]
    return type(
        f"{spec.label.replace('-', '').replace(' ', '')}Renderer",
        (ExportRenderer,),
        {
            "__doc__": f"{spec.label} ({spec.media_type}), from core.formats.",
            "media_type": spec.media_type,
            "format": spec.name,
            "extension": spec.extension,
            "charset": spec.charset,
        },
    )


CSVRenderer = export_renderer("csv")
BibTeXRenderer = export_renderer("bibtex")
RISRenderer = export_renderer("ris")
CSLJSONRenderer = export_renderer("csljson")


class Rendered:
    """A body this renderer made earlier (kept per content generation): sent as it is."""

    __slots__ = ("content",)

    def __init__(self, content: bytes):
        self.content = content


class JSONRenderer(renderers.JSONRenderer):
    """Plain JSON (no browsable API: the interactive documentation is at /api/docs/)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, Rendered):
            return data.content
        return super().render(data, accepted_media_type, renderer_context)


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
