"""Django's paginator with its total count kept per content generation (``core.caching``).

Counting every matching row is the one part of a paged list whose cost grows with the corpus
(tens of milliseconds at 100k studies): the count is computed once per content change for
each distinct query and shared by every page of it, on every instance.
"""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from core.caching.data import per_generation


class GenerationPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        count = Paginator.count.func
        if not hasattr(self.object_list, "query"):  # a list: nothing to save
            return count(self)
        return row_count(self.object_list)


@per_generation
def row_count(queryset: QuerySet) -> int:
    return queryset.count()
