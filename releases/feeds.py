"""Atom feeds of published changes: everything, per therapy, per subtype.

An entry is a history record (django-simple-history) of a study, trial, statement, reference
or certainty rating (a curator's ``CertaintyOverride``) that readers could see: a change saved
while the entry was published (publishing included), or its withdrawal (published before, not
after). These are the kinds of entry a release's changelog lists, so a reader following a
feed learns of each change the next release will name. A draft that was never published never
appears, and a withdrawal is named by the entry's last published text, never by an unpublished
edit. One query per kind of entry, with the previous record's status and name as subqueries.

Not covered: changes of a study's parts (outcomes, arms) saved without a change of the study
row itself; their history belongs to those rows. The changelog's certainty also moves when the
evidence under a suggested rating changes; the feed shows those changes as the study changes
that cause them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Expression, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.feedgenerator import Atom1Feed

from core.choices import ReviewStatus
from core.conditional import collection_etag, last_content_change, respond
from evidence.choices import Certainty
from evidence.models import CertaintyOverride, DiseaseSubtype, Statement, Study, Trial
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


# The field that names an entry, by kind (certainty ratings are named by their cell).
NAME_FIELD = {"study": "label", "trial": "name", "statement": "text", "reference": "title"}
NAME_LENGTH = {"statement": 100, "reference": 120}


def _name(kind: str, value: str) -> str:
    value = value or ""
    return value[: NAME_LENGTH[kind]] if kind in NAME_LENGTH else value


def _certainty_label(code: str) -> str:
    return Certainty(code).label.lower() if code in Certainty.values else code


def _link(kind: str, record) -> str:
    if kind == "study":
        return reverse("evidence:study_detail", args=[record.id])
    if kind == "trial":
        # A trial has no page of its own: its publications' pages name it, with its registry
        # records. The first published one stands for it.
        study = Study.objects.published().filter(trial_id=record.id).order_by("pk").first()
        return study.get_absolute_url() if study else reverse("evidence:study_list")
    if kind in ("statement", "certainty"):
        if not record.therapy_slug:
            return "/"
        if kind == "certainty" and record.subtype_slug:
            try:
                return reverse(
                    "therapies:summary_of_findings", args=[record.therapy_slug, record.subtype_slug]
                )
            except NoReverseMatch:
                pass
        return reverse("therapies:therapy_detail", args=[record.therapy_slug])
    if record.number:
        return reverse("references:reference_detail", args=[record.number])
    return reverse("references:reference_detail", args=[f"id-{record.id}"])


def _as_published(model, key: str, field: str | Expression) -> Subquery:
    """``field`` (a name, or an expression of its fields) of the ``model`` row that the
    record's ``key`` names, as readers last saw it at the record's date: from its newest
    published history record then. A therapy withdrawn and renamed as a draft since must not
    give its unpublished name (or slug) to an older item of the feed; nor may a row that
    readers never saw give one at all."""
    records = model.history.model.objects.filter(
        id=OuterRef(key), status=PUBLISHED, history_date__lte=OuterRef("history_date")
    ).order_by("-history_date", "-history_id")
    if not isinstance(field, str):
        records, field = records.annotate(value=field), "value"
    return Subquery(records.values(field)[:1])


def _history(kind: str, model):
    """The model's history records, each with what its previous record said."""
    history = model.history.model
    previous = history.objects.filter(
        id=OuterRef("id"), history_date__lt=OuterRef("history_date")
    ).order_by("-history_date", "-history_id")
    records = history.objects.annotate(prev_status=Subquery(previous.values("status")[:1]))
    if kind in ("statement", "certainty"):
        # The therapy's page is the item's link.
        records = records.annotate(therapy_slug=_as_published(Therapy, "therapy_id", "slug"))
    if kind == "certainty":
        # Named by the cell, worded as the changelog words it ("Rituximab × DM: certainty
        # low → moderate because ..."): the previous rating and the cell's names come along.
        records = records.annotate(
            prev_certainty=Subquery(previous.values("certainty")[:1]),
            therapy_name=_as_published(Therapy, "therapy_id", "name"),
            subtype_label=_as_published(
                DiseaseSubtype,
                "subtype_id",
                Coalesce(NullIf(F("abbreviation"), Value("")), F("name")),
            ),
            subtype_slug=_as_published(DiseaseSubtype, "subtype_id", "slug"),
        )
    else:
        records = records.annotate(prev_name=Subquery(previous.values(NAME_FIELD[kind])[:1]))
    return records.filter(Q(status=PUBLISHED) | Q(prev_status=PUBLISHED))


