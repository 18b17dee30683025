"""Citation formatting (Vancouver style, as used by PubMed and the ICMJE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from references.models import Reference

VANCOUVER_MAX_AUTHORS = 6


def format_vancouver(reference: Reference) -> str:
    """Format as 'Oddis CV, Reed AM, et al. Title. Journal. 2013;65(2):314-24.'.

    Lists up to six authors, then 'et al.'; also 'et al.' when the source itself truncated the
    list. Pages are kept as recorded, with an ASCII hyphen.
    """
    authors = reference.ordered_authors
    names = [a.display_name for a in authors[:VANCOUVER_MAX_AUTHORS]]
    if len(authors) > VANCOUVER_MAX_AUTHORS or reference.authors_truncated:
        names.append("et al")
    parts = []
    if names:
        parts.append(", ".join(names) + ".")
    title = reference.title.strip()
    if title:
        parts.append(title if title[-1] in ".?!" else title + ".")
    source = reference.journal or reference.publisher
    if source:
        parts.append(source + ".")
    when = str(reference.year) if reference.year else ""
    locator = reference.volume
    if reference.issue:
        locator += f"({reference.issue})"
    if reference.pages:
        locator += f":{reference.pages.replace('–', '-').replace('--', '-')}"
    if when and locator:
        parts.append(f"{when};{locator}.")
    elif when or locator:
        parts.append(f"{when or locator}.")
    if reference.doi:
        parts.append(f"doi:{reference.doi}")
    return " ".join(parts)
