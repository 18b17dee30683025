"""Format checks for bibliographic identifiers (see DOMAIN.md, Identifiers)."""

import re

from django.core.validators import RegexValidator

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$", re.IGNORECASE)
PMID_RE = re.compile(r"^[1-9]\d{0,7}$")
PMCID_RE = re.compile(r"^PMC\d{1,9}$")

validate_doi = RegexValidator(
    DOI_RE,
    "Enter a DOI such as 10.1002/art.37754 (without the https://doi.org/ prefix).",
    code="invalid_doi",
)
validate_pmid = RegexValidator(
    PMID_RE, "A PMID is 1 to 8 digits, such as 23124935.", code="invalid_pmid"
)
validate_pmcid = RegexValidator(
    PMCID_RE, "A PMCID is PMC followed by digits, such as PMC3602476.", code="invalid_pmcid"
)


def normalise_doi(value: str) -> str:
    """Strip resolver prefixes and whitespace; DOIs are compared case-insensitively."""
    value = (value or "").strip()
    for prefix in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value.strip()


def normalise_title(value: str) -> str:
    """A title reduced to lowercase words, for duplicate detection."""
    return " ".join(re.findall(r"[^\W_]+", (value or "").casefold()))


# Letters, digits and : . / + _ - (what citation keys use in BibTeX, biblatex, Zotero and
# Better BibTeX exports), starting with a letter or digit. Nothing here can end an entry or a
# field (',', '{', '}', '=', '"', '#', '%', whitespace) when the key is written into BibTeX.
BIBTEX_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:./+_-]*\Z")

validate_bibtex_key = RegexValidator(
    BIBTEX_KEY_RE,
    "A BibTeX key is letters, digits and : . / + _ - (starting with a letter or a digit), "
    "such as dalakas2015 or aggarwal-2017.",
    code="invalid_bibtex_key",
)
