from django.http import Http404
from django.views.generic import TemplateView

from core.pagination import GenerationPaginator
from evidence.choices import StudyDesign
from evidence.levels import (
    DESIGN_DESCRIPTIONS,
    LEVEL_MEANING,
    design_from_slug,
    design_slug,
    suggested_level,
)
from evidence.models import Study
from evidence.selectors import design_counts, study_rows


class DesignListView(TemplateView):
    template_name = "evidence/design_list.html"

    def get_context_data(self, **kwargs):
        counts = design_counts(Study.objects.restrict(self.request.user))
        designs = [
            {
                "code": code,
                "label": label,
                "slug": design_slug(code),
                "count": counts.get(code, 0),
                "level": suggested_level(code),
                "description": DESIGN_DESCRIPTIONS[code],
            }
            for code, label in StudyDesign.choices
        ]
        return super().get_context_data(designs=designs, level_meaning=LEVEL_MEANING, **kwargs)


class DesignDetailView(TemplateView):
    template_name = "evidence/design_detail.html"

    def get_context_data(self, **kwargs):
        code = design_from_slug(self.kwargs["slug"])
        if code is None:
            raise Http404("No such study design.")
        level = suggested_level(code)
        studies = Study.objects.restrict(self.request.user).filter(design=code)
        page = GenerationPaginator(studies, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            code=code,
            label=StudyDesign(code).label,
            description=DESIGN_DESCRIPTIONS[code],
            level=level,
            level_meaning=LEVEL_MEANING.get(level),
            studies=study_rows(page.object_list),
            page_obj=page,
            paginator=page.paginator,
            **kwargs,
        )
