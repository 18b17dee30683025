from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from evidence.models import DiseaseSubtype, Outcome, Provenance, Statement, Study


@admin.register(DiseaseSubtype)
class DiseaseSubtypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "abbreviation", "order"]
    search_fields = ["name", "code", "abbreviation", "synonyms"]
    prepopulated_fields = {"slug": ["name"]}


class OutcomeInline(admin.TabularInline):
    model = Outcome
    extra = 0


class ProvenanceInline(admin.TabularInline):
    model = Provenance
    extra = 0


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin):
    list_display = ["label", "reference", "design", "sample_size", "result", "level", "status"]
    list_filter = ["status", "design", "result", "level", "age_group", "therapies", "subtypes"]
    search_fields = ["label", "summary", "reference__title", "key"]
    filter_horizontal = ["therapies", "subtypes"]
    raw_id_fields = ["reference"]
    inlines = [OutcomeInline, ProvenanceInline]


@admin.register(Outcome)
class OutcomeAdmin(SimpleHistoryAdmin):
    list_display = ["study", "measure", "timepoint", "responders", "n", "value", "is_primary"]
    list_filter = ["measure", "is_primary"]


@admin.register(Provenance)
class ProvenanceAdmin(SimpleHistoryAdmin):
    list_display = ["study", "source", "url", "verified"]
    list_filter = ["source", "verified"]


@admin.register(Statement)
class StatementAdmin(SimpleHistoryAdmin):
    list_display = ["therapy", "text", "status"]
    list_filter = ["status", "therapy"]
    filter_horizontal = ["studies", "references"]
