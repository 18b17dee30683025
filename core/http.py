"""HTTP helpers shared by the pages."""

from django.http import HttpResponseBadRequest


def invalid_filter_response(filterset) -> HttpResponseBadRequest:
    """A plain-text 400 naming each invalid filter (for export URLs, which have no form)."""
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
    return HttpResponseBadRequest(f"Invalid filter: {problems}\n", content_type="text/plain")
