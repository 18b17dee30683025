"""The curators' admin for subtypes, studies (with outcomes and provenance) and statements."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin_history import ContentAdmin, HistoryChild
from core.admin_workflow import (
    REVIEW_FIELDSET,
    WORKFLOW_ACTIONS,
    PartOfEntryAdminMixin,
    PartOfEntryInlineMixin,
    ReviewedAdminMixin,
)
from core.formats import download
from evidence import admin_path
from evidence.admin_actions import mark_verified as mark_studies_verified
from evidence.admin_actions import own_work, own_work_message, stamp_verification
from evidence.choices import StudyDesign
from evidence.exports import studies_csv
from evidence.levels import LEVEL_MEANING, suggested_level
from evidence.models import (
    Arm,
    CertaintyOverride,
    DiseaseSubtype,
    Outcome,
    OutcomeArmResult,
    Provenance,
    Statement,
    Study,
    StudySubtypeCount,
    Trial,
)
from evidence.services.studies import UNVERIFIED, withdraw_verification
from references.admin import ReferenceAdmin
from references.models import Reference
from therapies.admin import TherapyAdmin
from therapies.models import Therapy


def _change_link(obj, text=None):
    info = obj._meta.app_label, obj._meta.model_name
    url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def _level_table() -> str:
    """Design → suggested level, for the level fieldset's description (static text)."""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td></tr>",
        (
            (label, f"Level {level}" if (level := suggested_level(code)) else "not graded")
            for code, label in StudyDesign.choices
        ),
    )
    return format_html(
        "The design suggests the Oxford CEBM 2011 level. Override it only when quality, "
        "imprecision, indirectness, inconsistency or the size of the effect warrants it; "
        "<strong>an override needs a reason</strong>, shown to readers."
        "<details><summary>Suggested level for each design</summary>"
        "<table><tbody>{}</tbody></table></details>",
        rows,
    )


@admin.register(DiseaseSubtype)
class DiseaseSubtypeAdmin(ReviewedAdminMixin, ContentAdmin):
    list_display = ["name", "code", "abbreviation", "order", "study_count", "status"]
    list_filter = ["status"]
    search_fields = ["name", "code", "abbreviation", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "slug",
                    "name",
                    "abbreviation",
                    "synonyms",
                    "description",
                    "order",
                ]
            },
        ),
        REVIEW_FIELDSET,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(study_count=Count("studies"))

    @admin.display(description="studies", ordering="study_count")
    def study_count(self, obj):
        return obj.study_count


# A study's outcomes, in its history; their per-arm results belong to the study through them.
OUTCOMES = HistoryChild(Outcome, "study", "Outcomes")
ARM_RESULTS = HistoryChild(OutcomeArmResult, "outcome", "Per-arm results", via=OUTCOMES)


