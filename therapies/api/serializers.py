"""How therapies and drug classes look in the API, and how curators write therapies."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import ContextCountField, page_url
from core.api.serializers import WriteSerializer
from therapies.models import DrugClass, Therapy, split_terms

TERMS_HELP = "A list of terms (stored comma-separated; searchable)."


class TermsField(serializers.ListField):
    """Comma-separated model text as a list of terms."""

    child = serializers.CharField(max_length=120)

    def to_representation(self, value):
        return split_terms(value)

    def to_internal_value(self, data):
        terms = super().to_internal_value(data)
        if any("," in term for term in terms):
            raise serializers.ValidationError("A term cannot contain a comma.")
        return ", ".join(term.strip() for term in terms if term.strip())


class DrugClassSerializer(serializers.ModelSerializer):
    """A class of drugs defined by mechanism."""

    therapies = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="slug",
        help_text="Slugs of the therapies in the class (those you may see).",
    )

    class Meta:
        model = DrugClass
        fields = ["slug", "name", "mechanism", "order", "therapies", "modified"]


class TherapySerializer(serializers.ModelSerializer):
    """A treatment the review discusses, with its position."""

    drug_class = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the drug class."
    )
    drug_class_name = serializers.CharField(source="drug_class.name", read_only=True)
    synonyms = TermsField(read_only=True, help_text="Other names and abbreviations.")
    brand_names = TermsField(read_only=True, help_text="Brand names.")
    study_count = ContextCountField(
        "study_counts", help_text="Studies of this therapy that you may see."
    )
    page_url = serializers.SerializerMethodField(help_text="The therapy's page on the site.")

    class Meta:
        model = Therapy
        fields = [
            "slug",
            "name",
            "drug_class",
            "drug_class_name",
            "mechanism",
            "synonyms",
            "brand_names",
            "route",
            "position",
            "secondary_position",
            "review_summary",
            "study_count",
            "status",
            "modified",
            "page_url",
        ]

    def get_page_url(self, therapy) -> str:
        return page_url(self, therapy)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class WritableTermsField(TermsField):
    pass


class TherapyWriteSerializer(WriteSerializer):
    """A therapy as curators send it; validated here, saved by the viewset through
    ``therapies.services.create_therapy``/``update_therapy``."""

    drug_class = serializers.SlugRelatedField(slug_field="slug", queryset=DrugClass.objects.all())
    synonyms = WritableTermsField(required=False, help_text=TERMS_HELP)
    brand_names = WritableTermsField(required=False, help_text=TERMS_HELP)

    class Meta:
        model = Therapy
        fields = [
            "slug",
            "name",
            "drug_class",
            "mechanism",
            "synonyms",
            "brand_names",
            "route",
            "position",
            "secondary_position",
            "review_summary",
        ]

    def validate_slug(self, value):
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("The slug of an existing therapy cannot change.")
        return value
