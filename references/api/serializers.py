"""How references look in the API, and how curators write them."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import page_url
from core.api.serializers import WriteSerializer
from references.models import Author, Reference


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["family", "given", "is_corporate"]
        extra_kwargs = {"given": {"help_text": "Given names or initials ('Chester V' or 'CV')."}}


class ReferenceSerializer(serializers.ModelSerializer):
    """A work in the bibliography."""

    authors = serializers.SerializerMethodField(
        help_text="Authors in order, as display names (Vancouver order: 'Oddis CV'); a group "
        "keeps its name.",
    )
    author_details = serializers.SerializerMethodField(
        help_text="The same authors with family and given names apart.",
    )
    citation = serializers.CharField(
        read_only=True, help_text="The reference formatted in Vancouver style."
    )
    page_url = serializers.SerializerMethodField(help_text="The reference's page on the site.")

    class Meta:
        model = Reference
        fields = [
            "id",
            "number",
            "authors",
            "author_details",
            "authors_truncated",
            "year",
            "title",
            "journal",
            "volume",
            "issue",
            "pages",
            "publisher",
            "doi",
            "pmid",
            "pmcid",
            "kind",
            "role",
            "url",
            "bibtex_key",
            "citation",
            "status",
            "modified",
            "page_url",
        ]
        extra_kwargs = {
            "id": {"help_text": "Stable identifier of the record in this API."},
            "pmid": {"help_text": "PubMed identifier (digits only)."},
            "pmcid": {"help_text": "PubMed Central identifier (PMC followed by digits)."},
            "url": {"help_text": "Where the work can be read, when it has no DOI/PMID link."},
            "modified": {"help_text": "When the record last changed (basis of its ETag)."},
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_authors(self, reference) -> list[str]:
        return [author.display_name for author in reference.ordered_authors]

    @extend_schema_field(AuthorSerializer(many=True))
    def get_author_details(self, reference):
        return AuthorSerializer(reference.ordered_authors, many=True).data

    def get_page_url(self, reference) -> str:
        return page_url(self, reference)


class ReferenceSummarySerializer(serializers.ModelSerializer):
    """The reference as nested in a study."""

    class Meta:
        model = Reference
        fields = ["id", "number", "title", "year", "pmid", "doi"]


class ReferenceWriteSerializer(WriteSerializer):
    """A reference as curators send it; validated here, saved by the viewset through
    ``references.services.create_reference``/``update_reference``
    (``full_clean`` included: a duplicate DOI, PMID or number is a 400)."""

    author_details = AuthorSerializer(many=True, required=False, help_text="Authors in order.")

    class Meta:
        model = Reference
        fields = [
            "number",
            "author_details",
            "authors_truncated",
            "year",
            "title",
            "journal",
            "volume",
            "issue",
            "pages",
            "publisher",
            "doi",
            "pmid",
            "pmcid",
            "kind",
            "role",
            "url",
            "bibtex_key",
            "notes",
        ]
        extra_kwargs = {
            "bibtex_key": {
                "required": False,
                "help_text": "Made from author, year and title if left out.",
            }
        }
        # Conditional unique constraints are checked by the model's full_clean in the service.
        validators = []

    def to_representation(self, instance):
        return ReferenceSerializer(instance, context=self.context).data
