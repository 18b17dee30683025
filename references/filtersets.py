"""Filters for the bibliography, shared by pages and API."""

import django_filters
from django.db.models import Q

from references.choices import ReferenceKind, ReferenceRole
from references.models import Reference


class ReferenceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)
    kind = django_filters.MultipleChoiceFilter(choices=ReferenceKind.choices, label="Kind")
    role = django_filters.MultipleChoiceFilter(
        choices=[c for c in ReferenceRole.choices if c[0]], label="Role in the evidence base"
    )
    year_min = django_filters.NumberFilter(field_name="year", lookup_expr="gte",
                                           label="Published from (year)")
    year_max = django_filters.NumberFilter(field_name="year", lookup_expr="lte",
                                           label="Published until (year)")
    has_pmid = django_filters.BooleanFilter(method="filter_has", label="Has a PMID")
    has_doi = django_filters.BooleanFilter(method="filter_has", label="Has a DOI")
    # By slug through the evidence tables; string lookups keep this app free of imports.
    therapy = django_filters.CharFilter(method="filter_therapy", label="Therapy (slug)")
    subtype = django_filters.CharFilter(method="filter_subtype", label="Subtype (code or slug)")
    ordering = django_filters.OrderingFilter(
        fields=(("number", "number"), ("year", "year"), ("first_author", "author"),
                ("title", "title")),
        label="Sort by",
    )

    class Meta:
        model = Reference
        fields = []

    def filter_q(self, queryset, name, value):
        for term in value.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=term) | Q(journal__icontains=term)
                | Q(authors__family__icontains=term) | Q(doi__iexact=term) | Q(pmid=term)
            )
        return queryset.distinct()

    def filter_has(self, queryset, name, value):
        field = name.removeprefix("has_")
        if value is None:
            return queryset
        return queryset.exclude(**{field: ""}) if value else queryset.filter(**{field: ""})

    def filter_therapy(self, queryset, name, value):
        slugs = [v for v in value.split(",") if v]
        return queryset.filter(
            Q(studies__therapies__slug__in=slugs) | Q(rationales__therapy__slug__in=slugs)
        ).distinct()

    def filter_subtype(self, queryset, name, value):
        values = [v for v in value.split(",") if v]
        return queryset.filter(
            Q(studies__subtypes__code__in=values) | Q(studies__subtypes__slug__in=values)
        ).distinct()
