"""Therapy pages: grouped list and the detail with statements, studies and chart."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.views.generic import ListView, TemplateView

from core.choices import ReviewStatus
from evidence.charts import chart_points, evidence_chart, legend
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
    paginate_by = 50

    def get_context_data(self, **kwargs):
        user = self.request.user
        therapy = get_object_or_404(
            Therapy.objects.visible_to(user).select_related("drug_class"), slug=self.kwargs["slug"])
        studies = Study.objects.visible_to(user).for_list().filter(therapies=therapy)
        # The page is already about one therapy: no therapy or class filter.
        filterset = CheckboxStudyFilterSet(self.request.GET or None, queryset=studies,
                                           exclude=("therapy", "drug_class"))
        if filterset.is_bound and not filterset.is_valid():
            matching = studies.none()
        else:
            matching = filterset.qs if filterset.is_bound else studies
        # A field-wide corpus holds thousands of studies per drug: page the table, and draw the
        # chart from an aggregate of every matching study.
        page = Paginator(matching, self.paginate_by).get_page(self.request.GET.get("page"))
        shown = list(page.object_list)
        statements = Statement.objects.visible_to(user).for_list().filter(therapy=therapy)
        # References behind the studies on this page, and the mechanistic papers.
        references = (Reference.objects.visible_to(user).with_authors()
                      .filter(Q(studies__in=[s.pk for s in shown]) | Q(rationales__therapy=therapy))
                      .distinct().order_by("number"))
        rationales = therapy.rationales.select_related("reference").order_by("reference__number")
        return super().get_context_data(
            therapy=therapy, filter=filterset, studies=shown, page_obj=page,
            paginator=page.paginator, statements=statements,
            references=references, rationales=rationales,
            chart=evidence_chart(chart_points(matching), title=f"Evidence for {therapy.name}"),
            legend=legend(), **kwargs)
