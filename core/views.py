"""Site-wide pages."""

from django.views.generic import TemplateView

from evidence.models import Study
from references.models import Reference
from therapies.models import Therapy


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["counts"] = {
            "therapies": Therapy.objects.published().count(),
            "studies": Study.objects.published().count(),
            "references": Reference.objects.published().count(),
        }
        return context
