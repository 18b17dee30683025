"""Filters for the bibliography, shared by pages and API."""

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Exists, OuterRef, Q

from core.filtersets import AnyBooleanWidget, RestrictedFilterSet, StableOrderingFilter
from references.choices import ReferenceKind, ReferenceRole
from references.models import Author, Reference


class OfferedValuesField(forms.MultipleChoiceField):
    """Offers the visible therapies or subtypes as checkboxes but accepts any value: an unknown
    slug matches nothing (as the API's text filter always did) instead of being an error, so
    the published schema, which cannot list per-reader choices, stays true."""

    def valid_value(self, value):
        return True


class OfferedValuesFilter(django_filters.MultipleChoiceFilter):
    field_class = OfferedValuesField


class ReferenceFilterSet(RestrictedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)
    kind = django_filters.MultipleChoiceFilter(
        choices=ReferenceKind.choices, label="Kind", widget=forms.CheckboxSelectMultiple
    )
    role = django_filters.MultipleChoiceFilter(
        choices=[c for c in ReferenceRole.choices if c[0]],
        label="Role in the evidence base",
        widget=forms.CheckboxSelectMultiple,
    )
    year_min = django_filters.NumberFilter(
        field_name="year", lookup_expr="gte", label="Published from (year)"
    )
    year_max = django_filters.NumberFilter(
        field_name="year", lookup_expr="lte", label="Published until (year)"
    )
    has_pmid = django_filters.BooleanFilter(
        method="filter_has", label="Has a PMID", widget=AnyBooleanWidget
    )
    has_doi = django_filters.BooleanFilter(
        method="filter_has", label="Has a DOI", widget=AnyBooleanWidget
    )
    # By slug through the evidence tables; string lookups keep this app free of imports.
    # Offered by name as checkboxes; ``therapy=a,b`` (the API's form) is still accepted.
    therapy = OfferedValuesFilter(
        method="filter_therapy", label="Therapy", widget=forms.CheckboxSelectMultiple
    )
    subtype = OfferedValuesFilter(
        method="filter_subtype", label="Disease subtype", widget=forms.CheckboxSelectMultiple
    )
    ordering = StableOrderingFilter(
        fields=(
            ("number", "number"),
            ("year", "year"),
            ("first_author", "author"),
            ("title", "title"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Reference
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        if hasattr(data, "setlist"):
            # ``therapy=a,b`` as one value (the API's form): split it, as checkboxes send one
            # value each; a subtype may be named by slug too, offered by code.
            data = data.copy()
            for name in ("therapy", "subtype"):
                if name in data:
                    values = [v for value in data.getlist(name) for v in value.split(",") if v]
                    if name == "subtype":
                        # Only the subtypes this user may see: a draft's slug is left as
                        # typed, as an unknown one is, so the answer does not name its code.
                        user = getattr(kwargs.get("request"), "user", None)
                        subtype = apps.get_model("evidence", "DiseaseSubtype")
                        codes = dict(subtype.objects.restrict(user).values_list("slug", "code"))
                        values = [codes.get(v, v) for v in values]
                    data.setlist(name, values)
        super().__init__(data, *args, **kwargs)

    def restrict_choices(self, user) -> None:
        therapy = apps.get_model("therapies", "Therapy")
        subtype = apps.get_model("evidence", "DiseaseSubtype")
        # Callables: read only when the form needs the list.
        self.filters["therapy"].extra["choices"] = lambda: list(
            therapy.objects.restrict(user).values_list("slug", "name")
        )
        self.filters["subtype"].extra["choices"] = lambda: list(
            subtype.objects.restrict(user).values_list("code", "name")
        )

    def filter_q(self, queryset, name, value):
        # Every term may match any author: an EXISTS per term, not a join. A join per term
        # (``authors__family`` in each ``filter()``) multiplies a reference's rows by its
        # authors once per term: ten authors and six terms made a million rows per reference
        # for DISTINCT to fold, over a minute on PostgreSQL.
        author = Author.objects.filter(reference=OuterRef("pk"))
        for term in value.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=term)
                | Q(journal__icontains=term)
                | Exists(author.filter(family__icontains=term))
                | Q(doi__iexact=term)
                | Q(pmid=term)
            )
        return queryset

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
            getattr(self.request, "user", None)
        )

    # ``value`` is the list of chosen slugs/codes; the ``str`` hint gives the schema generator
    # (drf-spectacular) the type of each one, as the choices are only known per request.
    def filter_therapy(self, queryset, name, value: str):
        slugs = list(value)
        studies = self._visible("studies").filter(
            reference=OuterRef("pk"),
            therapies__slug__in=slugs,
            therapies__in=self._visible("rationale_for"),
        )
        rationales = self._visible("rationales").filter(
            reference=OuterRef("pk"), therapy__slug__in=slugs
        )
        return queryset.filter(Exists(studies) | Exists(rationales))

    def filter_subtype(self, queryset, name, value: str):
        values = list(value)
        subtypes = Q(subtypes__code__in=values) | Q(subtypes__slug__in=values)
        studies = self._visible("studies").filter(subtypes, reference=OuterRef("pk"))
        return queryset.filter(Exists(studies))
