"""The fast form renderer writes exactly what Django's widget templates write (issue 16)."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core.form_renderer import RENDERERS, FastWidgetRenderer
from evidence.filtersets import CheckboxStudyFilterSet

CHOICES = [("a", "Alpha & <b>"), (2, mark_safe("<i>Two</i>")), ("", gettext_lazy("Any"))]
GROUPED = [("Group <1>", [("x", "X"), ("y", 'Y "quoted"')]), ("z", "Zed")]

WIDGETS = [
    (forms.TextInput(), "text value <&>"),
    (forms.TextInput(attrs={"class": "wide", "required": True, "disabled": False}), None),
    (forms.NumberInput(attrs={"step": 1, "min": 0}), 42),
    (forms.EmailInput(), ""),
    (forms.URLInput(), mark_safe("https://x/?a=1&amp;b=2")),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.HiddenInput(), 3.5),
    (forms.SearchInput(), "q"),
    (forms.TelInput(), "+1"),
    (forms.ColorInput(), "#ffffff"),
    (forms.DateInput(), "2024-01-02"),
    (forms.TimeInput(), "10:00"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(attrs={"class": "x"}), False),
    (forms.CheckboxSelectMultiple(choices=CHOICES), ["a", "2"]),
    (forms.CheckboxSelectMultiple(choices=GROUPED, attrs={"class": "boxes"}), ["y"]),
    (forms.CheckboxSelectMultiple(choices=[]), []),
    (forms.RadioSelect(choices=CHOICES), "a"),
    (forms.RadioSelect(choices=GROUPED), None),
    (forms.Select(choices=CHOICES), "2"),
    (forms.Select(choices=GROUPED, attrs={"disabled": True}), "x"),
    (forms.SelectMultiple(choices=CHOICES), ["a", ""]),
    (forms.NullBooleanSelect(), None),
]


@pytest.mark.parametrize("with_id", [True, False])
@pytest.mark.parametrize("widget,value", WIDGETS, ids=lambda w: type(w).__name__)
def test_each_widget_renders_as_its_django_template(widget, value, with_id):
    attrs = {"id": "id_f<x>"} if with_id else None
    context = widget.get_context("f", value, attrs)
    assert widget.template_name in RENDERERS  # else the test would compare Django with itself
    expected = DjangoTemplates().render(widget.template_name, context)
    renderer = FastWidgetRenderer()
    assert renderer.render(widget.template_name, context) == expected
    assert renderer._fast_renderer(widget.template_name) is not None  # Django's template found
    assert expected  # a comparison of two empty strings would prove nothing


@pytest.mark.parametrize(
    "attrs,use_tag,label",
    [
        ({"for": "id_f", "class": "req"}, True, "Label <&>:"),
        ({}, True, mark_safe("<b>Safe</b>")),
        (None, False, "No id"),
        ({"hidden": True, "data-x": False}, True, gettext_lazy("Lazy")),
    ],
)
def test_labels_render_as_djangos_template(attrs, use_tag, label):
    context = {"label": label, "attrs": attrs, "use_tag": use_tag, "tag": "label"}
    expected = DjangoTemplates().render("django/forms/label.html", context)
    assert FastWidgetRenderer().render("django/forms/label.html", context) == expected
    assert expected


def test_an_option_with_another_template_falls_back_to_the_templates():
    widget = forms.RadioSelect(choices=CHOICES)
    context = widget.get_context("f", "a", {"id": "id_f"})
    for _, options, _ in context["widget"]["optgroups"]:
        for option in options:
            option["template_name"] = "django/forms/widgets/checkbox_option.html"
    options = context["widget"]["optgroups"][0][1]
    options[0]["template_name"] = "django/forms/widgets/input.html"  # not an option template
    expected = DjangoTemplates().render(widget.template_name, context)
    assert FastWidgetRenderer().render(widget.template_name, context) == expected


def test_templates_not_written_in_python_go_through_the_engine():
    widget = forms.Textarea()
    context = widget.get_context("f", "text <&>", {"id": "id_f"})
    assert widget.template_name not in RENDERERS
    assert FastWidgetRenderer().render(widget.template_name, context) == (
        DjangoTemplates().render(widget.template_name, context)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", [{}, {"design": ["case_report", "bogus"], "refractory": "true", "year_min": "x"}]
)
def test_the_study_filter_form_renders_as_with_djangos_renderer(rf, query):
    form = CheckboxStudyFilterSet(query or None, request=rf.get("/")).form
    form.is_valid()
    assert isinstance(form.renderer, FastWidgetRenderer)  # settings.FORM_RENDERER
    fast = "".join(str(field) + field.label_tag() for field in form)
    form.renderer = DjangoTemplates()
    slow = "".join(str(field) + field.label_tag() for field in form)
    assert fast == slow
    assert 'type="checkbox"' in fast
