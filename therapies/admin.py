"""The curators' admin for drug classes, therapies and their mechanistic rationale."""

from django.contrib import admin
from django.db.models import Count

from core.admin_history import ContentAdmin, HistoryChild
from core.admin_workflow import (
    REVIEW_FIELDSET,
    WORKFLOW_ACTIONS,
    PartOfEntryAdminMixin,
    PartOfEntryInlineMixin,
    ReviewedAdminMixin,
)
from therapies.models import DrugClass, Therapy, TherapyRationale


@admin.register(DrugClass)
class DrugClassAdmin(ReviewedAdminMixin, ContentAdmin):
    # No list_editable: a changelist edit would change published classes without review.
    list_display = ["name", "slug", "order", "therapy_count", "status"]
    list_filter = ["status"]
    search_fields = ["name", "mechanism"]
    prepopulated_fields = {"slug": ["name"]}
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (None, {"fields": ["name", "slug", "order", "mechanism"]}),
        REVIEW_FIELDSET,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(therapy_count=Count("therapies"))

    @admin.display(description="therapies", ordering="therapy_count")
    def therapy_count(self, obj):
        return obj.therapy_count


class TherapyRationaleInline(PartOfEntryInlineMixin, admin.TabularInline):
    model = TherapyRationale
    extra = 0
    autocomplete_fields = ["reference"]
    fields = ["reference", "pathway", "note"]


@admin.register(Therapy)
class TherapyAdmin(ReviewedAdminMixin, ContentAdmin):
    list_display = ["name", "drug_class", "position", "secondary_position", "route", "status"]
    list_filter = ["status", "drug_class", "position", "secondary_position", "route"]
    list_select_related = ["drug_class"]
    search_fields = ["name", "synonyms", "brand_names", "mechanism"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["drug_class"]
    date_hierarchy = "modified"
    # evidence/admin.py registers a subclass that also lists the studies and statements about
    # a therapy (the Layout rule, docs/architecture.md).
    inlines = [TherapyRationaleInline]
    history_children = (HistoryChild(TherapyRationale, "therapy", "Mechanistic rationale"),)
    actions = [*WORKFLOW_ACTIONS]
    fieldsets = [
        (None, {"fields": ["name", "slug", "drug_class", "route"]}),
        ("Names people search for", {"fields": ["synonyms", "brand_names"]}),
        (
            "The review's view",
            {"fields": ["position", "secondary_position", "review_summary", "mechanism"]},
        ),
        REVIEW_FIELDSET,
    ]


@admin.register(TherapyRationale)
class TherapyRationaleAdmin(PartOfEntryAdminMixin, ContentAdmin):
    parent_field = "therapy"
    list_display = ["therapy", "reference", "pathway"]
    list_filter = ["therapy"]
    list_select_related = ["therapy", "reference"]
    search_fields = ["pathway", "note", "therapy__name", "reference__title"]
    autocomplete_fields = ["therapy", "reference"]
