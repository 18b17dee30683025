"""Pages for therapies."""

from django.views.generic import DetailView, ListView

from therapies.models import Therapy


class TherapyListView(ListView):
    template_name = "therapies/therapy_list.html"
    context_object_name = "therapies"

    def get_queryset(self):
        return Therapy.objects.visible_to(self.request.user).for_list()


class TherapyDetailView(DetailView):
    template_name = "therapies/therapy_detail.html"
    context_object_name = "therapy"

    def get_queryset(self):
        return Therapy.objects.visible_to(self.request.user).for_list()
