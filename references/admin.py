"""The curators' admin for the bibliography: references with their authors, BibTeX in and out,
RIS and PubMed in, and a new reference prefilled from its PMID or DOI."""

from __future__ import annotations

from hashlib import sha256

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin_history import ContentAdmin, HistoryChild
from core.admin_workflow import (
    REVIEW_FIELDSET,
    WORKFLOW_ACTIONS,
    PartOfEntryAdminMixin,
    PartOfEntryInlineMixin,
    ReviewedAdminMixin,
)
from core.formats import download
from references.admin_forms import (
    BibtexUploadForm,
    ConfirmImportForm,
    IdentifierLookupForm,
    ReferenceAdminForm,
)
from references.formats import WRITERS
from references.importer import ImportRefused, import_references, max_import_bytes
from references.lookup import LookupFailed, NotFound, Unavailable, lookup
from references.models import Author, Reference
from references.services import find_existing

IMPORT_SESSION_KEY = "references.bibtex_import"
# What "Add from PMID or DOI" found, waiting for the add form (?lookup=1) to show it.
LOOKUP_SESSION_KEY = "references.lookup"
LOOKUP_FIELDS = (
    "title",
    "authors_truncated",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "publisher",
    "doi",
    "pmid",
    "pmcid",
    "kind",
)


class AuthorInline(PartOfEntryInlineMixin, admin.TabularInline):
    model = Author
    extra = 0
    ordering = ["position"]
    fields = ["position", "family", "given", "is_corporate"]

    def get_extra(self, request, obj=None, **kwargs):
        # One empty row per author the PMID/DOI look-up found (prefilled by get_formset_kwargs).
        return len(_pending_lookup(request).get("authors", [])) if obj is None else 0


def _pending_lookup(request) -> dict:
    """The looked-up values for the add form, on its GET with ?lookup=1 only."""
    if request.method != "GET" or request.GET.get("lookup") != "1":
        return {}
    return request.session.get(LOOKUP_SESSION_KEY) or {}


