"""Stable codes for the bibliography."""

from django.db import models


class ReferenceKind(models.TextChoices):
    """The kind of publication (maps to BibTeX entry types)."""

    JOURNAL_ARTICLE = "journal_article", "Journal article"
    CONFERENCE_ABSTRACT = "conference_abstract", "Conference abstract"
    GUIDELINE = "guideline", "Guideline"
    CONSENSUS_STATEMENT = "consensus_statement", "Consensus statement"
    BOOK = "book", "Book"
    BOOK_CHAPTER = "book_chapter", "Book chapter"
    CONFERENCE_PAPER = "conference_paper", "Conference paper"
    THESIS = "thesis", "Thesis"
    REPORT = "report", "Report"
    ONLINE = "online", "Online resource"
    OTHER = "other", "Other"


class ReferenceRole(models.TextChoices):
    """What the reference contributes to the evidence base."""

    TREATMENT = "treatment", "Treatment result"
    GUIDELINE = "guideline", "Guideline / consensus on treatment"
    MECHANISTIC = "mechanistic", "Laboratory / mechanistic"
    CLASSIFICATION = "classification", "Classification"
    OUTCOME_MEASURES = "outcome_measures", "Outcome measures"
    CLINICAL_FEATURES = "clinical_features", "Clinical features"
    SOURCE_REVIEW = "source_review", "The source review itself"
    UNCLASSIFIED = "", "Not yet classified"

    @classmethod
    def reporting_studies(cls) -> set[str]:
        """Roles whose references must report at least one study."""
        return {cls.TREATMENT, cls.GUIDELINE}
