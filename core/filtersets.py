"""The base FilterSet: its choice lists hold only what the request's user may see."""

from __future__ import annotations

import django_filters
from django_filters.constants import EMPTY_VALUES


class RestrictedFilterSet(django_filters.FilterSet):
    """A FilterSet whose model choices (therapies, drug classes...) follow the visibility rule.

    Declare model-choice filters on ``Model.objects.published()``: that is what the class
    offers wherever no request is at hand (the OpenAPI schema reads the class, not an
    instance). An instance built for a request widens each of them to
    ``Model.objects.restrict(request.user)``, so curators can filter by a draft therapy and
    readers never see its name. Subclasses with other choice lists override
    ``restrict_choices``.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = getattr(request, "user", None)
        for filter_ in self.filters.values():
            choices = getattr(filter_, "queryset", None)
            if choices is not None and hasattr(choices, "restrict"):
                filter_.queryset = choices.model._default_manager.restrict(self.user)
        self.restrict_choices(self.user)
        for filter_ in self.filters.values():
            # django-filter builds a filter's form field once and keeps it in ``_field``;
            # a class-level filter whose field was built already (the schema generator does
            # that) would hand every copy the published-only choices. There is no public
            # hook to rebuild it, so the cached field is dropped from this instance's copy.
            filter_.__dict__.pop("_field", None)

    def restrict_choices(self, user) -> None:
        """Hook for choice lists that are not querysets (e.g. subtype codes)."""


class AnyBooleanWidget(django_filters.widgets.BooleanWidget):
    """A yes/no select whose empty choice reads "Any": "Unknown" looked like a filter."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


def as_checkboxes(form, names) -> None:
    """Show the named multiple-choice fields as checkbox groups (no Ctrl-click selects)."""
    from django import forms

    for name in names:
        field = form.fields.get(name)
        if field is not None:
            # The choices read once per form for the widget: a lazy list (subtypes, a queryset
            # of therapies) was otherwise queried for each use. A model field keeps the list
            # too, so that the template's count of its choices is no COUNT query. A callable
            # list stays lazy on the field, whose length the template cannot take (so its
            # group is not marked "long": kept, the pages stay as they were).
            choices = list(iter(field.choices))  # (list() alone would COUNT a queryset first)
            if isinstance(field, forms.ModelChoiceField):
                # Django's ModelChoiceField returns ``_choices`` when set ("somebody set the
                # choices"); django-filter's setter would wrap the list in a queryset iterator.
                field._choices = choices
            field.widget = forms.CheckboxSelectMultiple(choices=choices)


class StableOrderingFilter(django_filters.OrderingFilter):
    """An ``OrderingFilter`` whose order is total: the chosen fields, then the primary key.

    Sorting by a field many rows share (a year, a design, a result) leaves the order of the
    tied rows to the database, which differs between SQLite and PostgreSQL and may differ
    between two queries on one database: a paged list could then show a study on two pages
    and skip another. The primary key, last, makes every page's rows one fixed slice.
    """

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value in EMPTY_VALUES:
            return qs  # the model's own ordering
        return qs.order_by(*qs.query.order_by, "pk")
