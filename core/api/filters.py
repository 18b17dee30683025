"""The apps' FilterSets behind the API, with ``?search=`` as another name for ``?q=``."""

import re

import django_filters
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.plumbing import build_array_type, build_parameter_type
from drf_spectacular.utils import OpenApiParameter

INTEGER_RE = re.compile(r"^[-+]?\d+$")
NO_NUL = "^[^\\x00]*$"  # PostgreSQL text cannot hold NUL; forms refuse it (400)


class FilterBackend(DjangoFilterBackend):
    """django-filter's DRF backend (bad values answer 400 with the field's message).

    Integrators expect ``?search=`` (DRF's SearchFilter name); the FilterSets call free text
    ``q``. Both work; ``q`` wins when both are given.
    """

    search_param = "search"
    boolean_values = ("true", "false", "True", "False")

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        valid = filterset.is_valid()
        strict = self.strict_errors(filterset)
        for name, message in strict.items():
            filterset.form.add_error(name, message)
        if not valid or strict:
            raise utils.translate_validation(filterset.errors)
        return filterset.qs

    def strict_errors(self, filterset) -> dict:
        """What the pages' forms forgive but an API should refuse (400): an unknown yes/no
        (django-filter reads it as "either"), a fraction where a whole number is meant, an
        empty sort key, a single-valued parameter given twice."""
        errors = {}
        for name, filter_ in filterset.base_filters.items():
            values = filterset.data.getlist(name) if name in filterset.data else []
            if not values:
                continue
            if isinstance(filter_, django_filters.BooleanFilter):
                if any(value not in self.boolean_values for value in values):
                    errors[name] = "Give true or false."
            elif isinstance(filter_, django_filters.NumberFilter):
                if any(not INTEGER_RE.match(value) for value in values):
                    errors[name] = "Give a whole number."
            elif isinstance(filter_, django_filters.OrderingFilter):
                if any(not all(part.strip() for part in value.split(",")) for value in values):
                    errors[name] = "Give sort keys separated by commas, without empty ones."
            if (
                name not in errors
                and len(values) > 1
                and not isinstance(
                    filter_,
                    (django_filters.MultipleChoiceFilter, django_filters.ModelMultipleChoiceFilter),
                )
            ):
                errors[name] = "Give this parameter once."
        return errors

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        data = kwargs["data"]
        if self.search_param in data and "q" not in data:
            data = data.copy()
            data["q"] = data[self.search_param]
            kwargs["data"] = data
        return kwargs


class FilterBackendExtension(DjangoFilterExtension):
    """Documents ``search`` next to the FilterSet's own parameters, and lists the accepted
    values of filters by slug or code (which drf-spectacular cannot follow through
    relations), so that the schema says which values exist."""

    target_class = "core.api.filters.FilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        if isinstance(filter_field, django_filters.ModelMultipleChoiceFilter):
            field = filter_field.field
            values = [
                str(v)
                for v in field.queryset.values_list(
                    field.to_field_name or "pk", flat=True
                ).order_by(field.to_field_name or "pk")
            ]
        elif isinstance(filter_field, django_filters.MultipleChoiceFilter) and callable(
            filter_field.extra.get("choices")
        ):
            values = [str(code) for code, _ in filter_field.extra["choices"]()]
        else:
            parameters = super().resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
            for parameter in parameters:
                if isinstance(filter_field, django_filters.NumberFilter):
                    parameter["schema"]["type"] = "integer"  # ours all count whole things
                    parameter["schema"].pop("format", None)
                for key, bound in (("minimum", "min_value"), ("maximum", "max_value")):
                    if bound in filter_field.extra:
                        parameter["schema"][key] = filter_field.extra[bound]
                if isinstance(filter_field, django_filters.OrderingFilter):
                    parameter["schema"]["minItems"] = 1  # "ordering=" is a mistake: 400
                if parameter["schema"].get("type") == "string":
                    parameter["schema"]["pattern"] = NO_NUL
            return parameters
        item = {"type": "string", "enum": values} if values else {"type": "string"}
        label = str(filter_field.label or field_name)
        return [
            build_parameter_type(
                name=field_name,
                location=OpenApiParameter.QUERY,
                schema=build_array_type(item),
                description=f"{label}; repeat the parameter for several (any of them matches).",
                explode=True,
                style="form",
            )
        ]

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        if any(p["name"] == "q" for p in parameters):
            parameters.append(
                build_parameter_type(
                    name=FilterBackend.search_param,
                    location=OpenApiParameter.QUERY,
                    schema={"type": "string", "pattern": NO_NUL},
                    description="Free text; the same as q (q wins when both are given).",
                )
            )
        return parameters
