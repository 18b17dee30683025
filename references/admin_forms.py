"""Forms of the references admin: duplicate warnings on the reference form, the upload of a
BibTeX, RIS or PubMed file, the PMID/DOI look-up."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from references.importer import ImportRefused, check_size, decode_import_bytes
from references.models import Reference
from references.readers import FORMAT_LABELS
from references.validators import normalise_doi, normalise_title


def _link(reference: Reference):
    url = reverse("admin:references_reference_change", args=[reference.pk])
    return format_html('<a href="{}">{}</a>', url, reference)


class ReferenceAdminForm(forms.ModelForm):
    """Refuses a DOI or PMID already stored and warns about a same title and year.

    The database constraints refuse duplicate identifiers too; here the curator also gets a
    link to the reference that already has them. Two works can share a title and year (a
    reprint, an erratum), so that is a warning the curator can overrule.
    """

    not_a_duplicate = forms.BooleanField(
        label="Not a duplicate",
        required=False,
        help_text="Tick to save although another reference has the same title and year.",
    )

    class Meta:
        model = Reference
        # The fields this form checks; the admin adds the rest from its fieldsets.
        fields = ["title", "year", "doi", "pmid"]

    def _others(self):
        others = Reference.objects.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        return others

    def clean(self):
        data = super().clean()
        doi = normalise_doi(data.get("doi") or "")
        if doi and "doi" not in self.errors:
            match = self._others().filter(doi__iexact=doi).first()
            if match:
                self.add_error(
                    "doi", format_html("Another reference already has this DOI: {}.", _link(match))
                )
        pmid = (data.get("pmid") or "").strip()
        if pmid and "pmid" not in self.errors:
            match = self._others().filter(pmid=pmid).first()
            if match:
                self.add_error(
                    "pmid",
                    format_html("Another reference already has this PMID: {}.", _link(match)),
                )
        title = normalise_title(data.get("title") or "")[:500]
        if title and not data.get("not_a_duplicate"):
            match = self._others().filter(title_normalised=title, year=data.get("year")).first()
            if match:
                self.add_error(
                    "title",
                    format_html(
                        "A reference with the same title and year exists: {}. If this is a "
                        "different work, tick “Not a duplicate” and save again.",
                        _link(match),
                    ),
                )
        return data


class BibtexUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A BibTeX (.bib), RIS (.ris: Zotero, EndNote, Mendeley, Web of Science) or "
        "PubMed (.nbib: “Send to: Citation manager”) file in UTF-8. Entries matching "
        "a stored reference (by DOI, PMID, then title and year) update it; the others "
        "are added as drafts.",
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        initial="",
        choices=[("", "Detect from the file"), *FORMAT_LABELS.items()],
    )

    def clean_file(self) -> str:
        """The file's text (size-checked before it is read)."""
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size, name=f"“{upload.name}”")
            return decode_import_bytes(upload.read(), name=f"“{upload.name}”")
        except ImportRefused as exc:
            raise forms.ValidationError(exc.problems) from None


class ConfirmImportForm(forms.Form):
    digest = forms.CharField(widget=forms.HiddenInput)


class IdentifierLookupForm(forms.Form):
    identifier = forms.CharField(
        label="PMID or DOI",
        max_length=300,
        help_text="Such as 23124935, or 10.1002/art.37754 (a https://doi.org/ link works too).",
    )

    def clean_identifier(self) -> str:
        from references.lookup import InvalidIdentifier, parse_identifier

        try:
            parse_identifier(self.cleaned_data["identifier"])
        except InvalidIdentifier as exc:
            raise forms.ValidationError(str(exc)) from None
        return self.cleaned_data["identifier"]
