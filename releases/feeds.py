"""Atom feeds of published changes: everything, per therapy, per subtype.

An entry is a history record (django-simple-history) of a study, statement or reference that
readers could see: a change saved while the entry was published (publishing included), or its
withdrawal (published before, not after). A draft that was never published never appears, and
a withdrawal is named by the entry's last published text, never by an unpublished edit.
One query per kind of entry, with the previous record's status and name as subqueries.

Not covered: changes of a study's parts (outcomes, arms) saved without a change of the study
row itself; their history belongs to those rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from core.choices import ReviewStatus
from core.conditional import collection_etag, last_content_change, respond
from evidence.models import DiseaseSubtype, Statement, Study
from references.models import Reference
from therapies.models import Therapy

PUBLISHED = ReviewStatus.PUBLISHED
PER_KIND = 40
ITEMS = 50


@dataclass(frozen=True)
class FeedItem:
    uid: str
    title: str
    description: str
    link: str
    when: datetime


def _label(kind: str, record) -> str:
    return {
        "study": lambda r: r.label,
        "statement": lambda r: r.text[:100],
        "reference": lambda r: r.title[:120],
    }[kind](record)


NAME_FIELD = {"study": "label", "statement": "text", "reference": "title"}


def _link(kind: str, record) -> str:
    if kind == "study":
        return reverse("evidence:study_detail", args=[record.id])
    if kind == "statement":
        therapy = Therapy.objects.filter(pk=record.therapy_id).values_list("slug", flat=True)
        return reverse("therapies:therapy_detail", args=[therapy[0]]) if therapy else "/"
    if record.number:
        return reverse("references:reference_detail", args=[record.number])
    return reverse("references:reference_detail", args=[f"id-{record.id}"])


def _records(kind: str, model, ids: Q | None) -> list[FeedItem]:
    history = model.history.model
    previous = history.objects.filter(
        id=OuterRef("id"), history_date__lt=OuterRef("history_date")
    ).order_by("-history_date", "-history_id")
    records = history.objects.annotate(
        prev_status=Subquery(previous.values("status")[:1]),
        prev_name=Subquery(previous.values(NAME_FIELD[kind])[:1]),
    ).filter(Q(status=PUBLISHED) | Q(prev_status=PUBLISHED))
    if ids is not None:
        records = records.filter(ids)
    items = []
    for record in records.order_by("-history_date", "-history_id")[:PER_KIND]:
        name = _label(kind, record)
        if record.status != PUBLISHED:
            # Withdrawn: named by what readers last saw (the previous, published record).
            name = (record.prev_name or "")[:120]
            title = f"{kind.capitalize()} withdrawn: {name}"
            what = f'The {kind} "{name}" is no longer published.'
        elif record.prev_status != PUBLISHED:
            title = f"{kind.capitalize()} published: {name}"
            what = f'The {kind} "{name}" was published.'
        else:
            title = f"{kind.capitalize()} changed: {name}"
            what = f'The published {kind} "{name}" was changed'
            what += f": {record.history_change_reason}." if record.history_change_reason else "."
        items.append(
            FeedItem(
                uid=f"{kind}-{record.history_id}",
                title=title,
                description=what,
                link=_link(kind, record),
                when=record.history_date,
            )
        )
    return items


class ChangesFeed(Feed):
    """Published changes to the whole evidence base."""

    feed_type = Atom1Feed
    title = "MyoEvidence: published changes"
    subtitle = "Studies, statements and references published, changed or withdrawn."

    def __call__(self, request, *args, **kwargs):
        # Feed readers poll: one whose copy is current gets 304 (core.conditional, as every
        # page, API list and export). Every content change moves the last content change, so
        # the validator may change for an edit the feed does not show, never stay put for one
        # it shows.
        changed = last_content_change()
        return respond(
            request,
            etag=collection_etag(request, "atom", 0, changed),
            last_modified=changed,
            build=lambda: super(ChangesFeed, self).__call__(request, *args, **kwargs),
        )

    def link(self, obj=None):
        return reverse("evidence:home")

    def scopes(self, obj) -> dict[str, Q | None]:
        return {"study": None, "statement": None, "reference": None}

    def items(self, obj=None):
        scopes = self.scopes(obj)
        items = [
            item
            for kind, model in (
                ("study", Study),
                ("statement", Statement),
                ("reference", Reference),
            )
            if kind in scopes
            for item in _records(kind, model, scopes[kind])
        ]
        return sorted(items, key=lambda i: i.when, reverse=True)[:ITEMS]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.description

    def item_link(self, item):
        return item.link

    def item_guid(self, item):
        return f"tag:myoevidence,2026:{item.uid}"

    item_guid_is_permalink = False

    def item_updateddate(self, item):
        return item.when

    def item_pubdate(self, item):
        return item.when


class TherapyChangesFeed(ChangesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Therapy.objects.published(), slug=slug)

    def title(self, obj):
        return f"MyoEvidence: published changes for {obj.name}"

    def link(self, obj=None):
        return obj.get_absolute_url()

    def scopes(self, obj):
        studies = Study.objects.filter(therapies=obj).values("pk")
        return {
            "study": Q(id__in=studies),
            "statement": Q(therapy_id=obj.pk),
            "reference": Q(id__in=Study.objects.filter(therapies=obj).values("reference_id")),
        }


class SubtypeChangesFeed(ChangesFeed):
    def get_object(self, request, slug):
        subtype = DiseaseSubtype.objects.published().filter(slug=slug).first()
        if subtype is None:
            raise Http404("No such published subtype.")
        return subtype

    def title(self, obj):
        return f"MyoEvidence: published changes for {obj.name}"

    def link(self, obj=None):
        return obj.get_absolute_url()

    def scopes(self, obj):
        return {
            "study": Q(id__in=Study.objects.filter(subtypes=obj).values("pk")),
            "reference": Q(id__in=Study.objects.filter(subtypes=obj).values("reference_id")),
        }
