"""Filters for studies and subtypes, shared by the HTML pages and the REST API."""

import django_filters
from django import forms
from django.db.models import Q

from evidence.choices import AgeGroup, EvidenceLevel, ResultDirection, StudyDesign
from evidence.models import DiseaseSubtype, Study
from therapies.models import DrugClass, Therapy


def subtype_choices():
    return list(DiseaseSubtype.objects.values_list("code", "name"))


class CodeOrSlugField(forms.MultipleChoiceField):
    """Offers subtypes by code (dm) but also accepts their slug (dermatomyositis)."""

    def valid_value(self, value):
        if super().valid_value(value):
            return True
        if not hasattr(self, "_slugs"):
            self._slugs = set(DiseaseSubtype.objects.values_list("slug", flat=True))
        return value in self._slugs


class SubtypeFilter(django_filters.MultipleChoiceFilter):
    field_class = CodeOrSlugField


class StudyFilterSet(django_filters.FilterSet):
    """Narrow a study queryset. Unknown values are form errors (pages) or 400s (API)."""

    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)
    therapy = django_filters.ModelMultipleChoiceFilter(
        field_name="therapies__slug", to_field_name="slug", queryset=Therapy.objects.all(),
        label="Therapy", distinct=False,
    )
    drug_class = django_filters.ModelMultipleChoiceFilter(
        field_name="therapies__drug_class__slug", to_field_name="slug",
        queryset=DrugClass.objects.all(), label="Drug class", distinct=False,
    )
    subtype = SubtypeFilter(
        choices=subtype_choices, method="filter_subtype", label="Disease subtype"
    )
    design = django_filters.MultipleChoiceFilter(choices=StudyDesign.choices, label="Design")
    result = django_filters.MultipleChoiceFilter(choices=ResultDirection.choices, label="Result")
    level = django_filters.MultipleChoiceFilter(
        choices=EvidenceLevel.choices, label="Level of evidence"
    )
    age_group = django_filters.MultipleChoiceFilter(
        choices=[c for c in AgeGroup.choices if c[0]], label="Age group"
    )
    refractory = django_filters.BooleanFilter(label="Refractory population")
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
    ordering = django_filters.OrderingFilter(
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

    def filter_q(self, queryset, name, value):
        terms = value.split()
        for term in terms[:10]:
            queryset = queryset.filter(
                Q(label__icontains=term) | Q(summary__icontains=term)
                | Q(reference__title__icontains=term) | Q(reference__first_author__icontains=term)
            )
        return queryset

    def filter_subtype(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(Q(subtypes__code__in=values) | Q(subtypes__slug__in=values))

    MULTI_VALUED = ("therapy", "drug_class", "subtype")

    @property
    def qs(self):
        """Joins through therapies or subtypes can repeat a study. Rather than DISTINCT over
        whole rows (costly to count on a large corpus), keep the rows whose id the joined
        query found: counts, pages and exports stay exact and the joins stay in a subquery."""
        queryset = super().qs
        cleaned = getattr(self.form, "cleaned_data", {})  # absent when the filterset is unbound
        if any(cleaned.get(f) for f in self.MULTI_VALUED):
            ordering = queryset.query.order_by or self.queryset.query.order_by
            ids = queryset.order_by().values("pk")
            queryset = self.queryset.filter(pk__in=ids)
            if ordering:  # else the model's default ordering applies
                queryset = queryset.order_by(*ordering)
        return queryset


class SubtypeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text", max_length=200)

    class Meta:
        model = DiseaseSubtype
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(code__iexact=value) | Q(abbreviation__iexact=value)
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
        for name in ("subtype", "design", "result", "level", "age_group"):
            self.form.fields[name].widget = forms.CheckboxSelectMultiple(
                choices=self.form.fields[name].choices
            )
