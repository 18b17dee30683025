"""How subtypes, designs, studies, outcomes, statements, the matrix and search results look in
the API, and how curators write studies and statements."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api.fields import ContextCountField, VisiblePrimaryKeyRelatedField, page_url
from core.api.serializers import WriteSerializer
from core.workflow import is_curator
from evidence.api import representations
from evidence.api.representations import PUBLIC_VERIFIER
from evidence.choices import (
    ArmRole,
    Certainty,
    CertaintyReason,
    DataAvailability,
    Direction,
    EvidenceLevel,
    PublicationRole,
    ResultDirection,
    StudyDesign,
    TrialKind,
)
from evidence.models import Arm, DiseaseSubtype, Outcome, Provenance, Statement, Study, Trial
from evidence.services.studies import (
    OUTCOME_FIELDS,
    PROVENANCE_FIELDS,
    STUDY_FIELDS,
)
from references.api.serializers import ReferenceSummarySerializer
from references.choices import ReferenceRole
from references.models import Reference
from therapies.api.serializers import TermsField
from therapies.models import Therapy

SUBTYPES_HELP = "Disease subtype codes (dm, jdm, ibm, imnm, anti-srp, ...)."
THERAPIES_HELP = "Therapy slugs (rituximab, ivig, ...)."


class SubtypeSerializer(serializers.ModelSerializer):
    """A clinical or antibody-defined form of myositis."""

    synonyms = TermsField(read_only=True, help_text="Other names (searchable).")
    study_count = ContextCountField("study_counts", help_text="Studies you may see that cover it.")
    page_url = serializers.SerializerMethodField(help_text="The subtype's page on the site.")

    class Meta:
        model = DiseaseSubtype
        fields = [
            "code",
            "slug",
            "name",
            "abbreviation",
            "synonyms",
            "description",
            "order",
            "study_count",
            "modified",
            "page_url",
        ]

    def get_page_url(self, subtype) -> str:
        return page_url(self, subtype)


class DesignSerializer(serializers.Serializer):
    """A study design and the level of evidence it suggests (Oxford CEBM 2011)."""

    code = serializers.ChoiceField(choices=StudyDesign.choices, help_text="Stable code.")
    label = serializers.CharField()
    suggested_level = serializers.ChoiceField(
        choices=EvidenceLevel.choices,
        allow_null=True,
        help_text="The level a study of this design starts at; null: not graded "
        "(guidelines and consensus statements are not primary evidence).",
    )
    randomised = serializers.BooleanField()
    study_count = serializers.IntegerField(help_text="Studies of this design you may see.")


class StudyCountsSerializer(serializers.Serializer):
    """How many studies the filters select, and how they divide up."""

    count = serializers.IntegerField(help_text="Studies selected by the filters.")
    design = serializers.DictField(
        child=serializers.IntegerField(), help_text="Studies per design code."
    )
    result = serializers.DictField(
        child=serializers.IntegerField(), help_text="Studies per result code."
    )
    level = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Studies per level of evidence ('none': not graded).",
    )
    age_group = serializers.DictField(
        child=serializers.IntegerField(), help_text="Studies per age group ('' : not stated)."
    )
    therapy = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Studies per therapy slug (a study may test several).",
    )
    subtype = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Studies per subtype code (a study may cover several).",
    )


class OutcomeSerializer(serializers.ModelSerializer):
    """A measured result of a study at a time point."""

    display_value = serializers.CharField(
        read_only=True, help_text="'responders/n (percent); value', as the site shows it."
    )

    class Meta:
        model = Outcome
        fields = [
            "id",
            "study",
            "measure",
            "description",
            "timepoint",
            "responders",
            "n",
            "value",
            "is_primary",
            "display_value",
            "modified",
        ]
        extra_kwargs = {"study": {"help_text": "Id of the study."}}


class NestedOutcomeSerializer(OutcomeSerializer):
    class Meta(OutcomeSerializer.Meta):
        fields = [f for f in OutcomeSerializer.Meta.fields if f not in ("study", "modified")]


class ProvenanceSerializer(serializers.ModelSerializer):
    """Where facts of a study came from and whether a curator verified them."""

    verified_by = serializers.SerializerMethodField(
        help_text="Who verified the facts: the curator's login name for staff, "
        f'"{PUBLIC_VERIFIER}" for everyone else (staff names are not published); '
        "empty when not verified."
    )

    class Meta:
        model = Provenance
        fields = [
            "source",
            "url",
            "pmid",
            "facts",
            "note",
            "verified",
            "verified_by",
            "verified_at",
        ]

    def get_verified_by(self, provenance) -> str:
        if not provenance.verified_by:
            return ""
        request = self.context.get("request")
        if request is not None and is_curator(request.user):
            return provenance.verified_by
        return PUBLIC_VERIFIER


def _codes(choices) -> str:
    return "; ".join(f"`{code}`: {label}" for code, label in choices.choices if code)


class ArmSerializer(serializers.ModelSerializer):
    """One arm of a study, the regimen as the record states it."""

    therapy = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="Therapy slug; null for placebo or sham.",
    )
    role = serializers.ChoiceField(
        choices=ArmRole.choices,
        help_text=(
            "What the therapy is in this study. Only a tested therapy is rated: " + _codes(ArmRole)
        ),
    )

    class Meta:
        model = Arm
        fields = ["label", "therapy", "role", "dose", "route", "schedule", "duration", "n"]
        extra_kwargs = {"n": {"help_text": "Patients in the arm; null when not stated."}}


class StudyListSerializer(serializers.ListSerializer):
    """Many studies: their outcomes, provenance, arms and links read as plain values, one
    query per relation for the whole page (evidence.api.representations.studies)."""

    def to_representation(self, data):
        rows = data.all() if hasattr(data, "all") else data
        return representations.studies(rows, request=self.child.context.get("request"))


class StudySerializer(serializers.ModelSerializer):
    """One study reported by a reference: what was tested, in whom, how, what it found."""

    trial = serializers.SlugRelatedField(
        slug_field="key",
        read_only=True,
        allow_null=True,
        help_text="Key of the trial or cohort whose patients this publication reports "
        "(/api/v1/trials/); null when it stands alone. A trial's patients count once.",
    )
    publication_role = serializers.ChoiceField(
        choices=PublicationRole.choices,
        read_only=True,
        help_text="What the publication is to its trial: " + _codes(PublicationRole),
    )
    data_availability = serializers.ChoiceField(
        choices=DataAvailability.choices,
        read_only=True,
        help_text="The best record of the results a curator saw: " + _codes(DataAvailability),
    )
    has_result_data = serializers.BooleanField(
        read_only=True, help_text="False: listed, but it sets no certainty, direction or level."
    )
    safety_signal = serializers.BooleanField(
        read_only=True,
        help_text="The study reports the drug inducing or worsening myositis "
        "(counted apart from efficacy).",
    )
    arms = ArmSerializer(many=True, read_only=True)
    subtype_counts = serializers.SerializerMethodField(
        help_text="Patients per subtype code, where the record reports the split."
    )

    reference = ReferenceSummarySerializer(read_only=True)
    therapies = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug", help_text=THERAPIES_HELP
    )
    subtypes = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code", help_text=SUBTYPES_HELP
    )
    level_reason = serializers.CharField(read_only=True, help_text="Why the study has its level.")
    outcomes = NestedOutcomeSerializer(many=True, read_only=True)
    provenance = ProvenanceSerializer(many=True, read_only=True)
    page_url = serializers.SerializerMethodField(help_text="The study's page on the site.")

    class Meta:
        model = Study
        list_serializer_class = StudyListSerializer
        fields = [
            "id",
            "key",
            "label",
            "reference",
            "therapies",
            "subtypes",
            "design",
            "phase",
            "blinding",
            "comparator",
            "sample_size",
            "age_group",
            "refractory",
            "primary_endpoint",
            "primary_endpoint_met",
            "result",
            "level",
            "level_reason",
            "level_override",
            "level_override_reason",
            "summary",
            "adverse_events",
            "follow_up",
            "outcomes",
            "provenance",
            "verified",
            "status",
            "modified",
            "page_url",
            "trial",
            "publication_role",
            "data_availability",
            "has_result_data",
            "safety_signal",
            "arms",
            "subtype_counts",
        ]
        extra_kwargs = {
            "id": {"help_text": "Stable identifier of the study in this API and on the site."},
            "sample_size": {
                "help_text": "Number of patients; null when the record does not state it."
            },
            "refractory": {
                "help_text": "Refractory population: true, false, or null (not stated)."
            },
            "level": {
                "help_text": "Level of evidence (Oxford CEBM 2011, 1 = strongest): the "
                "curator's override if given, else suggested by the design; "
                "null for guidelines (not graded)."
            },
        }

    def get_page_url(self, study) -> str:
        return page_url(self, study)

    def get_subtype_counts(self, study) -> dict[str, int]:
        return {c.subtype.code: c.n for c in study.subtype_counts.all()}

    def to_representation(self, instance):
        # The fields above, written out without DRF's per-field walk (a third of the study
        # list's time); tests/evidence/test_api_representation.py holds the two equal.
        return representations.study(instance, request=self.context.get("request"))


class TrialSerializer(serializers.ModelSerializer):
    """A trial or cohort: the patients that several publications report on (counted once)."""

    kind = serializers.ChoiceField(choices=TrialKind.choices, help_text=_codes(TrialKind))
    registry_ids = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Registry identifiers a public record shows for this trial (ClinicalTrials.gov "
        "NCT + 8 digits, ISRCTN, EudraCT, UMIN, JPRN).",
    )
    registry_urls = serializers.SerializerMethodField(
        help_text="The registry page of each id, in the same order."
    )
    studies = serializers.SerializerMethodField(
        help_text="Ids of its publications (studies) you may see."
    )

    class Meta:
        model = Trial
        fields = [
            "key",
            "name",
            "kind",
            "registry_ids",
            "registry_urls",
            "registry_source_url",
            "note",
            "studies",
            "status",
            "modified",
        ]

    def get_registry_urls(self, trial) -> list[str]:
        return [url for _, url in trial.registry_links]

    def get_studies(self, trial) -> list[int]:
        return sorted(s.pk for s in trial.publications.all())


class OutcomeWriteSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        required=False,
        help_text="The outcome this row changes (as shown); a row without one is kept if "
        "identical to a stored outcome, else changes the next one in order or is added. "
        "Send it for an outcome with per-arm results: they stay with their outcome.",
    )

    class Meta:
        model = Outcome
        fields = ["id", *OUTCOME_FIELDS]
        validators = []  # checked by full_clean in the service


class ProvenanceWriteSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        required=False,
        help_text="The provenance record this row changes (as shown); a row without one is "
        "kept if identical to a stored record. A record whose content changes loses its "
        "verification.",
    )

    class Meta:
        model = Provenance
        fields = ["id", *PROVENANCE_FIELDS]


class StudyWriteSerializer(WriteSerializer):
    """A study as curators send it; validated here, saved by the viewset through
    ``evidence.services.studies.create_study``/``update_study`` (with ``full_clean``).
    Outcomes and provenance, when given, replace the study's rows in order (an outcome row
    may name the outcome it changes by ``id``: evidence.services.studies._sync_outcomes)."""

    key = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="Stable key; made from the reference number and label when left out.",
    )
    reference = serializers.PrimaryKeyRelatedField(
        queryset=Reference.objects.all(), help_text="Id of the reference reporting the study."
    )
    therapies = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=Therapy.objects.all(), help_text=THERAPIES_HELP
    )
    subtypes = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=DiseaseSubtype.objects.all(),
        help_text=SUBTYPES_HELP,
    )
    outcomes = OutcomeWriteSerializer(many=True, required=False)
    provenance = ProvenanceWriteSerializer(many=True, required=False)

    class Meta:
        model = Study
        fields = [
            "key",
            "reference",
            "therapies",
            "subtypes",
            *STUDY_FIELDS,
            "outcomes",
            "provenance",
        ]
        validators = []

    def validate_key(self, value):
        if self.instance is not None and value != self.instance.key:
            raise serializers.ValidationError("The key of an existing study cannot change.")
        if self.instance is None and Study.objects.filter(key=value).exists():
            raise serializers.ValidationError("Another study already has this key.")
        return value

    def validate(self, attrs):
        for name in ("therapies", "subtypes"):
            if name in attrs and not attrs[name]:
                raise serializers.ValidationError({name: ["Give at least one."]})
        return attrs


class StatementSerializer(serializers.ModelSerializer):
    """A summary claim of the review about a therapy, with the studies and references that
    support it (those you may see)."""

    therapy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    studies = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of supporting studies."
    )
    references = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of supporting references."
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "key",
            "therapy",
            "text",
            "studies",
            "references",
            "order",
            "status",
            "modified",
        ]


class StatementWriteSerializer(WriteSerializer):
    """A statement as curators send it; validated here, saved by the viewset through
    ``create_statement``/``update_statement``."""

    key = serializers.SlugField(max_length=80)
    therapy = serializers.SlugRelatedField(slug_field="slug", queryset=Therapy.objects.all())
    # Only what the writer may see: the read side shows a statement's links through
    # ``restrict`` too, and the viewset keeps the ones it did not show (with_hidden_links).
    studies = VisiblePrimaryKeyRelatedField(many=True, queryset=Study.objects.all(), required=False)
    references = VisiblePrimaryKeyRelatedField(
        many=True,
        # The review's numbered references, and the review itself (which the corpus's
        # statements cite: a GET sent back must be accepted).
        queryset=Reference.objects.filter(
            Q(number__isnull=False) | Q(role=ReferenceRole.SOURCE_REVIEW)
        ),
        required=False,
        help_text="Ids of supporting references (numbered references of the review, or the "
        "review itself).",
    )

    class Meta:
        model = Statement
        fields = ["key", "therapy", "text", "studies", "references", "order"]
        validators = []

    def validate_key(self, value):
        if self.instance is not None and value != self.instance.key:
            raise serializers.ValidationError("The key of an existing statement cannot change.")
        if self.instance is None and Statement.objects.filter(key=value).exists():
            raise serializers.ValidationError("Another statement already has this key.")
        return value

    def validate(self, attrs):
        def pick(name):
            if name in attrs:
                return attrs[name]
            return list(getattr(self.instance, name).all()) if self.instance else []

        if not pick("studies") and not pick("references"):
            raise serializers.ValidationError(
                {"non_field_errors": ["Link at least one study or reference."]}
            )
        return attrs


class ResultCountsSerializer(serializers.Serializer):
    """How many studies found each result (codes of ResultDirection)."""

    def get_fields(self):
        return {
            code: serializers.IntegerField(required=False, help_text=label)
            for code, label in ResultDirection.choices
        }


class CertaintyReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=CertaintyReason.choices, help_text=_codes(CertaintyReason)
    )
    text = serializers.CharField(help_text="The reason in words, for the reader.")


class SynthesisFieldsSerializer(serializers.Serializer):
    """The synthesis of a body of evidence (evidence.synthesis)."""

    certainty = serializers.ChoiceField(
        choices=Certainty.choices,
        help_text="Certainty of the body of evidence (GRADE approach; a curator's override "
        "where one is given): " + _codes(Certainty),
    )
    suggested_certainty = serializers.ChoiceField(
        choices=Certainty.choices, help_text="What the rules suggest, before any override."
    )
    certainty_overridden = serializers.BooleanField(help_text="A curator set the certainty.")
    certainty_reasons = CertaintyReasonSerializer(
        many=True,
        help_text="Every reason: where the rating started, each step down, what "
        "was left out, and a curator's override with its reason.",
    )
    direction = serializers.ChoiceField(
        choices=Direction.choices,
        help_text="Direction of effect from the best design with result data (efficacy "
        "only; safety signals apart): " + _codes(Direction),
    )
    trials = serializers.IntegerField(
        help_text="Trials or patient groups (publications of one trial count once)."
    )
    patients = serializers.IntegerField(
        allow_null=True,
        help_text="Patients, each trial counted once (its largest "
        "publication, or its count of this subtype where reported); "
        "null when no study gives a number.",
    )
    patients_mixed_population = serializers.BooleanField(
        help_text="True when some of these patients come from studies of several subtypes "
        "whose split is not reported (their whole number is included)."
    )
    safety_signals = serializers.IntegerField(
        help_text="Studies reporting the drug inducing or worsening myositis."
    )
    key_studies = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the studies the certainty and direction rest on (best design with "
        "result data, strongest first).",
    )
    studies_without_result_data = serializers.IntegerField(
        help_text="Studies listed but not rated (title only, or no result seen)."
    )


class MatrixCellSerializer(SynthesisFieldsSerializer):
    therapy = serializers.CharField(help_text="Therapy slug.")
    subtype = serializers.CharField(help_text="Subtype code.")
    studies = serializers.IntegerField(
        help_text="Number of studies that tested the therapy in the subtype."
    )
    studies_without_size = serializers.IntegerField(
        help_text="Trials whose publications do not state their size (not in `patients`)."
    )
    best_level = serializers.ChoiceField(
        choices=EvidenceLevel.choices,
        allow_null=True,
        help_text="Strongest level of evidence among the studies with result data (1 is best).",
    )
    results = ResultCountsSerializer(help_text="Studies per result code.")
    dominant_result = serializers.ChoiceField(
        choices=ResultDirection.choices,
        allow_null=True,
        help_text="Superseded by `direction` (kept for v1 clients): the most frequent study "
        "result; a tie goes to the more cautious one (harm, no benefit, mixed, "
        "benefit).",
    )


class MatrixAxisTherapySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    drug_class = serializers.CharField(help_text="Drug class slug.")


class MatrixAxisSubtypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(many=False)
class MatrixSerializer(serializers.Serializer):
    """The drug x subtype evidence matrix the home page shows, over the filtered studies."""

    evidence_cutoff = serializers.CharField(
        allow_null=True,
        help_text="Where the evidence stops: the publication year of the newest "
        "reference (ISO 8601 at the corpus's precision, e.g. "
        '"2016"). Trials published later are not included.',
    )
    source_review_year = serializers.IntegerField(
        allow_null=True, help_text="The source review's year."
    )
    therapies = MatrixAxisTherapySerializer(many=True, help_text="Rows, in display order.")
    subtypes = MatrixAxisSubtypeSerializer(many=True, help_text="Columns, in display order.")
    cells = MatrixCellSerializer(
        many=True, help_text="Only pairs where a study tested the therapy."
    )


class ArmResultSerializer(serializers.Serializer):
    arm = serializers.CharField(help_text="The arm's label.")
    responders = serializers.IntegerField(allow_null=True)
    n = serializers.IntegerField(allow_null=True)
    value = serializers.CharField()


class SummaryStudyResultSerializer(serializers.Serializer):
    study = serializers.IntegerField(help_text="Study id.")
    description = serializers.CharField()
    timepoint = serializers.CharField()
    responders = serializers.IntegerField(allow_null=True)
    n = serializers.IntegerField(allow_null=True)
    value = serializers.CharField()
    display_value = serializers.CharField()
    arm_results = ArmResultSerializer(
        many=True, help_text="The result in each arm, where the record gives it."
    )


class SummaryOutcomeSerializer(SynthesisFieldsSerializer):
    measure = serializers.CharField(help_text="Outcome measure code (as in /outcomes/).")
    label = serializers.CharField()
    studies = serializers.IntegerField()
    results = SummaryStudyResultSerializer(many=True)


@extend_schema_serializer(many=False)
class SummarySerializer(SynthesisFieldsSerializer):
    """Summary of findings for one therapy in one subtype."""

    therapy = serializers.CharField(help_text="Therapy slug.")
    subtype = serializers.CharField(help_text="Subtype code.")
    evidence_cutoff = serializers.CharField(
        allow_null=True, help_text='As in /matrix/: e.g. "2016".'
    )
    evidence_cutoff_text = serializers.CharField(help_text="The same, in a sentence.")
    studies = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the studies that tested the therapy."
    )
    studies_without_data = serializers.ListField(
        child=serializers.IntegerField(), help_text="Those without result data (not rated)."
    )
    safety_studies = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the safety-signal studies."
    )
    background_studies = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Studies where the therapy was background therapy only (not rated).",
    )
    outcomes = SummaryOutcomeSerializer(
        many=True, help_text="Each measured outcome with its own certainty."
    )


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["therapy", "subtype", "study", "reference"])
    id = serializers.CharField(help_text="Slug (therapy, subtype) or id (study, reference).")
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML-escaped text with matches in <mark>.")
    rank = serializers.FloatField()
    page_url = serializers.CharField()
    api_url = serializers.CharField()


@extend_schema_serializer(many=False)
class SearchResultSerializer(serializers.Serializer):
    """Hits per kind, best first (empty lists when the query has no words)."""

    query = serializers.CharField()
    therapies = SearchHitSerializer(many=True)
    subtypes = SearchHitSerializer(many=True)
    studies = SearchHitSerializer(many=True)
    references = SearchHitSerializer(many=True)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.RegexField(
        r"^[^\x00]*$",
        max_length=200,
        required=False,
        help_text="Words to find (drug, brand, subtype, author...). "
        "Without q (or search) every group is empty.",
    )
    search = serializers.RegexField(
        r"^[^\x00]*$", max_length=200, required=False, help_text="Same as q."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=50, default=20, help_text="Hits per kind (1-50)."
    )

    def validate(self, attrs):
        attrs["q"] = attrs.get("q") or attrs.get("search") or ""
        return attrs
