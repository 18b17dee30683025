"""Django's paginator with its total count kept per content generation (``core.cache``).

Counting every matching row is the one part of a paged list whose cost grows with the corpus
(tens of milliseconds at 100k studies): the count is computed once per content change for
each distinct query and shared by every page of it, on every instance.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from core.cache import memoize, queryset_key


class GenerationPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        count = Paginator.count.func
        if not hasattr(self.object_list, "query"):  # a list: nothing to save
            return count(self)
        return memoize("count", queryset_key(self.object_list), lambda: count(self))
