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
