"""The guided "new paper → study" path through the admin (issue 17).

A curator goes reference → study → arms and outcomes → provenance and review. Each step is an
ordinary admin form (same validation, same workflow); this module only adds what joins them:
the step indicator above the reference and study forms, a "save and go on" button on each, the
redirect it asks for, and the study add form's reference taken from ``?reference=<id>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from core.workflow import SUBMITTABLE

STEP_TITLES = ("Reference", "Study", "Arms & outcomes", "Provenance / submit for review")

# Names of the extra submit buttons (read by response_add / response_change).
ADD_STUDY_BUTTON = "_addstudy"
NEXT_STEP_BUTTON = "_nextstep"
REVIEW_BUTTON = "_toreview"


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    url: str  # where the step is done; "" while it cannot be reached yet
    done: bool
    current: bool


def study_add_url(reference_id: int) -> str:
    return f"{reverse('admin:evidence_study_add')}?reference={reference_id}"


def steps(*, current: int, reference=None, study=None) -> list[Step]:
    """The four steps for a page about ``reference`` and/or ``study`` (either may be unsaved).

    On the study's own forms the later steps are parts of the same page (its inlines), so
    their links are anchors: the curator does not leave the page for them.
    """
    if study is not None and study.pk is None:
        study = None
    if reference is not None and reference.pk is None:
        reference = None
    on_study_form = current >= 2
    if study is not None:
        study_url = reverse("admin:evidence_study_change", args=[study.pk])
    elif reference is not None:
        study_url = study_add_url(reference.pk)
    else:
        study_url = ""
    page = "" if on_study_form else study_url
    # Two EXISTS queries; the form lists the rows themselves in its inlines.
    has_rows = study is not None and (study.arms.exists() or study.outcomes.exists())
    submitted = study is not None and study.status not in SUBMITTABLE
    done = (reference is not None, study is not None, has_rows, submitted)
    urls = (
        reverse("admin:references_reference_change", args=[reference.pk]) if reference else "",
        study_url if not on_study_form else "#content-main",
        f"{page}#arms-group" if (on_study_form or study_url) else "",
        f"{page}#provenance-group" if (on_study_form or study_url) else "",
    )
    rows = zip(STEP_TITLES, urls, done, strict=True)
    return [
        Step(number, title, url, is_done, number == current)
        for number, (title, url, is_done) in enumerate(rows, start=1)
    ]


def study_step(study) -> int:
    """Which step a study's change form is at: arms and outcomes first, then provenance."""
    if not (study.arms.exists() or study.outcomes.exists()):
        return 3
    return 4


def may_submit(study) -> bool:
    return study.status in SUBMITTABLE
