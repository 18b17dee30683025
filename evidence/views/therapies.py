"""Therapy pages: grouped list and the detail with statements, studies and chart."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import SimpleLazyObject
from django.views.generic import ListView, TemplateView

from core.caching.data import count_by
from core.pagination import GenerationPaginator
from evidence.charts import chart_points, evidence_chart, legend
from evidence.filtersets import CheckboxStudyFilterSet
from evidence.models import DiseaseSubtype, Statement, Study
from evidence.selectors import (
    SUMMARY_ROWS,
    evidence_cutoff,
    evidence_matrix,
    study_rows,
    summary_of_findings,
    therapy_for_page,
)
from references.models import Reference
from therapies.models import Therapy


class TherapyListView(ListView):
    template_name = "therapies/therapy_list.html"
    context_object_name = "therapies"

    def get_queryset(self):
        counts = count_by(Study.objects.restrict(self.request.user), "therapies")
        therapies = list(Therapy.objects.restrict(self.request.user).for_list())
        for therapy in therapies:
            therapy.n_studies = counts.get(therapy.pk, 0)
        return therapies


class TherapyDetailView(TemplateView):
    """The therapy, its synthesis and statements, and its studies under the reader's filters.

    Everything but the therapy is computed lazily (``SimpleLazyObject``): the template keeps
    its sections as fragments per content generation (core.caching.fragments), and a section
    found there never evaluates what it would have shown."""

    template_name = "therapies/therapy_detail.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        user = self.request.user
        therapy = therapy_for_page(self.kwargs["slug"], user)
        if therapy is None:
            raise Http404("No therapy found matching the query")

        def filtered():
            studies = Study.objects.restrict(user).filter(therapies=therapy)
            # The page is already about one therapy: no therapy or class filter.
            filterset = CheckboxStudyFilterSet(
                self.request.GET or None,
                queryset=studies,
                request=self.request,
                exclude=("therapy", "drug_class"),
            )
            if filterset.is_bound and not filterset.is_valid():
                return filterset, studies.none()
            return filterset, (filterset.qs if filterset.is_bound else studies)

        found = SimpleLazyObject(filtered)
        # A field-wide corpus holds thousands of studies per drug: page the table, and draw the
        # chart from an aggregate of every matching study.
        page = SimpleLazyObject(
            lambda: GenerationPaginator(found[1], self.paginate_by).get_page(
                self.request.GET.get("page")
            )
        )
        shown = SimpleLazyObject(lambda: study_rows(page.object_list))
        rationales = SimpleLazyObject(
            lambda: list(
                therapy.rationales.restrict(user)
                .select_related("reference")
                .order_by("reference__number")
            )
        )

        def references():
            # References behind the studies on this page, and the mechanistic papers: by id (an
            # OR of two joins cannot use an index and took 70 ms at 100k studies).
            return (
                Reference.objects.restrict(user)
                .with_authors()
                .filter(
                    pk__in={s.reference_id for s in shown} | {r.reference_id for r in rationales}
                )
                .order_by("number")
            )

        def by_subtype():
            # The same synthesis as the matrix, for this therapy's row.
            matrix = evidence_matrix(
                Study.objects.restrict(user).filter(therapies=therapy),
                therapies=Therapy.objects.filter(pk=therapy.pk),
            )
            return [
                cell
                for cell in (matrix.cells.get((therapy.pk, st.pk)) for st in matrix.subtypes)
                if cell
            ]

        cells = SimpleLazyObject(by_subtype)

        def safety_studies():
            ids = {pk for cell in cells for pk in cell.synthesis.safety_studies}
            return study_rows(Study.objects.filter(pk__in=ids)) if ids else []

        return super().get_context_data(
            by_subtype=cells,
            cutoff=SimpleLazyObject(lambda: evidence_cutoff(user)),
            safety_studies=SimpleLazyObject(safety_studies),
            therapy=therapy,
            filter=SimpleLazyObject(lambda: found[0]),
            studies=shown,
            page_obj=page,
            paginator=SimpleLazyObject(lambda: page.paginator),
            statements=SimpleLazyObject(
                lambda: Statement.objects.restrict(user).for_list().filter(therapy=therapy)
            ),
            references=SimpleLazyObject(references),
            rationales=rationales,
            chart=SimpleLazyObject(
                lambda: evidence_chart(
                    chart_points(found[1], therapy=therapy), title=f"Evidence for {therapy.name}"
                )
            ),
            legend=SimpleLazyObject(legend),
            **kwargs,
        )


class SummaryOfFindingsView(TemplateView):
    """One therapy in one subtype: each measured outcome with its certainty and reasons, the
    studies and trials, the safety signals and where the evidence stops. Printable."""

    template_name = "therapies/summary_of_findings.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        therapy = therapy_for_page(self.kwargs["slug"], user)
        if therapy is None:
            raise Http404("No therapy found matching the query")
        subtype = get_object_or_404(
            DiseaseSubtype.objects.restrict(user), slug=self.kwargs["subtype"]
        )
        # Lazy: the page's body is a fragment per content generation (the template).
        summary = SimpleLazyObject(
            lambda: summary_of_findings(
                Study.objects.restrict(user), therapy, subtype, shown=SUMMARY_ROWS
            )
        )
        # The URL's own kwargs (slug, subtype) are replaced by the objects they name.
        return {
            **super().get_context_data(**kwargs),
            "therapy": therapy,
            "subtype": subtype,
            "summary": summary,
            "shown": SUMMARY_ROWS,  # rows per table: a part of the page's fragment key
            "cutoff": SimpleLazyObject(lambda: evidence_cutoff(user)),
        }