class OutcomeInline(PartOfEntryInlineMixin, admin.TabularInline):
    model = Outcome
    extra = 0
    fields = [
        "order",
        "measure",
        "description",
        "timepoint",
        "responders",
        "n",
        "value",
        "is_primary",
        "arm_results_display",
    ]
    readonly_fields = ["arm_results_display"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("arm_results__arm")

    @admin.display(description="per arm")
    def arm_results_display(self, obj):
        # Shown here so the curator checks them beside the outcome; edited on the outcome's
        # own page (an inline cannot hold another inline).
        if obj is None or obj.pk is None:
            return "—"
        results = [(result,) for result in obj.arm_results.all()]
        shown = format_html_join(mark_safe("<br>"), "{}", results) if results else "—"
        url = reverse("admin:evidence_outcome_change", args=[obj.pk])
        return format_html('{}<br><a href="{}#arm_results-group">Per-arm results…</a>', shown, url)


# What a record can be the source of: the study's own fields and its rows (outcomes, arms...).
PROVENANCE_EXTRA_FACTS = [
    "outcomes",
    "arms",
    "subtypes",
    "therapies",
    "identifiers",
    "authors",
    "journal",
    "year",
    "doi",
    "pmid",
    "pmcid",
    "notes",
]


def provenance_fact_choices() -> list[tuple[str, str]]:
    names = [
        f.name
        for f in Study._meta.get_fields()
        if getattr(f, "editable", False)
        and not f.auto_created
        and f.concrete
        and f.name
        not in {
            "key",
            "status",
            "created",
            "modified",
            "verified",
            "reference",
            "trial",
            "level_override_reason",
        }
        and not f.name.startswith(("submitted", "reviewed"))
    ]
    names += [n for n in PROVENANCE_EXTRA_FACTS if n not in names]
    return [(n, n.replace("_", " ")) for n in names]


class ProvenanceForm(forms.ModelForm):
    """ "Facts taken" as checkboxes over the study's field names instead of a JSON box.

    Values already recorded that are not field names (the corpus has a few, such as
    "journal/volume/pages") are offered too, ticked, so saving the form loses none of them.
    """

    facts = forms.MultipleChoiceField(
        label="facts taken",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "facts-checkboxes"}),
        help_text="Which of the study's facts came from this record.",
    )

    class Meta:
        model = Provenance
        fields = ["study", "source", "url", "pmid", "facts", "note", "verified"]

    # What a verification checked: a change to any of these withdraws it (as the API does),
    # unless the same save ticks or unticks the box itself.
    CONTENT = frozenset({"study", "source", "url", "pmid", "facts", "note"})
    verification_withdrawn = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = provenance_fact_choices()
        known = {value for value, _ in choices}
        recorded = self.instance.facts if isinstance(self.instance.facts, list) else []
        choices += [(value, value) for value in recorded if value not in known]
        self.fields["facts"].choices = choices

    def clean(self):
        data = super().clean()
        record = self.instance
        changed = set(self.changed_data)
        if record.pk and record.verified and "verified" not in changed and changed & self.CONTENT:
            data["verified"] = UNVERIFIED["verified"]
            record.verified_by = UNVERIFIED["verified_by"]
            record.verified_at = UNVERIFIED["verified_at"]
            self.verification_withdrawn = True
        return data


def warn_verification_withdrawn(request, form) -> None:
    if getattr(form, "verification_withdrawn", False):
        messages.warning(
            request,
            f"The provenance record “{form.instance}” is no longer marked verified: what it "
            "says changed, and another curator must check it again.",
        )


class ProvenanceInline(PartOfEntryInlineMixin, admin.StackedInline):
    model = Provenance
    form = ProvenanceForm

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        user = request.user

        class NoSelfVerification(formset_class):
            def clean(self):
                super().clean()
                ticked = [
                    f
                    for f in self.forms
                    if "verified" in f.changed_data and f.cleaned_data.get("verified")
                ]
                if ticked and obj is not None and own_work(obj, user):
                    raise forms.ValidationError(own_work_message(obj))

        return NoSelfVerification

    extra = 0
    fields = ["source", "url", "pmid", "facts", "note", ("verified", "verified_by", "verified_at")]
    readonly_fields = ["verified_by", "verified_at"]
    formfield_overrides = ContentAdmin.formfield_overrides


class ArmInline(PartOfEntryInlineMixin, admin.TabularInline):
    model = Arm
    extra = 0
    fields = ["order", "label", "therapy", "role", "dose", "route", "schedule", "duration", "n"]
    autocomplete_fields = ["therapy"]


class SubtypeCountFormSet(forms.BaseInlineFormSet):
    """Patients may be counted only for the study's own subtypes, as the study form posts them
    (a count for a subtype the study lacks is shown and used nowhere)."""

    def clean(self):
        super().clean()
        if "subtypes" in self.data:  # the study form's choice, as posted
            chosen = set(self.data.getlist("subtypes"))
        else:  # a form that shows them read-only keeps the stored ones
            chosen = {str(pk) for pk in self.instance.subtypes.values_list("pk", flat=True)}
        outside = sorted(
            form.cleaned_data["subtype"].name
            for form in self.forms
            if form.cleaned_data.get("subtype") is not None
            and not form.cleaned_data.get("DELETE")
            and str(form.cleaned_data["subtype"].pk) not in chosen
        )
        if outside:
            raise forms.ValidationError(
                f"Patients are counted for {', '.join(outside)}, not among the study's "
                "subtypes: add the subtype, or delete the count."
            )


