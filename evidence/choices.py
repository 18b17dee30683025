"""Stable codes of the evidence model. The API exposes these codes; never rename one."""

from django.db import models


class StudyDesign(models.TextChoices):
    """Study designs, from the strongest kind of primary evidence to mechanism."""

    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review / meta-analysis"
    RCT_PARALLEL = "rct_parallel", "Randomised controlled trial (parallel)"
    RCT_CROSSOVER = "rct_crossover", "Randomised controlled trial (crossover)"
    RCT_PLACEBO_PHASE = "rct_placebo_phase", "Randomised placebo-phase (delayed-start) trial"
    NONRANDOMISED_CONTROLLED = "nonrandomised_controlled", "Non-randomised controlled study"
    PROSPECTIVE_COHORT = "prospective_cohort", "Prospective cohort"
    OPEN_LABEL_SINGLE_ARM = "open_label_single_arm", "Open-label single-arm trial"
    RETROSPECTIVE_COHORT = "retrospective_cohort", "Retrospective cohort / registry"
    CASE_CONTROL = "case_control", "Case-control study"
    CASE_SERIES = "case_series", "Case series"
    CASE_REPORT = "case_report", "Case report"
    GUIDELINE = "guideline", "Guideline / consensus statement"
    MECHANISTIC = "mechanistic", "Laboratory / mechanistic study"

    @classmethod
    def randomised(cls) -> set[str]:
        return {cls.RCT_PARALLEL, cls.RCT_CROSSOVER, cls.RCT_PLACEBO_PHASE}


class EvidenceLevel(models.IntegerChoices):
    """Oxford CEBM 2011, 'Does this intervention help? (treatment benefits)'."""

    LEVEL_1 = 1, "Level 1: systematic review of randomised trials"
    LEVEL_2 = 2, "Level 2: randomised trial or observational study with dramatic effect"
    LEVEL_3 = 3, "Level 3: non-randomised controlled cohort / follow-up study"
    LEVEL_4 = 4, "Level 4: case series, case-control or historically controlled studies"
    LEVEL_5 = 5, "Level 5: mechanism-based reasoning"


class ResultDirection(models.TextChoices):
    """What the study found for the therapy. Stable API codes."""

    BENEFIT = "benefit", "Benefit"
    NO_SIGNIFICANT_BENEFIT = "no_significant_benefit", "No significant benefit"
    MIXED = "mixed", "Mixed"
    HARM = "harm", "Harm (worsening or disease induced by the drug)"
    NOT_APPLICABLE = "not_applicable", "Not applicable / not reported"


class AgeGroup(models.TextChoices):
    ADULT = "adult", "Adult"
    JUVENILE = "juvenile", "Juvenile"
    BOTH = "both", "Adult and juvenile"
    NOT_STATED = "", "Not stated"


class Blinding(models.TextChoices):
    OPEN = "open", "Open-label"
    SINGLE = "single", "Single-blind"
    DOUBLE = "double", "Double-blind"
    NOT_STATED = "", "Not stated"


class Phase(models.TextChoices):
    PHASE_1 = "1", "Phase 1"
    PHASE_1B = "1b", "Phase 1b"
    PHASE_2 = "2", "Phase 2"
    PHASE_2_3 = "2/3", "Phase 2/3"
    PHASE_3 = "3", "Phase 3"
    PHASE_4 = "4", "Phase 4"
    NOT_STATED = "", "Not stated"


class OutcomeMeasure(models.TextChoices):
    IMACS_DOI = "imacs_doi", "IMACS definition of improvement"
    TIS = "tis", "ACR/EULAR total improvement score"
    MMT8 = "mmt8", "Manual muscle testing (MMT-8)"
    CMAS = "cmas", "Childhood myositis assessment scale (CMAS)"
    CK = "ck", "Muscle enzymes (CK)"
    HAQ = "haq", "Health assessment questionnaire (HAQ)"
    PHYSICIAN_GLOBAL = "physician_global", "Physician global activity"
    CDASI = "cdasi", "Skin disease (CDASI)"
    FVC = "fvc", "Forced vital capacity (FVC)"
    DLCO = "dlco", "Diffusing capacity (DLCO)"
    HRCT = "hrct", "Chest HRCT"
    GC_DOSE = "gc_dose", "Glucocorticoid dose (steroid-sparing)"
    CLINICAL_RESPONSE = "clinical_response", "Clinical response (author-defined)"
    ADVERSE_EVENTS = "adverse_events", "Adverse events"
    FLARE = "flare", "Disease flare"
    SURVIVAL = "survival", "Survival"
    BIOMARKER = "biomarker", "Biomarker"
    OTHER = "other", "Other"


