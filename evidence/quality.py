"""Data-quality rules for the curated corpus, shared by the tests and ``corpus_report``.

Each rule is a plain function that takes what it checks (a queryset, or any iterable of objects
with the right attributes) and returns a list of problems, one sentence each, naming the study or
reference at fault. With no argument a rule checks everything in the database.
``find_problems()`` runs every rule; ``problems_by_rule()`` keeps them apart for the report,
and ``corpus_coverage()`` counts what the report prints beside them.

The rules are the "done when" list of issue 3: every study has provenance, therapies and
subtypes; identifiers are well formed and unique; every treatment reference reports a study; a
``harm`` study says what the harm was; a level agrees with the design unless a curator overrode
it and said why.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from evidence.choices import EvidenceLevel, ResultDirection, StudyDesign
from evidence.levels import effective_level
from evidence.models import DiseaseSubtype, Provenance, Statement, Study
from references.choices import ReferenceRole
from references.models import Reference
from references.validators import DOI_RE, PMCID_RE, PMID_RE, normalise_doi
from therapies.models import Therapy

# A harm summary must name what went wrong (an event) and to what (the disease or sign), e.g.
# "dermatomyositis developed during adalimumab". Word stems, matched case-insensitively.
HARM_EVENT_RE = re.compile(
    r"\b(induc|develop|wors|flare|exacerbat|deteriorat|onset|provok|trigger|relaps|"
    r"aggravat|appear|emerg)",
    re.IGNORECASE,
)
HARM_OBJECT_RE = re.compile(
    r"(myositis|myopath|weakness|rash|fasciitis|\bck\b|creatine kinase|muscle|"
    r"\bdm\b|\bpm\b|disease activity|symptom|inflammation)",
    re.IGNORECASE,
)


def _label(obj) -> str:
    """'reference 12' / 'study ref12-...' for messages; falls back to the object's repr."""
    if isinstance(obj, Study) or hasattr(obj, "design"):
        return f"study {getattr(obj, 'key', obj)}"
    number = getattr(obj, "number", None)
    if number:
        return f"reference {number}"
    key = getattr(obj, "bibtex_key", None) or getattr(obj, "key", None)
    return f"reference {key or obj}"


def _studies(studies: Iterable[Study] | None) -> Iterable[Study]:
    return Study.objects.order_by("key") if studies is None else studies


def _references(references: Iterable | None) -> Iterable:
    return Reference.objects.order_by("number", "pk") if references is None else references


# --- rule: provenance ------------------------------------------------------------------------


def studies_without_provenance(studies: Iterable[Study] | None = None) -> list[str]:
    """A study must name at least one record (a URL or a PMID) its facts came from."""
    rows = _studies(studies)
    if isinstance(rows, QuerySet):
        sourced = Q(provenance__url__gt="") | Q(provenance__pmid__gt="")
        rows = rows.annotate(n_sources=Count("provenance", filter=sourced))
        missing = [s for s in rows if s.n_sources == 0]
    else:
        missing = [s for s in rows if not any(p.url or p.pmid for p in s.provenance.all())]
    return [f"study {s.key}: has no provenance (no record URL or PMID)" for s in missing]


# --- rules: identifiers ----------------------------------------------------------------------


def badly_formatted_identifiers(references: Iterable | None = None) -> list[str]:
    """PMIDs are 1-8 digits, DOIs ``10.<registrant>/<suffix>`` without a resolver prefix,
    PMCIDs ``PMC<digits>``. Works on ``Reference`` rows and on parsed BibTeX entries alike."""
    problems = []
    for ref in _references(references):
        pmid, doi, pmcid = (getattr(ref, name, "") or "" for name in ("pmid", "doi", "pmcid"))
        if pmid and not PMID_RE.match(pmid):
            problems.append(f"{_label(ref)}: PMID {pmid!r} is not 1-8 digits (no leading zero)")
        if doi and not DOI_RE.match(doi):
            problems.append(
                f"{_label(ref)}: DOI {doi!r} is not of the form 10.<registrant>/<suffix> "
                "(store it without https://doi.org/)"
            )
        if pmcid and not PMCID_RE.match(pmcid):
            problems.append(f"{_label(ref)}: PMCID {pmcid!r} is not PMC followed by digits")
    return problems