class SubtypeCountInline(PartOfEntryInlineMixin, admin.TabularInline):
    model = StudySubtypeCount
    formset = SubtypeCountFormSet
    extra = 0
    fields = ["subtype", "n"]
    verbose_name = "patients with a subtype"
    verbose_name_plural = "patients per subtype (only where the record reports the split)"


class StudyAdminForm(forms.ModelForm):
    class Meta:
        model = Study
        # The fields this form relabels; the admin adds the rest from its fieldsets.
        fields = ["level_override", "level_override_reason"]
        labels = {"level_override_reason": "Reason for the override"}
        help_texts = {
            "level_override": "Leave empty to use the suggested level.",
            "level_override_reason": "Required whenever you choose an override; readers see it.",
        }


@admin.register(Study)
class StudyAdmin(ReviewedAdminMixin, ContentAdmin):
    form = StudyAdminForm
    list_display = [
        "label",
        "reference_column",
        "design",
        "sample_size",
        "result",
        "level_column",
        "verified",
        "status",
    ]
    list_filter = [
        "status",
        "verified",
        "design",
        "result",
        "level",
        "age_group",
        "refractory",
        "therapies",
        "subtypes",
    ]
    list_select_related = ["reference"]
    search_fields = [
        "label",
        "key",
        "summary",
        "reference__title",
        "reference__first_author",
        "therapies__name",
        "therapies__brand_names",
    ]
    autocomplete_fields = ["reference", "therapies", "subtypes", "trial"]
    date_hierarchy = "modified"
    inlines = [ArmInline, SubtypeCountInline, OutcomeInline, ProvenanceInline]
    history_children = (
        OUTCOMES,
        HistoryChild(Provenance, "study", "Provenance"),
        HistoryChild(Arm, "study", "Arms"),
        HistoryChild(StudySubtypeCount, "study", "Patients per subtype"),
        # Last: re-creating a changed outcome or arm deletes its per-arm results.
        ARM_RESULTS,
    )
    actions = [*WORKFLOW_ACTIONS, "export_csv", "mark_verified"]
    readonly_fields = ["suggested_level_display", "level"]
    fieldsets = [
        # The trial beside the reference: a new paper is often one more report of a known
        # trial (found, or added with the "+" popup, without leaving the form).
        (None, {"fields": ["key", "label", "reference", "trial", "therapies", "subtypes"]}),
        (
            "Design",
            {
                "fields": [
                    "design",
                    "phase",
                    "blinding",
                    "comparator",
                    "sample_size",
                    "age_group",
                    "refractory",
                    "follow_up",
                ]
            },
        ),
        (
            "Results",
            {
                "fields": [
                    "primary_endpoint",
                    "primary_endpoint_met",
                    "result",
                    "summary",
                    "adverse_events",
                ]
            },
        ),
        (
            "Synthesis",
            {
                "fields": [
                    "publication_role",
                    "data_availability",
                    "has_result_data",
                    "safety_signal",
                ],
                "description": "Publications of one trial count its patients once; a "
                "study without result data is listed, not rated; a "
                "safety signal is shown apart from efficacy.",
            },
        ),
        (
            "Level of evidence",
            {
                "fields": [
                    "suggested_level_display",
                    "level_override",
                    "level_override_reason",
                    "level",
                ],
                "description": _level_table(),
            },
        ),
        ("Verification", {"fields": ["verified"]}),
        REVIEW_FIELDSET,
    ]

    # -- the "new paper → study" path (evidence/admin_path.py) ---------------------------------

    change_form_template = "admin/paper_path/change_form.html"

    def get_changeform_initial_data(self, request):
        """``?reference=<id>`` (from the reference's "add a study" button) chooses the reference;
        an id that names no reference is dropped with a message instead of a broken field."""
        initial = super().get_changeform_initial_data(request)
        wanted = initial.get("reference")
        if wanted is not None:
            if not (str(wanted).isdigit() and Reference.objects.filter(pk=wanted).exists()):
                del initial["reference"]
                messages.warning(
                    request, f"There is no reference with the id “{wanted}”: choose it below."
                )
        return initial

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if not context.get("is_popup"):
            if obj is None:
                reference_id = context["adminform"].form["reference"].value()
                reference = (
                    Reference.objects.filter(pk=reference_id).first()
                    if str(reference_id or "").isdigit()
                    else None
                )
                context["paper_steps"] = admin_path.steps(current=2, reference=reference)
                context["paper_reference"] = reference
                context["paper_next"] = (
                    admin_path.NEXT_STEP_BUTTON,
                    "Save, then check provenance and submit for review",
                )
            else:
                context["paper_steps"] = admin_path.steps(
                    current=admin_path.study_step(obj), reference=obj.reference, study=obj
                )
                if admin_path.may_submit(obj) and self.has_change_permission(request, obj):
                    context["paper_next"] = (
                        admin_path.REVIEW_BUTTON,
                        "Save and submit for review…",
                    )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if admin_path.NEXT_STEP_BUTTON in request.POST and IS_POPUP_VAR not in request.POST:
            url = reverse("admin:evidence_study_change", args=[obj.pk])
            return HttpResponseRedirect(f"{url}#provenance-group")
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if admin_path.REVIEW_BUTTON in request.POST and IS_POPUP_VAR not in request.POST:
            # The review page asks for the submit (and says what still blocks it).
            return HttpResponseRedirect(reverse("admin:evidence_study_review", args=[obj.pk]))
        return response

    @admin.display(description="suggested level")
    def suggested_level_display(self, obj):
        if obj is None or not obj.design:
            return "Set from the design when you save."
        level = suggested_level(obj.design)
        if level is None:
            return f"Not graded: a {obj.get_design_display().lower()} is not primary evidence."
        return (
            f"Level {level}: {LEVEL_MEANING[level]} Suggested by the design "
            f"({obj.get_design_display()})."
        )

    @admin.display(description="level", ordering="level")
    def level_column(self, obj):
        if obj.level_override is not None:
            return f"{obj.level} (override; design suggests {obj.suggested_level or 'none'})"
        return obj.level if obj.level is not None else "not graded"

    @admin.display(description="reference", ordering="reference__number")
    def reference_column(self, obj):
        return obj.reference.number or obj.reference.first_author

    def save_formset(self, request, form, formset, change):
        if formset.model is Provenance:
            for row in formset.forms:
                if "verified" in row.changed_data:
                    stamp_verification(row.instance, user=request.user)
                warn_verification_withdrawn(request, row)
        # An arm's per-arm results go with it (they are edited on the outcome's page, not
        # here): say so, and how to bring them back.
        gone = [
            (row.instance.label, row.instance.results.count())
            for row in (formset.deleted_forms if formset.model is Arm else [])
            if row.instance.pk is not None
        ]
        super().save_formset(request, form, formset, change)
        for label, results in gone:
            if results:
                messages.warning(
                    request,
                    f"The arm “{label}” was deleted with its {results} per-arm "
                    f"result{'s' if results != 1 else ''}; reverting the study in its history "
                    "brings them back.",
                )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Its fields, therapies, subtypes, arms, patient counts or outcomes: the facts a
        # verification checked (provenance rows keep their own).
        facts = [f for f in form.changed_data if f != "verified"] or any(
            formset.has_changed() for formset in formsets if formset.model is not Provenance
        )
        if change and facts and "verified" not in form.changed_data:
            if withdraw_verification(form.instance, user=request.user):
                messages.warning(
                    request,
                    f"“{form.instance}” is no longer marked verified: its facts changed, and "
                    "another curator must check them again.",
                )

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        # The site's studies CSV (pages, API, releases), with the curators' columns appended.
        rows = studies_csv(queryset, request.build_absolute_uri("/")[:-1], curator=True)
        return download(rows, "csv", "studies", stream=False)

    @admin.action(
        description="Mark selected verified (with their provenance)", permissions=["change"]
    )
    def mark_verified(self, request, queryset):
        marked, skipped, own = mark_studies_verified(studies=queryset, user=request.user)
        if marked:
            messages.success(request, f"{len(marked)} studies marked verified.")
        if skipped:
            messages.warning(
                request,
                "Not changed (published; only editors change those): "
                + "; ".join(str(s) for s in skipped),
            )
        if own:
            messages.error(
                request,
                "Not verified, because you wrote or changed them "
                "(another curator must check your facts): " + "; ".join(str(s) for s in own),
            )


