"""Template context shared by every page."""

from django.conf import settings


def site(request):
    from core.workflow import is_curator

    return {
        "SITE_NAME": "MyoEvidence",
        "DEBUG": settings.DEBUG,
        # Curators and editors see colleagues' names (who verified a fact); readers and
        # other staff accounts do not.
        "is_curator": is_curator(getattr(request, "user", None)),
    }