def duplicated_identifiers(references: Iterable | None = None) -> list[str]:
    """No two references share a PMID, a PMCID or a DOI (DOIs compared case-insensitively)."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ref in _references(references):
        for kind in ("pmid", "doi", "pmcid"):
            value = (getattr(ref, kind, "") or "").strip()
            if kind == "doi":
                value = normalise_doi(value).lower()
            if value:
                seen[(kind, value)].append(_label(ref))
    return [
        f"{kind.upper()} {value} is shared by {', '.join(holders)}"
        for (kind, value), holders in sorted(seen.items())
        if len(holders) > 1
    ]


# --- rule: therapies and subtypes ------------------------------------------------------------


def studies_without_therapies_or_subtypes(studies: Iterable[Study] | None = None) -> list[str]:
    """Every study names at least one therapy and at least one disease subtype."""
    rows = _studies(studies)
    if isinstance(rows, QuerySet):
        rows = rows.annotate(
            n_therapies=Count("therapies", distinct=True),
            n_subtypes=Count("subtypes", distinct=True),
        )
    problems = []
    for study in rows:
        n_therapies = getattr(study, "n_therapies", None)
        n_subtypes = getattr(study, "n_subtypes", None)
        if n_therapies is None:
            n_therapies, n_subtypes = study.therapies.count(), study.subtypes.count()
        if not n_therapies:
            problems.append(f"study {study.key}: names no therapy")
        if not n_subtypes:
            problems.append(f"study {study.key}: names no disease subtype")
    return problems


# --- rule: treatment references report studies -----------------------------------------------


def reporting_references_without_studies(references: Iterable | None = None) -> list[str]:
    """A reference whose role is treatment (or guideline) must report at least one study."""
    roles = ReferenceRole.reporting_studies()
    if references is None:
        rows = (
            Reference.objects.filter(role__in=roles)
            .annotate(n_studies=Count("studies"))
            .filter(n_studies=0)
            .order_by("number", "pk")
        )
        return [f"{_label(r)}: has role '{r.role}' but reports no study" for r in rows]
    return [
        f"{_label(r)}: has role '{r.role}' but reports no study"
        for r in references
        if r.role in roles and not r.studies.exists()
    ]


# --- rule: harm studies say what the harm was -------------------------------------------------


def harm_described(summary: str) -> bool:
    """True when a summary names a harmful event and what it affected."""
    return bool(HARM_EVENT_RE.search(summary or "") and HARM_OBJECT_RE.search(summary or ""))


def harm_studies_without_description(studies: Iterable[Study] | None = None) -> list[str]:
    """A study with result ``harm`` must say in its summary what the harm was."""
    rows = _studies(studies)
    if isinstance(rows, QuerySet):
        rows = rows.filter(result=ResultDirection.HARM)
    return [
        f"study {s.key}: result is 'harm' but the summary does not say what the harm was "
        "(e.g. 'dermatomyositis developed during adalimumab')"
        for s in rows
        if s.result == ResultDirection.HARM and not harm_described(s.summary)
    ]


# --- rule: level agrees with design ------------------------------------------------------------


def levels_contradicting_design(studies: Iterable[Study] | None = None) -> list[str]:
    """The stored level must be the design's CEBM level, or a curator override with a reason."""
    problems = []
    for study in _studies(studies):
        has_reason = bool((study.level_override_reason or "").strip())
        if study.level_override is not None and not has_reason:
            problems.append(
                f"study {study.key}: level overridden to {study.level_override} without a reason"
            )
            continue
        expected = effective_level(study.design, study.level_override)
        if study.level != expected:
            problems.append(
                f"study {study.key}: level {study.level} contradicts design '{study.design}' "
                f"(expected {expected}) and no override explains it"
            )
    return problems


# --- rule: record URLs a reader can follow (issue 13) ---------------------------------------


def unfollowable_record_urls(
    studies: Iterable[Study] | None = None, references: Iterable | None = None
) -> list[str]:
    """Provenance and identifier-source URLs on a bare IP address, a file download or a
    document-sharing or shop site (evidence.links): a curator should replace each with the
    same record on a scholarly site."""
    from evidence.links import unfollowable_reason

    problems = []
    rows = (
        Provenance.objects.select_related("study").order_by("study__key", "pk")
        if studies is None
        else [p for s in studies for p in s.provenance.all()]
    )
    for row in rows:
        why = unfollowable_reason(row.url)
        if why:
            problems.append(f"study {row.study.key}: provenance URL {row.url} is {why}")
    for reference in _references(references):
        for url in reference.identifier_sources or []:
            why = unfollowable_reason(url)
            if why:
                problems.append(f"{_label(reference)}: identifier source {url} is {why}")
    return problems


# --- all rules -------------------------------------------------------------------------------

RULES: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "provenance": ("studies without provenance", studies_without_provenance),
    "identifier-format": ("PMID/DOI/PMCID of bad format", badly_formatted_identifiers),
    "identifier-duplicate": ("PMID/DOI/PMCID shared by two references", duplicated_identifiers),
    "therapies-subtypes": (
        "studies with no therapy or no subtype",
        studies_without_therapies_or_subtypes,
    ),
    "reference-without-study": (
        "treatment/guideline references with no study",
        reporting_references_without_studies,
    ),
    "harm-description": (
        "harm studies whose summary does not say what harm",
        harm_studies_without_description,
    ),
    "level-design": (
        "levels contradicting the design without an override reason",
        levels_contradicting_design,
    ),
    "record-url": (
        "record URLs on bare IP addresses, downloads or document-sharing/shop sites",
        unfollowable_record_urls,
    ),
}


