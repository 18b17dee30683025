"""Levels of evidence: Oxford CEBM 2011, treatment-benefits row.

Kept as a small table plus two plain functions so that the model, the admin, the importers and
the data-quality tests all agree.
"""

from evidence.choices import EvidenceLevel, StudyDesign

SUGGESTED_LEVEL: dict[str, int | None] = {
    StudyDesign.SYSTEMATIC_REVIEW: EvidenceLevel.LEVEL_1,
    StudyDesign.RCT_PARALLEL: EvidenceLevel.LEVEL_2,
    StudyDesign.RCT_CROSSOVER: EvidenceLevel.LEVEL_2,
    StudyDesign.RCT_PLACEBO_PHASE: EvidenceLevel.LEVEL_2,
    StudyDesign.NONRANDOMISED_CONTROLLED: EvidenceLevel.LEVEL_3,
    StudyDesign.PROSPECTIVE_COHORT: EvidenceLevel.LEVEL_3,
    # Uncontrolled designs are case series in CEBM's terms.
    StudyDesign.OPEN_LABEL_SINGLE_ARM: EvidenceLevel.LEVEL_4,
    StudyDesign.RETROSPECTIVE_COHORT: EvidenceLevel.LEVEL_4,
    StudyDesign.CASE_CONTROL: EvidenceLevel.LEVEL_4,
    StudyDesign.CASE_SERIES: EvidenceLevel.LEVEL_4,
    # CEBM has no row of its own for single cases; they sit with case series at the bottom of
    # clinical evidence, above mechanism-based reasoning.
    StudyDesign.CASE_REPORT: EvidenceLevel.LEVEL_4,
    # Guidelines and consensus statements are not primary evidence: not graded.
    StudyDesign.GUIDELINE: None,
    StudyDesign.MECHANISTIC: EvidenceLevel.LEVEL_5,
}

LEVEL_MEANING: dict[int, str] = {
    1: "Systematic review of randomised trials or n-of-1 trials.",
    2: "Randomised trial, or observational study with dramatic effect.",
    3: "Non-randomised controlled cohort or follow-up study.",
    4: "Case series, case-control or historically controlled studies.",
    5: "Mechanism-based reasoning.",
}


def suggested_level(design: str) -> int | None:
    """The CEBM 2011 level a study of this design starts at (None: not graded)."""
    return SUGGESTED_LEVEL[design]


def effective_level(design: str, override: int | None) -> int | None:
    """The curator's override when given, else the level suggested by the design."""
    return override if override is not None else suggested_level(design)


DESIGN_DESCRIPTIONS: dict[str, str] = {
    StudyDesign.SYSTEMATIC_REVIEW: "Pools all trials on a question with an explicit, "
    "reproducible method.",
    StudyDesign.RCT_PARALLEL: "Patients are randomly allocated to the treatment or a comparator "
    "and followed side by side.",
    StudyDesign.RCT_CROSSOVER: "Each patient receives the treatment and the comparator in random "
    "order, acting as their own control.",
    StudyDesign.RCT_PLACEBO_PHASE: "Every patient gets the drug, but the start is randomised "
    "(early or late, placebo until then); used when withholding treatment is unacceptable, as "
    "in the RIM trial.",
    StudyDesign.NONRANDOMISED_CONTROLLED: "Treated patients are compared with a control group "
    "that was not formed by randomisation.",
    StudyDesign.PROSPECTIVE_COHORT: "A group is followed forward in time under a protocol; "
    "includes secondary analyses of trial cohorts.",
    StudyDesign.OPEN_LABEL_SINGLE_ARM: "All patients receive the treatment openly, without a "
    "control group (pilot and early-phase trials).",
    StudyDesign.RETROSPECTIVE_COHORT: "Records of treated patients are reviewed after the fact; "
    "no control group.",
    StudyDesign.CASE_CONTROL: "Patients with an outcome are compared with patients without it.",
    StudyDesign.CASE_SERIES: "A description of several treated patients.",
    StudyDesign.CASE_REPORT: "A description of a single patient.",
    StudyDesign.GUIDELINE: "A recommendation from an expert body grading the evidence; not "
    "primary evidence and not graded here.",
    StudyDesign.MECHANISTIC: "Laboratory or translational work on disease mechanisms; supports "
    "biological plausibility, not clinical benefit.",
}


def design_slug(code: str) -> str:
    return code.replace("_", "-")


def design_from_slug(slug: str) -> str | None:
    code = slug.replace("-", "_")
    return code if code in StudyDesign.values else None