class ProvenanceSource(models.TextChoices):
    ABSTRACT = "abstract", "The reference's abstract"
    FULL_TEXT = "full_text", "The reference's full text"
    REVIEW = "review", "The source review"
    REGISTRY = "registry", "Trial registry record"
    TITLE_ONLY = "title_only", "The reference's title only"


# --- The synthesis layer (issue 13): trials, arms, data availability and certainty. -------


class TrialKind(models.TextChoices):
    """What groups the publications of one set of patients."""

    TRIAL = "trial", "Trial"
    COHORT = "cohort", "Cohort"


class PublicationRole(models.TextChoices):
    """What a publication is to its trial."""

    PRIMARY = "primary", "Primary report"
    SECONDARY_ANALYSIS = "secondary_analysis", "Secondary or predictor analysis"
    EXTENSION = "extension", "Extension / long-term follow-up"
    ABSTRACT = "abstract", "Conference abstract"
    OTHER = "other", "Other publication"
    NOT_STATED = "", "Not stated"


class ArmRole(models.TextChoices):
    """What a therapy is in a study. Only a tested therapy is rated for that study."""

    TESTED = "tested", "Tested intervention"
    COMPARATOR = "comparator", "Comparator / placebo / sham"
    BACKGROUND = "background", "Background or concomitant therapy"


class DataAvailability(models.TextChoices):
    """The best record of a study's RESULTS that a curator saw."""

    FULL_TEXT = "full_text", "Full text"
    ABSTRACT = "abstract", "Abstract"
    REVIEW_ONLY = "review_only", "Only the source review's account"
    TITLE_ONLY = "title_only", "Title only (no result seen)"


class Certainty(models.TextChoices):
    """GRADE certainty of a body of evidence. Stable API codes."""

    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"
    VERY_LOW = "very_low", "Very low"
    INSUFFICIENT = "insufficient", "Insufficient (no study with result data)"


class Direction(models.TextChoices):
    """The direction of effect of a body of evidence (efficacy only; safety is apart)."""

    BENEFIT = "benefit", "Benefit"
    NO_BENEFIT = "no_benefit", "No benefit shown"
    CONFLICTING = "conflicting", "Conflicting"
    HARM = "harm", "Harm"
    UNCERTAIN = "uncertain", "Uncertain"


class CertaintyReason(models.TextChoices):
    """Why a body of evidence has its certainty: a start, a step down, a note. Stable codes."""

    START_RANDOMISED = "start_randomised", "Randomised trials start at high certainty"
    START_OBSERVATIONAL = "start_observational", "Observational studies start at low certainty"
    START_CASE_REPORTS = "start_case_reports", "Case series and reports start at very low"
    RISK_OF_BIAS = "risk_of_bias", "Rated down: risk of bias"
    INCONSISTENCY = "inconsistency", "Rated down: inconsistency"
    INDIRECTNESS = "indirectness", "Rated down: indirectness"
    IMPRECISION = "imprecision", "Rated down: imprecision"
    PUBLICATION_BIAS = "publication_bias", "Rated down: publication bias"
    NO_RESULT_DATA = "no_result_data", "No study with result data"
    EXCLUDED_NO_DATA = "excluded_no_data", "Studies without result data are not rated"
    LOWER_TIER = "lower_tier", "Weaker designs listed, not rated"
    OVERRIDE = "override", "Set by a curator"
    SAFETY_OUTCOME = "safety_outcome", "A harm outcome: not rated as efficacy"
    MIXED_RESULT = "mixed_result", "A mixed result: the direction says why it is not definite"
