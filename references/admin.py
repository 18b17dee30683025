from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from references.models import Author, Reference


class AuthorInline(admin.TabularInline):
    model = Author
    extra = 0
    ordering = ["position"]


@admin.register(Reference)
class ReferenceAdmin(SimpleHistoryAdmin):
    list_display = ["number", "first_author", "year", "title", "journal", "pmid", "doi", "status"]
    list_filter = ["status", "kind", "role", "year"]
    search_fields = ["title", "journal", "doi", "pmid", "bibtex_key", "authors__family"]
    inlines = [AuthorInline]


@admin.register(Author)
class AuthorAdmin(SimpleHistoryAdmin):
    list_display = ["family", "given", "is_corporate", "reference", "position"]
    search_fields = ["family", "given"]