@admin.register(Reference)
class ReferenceAdmin(ReviewedAdminMixin, ContentAdmin):
    form = ReferenceAdminForm
    list_display = [
        "number",
        "first_author",
        "year",
        "short_title",
        "journal",
        "kind",
        "identifiers",
        "status",
    ]
    list_display_links = ["number", "first_author", "short_title"]
    list_filter = ["status", "kind", "role", "authors_truncated", "year"]
    search_fields = ["title", "journal", "doi", "pmid", "pmcid", "bibtex_key", "authors__family"]
    date_hierarchy = "modified"
    list_per_page = 100
    # evidence/admin.py registers a subclass that also lists the studies a reference reports
    # (references knows nothing of evidence; the Layout rule, docs/architecture.md).
    inlines = [AuthorInline]
    history_children = (HistoryChild(Author, "reference", "Authors"),)
    actions = [*WORKFLOW_ACTIONS, "export_bibtex", "export_ris"]
    fieldsets = [
        (None, {"fields": ["number", "bibtex_key", "kind", "role"]}),
        (
            "Citation",
            {
                "fields": [
                    "title",
                    "not_a_duplicate",
                    "authors_truncated",
                    "journal",
                    "year",
                    "volume",
                    "issue",
                    "pages",
                    "publisher",
                ]
            },
        ),
        ("Identifiers", {"fields": ["doi", "pmid", "pmcid", "url", "identifier_sources"]}),
        ("Notes", {"fields": ["notes"]}),
        REVIEW_FIELDSET,
    ]

    @admin.display(description="title", ordering="title")
    def short_title(self, obj):
        return obj.title if len(obj.title) <= 90 else obj.title[:89] + "…"

    @admin.display(description="PMID / DOI")
    def identifiers(self, obj):
        return " · ".join(filter(None, [obj.pmid, obj.doi])) or "—"

    def get_changeform_initial_data(self, request):
        pending = _pending_lookup(request)
        if pending:
            return {name: pending[name] for name in LOOKUP_FIELDS if pending.get(name)}
        return super().get_changeform_initial_data(request)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        pending = _pending_lookup(request)
        if isinstance(inline, AuthorInline) and pending.get("authors"):
            kwargs["initial"] = [
                {"position": position, **author}
                for position, author in enumerate(pending["authors"], start=1)
            ]
        return kwargs

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.refresh_first_author()

    def restore_children(self, obj, version, *, user):
        super().restore_children(obj, version, user=user)
        obj.refresh_first_author()

    # -- export ------------------------------------------------------------------------------

    @admin.action(description="Export selected as BibTeX", permissions=["view"])
    def export_bibtex(self, request, queryset):
        return self._export(queryset, "bibtex")

    @admin.action(description="Export selected as RIS", permissions=["view"])
    def export_ris(self, request, queryset):
        return self._export(queryset, "ris")

    def _export(self, queryset, fmt: str) -> HttpResponse:
        references = queryset.with_authors().order_by(
            F("number").asc(nulls_last=True), "bibtex_key"
        )
        return download(WRITERS[fmt](references), fmt, "references", stream=False)

    # -- import ------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="references_reference_import",
            ),
            path(
                "lookup/",
                self.admin_site.admin_view(self.lookup_view),
                name="references_reference_lookup",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload → preview (a dry run) → confirm. The file waits in the session meanwhile."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Import references (BibTeX, RIS, PubMed)",
            "opts": self.model._meta,
            "max_bytes": max_import_bytes(),
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_import(request, context)
        form = BibtexUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["file"]
            name = request.FILES["file"].name
            fmt = form.cleaned_data["format"] or None
            try:
                context["report"] = import_references(
                    text=text, fmt=fmt, name=name, user=request.user, dry_run=True
                )
            except ImportRefused as exc:
                context["problems"] = exc.problems
            else:
                digest = sha256(text.encode("utf-8")).hexdigest()
                # The format read in the preview, so the import reads the file the same way.
                request.session[IMPORT_SESSION_KEY] = {
                    "digest": digest,
                    "text": text,
                    "name": name,
                    "format": context["report"].format,
                }
                context["confirm_form"] = ConfirmImportForm(initial={"digest": digest})
                context["file_name"] = request.FILES["file"].name
        context["form"] = form
        return TemplateResponse(request, "admin/references/reference/import_form.html", context)

    def lookup_view(self, request):
        """A PMID or DOI → the add form prefilled from PubMed or Crossref (nothing saved)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IdentifierLookupForm(request.POST or None)
        add_url = reverse("admin:references_reference_add")
        if request.method == "POST" and form.is_valid():
            try:
                parsed, service = lookup(form.cleaned_data["identifier"])
            except Unavailable as exc:
                # No network (or the service is down): say so, and let the curator type.
                request.session.pop(LOOKUP_SESSION_KEY, None)
                messages.warning(request, str(exc))
                return HttpResponseRedirect(add_url)
            except (NotFound, LookupFailed) as exc:
                form.add_error("identifier", str(exc))
            else:
                values = {name: getattr(parsed, name) for name in LOOKUP_FIELDS}
                values["authors"] = [
                    {"family": a.family, "given": a.given, "is_corporate": a.is_corporate}
                    for a in parsed.authors
                ]
                request.session[LOOKUP_SESSION_KEY] = values
                existing = find_existing(parsed)
                if existing is not None:
                    url = reverse("admin:references_reference_change", args=[existing.pk])
                    messages.warning(
                        request,
                        format_html(
                            "This looks like a stored reference: {}. Saving the form below will "
                            "be refused if its DOI or PMID is the same.",
                            format_html('<a href="{}">{}</a>', url, existing),
                        ),
                    )
                messages.info(
                    request,
                    f"Filled in from {service}: check every field and the "
                    "authors, then save. Nothing is saved until you do.",
                )
                return HttpResponseRedirect(f"{add_url}?lookup=1")
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a reference from its PMID or DOI",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/references/reference/lookup_form.html", context)

    def _confirm_import(self, request, context):
        pending = request.session.get(IMPORT_SESSION_KEY)
        form = ConfirmImportForm(request.POST)
        if not pending or not form.is_valid() or form.cleaned_data["digest"] != pending["digest"]:
            messages.error(
                request,
                "This preview is no longer current (another file was "
                "previewed, or it was imported already). Upload the file "
                "again.",
            )
            return HttpResponseRedirect(reverse("admin:references_reference_import"))
        try:
            report = import_references(
                text=pending["text"],
                fmt=pending.get("format"),
                name=pending["name"],
                user=request.user,
            )
        except ImportRefused as exc:
            # The stored references changed since the preview in a way that now conflicts.
            context.update(problems=exc.problems, form=BibtexUploadForm())
            return TemplateResponse(request, "admin/references/reference/import_form.html", context)
        del request.session[IMPORT_SESSION_KEY]
        messages.success(request, f"Imported {pending['name']}: {report.summary()}")
        context.update(
            report=report, imported=True, file_name=pending["name"], form=BibtexUploadForm()
        )
        return TemplateResponse(request, "admin/references/reference/import_form.html", context)


@admin.register(Author)
class AuthorAdmin(PartOfEntryAdminMixin, ContentAdmin):
    parent_field = "reference"
    list_display = ["family", "given", "is_corporate", "reference_link", "position"]
    list_filter = ["is_corporate"]
    search_fields = ["family", "given", "reference__title"]
    autocomplete_fields = ["reference"]
    list_select_related = ["reference"]

    @admin.display(description="reference", ordering="reference__number")
    def reference_link(self, obj):
        url = reverse("admin:references_reference_change", args=[obj.reference_id])
        return format_html('<a href="{}">{}</a>', url, obj.reference)
