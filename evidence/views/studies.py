"""Study list (filterable, exportable) and detail."""

from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView

from core.http import attach, invalid_filter_response
from core.pagination import GenerationPaginator
from core.streaming import one_at_a_time
from evidence.exports import studies_csv
from evidence.filtersets import CheckboxStudyFilterSet, StudyFilterSet
from evidence.models import Statement, Study
from evidence.selectors import study_rows


class StudyListView(FilterView):
    filterset_class = CheckboxStudyFilterSet
    template_name = "evidence/study_list.html"
    context_object_name = "studies"
    paginate_by = 50
    paginator_class = GenerationPaginator

    def get_queryset(self):
        return Study.objects.restrict(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["studies"] = study_rows(context["object_list"])
        return context


class StudyCsvView(View):
    """The filtered study list as CSV: the same FilterSet, so the rows match the page."""

    def get(self, request):
        queryset = Study.objects.restrict(request.user).for_detail()
        filterset = StudyFilterSet(request.GET, queryset=queryset, request=request)
        if not filterset.is_valid():
            return invalid_filter_response(filterset)
        rows = studies_csv(
            # Rows forgotten once written (core.streaming): memory stays flat however many.
            one_at_a_time(filterset.qs.iterator(chunk_size=500)),
            base_url=request.build_absolute_uri("/")[:-1],
        )
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        return attach(response, "myoevidence-studies.csv")


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
