from django.db.models import Count, Q
from django.views.generic import DetailView, ListView

from core.choices import ReviewStatus
from evidence.models import DiseaseSubtype, Study
from evidence.selectors import subtype_ranking


class SubtypeListView(ListView):
    template_name = "evidence/subtype_list.html"
    context_object_name = "subtypes"

    def get_queryset(self):
        published = Q() if self.request.user.is_staff else Q(
            studies__status=ReviewStatus.PUBLISHED)
        return DiseaseSubtype.objects.annotate(
            n_studies=Count("studies", filter=published, distinct=True))


class SubtypeDetailView(DetailView):
    model = DiseaseSubtype
    template_name = "evidence/subtype_detail.html"
    context_object_name = "subtype"

    def get_context_data(self, **kwargs):
        studies = Study.objects.visible_to(self.request.user)
        return super().get_context_data(
            ranking=subtype_ranking(studies, self.object), **kwargs)
