"""Pages for subtypes and studies."""

from django.views.generic import DetailView, ListView

from evidence.models import DiseaseSubtype, Study


class SubtypeListView(ListView):
    model = DiseaseSubtype
    template_name = "evidence/subtype_list.html"
    context_object_name = "subtypes"


class SubtypeDetailView(DetailView):
    model = DiseaseSubtype
    template_name = "evidence/subtype_detail.html"
    context_object_name = "subtype"


class StudyListView(ListView):
    template_name = "evidence/study_list.html"
    context_object_name = "studies"
    paginate_by = 50

    def get_queryset(self):
        return Study.objects.visible_to(self.request.user).for_list()


class StudyDetailView(DetailView):
    template_name = "evidence/study_detail.html"
    context_object_name = "study"

    def get_queryset(self):
        return Study.objects.visible_to(self.request.user).for_detail()
