"""The footer's release line and the pages' feed links (used by templates/base.html)."""

from django import template
from django.db import Error as DatabaseError
from django.urls import reverse

from evidence.selectors import corpus_status
from releases.models import Release

register = template.Library()


@register.inclusion_tag("releases/footer.html")
def release_footer():
    """The latest release and whether published changes were made since: one indexed query
    (the latest release) and the corpus status, which is memoized per content generation."""
    try:
        release = Release.objects.only("version", "created_at").order_by("-created_at").first()
        changed = False
        if release is not None:
            last = corpus_status().last_updated
            changed = bool(last and last > release.created_at)
    except DatabaseError:
        # The error pages (503 while the database is away) render this footer too.
        return {"release": None, "changed_since": False, "unavailable": True}
    return {"release": release, "changed_since": changed}


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
        feeds.append((reverse("releases:feed_therapy", args=[match.kwargs["slug"]]),
                      "Published changes for this therapy"))
    elif match.view_name == "evidence:subtype_detail" and "slug" in match.kwargs:
        feeds.append((reverse("releases:feed_subtype", args=[match.kwargs["slug"]]),
                      "Published changes for this subtype"))
    return format_html_join(
        "", '<link rel="alternate" type="application/atom+xml" href="{}" title="{}">', feeds)
