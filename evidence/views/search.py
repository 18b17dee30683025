from django.utils.functional import SimpleLazyObject
from django.views.generic import TemplateView

from evidence.search import MAX_QUERY_LENGTH, search


class SearchView(TemplateView):
    template_name = "evidence/search.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
        user = self.request.user
        # Lazy: the results are a fragment per content generation, query and reader's rights
        # (templates/evidence/search.html).
        results = SimpleLazyObject(lambda: Results(search(query, user=user) if query else {}))
        return super().get_context_data(query=query, results=results, **kwargs)


class Results:
    """The hits of a search by group, and how many in all."""

    def __init__(self, groups: dict):
        self.groups = groups
        self.total = sum(len(hits) for hits in groups.values())
