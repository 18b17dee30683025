"""Serializer fields and helpers shared by the apps' APIs."""

from rest_framework import serializers


class ContextCountField(serializers.IntegerField):
    """A read-only count taken from a ``{pk: count}`` map that the view puts in the serializer
    context under ``context_key``: the view computes the map once per content generation
    (``core.caching.data.count_by``) instead of a count per row in every request's SQL."""

    def __init__(self, context_key: str, **kwargs):
        self.context_key = context_key
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return self.context[self.context_key].get(instance.pk, 0)


def page_url(serializer, obj) -> str:
    """The object's page on the site: absolute when the serializer has the request."""
    request = serializer.context.get("request")
    path = obj.get_absolute_url()
    return request.build_absolute_uri(path) if request else path


class VisibleRelatedMixin:
    """A related field that accepts only entries the requesting user may see (through
    ``restrict``, the site's one visibility rule). An id of an entry hidden from the user is
    refused as an unknown id is: a write can neither link an entry its author cannot read
    nor learn, from the answer, that it exists. Pair it with
    ``WriteViewSet.with_hidden_links``, which keeps the links the user was not shown."""

    def get_queryset(self):
        queryset = super().get_queryset()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        if request is None or not hasattr(queryset, "restrict"):
            return queryset
        return queryset.restrict(request.user)


class VisiblePrimaryKeyRelatedField(VisibleRelatedMixin, serializers.PrimaryKeyRelatedField):
    pass
