"""Filters for the API-only lists (outcomes, statements), which have no page of their own.

Kept beside the API because no page uses them; move them to ``evidence/filtersets.py`` if a
page ever lists outcomes or statements.
"""

import django_filters
from django.db.models import Q

from core.filtersets import RestrictedFilterSet
from evidence.choices import OutcomeMeasure
from evidence.models import Outcome, Statement
from therapies.models import Therapy


class OutcomeFilterSet(RestrictedFilterSet):
    # Bounded so that an absurd id is a 400 rather than an integer overflow in the database.
    study = django_filters.NumberFilter(
        field_name="study_id", label="Study id", min_value=1, max_value=2**31 - 1
    )
    measure = django_filters.MultipleChoiceFilter(choices=OutcomeMeasure.choices, label="Measure")
    is_primary = django_filters.BooleanFilter(label="Primary end point")
    therapy = django_filters.ModelMultipleChoiceFilter(
        field_name="study__therapies__slug",
        to_field_name="slug",
        queryset=Therapy.objects.published(),
        label="Therapy (slug) of the study",
        distinct=True,
    )

    class Meta:
        model = Outcome
        fields = []


class StatementFilterSet(RestrictedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text")
    therapy = django_filters.ModelMultipleChoiceFilter(
        field_name="therapy__slug",
        to_field_name="slug",
        queryset=Therapy.objects.published(),
        label="Therapy (slug)",
    )

    class Meta:
        model = Statement
        fields = []

    def filter_q(self, queryset, name, value):
        for term in value.split()[:10]:
            queryset = queryset.filter(Q(text__icontains=term) | Q(key__icontains=term))
        return queryset
