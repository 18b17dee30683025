"""Display helpers: result and level badges (colour plus text), 'not reported' values."""

from django import template
from django.utils.html import format_html

from evidence.choices import Certainty, Direction, ResultDirection
from evidence.levels import LEVEL_MEANING, design_slug

register = template.Library()


@register.simple_tag
def result_badge(code: str | None):
    if not code:
        return ""
    return format_html(
        '<span class="badge result-{}">{}</span>', code, ResultDirection(code).label.split(" (")[0]
    )


@register.simple_tag
def level_badge(level: int | None):
    if level is None:
        return format_html(
            '<span class="badge level-none" title="{}">Not graded</span>',
            "Guidelines are not graded as primary evidence",
        )
    return format_html(
        '<abbr class="badge level-{}" title="{}">Level {}</abbr>',
        level,
        LEVEL_MEANING[level],
        level,
    )


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


# GRADE's own notation (filled and empty circles) carries the certainty without colour.
CERTAINTY_SYMBOLS = {
    "high": "⊕⊕⊕⊕",
    "moderate": "⊕⊕⊕◯",
    "low": "⊕⊕◯◯",
    "very_low": "⊕◯◯◯",
    "insufficient": "◯◯◯◯",
}


@register.simple_tag
def certainty_badge(code: str | None):
    if not code:
        return ""
    label = Certainty(code).label.split(" (")[0]
    return format_html(
        '<span class="badge certainty certainty-{}"><span aria-hidden="true">{}</span> {}</span>',
        code,
        CERTAINTY_SYMBOLS[code],
        label,
    )


@register.simple_tag
def direction_badge(code: str | None):
    if not code:
        return ""
    return format_html('<span class="badge direction-{}">{}</span>', code, Direction(code).label)


@register.simple_tag
def certainty_symbols(code: str | None) -> str:
    return CERTAINTY_SYMBOLS.get(code or "", "")


@register.filter
def canonical(url: str) -> bool:
    """Whether readers are shown this record URL as a link (evidence.links)."""
    from evidence.links import is_canonical

    return is_canonical(url or "")
