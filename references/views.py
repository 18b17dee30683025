"""Pages of the bibliography: list, detail (with citation meta tags) and exports."""

from django.http import Http404, StreamingHttpResponse
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView

from core.http import attach, invalid_filter_response
from core.pagination import GenerationPaginator
from core.streaming import one_at_a_time
from references.filtersets import ReferenceFilterSet
from references.formats import EXPORTERS
from references.models import Reference


def reference_by_ident(queryset, ident: str) -> Reference:
    """``12`` is the review's number 12; ``id-85`` a reference added later (by id)."""
    if ident.isdigit():
        lookup = {"number": int(ident)}
    elif ident.startswith("id-") and ident[3:].isdigit():
        lookup = {"pk": int(ident[3:])}
    else:
        raise Http404("No such reference.")
    try:
        return queryset.get(**lookup)
    except Reference.DoesNotExist:
        raise Http404("No such reference.") from None


def export_response(references, fmt: str, filename: str) -> StreamingHttpResponse:
    writer, content_type, extension = EXPORTERS[fmt]
    response = StreamingHttpResponse(
        writer(references), content_type=f"{content_type}; charset=utf-8"
    )
    return attach(response, f"{filename}.{extension}")


class ReferenceListView(FilterView):
    filterset_class = ReferenceFilterSet
    template_name = "references/reference_list.html"
    context_object_name = "references"
    paginate_by = 100
    paginator_class = GenerationPaginator

    def get_queryset(self):
        return Reference.objects.restrict(self.request.user).for_list()


class ReferenceExportView(View):
    """Any filtered reference list as BibTeX, RIS or CSL-JSON (same FilterSet as the page)."""

    def get(self, request, fmt):
        if fmt not in EXPORTERS:
            raise Http404("Unknown export format.")
        queryset = Reference.objects.restrict(request.user).for_list()
        filterset = ReferenceFilterSet(request.GET, queryset=queryset, request=request)
        if not filterset.is_valid():
            return invalid_filter_response(filterset)
        # Rows forgotten once written (core.streaming): memory stays flat however many.
        rows = one_at_a_time(filterset.qs.iterator(chunk_size=500))
        return export_response(rows, fmt, "myoevidence-references")


class ReferenceDetailView(DetailView):
    template_name = "references/reference_detail.html"
    context_object_name = "reference"

    def get_object(self, queryset=None):
        queryset = Reference.objects.restrict(self.request.user).with_authors()
        return reference_by_ident(queryset, self.kwargs["ident"])

    def get_context_data(self, **kwargs):
        user = self.request.user
        studies = self.object.studies.restrict(user)
        return super().get_context_data(
            studies=studies.prefetch_related("therapies", "subtypes"),
            rationales=self.object.rationales.restrict(user).select_related("therapy"),
            pages=self.object.pages.replace("--", "–").split("–"),
            **kwargs,
        )


class ReferenceCiteView(View):
    """One reference in a citation format, for the 'cite this' block."""

    def get(self, request, ident, fmt):
        if fmt not in EXPORTERS:
            raise Http404("Unknown export format.")
        queryset = Reference.objects.restrict(request.user).with_authors()
        reference = reference_by_ident(queryset, ident)
        return export_response([reference], fmt, reference.bibtex_key)
