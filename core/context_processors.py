"""Template context shared by every page."""

from django.conf import settings

from core.formats import CITATION_FORMATS


def site(request):
    from core.workflow import is_curator

    return {
        "SITE_NAME": "MyoEvidence",
        "DEBUG": settings.DEBUG,
        # Curators and editors see colleagues' names (who verified a fact); readers and
        # other staff accounts do not.
        "is_curator": is_curator(getattr(request, "user", None)),
        # The "Download: BibTeX · RIS · CSL-JSON" links, from the site's table of formats.
        "CITATION_FORMATS": CITATION_FORMATS,
    }