def problems_by_rule() -> dict[str, list[str]]:
    """Every rule run against the database, keyed by rule code (in a stable order)."""
    return {code: check() for code, (_title, check) in RULES.items()}


def find_problems() -> list[str]:
    """Every data-quality problem in the database, each prefixed with its rule code."""
    return [
        f"[{code}] {problem}"
        for code, problems in problems_by_rule().items()
        for problem in problems
    ]


# --- coverage (what corpus_report prints besides the problems) --------------------------------

NOT_GRADED = "not graded"


@dataclass
class Coverage:
    """How complete the corpus is: identifiers, studies by facet, provenance, sample sizes.

    Every mapping is ``label -> count`` in display order; counts come straight from the database.
    """

    references_total: int = 0
    references_with_pmid: int = 0
    references_with_doi: int = 0
    references_with_pmcid: int = 0
    references_with_pmid_or_doi: int = 0
    references_by_role: dict[str, int] = field(default_factory=dict)
    studies_total: int = 0
    studies_per_therapy: dict[str, int] = field(default_factory=dict)
    therapies_without_study: list[str] = field(default_factory=list)
    studies_per_subtype: dict[str, int] = field(default_factory=dict)
    studies_per_design: dict[str, int] = field(default_factory=dict)
    studies_per_result: dict[str, int] = field(default_factory=dict)
    studies_per_level: dict[str, int] = field(default_factory=dict)
    studies_with_sample_size: int = 0
    studies_without_sample_size: int = 0
    studies_verified: int = 0
    provenance_verified: int = 0
    provenance_unverified: int = 0
    facts_verified: int = 0
    facts_unverified: int = 0
    statements_total: int = 0
    therapies_with_statement: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _counts_in_choice_order(values: Counter, choices) -> dict[str, int]:
    """``value -> count`` following the order of a TextChoices/IntegerChoices, zeros kept."""
    return {str(value): values.get(value, 0) for value in choices.values}


def corpus_coverage() -> Coverage:
    """Compute the coverage report from the database (a handful of aggregate queries)."""
    cov = Coverage()

    # Aliases must not be field names: an alias named "pmid" would shadow the field in the filter.
    refs = Reference.objects.aggregate(
        n_total=Count("id"),
        n_pmid=Count("id", filter=~Q(pmid="")),
        n_doi=Count("id", filter=~Q(doi="")),
        n_pmcid=Count("id", filter=~Q(pmcid="")),
        n_pmid_or_doi=Count("id", filter=~Q(pmid="") | ~Q(doi="")),
    )
    cov.references_total = refs["n_total"]
    cov.references_with_pmid = refs["n_pmid"]
    cov.references_with_doi = refs["n_doi"]
    cov.references_with_pmcid = refs["n_pmcid"]
    cov.references_with_pmid_or_doi = refs["n_pmid_or_doi"]
    roles = Counter(dict(Reference.objects.values_list("role").annotate(n=Count("pk"))))
    cov.references_by_role = {
        (value or "unclassified"): roles.get(value, 0) for value in ReferenceRole.values
    }

    cov.studies_total = Study.objects.count()
    for therapy in Therapy.objects.annotate(n=Count("studies")).order_by("-n", "slug"):
        if therapy.n:
            cov.studies_per_therapy[therapy.slug] = therapy.n
        else:
            cov.therapies_without_study.append(therapy.slug)
    cov.studies_per_subtype = {
        s.code: s.n for s in DiseaseSubtype.objects.annotate(n=Count("studies"))
    }
    designs = Counter(dict(Study.objects.values_list("design").annotate(n=Count("pk"))))
    cov.studies_per_design = _counts_in_choice_order(designs, StudyDesign)
    results = Counter(dict(Study.objects.values_list("result").annotate(n=Count("pk"))))
    cov.studies_per_result = _counts_in_choice_order(results, ResultDirection)
    levels = Counter(dict(Study.objects.values_list("level").annotate(n=Count("pk"))))
    cov.studies_per_level = {f"level {v}": levels.get(v, 0) for v in EvidenceLevel.values}
    cov.studies_per_level[NOT_GRADED] = levels.get(None, 0)

    cov.studies_with_sample_size = Study.objects.exclude(sample_size=None).count()
    cov.studies_without_sample_size = cov.studies_total - cov.studies_with_sample_size
    cov.studies_verified = Study.objects.filter(verified=True).count()

    for verified, facts in Provenance.objects.values_list("verified", "facts"):
        n_facts = len(facts or [])
        if verified:
            cov.provenance_verified += 1
            cov.facts_verified += n_facts
        else:
            cov.provenance_unverified += 1
            cov.facts_unverified += n_facts

    cov.statements_total = Statement.objects.count()
    cov.therapies_with_statement = Statement.objects.values("therapy").distinct().count()
    return cov