class ArmResultInline(PartOfEntryInlineMixin, admin.TabularInline):
    """The outcome's result in each arm of its study (responders of n, or a value)."""

    model = OutcomeArmResult
    extra = 0
    fields = ["arm", "responders", "n", "value"]
    verbose_name = "per-arm result"
    verbose_name_plural = "per-arm results"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only the arms of the outcome's own study (the model refuses any other on save).
        arms = formset.form.base_fields["arm"]
        arms.queryset = Arm.objects.filter(study=obj.study) if obj else Arm.objects.none()
        arms.label_from_instance = lambda arm: arm.label  # the study is the outcome's
        if obj is None:
            arms.help_text = "Save the outcome first: its study's arms are offered then."
        return formset


@admin.register(Outcome)
class OutcomeAdmin(PartOfEntryAdminMixin, ContentAdmin):
    parent_field = "study"
    list_display = ["study", "measure", "timepoint", "responders", "n", "value", "is_primary"]
    list_filter = ["measure", "is_primary"]
    list_select_related = ["study"]
    search_fields = ["study__label", "description", "value"]
    autocomplete_fields = ["study"]
    inlines = [ArmResultInline]
    history_children = (HistoryChild(OutcomeArmResult, "outcome", "Per-arm results"),)


@admin.register(Provenance)
class ProvenanceAdmin(PartOfEntryAdminMixin, ContentAdmin):
    parent_field = "study"
    form = ProvenanceForm
    list_display = ["study", "source", "url", "verified", "verified_by", "verified_at"]
    list_filter = ["source", "verified"]
    list_select_related = ["study"]
    search_fields = ["study__label", "url", "pmid", "note"]
    autocomplete_fields = ["study"]
    readonly_fields = ["verified_by", "verified_at"]
    date_hierarchy = "verified_at"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class NoSelfVerification(form_class):
            def clean(self):
                data = super().clean()
                study = data.get("study")
                if (
                    "verified" in self.changed_data
                    and data.get("verified")
                    and study is not None
                    and own_work(study, user)
                ):
                    raise forms.ValidationError(own_work_message(study))
                return data

        return NoSelfVerification

    def save_model(self, request, obj, form, change):
        if "verified" in form.changed_data:
            stamp_verification(obj, user=request.user)
        warn_verification_withdrawn(request, form)
        super().save_model(request, obj, form, change)


