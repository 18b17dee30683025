"""The footer's release line and the pages' feed links (used by templates/base.html)."""

from django import template
from django.db import Error as DatabaseError
from django.db.models import Exists, OuterRef
from django.urls import reverse

from core.caching.data import per_generation
from core.queries import BuiltOnce
from evidence.models import CertaintyOverride, DiseaseSubtype, Statement, Study, Trial
from references.models import Reference
from releases.models import Release
from therapies.models import Therapy

register = template.Library()


# The published content whose changes a release freezes (a withdrawal is not seen here: its
# row is no longer published; the next release's changelog lists it).
PUBLISHED_MODELS = (Study, Reference, Therapy, Statement, Trial, CertaintyOverride, DiseaseSubtype)


def _latest_release_query():
    since = {
        f"changed_{model._meta.model_name}": Exists(
            model.objects.published().filter(modified__gt=OuterRef("current_since"))
        )
        for model in PUBLISHED_MODELS
    }
    return (
        Release.objects.order_by("-created_at")
        .annotate(**since)
        .values_list("version", "created_at", "current_since", *since)[:1]
    )


# The same SQL on every call: built by the ORM once per process (core.queries).
_LATEST_RELEASE = BuiltOnce(_latest_release_query)


@per_generation
def _latest_release() -> tuple[str, object, bool] | None:
    """(version, time, published changes since?) of the latest release, in one query.

    "Since" counts from when this installation's corpus was last the release
    (``Release.current_since``), not from when the release was made: a release shipped with
    the fixtures is older than the corpus loaded with it. A release loaded onto a corpus that
    differs from it has no such time, and the corpus has changed since by definition.
    """
    found = _LATEST_RELEASE.rows()
    if not found:
        return None
    row = found[0]
    return (row[0], row[1], row[2] is None or any(row[3:]))


@register.inclusion_tag("releases/footer.html")
def release_footer():
    """The latest release and whether published changes were made since: one query, kept per
    content generation (making a release bumps it, as content changes do)."""
    try:
        found = _latest_release()
    except DatabaseError:
        # The error pages (503 while the database is away) render this footer too.
        return {"release": None, "unavailable": True}
    if found is None:
        return {"release": None}
    version, created_at, changed = found
    return {
        "release": {
            "version": version,
            "created_at": created_at,
            "url": reverse("releases:release_detail", args=[version]),
        },
        "changed_since": changed,
    }


@register.simple_tag(takes_context=True)
def feed_links(context):
    """<link rel="alternate"> to the Atom feed of the page's subject."""
    from django.utils.html import format_html_join

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    feeds = []
    if match.view_name == "evidence:home":
        feeds.append((reverse("releases:feed_all"), "MyoEvidence: published changes"))
    elif match.view_name == "therapies:therapy_detail" and "slug" in match.kwargs:
        feeds.append(
            (
                reverse("releases:feed_therapy", args=[match.kwargs["slug"]]),
                "Published changes for this therapy",
            )
        )
    elif match.view_name == "evidence:subtype_detail" and "slug" in match.kwargs:
        feeds.append(
            (
                reverse("releases:feed_subtype", args=[match.kwargs["slug"]]),
                "Published changes for this subtype",
            )
        )
    return format_html_join(
        "", '<link rel="alternate" type="application/atom+xml" href="{}" title="{}">', feeds
    )
