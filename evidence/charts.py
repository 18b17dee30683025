"""The evidence chart: a server-rendered SVG of studies by year and level of evidence.

Marker area grows with the number of patients (a hollow marker when the record gives no
number); shape and colour both encode the result, so the chart reads without colour
(Okabe-Ito palette, safe for the common colour-vision deficiencies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from evidence.choices import ResultDirection
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
        return (f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                f'height="{2 * r:.1f}" {common}/>')
    if kind == "diamond":
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{pts}" {common}/>'
    if kind == "triangle":
        pts = (f"{x:.1f},{y - r:.1f} {x + r * 0.87:.1f},{y + r * 0.5:.1f} "
               f"{x - r * 0.87:.1f},{y + r * 0.5:.1f}")
        return f'<polygon points="{pts}" {common}/>'
    return (f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}'
            f'L{x + r:.1f},{y - r:.1f}" stroke="{colour}" stroke-width="3" fill="none"/>')


def radius(sample_size: int | None) -> float:
    return 5.0 if not sample_size else min(28.0, 5.0 + 2.2 * math.sqrt(sample_size))


def evidence_chart(studies: Sequence[Study], *, title: str) -> SafeString:
    """SVG markup (escaped text throughout); an empty string when there is nothing to plot."""
    dated = [s for s in studies if s.reference.year]
    if not dated:
        return mark_safe("")
    years = [s.reference.year for s in dated]
    low, high = min(years) - 1, max(years) + 1
    span = max(high - low, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(year):
        return LEFT + (year - low) / span * plot_w

    def y_of(level):
        return TOP + (ROWS.index(level) + 0.5) * plot_h / len(ROWS)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" class="evidence-chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{len(dated)} studies from {min(years)} to {max(years)}, by '
        f"level of evidence (1 strongest). The table of studies below lists the same "
        f"data.</desc>",
    ]
    for level in ROWS:
        y = y_of(level)
        label = f"Level {level}" if level else "Not graded"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d0d0"/>')
        parts.append(f'<text x="{LEFT - 10}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="13" fill="#1a1a1a">{label}</text>')
    step = 1 if span <= 12 else 5
    for year in range(low + (-low % step), high + 1, step):
        x = x_of(year)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
                     f'font-size="12" fill="#1a1a1a">{year}</text>')
    for study in sorted(dated, key=lambda s: -(s.sample_size or 0)):
        colour, kind = RESULT_STYLE[study.result]
        size = f"{study.sample_size} patients" if study.sample_size else "patients not reported"
        label = (f"{study.label} ({study.reference.year}): {study.get_result_display()}, "
                 f"{size}, {'level ' + str(study.level) if study.level else 'not graded'}")
        # No links inside: an image must not hold interactive controls (the table links them).
        shape = _shape(kind, x_of(study.reference.year), y_of(study.level),
                       radius(study.sample_size), colour, bool(study.sample_size))
        parts.append(f"<g><title>{escape(label)}</title>{shape}</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def legend() -> list[tuple[str, str, str]]:
    """(result code, label, marker shape); colours come from the stylesheet's result classes."""
    return [(code, ResultDirection(code).label, kind) for code, (_, kind) in RESULT_STYLE.items()]
