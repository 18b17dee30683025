"""Releases in the admin: read only (they are made with ``manage.py make_release``)."""

from django.contrib import admin

from releases.models import Release, ReleaseArtefact


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ArtefactInline(admin.TabularInline):
    model = ReleaseArtefact
    fields = ("name", "media_type", "sha256", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ("version", "created_at", "evidence_cutoff")
    fields = ("version", "created_at", "evidence_cutoff", "counts", "notes")
    readonly_fields = fields
    inlines = [ArtefactInline]


@admin.register(ReleaseArtefact)
class ReleaseArtefactAdmin(ReadOnlyAdmin):
    list_display = ("release", "name", "media_type", "size", "sha256")
    fields = ("release", "name", "media_type", "size", "sha256")
    readonly_fields = fields
