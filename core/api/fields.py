"""Serializer fields shared by the apps' APIs."""

from rest_framework import serializers


class ContextCountField(serializers.IntegerField):
    """A read-only count taken from a ``{pk: count}`` map that the view puts in the serializer
    context under ``context_key``: the view computes the map once per content generation
    (``core.cache.count_by``) instead of a count per row in every request's SQL."""

    def __init__(self, context_key: str, **kwargs):
        self.context_key = context_key
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return self.context[self.context_key].get(instance.pk, 0)
