"""The evidence chart: a server-rendered SVG of studies by year and level of evidence.

Marker area grows with the number of patients (a hollow marker when the record gives no
number); shape and colour both encode the result, so the chart reads without colour
(Okabe-Ito palette, safe for the common colour-vision deficiencies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.caching.data import per_generation
from evidence.choices import ArmRole, ResultDirection
from evidence.models import Study

RESULT_STYLE = {
    ResultDirection.BENEFIT: ("#0072B2", "circle"),
    ResultDirection.NO_SIGNIFICANT_BENEFIT: ("#E69F00", "square"),
    ResultDirection.MIXED: ("#CC79A7", "diamond"),
    ResultDirection.HARM: ("#D55E00", "triangle"),
    ResultDirection.NOT_APPLICABLE: ("#6B6B6B", "cross"),
}
WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 110, 20, 20, 40
ROWS = [1, 2, 3, 4, 5, None]  # None: not graded (guidelines)


def _shape(kind: str, x: float, y: float, r: float, colour: str, filled: bool) -> str:
    fill = colour if filled else "none"
    common = f'fill="{fill}" fill-opacity="0.75" stroke="{colour}" stroke-width="2"'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {common}/>'
    if kind == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
            f'height="{2 * r:.1f}" {common}/>'
        )
    if kind == "diamond":
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{pts}" {common}/>'
    if kind == "triangle":
        pts = (
            f"{x:.1f},{y - r:.1f} {x + r * 0.87:.1f},{y + r * 0.5:.1f} "
            f"{x - r * 0.87:.1f},{y + r * 0.5:.1f}"
        )
        return f'<polygon points="{pts}" {common}/>'
    return (
        f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}'
        f'L{x + r:.1f},{y - r:.1f}" stroke="{colour}" stroke-width="3" fill="none"/>'
    )


def radius(sample_size: int | None) -> float:
    return 5.0 if not sample_size else min(28.0, 5.0 + 2.2 * math.sqrt(sample_size))


@dataclass
class ChartPoint:
    """Studies sharing a year, level and result: one marker."""

    year: int
    level: int | None
    result: str
    studies: int
    patients: int
    label: str  # the study's name when the marker stands for one study


def chart_points(studies: QuerySet[Study], *, therapy=None) -> list[ChartPoint]:
    """The studies testing ``therapy`` (all, without one) by year, level and result, with the
    numbers of the matrix: a trial's patients count once, at its largest publication (the
    others are drawn hollow). Two queries, once per content generation."""
    if therapy is not None:
        studies = studies.filter(
            Q(arms__therapy=therapy, arms__role=ArmRole.TESTED)
            | Q(arms__isnull=True, therapies=therapy)
        )
        studies = Study.objects.filter(pk__in=studies.values("pk"))
    rows = (
        studies.order_by()
        .exclude(reference__year=None)
        .values_list("pk", "reference__year", "level", "result", "sample_size", "trial_id", "label")
    )
    return _points(rows)


@per_generation
def _points(rows: QuerySet) -> list[ChartPoint]:
    rows = list(rows)
    largest: dict[int, tuple[int, int]] = {}  # trial id -> (n, study id) of its largest report
    for pk, _, _, _, size, trial, _ in rows:
        if trial and size is not None and (trial not in largest or size > largest[trial][0]):
            largest[trial] = (size, pk)
    groups: dict[tuple, ChartPoint] = {}
    for pk, year, level, result, size, trial, label in sorted(rows, key=lambda r: r[6]):
        counted = size or 0
        if trial and largest.get(trial, (0, pk))[1] != pk:
            counted = 0  # the trial's patients are counted at its largest publication
        point = groups.get((year, level, result))
        if point is None:
            groups[(year, level, result)] = ChartPoint(
                year=year, level=level, result=result, studies=1, patients=counted, label=label
            )
        else:
            point.studies += 1
            point.patients += counted
    return list(groups.values())


def evidence_chart(points: Sequence[ChartPoint], *, title: str) -> SafeString:
    """SVG markup (escaped text throughout); an empty string when there is nothing to plot."""
    if not points:
        return mark_safe("")
    years = [p.year for p in points]
    low, high = min(years) - 1, max(years) + 1
    span = max(high - low, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(year):
        return LEFT + (year - low) / span * plot_w

    def y_of(level):
        return TOP + (ROWS.index(level) + 0.5) * plot_h / len(ROWS)

    total = sum(p.studies for p in points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="evidence-chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{total} studies from {min(years)} to {max(years)}, by '
        f"level of evidence (1 strongest). The table of studies below lists the same "
        f"data.</desc>",
    ]
    for level in ROWS:
        y = y_of(level)
        label = f"Level {level}" if level else "Not graded"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>'
        )
        parts.append(
            f'<text x="{LEFT - 10}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1a1a1a">{label}</text>'
        )
    step = 1 if span <= 12 else 5
    for year in range(low + (-low % step), high + 1, step):
        x = x_of(year)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
            f'font-size="12" fill="#1a1a1a">{year}</text>'
        )
    for point in sorted(points, key=lambda p: -p.patients):
        colour, kind = RESULT_STYLE[point.result]
        who = point.label if point.studies == 1 else f"{point.studies} studies"
        size = f"{point.patients} patients" if point.patients else "patients not reported"
        level = f"level {point.level}" if point.level else "not graded"
        label = f"{who} ({point.year}): {ResultDirection(point.result).label}, {size}, {level}"
        # No links inside: an image must not hold interactive controls (the table links them).
        shape = _shape(
            kind,
            x_of(point.year),
            y_of(point.level),
            radius(point.patients),
            colour,
            bool(point.patients),
        )
        parts.append(f"<g><title>{escape(label)}</title>{shape}</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def legend() -> list[tuple[str, str, str]]:
    """(result code, label, marker shape); colours come from the stylesheet's result classes."""
    return [(code, ResultDirection(code).label, kind) for code, (_, kind) in RESULT_STYLE.items()]
