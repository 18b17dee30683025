from django.views.generic import DetailView, ListView

from core.caching.data import count_by
from evidence.models import DiseaseSubtype, Study
from evidence.selectors import subtype_ranking


class SubtypeListView(ListView):
    template_name = "evidence/subtype_list.html"
    context_object_name = "subtypes"

    def get_queryset(self):
        counts = count_by(Study.objects.restrict(self.request.user), "subtypes")
        subtypes = list(DiseaseSubtype.objects.restrict(self.request.user))
        for subtype in subtypes:
            subtype.n_studies = counts.get(subtype.pk, 0)
        return subtypes


class SubtypeDetailView(DetailView):
    template_name = "evidence/subtype_detail.html"
    context_object_name = "subtype"

    def get_queryset(self):
        return DiseaseSubtype.objects.restrict(self.request.user)

    def get_context_data(self, **kwargs):
        studies = Study.objects.restrict(self.request.user)
        return super().get_context_data(ranking=subtype_ranking(studies, self.object), **kwargs)
