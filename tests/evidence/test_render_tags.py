"""The tags that write hot template loops in Python write what the loops wrote (issue 16).

The golden pages (tests/test_render_identity.py) hold them to the corpus; these tests hold
them to the original template code for rows the corpus lacks (no subtype, no reference
number, no year, markup in a label).
"""

import pytest
from django.template import Context, Template

from evidence.selectors import StudyRow, SubtypeLabel

# templates/includes/study_table.html's row loop before the study_row tag replaced its body
# (with "1 patient" in the singular, as the tag now writes it).
ROW_LOOP = (
    '{% load evidence_tags %}{% for study in studies %}\n    <tr>\n      <td><a href="{{ study'
    '.get_absolute_url }}">{{ study.label }}</a><br><small>{{ study.first_author }}{% if study'
    ".reference_number %} · ref. {{ study.reference_number }}{% endif %}</small>\n        <sma"
    'll class="row-meta">{{ study.year|default:"" }} · {{ study.get_design_display }} · {{ stu'
    "dy.sample_size|reported }} {% if study.sample_size == 1 %}patient{% else %}patients{% endif %}"
    "{% if study.subtypes %} · {% for s in study.subtypes %"
    "}{{ s.short }}{% if not forloop.last %}, {% endif %}{% endfor %}{% endif %}</small></td>"
    "\n      <td>{% result_badge study.result %}</td>\n      <td>{% level_badge study.level %}"
    '</td>\n      <td class="minor">{{ study.year|default:"" }}</td>\n      <td class="minor">'
    '{{ study.therapies|join:", " }}</td>\n      <td class="minor">{% for s in study.subtypes '
    '%}<abbr title="{{ s.name }}">{{ s.short }}</abbr>{% if not forloop.last %}, {% endif %}{'
    '% endfor %}</td>\n      <td class="minor">{{ study.get_design_display }}</td>\n      <td '
    'class="num minor">{{ study.sample_size|reported }}</td>\n    </tr>\n  {% endfor %}'
)
NEW_LOOP = "{% load evidence_tags %}{% for study in studies %}{% study_row study %}{% endfor %}"


def row(**overrides) -> StudyRow:
    values = {
        "pk": 7,
        "label": "Trial <b>&</b> co",
        "design": "rct_parallel",
        "sample_size": 1200,
        "result": "benefit",
        "level": 2,
        "reference_id": 3,
        "first_author": "O'Brien & Smith",
        "reference_number": 12,
        "year": 2019,
        "therapies": ("Rituximab", "IVIg <x>"),
        "subtypes": (SubtypeLabel(name='Derm "DM"', short="DM"), SubtypeLabel("Poly", "PM")),
    }
    return StudyRow(**{**values, **overrides})


ROWS = [
    row(),
    row(subtypes=(), reference_number=None, year=None, sample_size=None, level=None),
    row(result="", therapies=(), sample_size=0, design="case_report"),
    row(sample_size=1, design="case_report"),
]


@pytest.mark.parametrize("study", ROWS, ids=["full", "sparse", "empty-result", "one-patient"])
def test_study_row_writes_what_the_row_template_wrote(study):
    context = {"studies": [study]}
    expected = Template(ROW_LOOP).render(Context(context))
    assert Template(NEW_LOOP).render(Context(context)) == expected
    assert "&lt;b&gt;" in expected  # the label's markup is escaped, not passed through


# templates/evidence/home.html's matrix cell loop before the matrix_cells tag replaced it.
CELL_LOOP = "{% load evidence_tags %}" + (
    "{% for cell in cells %}\n"
    "          {% if cell %}\n"
    '          <td class="cell direction-{{ cell.direction }} certainty-{{ cell.certainty }}">\n'
    "            <a href=\"{% url 'therapies:summary_of_findings' cell.therapy.slug cell.subtype.slug %}\">\n"  # noqa: E501 - the template's own lines
    '              <span class="cert"><span aria-hidden="true">{% certainty_symbols cell.certainty %}</span> {{ cell.certainty_label }}</span>\n'  # noqa: E501 - the template's own lines
    '              <span class="res">{{ cell.direction_label }}</span>\n'
    '              <span class="n">{{ cell.trials }} trial{{ cell.trials|pluralize }}</span>\n'
    '              <span class="pts">{% if cell.patients is not None %}{{ cell.patients }} pts{% if cell.synthesis.patients_mixed_population %} (mixed)<span class="visually-hidden"> population: subtype split not reported</span>{% endif %}{% else %}pts n/r{% endif %}</span>\n'  # noqa: E501 - the template's own lines
    '              {% if cell.safety_signals %}<span class="badge safety">⚠ {{ cell.safety_signals }}<span class="visually-hidden"> safety signal{{ cell.safety_signals|pluralize }}</span></span>{% endif %}\n'  # noqa: E501 - the template's own lines
    "            </a>\n"
    "          </td>\n"
    '          {% else %}<td class="empty"><span class="visually-hidden">no studies</span></td>{% endif %}\n'  # noqa: E501 - the template's own lines
    "        {% endfor %}"
)


@pytest.mark.parametrize(
    "patients,mixed,trials,safety",
    [(None, False, 0, 0), (1200, True, 1, 1), (5, False, 3, 2), (0, True, 2, 0)],
)
def test_matrix_cells_write_what_the_cell_loop_wrote(patients, mixed, trials, safety):
    from evidence.models import DiseaseSubtype
    from evidence.selectors import MatrixCell
    from evidence.synthesis import Synthesis
    from therapies.models import Therapy

    cell = MatrixCell(
        therapy=Therapy(slug="ritux"),
        subtype=DiseaseSubtype(slug="dm"),
        synthesis=Synthesis(
            certainty="low",
            direction="benefit",
            patients=patients,
            patients_mixed_population=mixed,
            trials=trials,
            safety_signals=safety,
        ),
    )
    context = {"cells": [None, cell, None]}
    expected = Template(CELL_LOOP).render(Context(context))
    rendered = Template("{% load evidence_tags %}{% matrix_cells cells %}").render(Context(context))
    assert rendered == expected
    assert "/therapies/ritux/dm/" in expected
