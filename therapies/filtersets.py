"""Filters for therapies, shared by pages and API."""

import django_filters
from django.db.models import Q

from core.filtersets import RestrictedFilterSet, StableOrderingFilter
from therapies.choices import ReviewPosition
from therapies.models import DrugClass, Therapy


class TherapyFilterSet(RestrictedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name, synonym or brand", max_length=200)
    drug_class = django_filters.ModelMultipleChoiceFilter(
        field_name="drug_class__slug",
        to_field_name="slug",
        queryset=DrugClass.objects.published(),
        label="Drug class",
    )
    position = django_filters.MultipleChoiceFilter(
        method="filter_position", choices=ReviewPosition.choices, label="Review's position"
    )
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("drug_class__order", "class")), label="Sort by"
    )

    class Meta:
        model = Therapy
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(synonyms__icontains=value)
            | Q(brand_names__icontains=value)
            | Q(slug__iexact=value)
        )

    def filter_position(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(Q(position__in=values) | Q(secondary_position__in=values))


class DrugClassFilterSet(RestrictedFilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label="Name", max_length=200
    )

    class Meta:
        model = DrugClass
        fields = []
