"""Pages of the bibliography: list, detail (with citation meta tags) and exports."""

from django.http import Http404
from django.views import View
from django.views.generic import DetailView

from core.caching.downloads import kept_download
from core.conditional import (
    collection_etag,
    collection_state,
    latest_modified,
    representation_etag,
    respond,
)
from core.formats import download
from core.http import invalid_filter_response
from core.lists import LazyFilteredListView
from references.filtersets import ReferenceFilterSet
from references.formats import WRITERS
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


class ReferenceListView(LazyFilteredListView):
    """The bibliography under the reader's filters; the body is one fragment per content
    generation, filter state and reader's rights (templates/references/reference_list.html)."""

    filterset_class = ReferenceFilterSet
    template_name = "references/reference_list.html"
    context_object_name = "references"
    paginate_by = 100

    def get_queryset(self):
        return Reference.objects.restrict(self.request.user).for_list()


class ReferenceExportView(View):
    """Any filtered reference list as BibTeX, RIS or CSL-JSON (same FilterSet as the page)."""

    def get(self, request, fmt):
        if fmt not in WRITERS:
            raise Http404("Unknown export format.")
        queryset = Reference.objects.restrict(request.user).for_list()
        filterset = ReferenceFilterSet(request.GET, queryset=queryset, request=request)
        if not filterset.is_valid():
            return invalid_filter_response(filterset)
        references = filterset.qs
        count, last_modified = collection_state(references)
        etag = collection_etag(request, fmt, count, last_modified)
        return respond(
            request,
            etag=etag,
            last_modified=last_modified,
            build=lambda: kept_download(
                request,
                etag=etag,
                # Read a batch at a time (references.formats): memory stays flat however many.
                chunks=lambda: WRITERS[fmt](references),
                fmt=fmt,
                stem="myoevidence-references",
            ),
        )


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
        if fmt not in WRITERS:
            raise Http404("Unknown export format.")
        queryset = Reference.objects.restrict(request.user).with_authors()
        reference = reference_by_ident(queryset, ident)
        text = "".join(WRITERS[fmt]([reference]))  # one record: its digest is its ETag
        return respond(
            request,
            etag=representation_etag(text, fmt),
            last_modified=latest_modified(reference),
            build=lambda: download([text], fmt, reference.bibtex_key),
        )