@admin.register(Trial)
class TrialAdmin(ReviewedAdminMixin, ContentAdmin):
    list_display = ["name", "key", "kind", "registry_ids", "publication_count", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "key", "note"]
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (None, {"fields": ["key", "name", "kind", "registry_ids", "registry_source_url", "note"]}),
        REVIEW_FIELDSET,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(publication_count=Count("publications"))

    @admin.display(description="publications", ordering="publication_count")
    def publication_count(self, obj):
        return obj.publication_count


@admin.register(CertaintyOverride)
class CertaintyOverrideAdmin(ReviewedAdminMixin, ContentAdmin):
    list_display = ["therapy", "subtype", "measure", "certainty", "status"]
    list_filter = ["status", "certainty", "therapy"]
    list_select_related = ["therapy", "subtype"]
    search_fields = ["therapy__name", "subtype__name", "reason"]
    autocomplete_fields = ["therapy", "subtype"]
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (
            None,
            {
                "fields": ["therapy", "subtype", "measure", "certainty", "reason"],
                "description": "Replaces the suggested certainty of a therapy x subtype cell "
                "(or one of its outcomes). Readers see the reason beside it.",
            },
        ),
        REVIEW_FIELDSET,
    ]


@admin.register(Statement)
class StatementAdmin(ReviewedAdminMixin, ContentAdmin):
    list_display = ["short_text", "therapy", "study_count", "status"]
    list_filter = ["status", "therapy"]
    list_select_related = ["therapy"]
    search_fields = ["text", "key", "therapy__name"]
    autocomplete_fields = ["therapy", "studies", "references"]
    date_hierarchy = "modified"
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (None, {"fields": ["key", "therapy", "text", "order"]}),
        ("What supports it", {"fields": ["studies", "references"]}),
        REVIEW_FIELDSET,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(study_count=Count("studies"))

    @admin.display(description="statement", ordering="text")
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 100 else obj.text[:99] + "…"

    @admin.display(description="studies", ordering="study_count")
    def study_count(self, obj):
        return obj.study_count


