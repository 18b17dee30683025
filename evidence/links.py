"""Which record URLs readers may follow, and which a curator should replace.

Readers get canonical links built from identifiers (PubMed, PMC, DOI, the trial registry) and
record URLs on scholarly hosts; every other copy of a record where a curator saw a fact stays in
provenance for curators (staff) only. ``evidence.quality.unfollowable_record_urls`` flags the
hosts below so that curators replace them.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Hosts whose pages are the record itself (bibliographic databases, registries, DOI). Short on
# purpose: anything else is kept for curators, not shown to readers as a link.
CANONICAL_HOSTS = (
    "pubmed.ncbi.nlm.nih.gov",
    "www.ncbi.nlm.nih.gov",
    "ncbi.nlm.nih.gov",
    "pmc.ncbi.nlm.nih.gov",
    "europepmc.org",
    "doi.org",
    "dx.doi.org",
    "clinicaltrials.gov",
    "www.clinicaltrials.gov",
)
# Document-sharing, file-download and shop hosts seen in the corpus's provenance: they host
# copies of uncertain origin (or sell things), so a reader cannot trust them. Kept short and
# explicit rather than guessed; add a host when a curator meets one.
FLAGGED_HOSTS = (
    "abcdocz.com",  # document sharing
    "doczz.net",
    "docslib.org",
    "dokumen.pub",
    "pdfslide.net",
    "vdocuments.mx",  # the same
    "herbal-organic.com",  # a shop mirroring PubMed abstracts
    "igf-protein.com",  # a reagent shop quoting an abstract
    "antiviralbiologic.com",  # a product site quoting an abstract
    "paperexplained.cn",  # an unattributed abstract mirror
    "laibokeji.com",
    "weglot.com",  # unofficial proxies of PubMed pages
)
# File downloads (archives, office documents) are not a record page.
DOWNLOAD_SUFFIXES = (".zip", ".gz", ".tar", ".rar", ".7z", ".doc", ".docx", ".ppt", ".pptx")


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _matches(host: str, hosts) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def is_canonical(url: str) -> bool:
    """A URL readers are shown as a link (a bibliographic database, DOI or registry page)."""
    return _matches(host_of(url), CANONICAL_HOSTS)


def unfollowable_reason(url: str) -> str:
    """Why a record URL should be replaced ('' when it is fine)."""
    if not url:
        return ""
    host = host_of(url)
    try:
        ipaddress.ip_address(host)
        return "a bare IP address"
    except ValueError:
        pass
    if _matches(host, FLAGGED_HOSTS):
        return "a document-sharing, download or shop site"
    if urlsplit(url).path.lower().endswith(DOWNLOAD_SUFFIXES):
        return "a file download"
    return ""
