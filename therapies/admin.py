from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from therapies.models import DrugClass, Therapy, TherapyRationale


@admin.register(DrugClass)
class DrugClassAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "order"]
    search_fields = ["name", "mechanism"]
    prepopulated_fields = {"slug": ["name"]}


class TherapyRationaleInline(admin.TabularInline):
    model = TherapyRationale
    extra = 0
    raw_id_fields = ["reference"]


@admin.register(Therapy)
class TherapyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "drug_class", "position", "secondary_position", "status"]
    list_filter = ["status", "drug_class", "position"]
    search_fields = ["name", "synonyms", "brand_names"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TherapyRationaleInline]


@admin.register(TherapyRationale)
class TherapyRationaleAdmin(SimpleHistoryAdmin):
    list_display = ["therapy", "reference", "pathway"]
    raw_id_fields = ["reference"]
