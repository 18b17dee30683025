"""Therapy pages: grouped list and the detail with statements, studies and chart."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.views.generic import ListView, TemplateView

from core.choices import ReviewStatus
from evidence.charts import evidence_chart, legend
from evidence.filtersets import CheckboxStudyFilterSet
from evidence.models import Statement, Study
from references.models import Reference
from therapies.models import Therapy


class TherapyListView(ListView):
    template_name = "therapies/therapy_list.html"
    context_object_name = "therapies"

    def get_queryset(self):
        published = Q() if self.request.user.is_staff else Q(
            studies__status=ReviewStatus.PUBLISHED)
        return Therapy.objects.visible_to(self.request.user).for_list().annotate(
            n_studies=Count("studies", filter=published, distinct=True))


class TherapyDetailView(TemplateView):
    template_name = "therapies/therapy_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        therapy = get_object_or_404(
            Therapy.objects.visible_to(user).select_related("drug_class"), slug=self.kwargs["slug"])
        studies = Study.objects.visible_to(user).for_list().filter(therapies=therapy)
        # The page is already about one therapy: no therapy or class filter.
        filterset = CheckboxStudyFilterSet(self.request.GET or None, queryset=studies,
                                           exclude=("therapy", "drug_class"))
        shown = list(filterset.qs) if filterset.is_bound and filterset.is_valid() else (
            [] if filterset.is_bound else list(studies))
        statements = Statement.objects.visible_to(user).for_list().filter(therapy=therapy)
        references = (Reference.objects.visible_to(user).with_authors()
                      .filter(Q(studies__therapies=therapy) | Q(rationales__therapy=therapy))
                      .distinct().order_by("number"))
        rationales = therapy.rationales.select_related("reference").order_by("reference__number")
        return super().get_context_data(
            therapy=therapy, filter=filterset, studies=shown, statements=statements,
            references=references, rationales=rationales,
            chart=evidence_chart(shown, title=f"Evidence for {therapy.name}"),
            legend=legend(), **kwargs)
