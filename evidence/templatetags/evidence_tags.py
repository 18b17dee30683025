"""Display helpers: result and level badges (colour plus text), 'not reported' values."""

from django import template
from django.utils.html import format_html

from evidence.choices import ResultDirection
from evidence.levels import LEVEL_MEANING, design_slug

register = template.Library()


@register.simple_tag
def result_badge(code: str | None):
    if not code:
        return ""
    return format_html('<span class="badge result-{}">{}</span>', code,
                       ResultDirection(code).label.split(" (")[0])


@register.simple_tag
def level_badge(level: int | None):
    if level is None:
        return format_html('<span class="badge level-none" title="{}">Not graded</span>',
                           "Guidelines are not graded as primary evidence")
    return format_html('<abbr class="badge level-{}" title="{}">Level {}</abbr>', level,
                       LEVEL_MEANING[level], level)


@register.filter
def reported(value, unit: str = ""):
    """A number, or 'not reported' (never a guessed zero)."""
    if value is None or value == "":
        return "not reported"
    return f"{value} {unit}".strip()


@register.filter
def yes_no_unknown(value):
    return "not stated" if value is None else ("yes" if value else "no")


@register.filter
def designslug(code: str) -> str:
    return design_slug(code)