# -- the references and therapies admins, with what evidence holds about them ------------------
# Layout (docs/architecture.md): an admin page that joins apps is registered by the highest app
# it needs. The Reference and Therapy pages list studies and statements, which references and
# therapies do not know about, so evidence registers them: Django's documented way to extend
# another app's admin (unregister, register a subclass) leaves their classes as written.


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StudiesReportedInline(_ReadOnlyInline):
    model = Study
    fk_name = "reference"
    verbose_name = "study it reports"
    verbose_name_plural = "studies it reports"
    fields = readonly_fields = ["study_link", "design", "level", "result", "status"]

    @admin.display(description="study")
    def study_link(self, obj):
        return _change_link(obj)


class TherapyStudiesInline(_ReadOnlyInline):
    model = Study.therapies.through
    verbose_name = "study of this therapy"
    verbose_name_plural = "studies of this therapy"
    fields = readonly_fields = ["study_link", "design", "level", "result", "status"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study")

    @admin.display(description="study")
    def study_link(self, obj):
        return _change_link(obj.study)

    @admin.display(description="design")
    def design(self, obj):
        return obj.study.get_design_display()

    @admin.display(description="level")
    def level(self, obj):
        return obj.study.level if obj.study.level is not None else "not graded"

    @admin.display(description="result")
    def result(self, obj):
        return obj.study.get_result_display()

    @admin.display(description="status")
    def status(self, obj):
        return obj.study.get_status_display()


class TherapyStatementsInline(_ReadOnlyInline):
    model = Statement
    verbose_name = "statement of the review"
    verbose_name_plural = "statements of the review"
    fields = readonly_fields = ["statement_link", "status"]

    @admin.display(description="statement")
    def statement_link(self, obj):
        return _change_link(obj, obj.text)


admin.site.unregister(Reference)
admin.site.unregister(Therapy)


@admin.register(Reference)
class ReferenceWithEvidenceAdmin(ReferenceAdmin):
    """The references admin with what evidence adds: the studies a reference reports and the
    first step of the "new paper → study" path (a button to add a study from it)."""

    inlines = [*ReferenceAdmin.inlines, StudiesReportedInline]
    change_form_template = "admin/paper_path/change_form.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if not context.get("is_popup"):
            context["paper_steps"] = admin_path.steps(current=1, reference=obj)
            # Offered on the empty add form, not on the one the look-up has just filled.
            if obj is None and "lookup" not in request.GET and self.has_add_permission(request):
                context["paper_lookup_url"] = reverse("admin:references_reference_lookup")
            if self.admin_site.is_registered(Study) and request.user.has_perm("evidence.add_study"):
                # A reference the user may only view has no save buttons; the link above serves.
                if obj is None or self.has_change_permission(request, obj):
                    context["paper_next"] = (
                        admin_path.ADD_STUDY_BUTTON,
                        "Save and add a study from this reference",
                    )
                if obj is not None:
                    context["paper_add_study_url"] = admin_path.study_add_url(obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _to_study(self, request, obj, response):
        if admin_path.ADD_STUDY_BUTTON in request.POST and IS_POPUP_VAR not in request.POST:
            return HttpResponseRedirect(admin_path.study_add_url(obj.pk))
        return response

    def response_add(self, request, obj, post_url_continue=None):
        return self._to_study(request, obj, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._to_study(request, obj, super().response_change(request, obj))


@admin.register(Therapy)
class TherapyWithEvidenceAdmin(TherapyAdmin):
    inlines = [*TherapyAdmin.inlines, TherapyStudiesInline, TherapyStatementsInline]
