"""Display helpers: result and level badges (colour plus text), 'not reported' values."""

from django import template
from django.template.defaultfilters import default, join, pluralize
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from core.template_values import var
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


@register.simple_tag
def matrix_cells(cells) -> str:
    """A matrix row's cells, as home.html wrote them with a loop (the same HTML): 180 cells
    of template tags were a third of the home page's rendering (issue 16)."""
    return mark_safe("".join(_matrix_cell(cell) for cell in cells))


def _matrix_cell(cell) -> str:
    if not cell:
        return (
            '\n          <td class="empty"><span class="visually-hidden">no studies</span></td>'
            "\n        "
        )
    url = conditional_escape(
        reverse("therapies:summary_of_findings", args=[cell.therapy.slug, cell.subtype.slug])
    )
    if cell.patients is not None:
        patients = var(cell.patients) + " pts"
        if cell.synthesis.patients_mixed_population:
            patients += (
                ' (mixed)<span class="visually-hidden"> population: subtype split not'
                " reported</span>"
            )
    else:
        patients = "pts n/r"
    safety = ""
    if cell.safety_signals:
        safety = (
            f'<span class="badge safety">⚠ {var(cell.safety_signals)}<span'
            f' class="visually-hidden"> safety signal{var(pluralize(cell.safety_signals))}'
            "</span></span>"
        )
    return (
        "\n          \n"
        f'          <td class="cell direction-{var(cell.direction)}'
        f' certainty-{var(cell.certainty)}">\n'
        f'            <a href="{url}">\n'
        '              <span class="cert"><span aria-hidden="true">'
        f"{conditional_escape(certainty_symbols(cell.certainty))}</span>"
        f" {var(cell.certainty_label)}</span>\n"
        f'              <span class="res">{var(cell.direction_label)}</span>\n'
        f'              <span class="n">{var(cell.trials)} trial'
        f"{var(pluralize(cell.trials))}</span>\n"
        f'              <span class="pts">{patients}</span>\n'
        f"              {safety}\n"
        "            </a>\n"
        "          </td>\n"
        "          \n        "
    )


@register.simple_tag
def study_row(study) -> str:
    """One row of includes/study_table.html (an evidence.selectors.StudyRow), as the row's
    template wrote it (the same HTML): a dozen tags and filters per row made the table the
    largest part of a list page's rendering (issue 16)."""
    year = var(default(study.year, ""))
    design = var(study.get_design_display())
    size = var(reported(study.sample_size))
    noun = "patient" if study.sample_size == 1 else "patients"
    ref = f" · ref. {var(study.reference_number)}" if study.reference_number else ""
    meta_subtypes = ""
    if study.subtypes:
        meta_subtypes = " · " + ", ".join(var(s.short) for s in study.subtypes)
    subtypes = ", ".join(
        f'<abbr title="{var(s.name)}">{var(s.short)}</abbr>' for s in study.subtypes
    )
    return mark_safe(
        "\n    <tr>\n"
        f'      <td><a href="{var(study.get_absolute_url())}">{var(study.label)}</a><br>'
        f"<small>{var(study.first_author)}{ref}</small>\n"
        f'        <small class="row-meta">{year} · {design} · {size} {noun}{meta_subtypes}'
        "</small></td>\n"
        f"      <td>{conditional_escape(result_badge(study.result))}</td>\n"
        f"      <td>{conditional_escape(level_badge(study.level))}</td>\n"
        f'      <td class="minor">{year}</td>\n'
        f'      <td class="minor">{var(join(study.therapies, ", ", autoescape=True))}</td>\n'
        f'      <td class="minor">{subtypes}</td>\n'
        f'      <td class="minor">{design}</td>\n'
        f'      <td class="num minor">{size}</td>\n'
        "    </tr>\n  "
    )
