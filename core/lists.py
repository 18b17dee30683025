"""Filtered, paged lists whose every value is computed only when a template reads it.

django-filter's ``FilterView`` filters and pages in ``get()``, before the template runs. The
list pages keep their bodies as fragments per content generation (core.caching.fragments), so a
body found there must not have cost the queries it would have shown: this view builds the same
values (strict: invalid filters show no row; a page number out of range is a 404) as
``SimpleLazyObject``s instead.
"""

from django.core.paginator import InvalidPage
from django.http import Http404
from django.utils.functional import SimpleLazyObject
from django.views.generic import TemplateView

from core.pagination import GenerationPaginator

__all__ = ["LazyFilteredListView"]


class LazyFilteredListView(TemplateView):
    filterset_class: type
    paginate_by = 50
    context_object_name = "object_list"

    def get_queryset(self):
        raise NotImplementedError

    def rows(self, object_list):
        """What the template lists for a page of ``object_list`` (the page itself by default)."""
        return object_list

    def get_context_data(self, **kwargs):
        request = self.request

        def filtered():
            filterset = self.filterset_class(
                request.GET or None, queryset=self.get_queryset(), request=request
            )
            if filterset.is_bound and not filterset.is_valid():
                return filterset, filterset.queryset.none()
            return filterset, filterset.qs

        found = SimpleLazyObject(filtered)

        def page():
            paginator = GenerationPaginator(found[1], self.paginate_by)
            try:
                return paginator.page(request.GET.get("page") or 1)
            except InvalidPage as exc:
                raise Http404(f"Invalid page: {exc}") from exc

        page_obj = SimpleLazyObject(page)
        return super().get_context_data(
            filter=SimpleLazyObject(lambda: found[0]),
            page_obj=page_obj,
            paginator=SimpleLazyObject(lambda: page_obj.paginator),
            **{self.context_object_name: SimpleLazyObject(lambda: self.rows(page_obj.object_list))},
            **kwargs,
        )
