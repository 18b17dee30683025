"""Pages of the bibliography."""

from django.http import Http404
from django.views.generic import DetailView, ListView

from references.models import Reference


class ReferenceListView(ListView):
    template_name = "references/reference_list.html"
    context_object_name = "references"
    paginate_by = 100

    def get_queryset(self):
        return Reference.objects.visible_to(self.request.user).for_list()


class ReferenceDetailView(DetailView):
    template_name = "references/reference_detail.html"
    context_object_name = "reference"

    def get_object(self, queryset=None):
        """``/references/12/`` is the review's number 12; ``/references/id-85/`` a later addition."""
        ident = self.kwargs["ident"]
        queryset = Reference.objects.visible_to(self.request.user).with_authors()
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
