"""Active filters as removable chips: each a link to the same page without that one value."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms, template
from django.http import QueryDict

register = template.Library()

# Not filters a reader set: paging and sorting stay, but are not shown as chips.
NOT_FILTERS = {"page", "ordering"}


@dataclass
class Chip:
    label: str  # "Result: Harm"
    url: str  # the query string without this value


def _clean(data: QueryDict) -> QueryDict:
    """The query without empty values (an unfilled form sends ``q=&year_min=``) or a page."""
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        if key == "page":
            continue
        for value in values:
            if value.strip():
                cleaned.appendlist(key, value)
    return cleaned


def _value_label(field: forms.Field, value: str) -> str:
    if isinstance(field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        obj = field.queryset.filter(**{field.to_field_name or "pk": value}).first()
        return str(obj) if obj is not None else value
    if isinstance(field, forms.NullBooleanField):
        return {"true": "Yes", "1": "Yes", "false": "No", "0": "No"}.get(value.lower(), value)
    if isinstance(field, forms.ChoiceField):
        return str(dict((str(k), v) for k, v in field.choices).get(value, value))
    return value


@register.simple_tag
def active_filters(filterset, request) -> dict:
    """The chips of the request's filters, the count, and the 'clear all' link.

    Only values of the FilterSet's own fields count, so a hand-made ``?foo=1`` shows nothing.
    """
    cached = getattr(filterset, "_active_filters", None)
    if cached is not None:  # the form's summary and the chips above the results ask both
        return cached
    # The FilterSet's own data: it may have normalised the query (``therapy=a,b`` split).
    data = _clean(filterset.data if hasattr(filterset.data, "lists") else request.GET)
    form = filterset.form
    chips = []
    for name, field in form.fields.items():
        if name in NOT_FILTERS:
            continue
        for value in data.getlist(name):
            rest = data.copy()
            rest.setlist(name, [v for v in data.getlist(name) if v != value])
            chips.append(
                Chip(f"{field.label}: {_value_label(field, value)}", "?" + rest.urlencode())
            )
    kept = QueryDict(mutable=True)
    for name in NOT_FILTERS - {"page"}:
        if name in data:
            kept.setlist(name, data.getlist(name))
    filterset._active_filters = {
        "chips": chips,
        "count": len(chips),
        "clear_url": "?" + kept.urlencode(),
    }
    return filterset._active_filters
