"""HTTP helpers shared by the pages, the API and the admin."""

import re
import unicodedata
from urllib.parse import quote

from django.http import HttpResponseBadRequest

# Anything but (Unicode) letters, digits, '.', '_' and '-'; runs become one '-'.
_UNSAFE_FILENAME = re.compile(r"[^\w.-]+")


def invalid_filter_response(filterset) -> HttpResponseBadRequest:
    """A plain-text 400 naming each invalid filter (for export URLs, which have no form)."""
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
    return HttpResponseBadRequest(f"Invalid filter: {problems}\n", content_type="text/plain")


def attachment_header(filename: str) -> str:
    """A ``Content-Disposition: attachment`` value for every download of the site.

    Names come from data (a reference's BibTeX key names its citation file), so they are cut
    down to letters, digits, '.', '_' and '-' before Django writes the header: no quote,
    semicolon, slash or line break can reach it. A name with non-ASCII letters gets an ASCII
    ``filename`` and the RFC 6266 ``filename*`` (UTF-8, percent-encoded) beside it.
    """
    name = _safe_name(unicodedata.normalize("NFC", filename))
    if name.isascii():
        return f'attachment; filename="{name}"'
    fallback = _safe_name(unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _safe_name(name: str) -> str:
    return _UNSAFE_FILENAME.sub("-", name).strip(".-")[:150] or "download"


def attach(response, filename: str):
    """Mark ``response`` as a download named ``filename`` (see ``attachment_header``)."""
    response["Content-Disposition"] = attachment_header(filename)
    return response
