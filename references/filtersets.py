"""Filters for the bibliography, shared by pages and API."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from core.filtersets import RestrictedFilterSet
from references.choices import ReferenceKind, ReferenceRole
from references.models import Reference


class ReferenceFilterSet(RestrictedFilterSet):
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
    therapy = django_filters.CharFilter(method="filter_therapy", label="Therapy")
    subtype = django_filters.CharFilter(method="filter_subtype", label="Disease subtype")
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

    # Through studies and rationale links the user may see (a draft study of a published
    # reference must not make it match); the models are reached through the reverse relations
    # so that this app imports nothing from the others.

    def _visible(self, relation: str):
        return Reference._meta.get_field(relation).related_model._default_manager.restrict(
            getattr(self.request, "user", None))

    def filter_therapy(self, queryset, name, value):
        slugs = [v for v in value.split(",") if v]
        studies = self._visible("studies").filter(
            reference=OuterRef("pk"), therapies__slug__in=slugs,
            therapies__in=self._visible("rationale_for"))
        rationales = self._visible("rationales").filter(
            reference=OuterRef("pk"), therapy__slug__in=slugs)
        return queryset.filter(Exists(studies) | Exists(rationales))

    def filter_subtype(self, queryset, name, value):
        values = [v for v in value.split(",") if v]
        subtypes = Q(subtypes__code__in=values) | Q(subtypes__slug__in=values)
        studies = self._visible("studies").filter(subtypes, reference=OuterRef("pk"))
        return queryset.filter(Exists(studies))
