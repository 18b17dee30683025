"""Filters for studies and subtypes, shared by the HTML pages and the REST API."""

from functools import partial

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from core.filtersets import (
    AnyBooleanWidget,
    RestrictedFilterSet,
    StableOrderingFilter,
    as_checkboxes,
)
from evidence.choices import AgeGroup, EvidenceLevel, ResultDirection, StudyDesign
from evidence.models import DiseaseSubtype, Study
from therapies.models import DrugClass, Therapy


def subtype_choices(user=None):
    """Subtype codes and names the user may see (published ones without a user)."""
    return list(DiseaseSubtype.objects.restrict(user).values_list("code", "name"))


class CodeOrSlugField(forms.MultipleChoiceField):
    """Offers subtypes by code (dm) but also accepts their slug (dermatomyositis)."""

    user = None  # set by the FilterSet: slugs of subtypes the user may see

    def valid_value(self, value):
        if super().valid_value(value):
            return True
        if not hasattr(self, "_slugs"):
            self._slugs = set(
                DiseaseSubtype.objects.restrict(self.user).values_list("slug", flat=True)
            )
        return value in self._slugs


class SubtypeFilter(django_filters.MultipleChoiceFilter):
    field_class = CodeOrSlugField


class StudyFilterSet(RestrictedFilterSet):
    """Narrow a study queryset. Unknown values are form errors (pages) or 400s (API)."""

    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)
    therapy = django_filters.ModelMultipleChoiceFilter(
        to_field_name="slug",
        queryset=Therapy.objects.published(),
        label="Therapy",
        method="filter_therapy",
    )
    drug_class = django_filters.ModelMultipleChoiceFilter(
        to_field_name="slug",
        queryset=DrugClass.objects.published(),
        label="Drug class",
        method="filter_drug_class",
    )
    subtype = SubtypeFilter(
        choices=subtype_choices, method="filter_subtype", label="Disease subtype"
    )
    # Columns of the study row itself: no join, so no DISTINCT (django-filter's default).
    design = django_filters.MultipleChoiceFilter(
        choices=StudyDesign.choices, label="Design", distinct=False
    )
    result = django_filters.MultipleChoiceFilter(
        choices=ResultDirection.choices, label="Result", distinct=False
    )
    level = django_filters.MultipleChoiceFilter(
        choices=EvidenceLevel.choices, label="Level of evidence", distinct=False
    )
    age_group = django_filters.MultipleChoiceFilter(
        choices=[c for c in AgeGroup.choices if c[0]], label="Age group", distinct=False
    )
    refractory = django_filters.BooleanFilter(
        label="Refractory population", widget=AnyBooleanWidget
    )
    year_min = django_filters.NumberFilter(
        field_name="reference__year", lookup_expr="gte", label="Published from (year)"
    )
    year_max = django_filters.NumberFilter(
        field_name="reference__year", lookup_expr="lte", label="Published until (year)"
    )
    size_min = django_filters.NumberFilter(
        field_name="sample_size", lookup_expr="gte", label="At least this many patients"
    )
    reference = django_filters.NumberFilter(
        field_name="reference__number", label="Reference number in the review"
    )
    ordering = StableOrderingFilter(
        fields=(
            ("reference__year", "year"),
            ("sample_size", "size"),
            ("level", "level"),
            ("design", "design"),
            ("result", "result"),
            ("label", "label"),
            ("reference__number", "reference"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Study
        fields = []

    def restrict_choices(self, user) -> None:
        subtype = self.filters.get("subtype")
        if subtype is not None:
            # A callable: read only when the form needs the list (a value to check, a page).
            subtype.extra["choices"] = partial(subtype_choices, user)

    @property
    def form(self):
        form = super().form
        if "subtype" in form.fields:
            form.fields["subtype"].user = self.user  # slugs it accepts: visible subtypes only
        return form

    def filter_q(self, queryset, name, value):
        terms = value.split()
        for term in terms[:10]:
            queryset = queryset.filter(
                Q(label__icontains=term)
                | Q(summary__icontains=term)
                | Q(reference__title__icontains=term)
                | Q(reference__first_author__icontains=term)
            )
        return queryset

    # The many-valued filters test membership with EXISTS on the link tables (indexed by
    # therapy or subtype, then study): a semi-join never repeats a study, so no DISTINCT and
    # no subquery over the whole filtered list are needed, and counts and pages stay exact.

    def filter_therapy(self, queryset, name, therapies):
        if not therapies:
            return queryset
        return queryset.filter(
            Exists(
                Study.therapies.through.objects.filter(
                    study_id=OuterRef("pk"), therapy__in=therapies
                )
            )
        )

    def filter_drug_class(self, queryset, name, classes):
        if not classes:
            return queryset
        return queryset.filter(
            Exists(
                Study.therapies.through.objects.filter(
                    study_id=OuterRef("pk"), therapy__drug_class__in=classes
                )
            )
        )

    def filter_subtype(self, queryset, name, values):
        if not values:
            return queryset
        # Codes or slugs, resolved to ids first: the subtype table is small.
        ids = list(
            DiseaseSubtype.objects.restrict(self.user)
            .filter(Q(code__in=values) | Q(slug__in=values))
            .values_list("pk", flat=True)
        )
        return queryset.filter(
            Exists(
                Study.subtypes.through.objects.filter(
                    study_id=OuterRef("pk"), diseasesubtype_id__in=ids
                )
            )
        )


class SubtypeFilterSet(RestrictedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)

    class Meta:
        model = DiseaseSubtype
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(code__iexact=value)
            | Q(abbreviation__iexact=value)
            | Q(synonyms__icontains=value)
        )


class CheckboxStudyFilterSet(StudyFilterSet):
    """The page version: checkboxes for the small choice lists; ``exclude`` drops filters
    that a page fixes itself (a therapy page needs no therapy filter)."""

    class Meta(StudyFilterSet.Meta):
        pass

    def __init__(self, *args, exclude: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for name in exclude:
            self.filters.pop(name)
        as_checkboxes(
            self.form,
            ("therapy", "drug_class", "subtype", "design", "result", "level", "age_group"),
        )
