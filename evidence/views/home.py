"""The home page (evidence matrix) and the about page."""

from django.utils.functional import SimpleLazyObject
from django.views.generic import TemplateView

from evidence.choices import StudyDesign
from evidence.levels import LEVEL_MEANING, SUGGESTED_LEVEL, design_slug
from evidence.models import DiseaseSubtype, Study
from evidence.selectors import corpus_status, design_counts, evidence_cutoff, evidence_matrix
from therapies.models import Therapy


class HomeView(TemplateView):
    """The evidence matrix and the ways in. Its body is one fragment per content generation and
    reader's rights (templates/evidence/home.html): every value is lazy, so a body found in the
    fragment cache computes nothing."""

    template_name = "evidence/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user

        def designs():
            counts = design_counts(Study.objects.restrict(user))
            return [
                (code, label, design_slug(code), counts.get(code, 0))
                for code, label in StudyDesign.choices
                if counts.get(code)
            ]

        return super().get_context_data(
            matrix=SimpleLazyObject(
                lambda: evidence_matrix(
                    Study.objects.restrict(user), therapies=Therapy.objects.restrict(user)
                )
            ),
            status=SimpleLazyObject(lambda: corpus_status(user)),
            cutoff=SimpleLazyObject(lambda: evidence_cutoff(user)),
            therapies=SimpleLazyObject(lambda: Therapy.objects.restrict(user).for_list()),
            subtypes=SimpleLazyObject(lambda: DiseaseSubtype.objects.restrict(user)),
            designs=SimpleLazyObject(designs),
            **kwargs,
        )


class AboutView(TemplateView):
    template_name = "evidence/about.html"

    def get_context_data(self, **kwargs):
        levels = [
            (
                level,
                meaning,
                [StudyDesign(d).label for d, lv in SUGGESTED_LEVEL.items() if lv == level],
            )
            for level, meaning in LEVEL_MEANING.items()
        ]
        return super().get_context_data(
            levels=levels, status=corpus_status(None), cutoff=evidence_cutoff(None), **kwargs
        )
