"""Study list (filterable, exportable) and detail."""

from django.db.models import Prefetch
from django.views import View
from django.views.generic import DetailView

from core.caching.downloads import kept_download
from core.conditional import collection_etag, collection_state, respond
from core.http import invalid_filter_response
from core.lists import LazyFilteredListView
from evidence.exports import studies_csv
from evidence.filtersets import CheckboxStudyFilterSet, StudyFilterSet
from evidence.models import Statement, Study
from evidence.selectors import study_rows


class StudyListView(LazyFilteredListView):
    """Every visible study under the reader's filters, a page at a time; the body is one
    fragment per content generation, filter state and reader's rights
    (templates/evidence/study_list.html)."""

    filterset_class = CheckboxStudyFilterSet
    template_name = "evidence/study_list.html"
    context_object_name = "studies"
    paginate_by = 50

    def get_queryset(self):
        return Study.objects.restrict(self.request.user)

    def rows(self, object_list):
        return study_rows(object_list)


class StudyCsvView(View):
    """The filtered study list as CSV: the same FilterSet, so the rows match the page."""

    def get(self, request):
        queryset = Study.objects.restrict(request.user)
        filterset = StudyFilterSet(request.GET, queryset=queryset, request=request)
        if not filterset.is_valid():
            return invalid_filter_response(filterset)
        studies = filterset.qs
        count, last_modified = collection_state(studies)
        base_url = request.build_absolute_uri("/")[:-1]
        etag = collection_etag(request, "csv", count, last_modified)
        return respond(
            request,
            etag=etag,
            last_modified=last_modified,
            build=lambda: kept_download(
                request,
                etag=etag,
                # Plain values read per batch of studies: memory stays flat however many.
                chunks=lambda: studies_csv(studies, base_url=base_url),
                fmt="csv",
                stem="myoevidence-studies",
            ),
        )


class StudyDetailView(DetailView):
    template_name = "evidence/study_detail.html"
    context_object_name = "study"

    def get_queryset(self):
        user = self.request.user
        return (
            Study.objects.restrict(user)
            .for_detail()
            .prefetch_related(Prefetch("statements", queryset=Statement.objects.restrict(user)))
        )
