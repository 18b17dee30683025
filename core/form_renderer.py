"""A form renderer that writes Django's plain widgets in Python, byte for byte as its templates.

Django renders every widget through the template engine: a checkbox group of 40 choices is
some 120 template renders (the group, each option, each option's input and attributes). The
filter forms beside the study tables have about 80 checkboxes, which made them a third of the
template time of a therapy page (issue 16, bench/RESULTS.md "Profile"). The functions below
produce what Django's own templates for these widgets produce; everything else (admin widgets,
a template a project overrides, a widget whose options use another template) still goes
through the templates. tests/core/test_form_renderer.py compares both for each template.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeData, mark_safe

from core.template_values import var


def _var(value) -> str:
    """``{{ value }}``."""
    return var(value)


def _stringformat(value) -> str:
    """``{{ value|stringformat:'s' }}`` (the filter keeps a safe string safe)."""
    text = str(value) if isinstance(value, tuple) else value
    try:
        text = "%s" % text  # noqa: UP031 - the filter's own formatting
    except (ValueError, TypeError):
        text = ""
    if isinstance(value, SafeData):
        text = mark_safe(text)
    return _var(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is not False:
            out.append(" " + _var(name))
            if value is not True:
                out.append('="' + _stringformat(value) + '"')
    return "".join(out)


def _input(context: dict) -> str:
    widget = context["widget"]
    value = widget.get("value")
    return (
        f'<input type="{_var(widget.get("type", ""))}" name="{_var(widget.get("name", ""))}"'
        + (f' value="{_stringformat(value)}"' if value is not None else "")
        + _attrs(widget.get("attrs", {}))
        + ">\n"
    )


def _input_option(context: dict) -> str:
    widget = context["widget"]
    wrap = widget.get("wrap_label")
    out = ""
    if wrap:
        label_for = widget.get("attrs", {}).get("id")
        out = "<label" + (f' for="{_var(label_for)}"' if label_for else "") + ">"
    out += _input(context)
    if wrap:
        out += " " + _var(widget.get("label", "")) + "</label>"
    return out + "\n"


def _options(options: list) -> list | None:
    """Each option's HTML, or None when an option uses a template not written here."""
    rendered = []
    for option in options:
        render = _INCLUDES.get(option.get("template_name"))
        if render is None:
            return None
        rendered.append(render({"widget": option}))
    return rendered


def _multiple_input(context: dict) -> str | None:
    widget = context["widget"]
    attrs = widget.get("attrs", {})
    id_, css_class = attrs.get("id"), attrs.get("class")
    out = (
        "<div"
        + (f' id="{_var(id_)}"' if id_ else "")
        + (f' class="{_var(css_class)}"' if css_class else "")
        + ">"
    )
    for group, options, _index in widget.get("optgroups", []):
        rendered = _options(options)
        if rendered is None:
            return None
        if group:
            out += "\n  <div><label>" + _var(group) + "</label>"
        out += "".join("<div>\n    " + html + "</div>" for html in rendered)
        if group:
            out += "\n  </div>"
    return out + "\n</div>\n"


def _select_option(context: dict) -> str:
    widget = context["widget"]
    return (
        f'<option value="{_stringformat(widget.get("value", ""))}"'
        + _attrs(widget.get("attrs", {}))
        + f">{_var(widget.get('label', ''))}</option>\n"
    )


def _select(context: dict) -> str | None:
    widget = context["widget"]
    out = f'<select name="{_var(widget.get("name", ""))}"' + _attrs(widget.get("attrs", {})) + ">"
    for group, options, _index in widget.get("optgroups", []):
        rendered = _options(options)
        if rendered is None:
            return None
        if group:
            out += f'\n  <optgroup label="{_var(group)}">'
        out += "".join("\n  " + html for html in rendered)
        if group:
            out += "\n  </optgroup>"
    return out + "\n</select>\n"


def _label(context: dict) -> str:
    label = _var(context.get("label", ""))
    if context.get("use_tag"):
        tag = _var(context.get("tag", ""))
        label = f"<{tag}{_attrs(context.get('attrs') or {})}>{label}</{tag}>"
    return label + "\n"


def _file(render: Callable) -> Callable:
    """A template that includes another and ends in a newline, as every file here does."""

    def render_file(context: dict) -> str | None:
        html = render(context)
        return None if html is None else html + "\n"

    return render_file


W = "django/forms/widgets/"
# Templates rendered by {% include %} from a widget template: their output keeps its newlines.
_INCLUDES: dict[str, Callable] = {
    W + "input_option.html": _input_option,
    W + "checkbox_option.html": _file(_input_option),
    W + "radio_option.html": _file(_input_option),
    W + "select_option.html": _select_option,
}
INPUT_TYPES = ("checkbox", "color", "date", "datetime", "email", "hidden", "number")
INPUT_TYPES += ("password", "search", "tel", "text", "time", "url")
RENDERERS: dict[str, Callable] = {
    **_INCLUDES,
    W + "input.html": _input,
    **{f"{W}{name}.html": _file(_input) for name in INPUT_TYPES},
    W + "multiple_input.html": _multiple_input,
    W + "checkbox_select.html": _file(_multiple_input),
    W + "radio.html": _file(_multiple_input),
    W + "select.html": _select,
    "django/forms/label.html": _label,
}
DJANGO_FORM_TEMPLATES = Path(django.forms.__file__).parent / "templates"


class FastWidgetRenderer(DjangoTemplates):
    """Django's default form renderer, with its plain widget templates written in Python."""

    def __init__(self):
        super().__init__()
        self._fast: dict[str, Callable | None] = {}

    def _fast_renderer(self, template_name: str) -> Callable | None:
        # Only where the template found is Django's own: an app that overrides a widget
        # template gets its template.
        if template_name not in self._fast:
            render = RENDERERS.get(template_name)
            if render is not None:
                origin = Path(self.get_template(template_name).origin.name)
                if not origin.is_relative_to(DJANGO_FORM_TEMPLATES):
                    render = None
            self._fast[template_name] = render
        return self._fast[template_name]

    def render(self, template_name, context, request=None):
        render = self._fast_renderer(template_name)
        html = render(context) if render is not None else None
        if html is None:
            return super().render(template_name, context, request=request)
        return html.strip()  # as BaseRenderer.render strips the template's output
