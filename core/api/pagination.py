"""Page-number pagination with a client-chosen page size and a total count."""

import functools

from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from core.pagination import GenerationPaginator

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 10**6


class _CountedPaginator(GenerationPaginator):
    """The site's paginator, told the count when the view already has it (saves one query)."""

    def __init__(self, object_list, per_page, *, known_count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count


def _bounded_int(request, name: str, default: int, maximum: int) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    raw = values[0]
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise ValidationError({name: [f"Give a whole number from 1 to {maximum}."]})
    return value


class StandardPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (1 to 500), validated: a bad value is a 400, not a guess.

    Responses carry ``count``, ``next``, ``previous`` and ``results``, and the total in an
    ``X-Total-Count`` header so that a HEAD request is enough to count.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def validate(self, request) -> None:
        """400 for a bad page or page size, also where they do not apply (an export)."""
        self.get_page_size(request)
        _bounded_int(request, self.page_query_param, 1, MAX_PAGE)

    def get_page_size(self, request):
        return _bounded_int(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        # Checked here so that ?page=abc is a 400 (DRF alone answers 404 "Invalid page").
        _bounded_int(request, self.page_query_param, 1, MAX_PAGE)
        # A list view that has counted the rows already (for its ETag, core.conditional) says
        # so on the request; the paginator then does not count them a second time.
        known_count = getattr(request, "known_count", None)
        self.django_paginator_class = functools.partial(_CountedPaginator, known_count=known_count)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response["X-Total-Count"] = str(self.page.paginator.count)
        return response

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the last answers 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Results per page: 1 to {MAX_PAGE_SIZE}, default "
                f"{DEFAULT_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        props = schema["properties"]
        props["count"]["description"] = "Number of results over all pages."
        props["next"]["description"] = "URL of the next page; null on the last page."
        props["previous"]["description"] = "URL of the previous page; null on the first page."
        return schema
