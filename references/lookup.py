"""Looking up a reference's metadata by PMID (NCBI E-utilities) or DOI (Crossref).

A small client on the standard library's urllib (one GET per look-up; no dependency is worth
adding for that). The base URLs, the timeout, the contact e-mail and the NCBI API key are
settings (config/settings.py, ``MYOEVIDENCE_NCBI_*``, ``MYOEVIDENCE_CROSSREF_BASE_URL``,
``MYOEVIDENCE_LOOKUP_TIMEOUT``, ``MYOEVIDENCE_CONTACT_EMAIL``). The result is a
``ParsedReference`` like an imported entry, to prefill the admin's add form: nothing is saved.

Errors are of three kinds, each with a sentence for the curator: ``InvalidIdentifier`` (not a
PMID or DOI), ``NotFound`` (the service has no such record) and ``Unavailable`` (no network,
refused, timed out, or an answer that cannot be read).
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from references.bibtex import ParsedAuthor, ParsedReference
from references.choices import ReferenceKind
from references.validators import DOI_RE, PMCID_RE, PMID_RE, normalise_doi

PUBMED, CROSSREF = "PubMed", "Crossref"
_PMID_PREFIX_RE = re.compile(r"^(?:pmid:?\s*|https?://pubmed\.ncbi\.nlm\.nih\.gov/)", re.I)
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
MAX_BYTES = 2 * 1024 * 1024  # a work's record is a few kilobytes


class LookupFailed(Exception):
    """Base of the look-up errors; ``str()`` is a sentence for the curator."""


class InvalidIdentifier(LookupFailed):
    pass


class NotFound(LookupFailed):
    pass


class Unavailable(LookupFailed):
    pass


def parse_identifier(text: str) -> tuple[str, str]:
    """("pmid", "23124935") or ("doi", "10.1002/art.37754") from what a curator pastes."""
    value = (text or "").strip()
    pmid = _PMID_PREFIX_RE.sub("", value).strip().rstrip("/")
    if PMID_RE.match(pmid):
        return "pmid", pmid
    doi = normalise_doi(value)
    if DOI_RE.match(doi):
        return "doi", doi
    raise InvalidIdentifier(
        f"“{value[:80]}” is neither a PMID (1 to 8 digits, such as 23124935) nor a DOI "
        "(10.<registrant>/<suffix>, such as 10.1002/art.37754)."
    )


def lookup(text: str) -> tuple[ParsedReference, str]:
    """The reference an identifier names, and the service it came from."""
    kind, identifier = parse_identifier(text)
    if kind == "pmid":
        return _pubmed(identifier), PUBMED
    return _crossref(identifier), CROSSREF


def _get(url: str, params: dict, service: str, *, not_found: str) -> dict:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    full = f"{url}?{query}" if query else url
    email = settings.MYOEVIDENCE_CONTACT_EMAIL
    # Crossref asks clients to name themselves and a contact (its "polite" pool).
    agent = "MyoEvidence/0.1" + (f" (mailto:{email})" if email else "")
    request = urllib.request.Request(
        full, headers={"User-Agent": agent, "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.MYOEVIDENCE_LOOKUP_TIMEOUT) as r:
            body = r.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFound(not_found) from None
        raise Unavailable(
            f"{service} answered with an error (HTTP {exc.code}), so nothing "
            "was filled in: enter the reference by hand or try again later."
        ) from None
    except OSError as exc:  # URLError, timeouts, refused connections, DNS failures
        reason = getattr(exc, "reason", exc)
        raise Unavailable(
            f"{service} could not be reached ({_describe(reason)}), so nothing "
            "was filled in: enter the reference by hand."
        ) from None
    if len(body) > MAX_BYTES:
        raise Unavailable(f"{service}'s answer was too large to read; enter the reference by hand.")
    try:
        return json.loads(body)
    except ValueError:
        raise Unavailable(
            f"{service}'s answer could not be read; enter the reference by hand."
        ) from None


def _describe(reason) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {settings.MYOEVIDENCE_LOOKUP_TIMEOUT:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "its name could not be resolved: no network?"
    return str(getattr(reason, "strerror", None) or reason)


def _pubmed(pmid: str) -> ParsedReference:
    base = settings.MYOEVIDENCE_NCBI_BASE_URL.rstrip("/")
    data = _get(
        f"{base}/esummary.fcgi",
        {
            "db": "pubmed",
            "id": pmid,
            "retmode": "json",
            "tool": "myoevidence",
            "email": settings.MYOEVIDENCE_CONTACT_EMAIL,
            "api_key": settings.MYOEVIDENCE_NCBI_API_KEY,
        },
        PUBMED,
        not_found=f"PubMed has no record with PMID {pmid}.",
    )
    result = data.get("result") if isinstance(data, dict) else None
    summary = result.get(pmid) if isinstance(result, dict) else None
    if not isinstance(summary, dict) or summary.get("error") or not summary.get("title"):
        if isinstance(data, dict) and data.get("error") and not summary:
            raise Unavailable(
                f"PubMed refused the look-up ({str(data['error'])[:200]}); enter "
                "the reference by hand."
            )
        raise NotFound(f"PubMed has no record with PMID {pmid}.")
    ids = {
        item.get("idtype"): str(item.get("value", "")).strip()
        for item in summary.get("articleids") or []
        if isinstance(item, dict)
    }
    authors = []
    for author in summary.get("authors") or []:
        name = " ".join(str(author.get("name", "")).split())
        if not name:
            continue
        if author.get("authtype") == "CollectiveName" or " " not in name:
            authors.append(ParsedAuthor(family=name, is_corporate=True))
        else:  # "Oddis CV": family name, then initials
            family, given = name.rsplit(" ", 1)
            authors.append(ParsedAuthor(family=family, given=given))
    title = " ".join(str(summary["title"]).split())
    if title.endswith("."):  # NLM ends every title with a full stop; the corpus does not
        title = title[:-1]
    doi = normalise_doi(ids.get("doi", ""))
    pmcid = ids.get("pmc", "").upper()
    return _reference(
        title=title,
        authors=authors,
        year=_year(summary.get("pubdate", "")),
        journal=str(summary.get("source", "")),
        volume=str(summary.get("volume", "")),
        issue=str(summary.get("issue", "")),
        pages=_pages(str(summary.get("pages", ""))),
        doi=doi if DOI_RE.match(doi) else "",
        pmid=pmid,
        pmcid=pmcid if PMCID_RE.match(pmcid) else "",
    )


def _crossref(doi: str) -> ParsedReference:
    base = settings.MYOEVIDENCE_CROSSREF_BASE_URL.rstrip("/")
    data = _get(
        f"{base}/works/{urllib.parse.quote(doi, safe='/')}",
        {"mailto": settings.MYOEVIDENCE_CONTACT_EMAIL},
        CROSSREF,
        not_found=f"Crossref has no record of the DOI {doi}.",
    )
    work = data.get("message") if isinstance(data, dict) else None
    if not isinstance(work, dict) or data.get("message-type") != "work":
        raise Unavailable("Crossref's answer was not a work's record; enter the reference by hand.")
    authors = []
    for person in work.get("author") or []:
        if person.get("family"):
            authors.append(
                ParsedAuthor(
                    family=" ".join(person["family"].split()),
                    given=" ".join(str(person.get("given", "")).split()),
                )
            )
        elif person.get("name"):  # an organisation
            authors.append(ParsedAuthor(family=" ".join(person["name"].split()), is_corporate=True))
    titles = work.get("title") or [""]
    journals = work.get("short-container-title") or work.get("container-title") or [""]
    issued = (work.get("published-print") or work.get("issued") or {}).get("date-parts") or [[]]
    year = issued[0][0] if issued and issued[0] and isinstance(issued[0][0], int) else None
    kind = {
        "journal-article": ReferenceKind.JOURNAL_ARTICLE,
        "book": ReferenceKind.BOOK,
        "book-chapter": ReferenceKind.BOOK_CHAPTER,
        "proceedings-article": ReferenceKind.CONFERENCE_PAPER,
        "dissertation": ReferenceKind.THESIS,
        "report": ReferenceKind.REPORT,
    }.get(work.get("type"), ReferenceKind.OTHER)
    found = normalise_doi(str(work.get("DOI", doi)))
    return _reference(
        title=" ".join(str(titles[0]).split()),
        authors=authors,
        year=year,
        journal=" ".join(str(journals[0]).split()),
        volume=str(work.get("volume", "")),
        issue=str(work.get("issue", "")),
        pages=_pages(str(work.get("page", ""))),
        doi=found if DOI_RE.match(found) else doi,
        kind=kind,
        publisher=" ".join(str(work.get("publisher", "")).split()),
    )


def _year(text: str) -> int | None:
    match = _YEAR_RE.search(text or "")
    return int(match.group(1)) if match and 1000 <= int(match.group(1)) <= 2100 else None


def _pages(text: str) -> str:
    start, dash, end = text.strip().partition("-")
    return f"{start.strip()}–{end.strip()}" if dash and start and end else text.strip()


def _reference(**values) -> ParsedReference:
    values.setdefault("kind", ReferenceKind.JOURNAL_ARTICLE)
    first = values["authors"][0].family.split()[0].lower() if values["authors"] else "ref"
    key = re.sub(r"[^a-z0-9]", "", first) + str(values.get("year") or "")
    return ParsedReference(key=key or "ref", entry_type="", line=0, **values)
