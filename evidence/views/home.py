"""The home page (evidence matrix) and the about page."""

from django.views.generic import TemplateView

from evidence.choices import StudyDesign
from evidence.levels import LEVEL_MEANING, SUGGESTED_LEVEL, design_slug
from evidence.models import DiseaseSubtype, Study
from evidence.selectors import corpus_status, design_counts, evidence_cutoff, evidence_matrix
from therapies.models import Therapy


class HomeView(TemplateView):
    template_name = "evidence/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        studies = Study.objects.restrict(user)
        counts = design_counts(studies)
        return super().get_context_data(
            matrix=evidence_matrix(studies, therapies=Therapy.objects.restrict(user)),
            status=corpus_status(user),
            cutoff=evidence_cutoff(user),
            therapies=Therapy.objects.restrict(user).for_list(),
            subtypes=DiseaseSubtype.objects.restrict(user),
            designs=[
                (code, label, design_slug(code), counts.get(code, 0))
                for code, label in StudyDesign.choices
                if counts.get(code)
            ],
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