def _certainty_item(record) -> tuple[str, str]:
    measure = ""
    if record.measure:
        measure = f" ({dict(CertaintyOverride._meta.get_field('measure').choices)[record.measure]})"
    cell = f"{record.therapy_name} × {record.subtype_label}{measure}"
    rating = _certainty_label(record.certainty)
    reason = (record.reason or "").strip().rstrip(".")
    because = f" because {reason[0].lower()}{reason[1:]}" if reason else ""
    if record.status != PUBLISHED:
        return (
            f"Certainty rating withdrawn: {cell}",
            f"The curators' certainty rating for {cell} is no longer published.",
        )
    if record.prev_status != PUBLISHED:
        return f"Certainty rated: {cell}", f"{cell}: certainty {rating}{because}."
    if record.prev_certainty and record.prev_certainty != record.certainty:
        old = _certainty_label(record.prev_certainty)
        return (
            f"Certainty changed: {cell}",
            f"{cell}: certainty {old} → {rating}{because}.",
        )
    return f"Certainty rating changed: {cell}", f"{cell}: certainty {rating}{because}."


def _records(kind: str, model, ids: Q | None) -> list[FeedItem]:
    records = _history(kind, model)
    if ids is not None:
        records = records.filter(ids)
    items = []
    for record in records.order_by("-history_date", "-history_id")[:PER_KIND]:
        if kind == "certainty":
            title, what = _certainty_item(record)
        elif record.status != PUBLISHED:
            # Withdrawn: named by what readers last saw (the previous, published record).
            name = _name(kind, record.prev_name)
            title = f"{kind.capitalize()} withdrawn: {name}"
            what = f'The {kind} "{name}" is no longer published.'
        elif record.prev_status != PUBLISHED:
            name = _name(kind, getattr(record, NAME_FIELD[kind]))
            title = f"{kind.capitalize()} published: {name}"
            what = f'The {kind} "{name}" was published.'
        else:
            name = _name(kind, getattr(record, NAME_FIELD[kind]))
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


def _seen_linked(**link):
    """History records of studies as they were published, linked as ``link`` says: the studies
    readers saw linked to a therapy or subtype. A draft's links, or links a curator made to a
    study after its withdrawal, put nothing in that therapy's or subtype's feed."""
    return Study.history.model.objects.filter(status=PUBLISHED, **link)


KINDS = (
    ("study", Study),
    ("trial", Trial),
    ("statement", Statement),
    ("reference", Reference),
    ("certainty", CertaintyOverride),
)


class ChangesFeed(Feed):
    """Published changes to the whole evidence base."""

    feed_type = Atom1Feed
    title = "MyoEvidence: published changes"
    subtitle = (
        "Studies, trials, statements, references and certainty ratings published, changed or "
        "withdrawn."
    )

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
        return {kind: None for kind, _ in KINDS}

    def items(self, obj=None):
        scopes = self.scopes(obj)
        items = [
            item
            for kind, model in KINDS
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
        studies = _seen_linked(historicalstudy_therapies__therapy=obj)
        return {
            "study": Q(id__in=studies.values("id")),
            "trial": Q(id__in=studies.values("trial_id")),
            "statement": Q(therapy_id=obj.pk),
            "reference": Q(id__in=studies.values("reference_id")),
            "certainty": Q(therapy_id=obj.pk),
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
        studies = _seen_linked(historicalstudy_subtypes__diseasesubtype=obj)
        # Statements are about a therapy, not a subtype: the subtype feed has none.
        return {
            "study": Q(id__in=studies.values("id")),
            "trial": Q(id__in=studies.values("trial_id")),
            "reference": Q(id__in=studies.values("reference_id")),
            "certainty": Q(subtype_id=obj.pk),
        }
