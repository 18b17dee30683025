from django.views.generic import TemplateView

from evidence.search import MAX_QUERY_LENGTH, search


class SearchView(TemplateView):
    template_name = "evidence/search.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
        groups = search(query, user=self.request.user) if query else {}
        total = sum(len(hits) for hits in groups.values())
        return super().get_context_data(query=query, groups=groups, total=total, **kwargs)
