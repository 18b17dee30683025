"""History in the admin: who changed what, a comparison with the current version, safe revert.

``ContentAdmin`` extends simple-history's admin so that reverting to an earlier version

* needs the change permission on the entry as it is *now* (simple-history only checks the view
  permission on the old version, which would let a curator revert a published entry);
* keeps the entry's review status: reverting content never publishes or unpublishes it;
* brings back the rows that belong to the entry (authors, outcomes, provenance...), the rows
  that belong to those (an outcome's per-arm results) and its many-to-many links as they were
  at that version, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import connections, models, transaction
from django.http import Http404
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from core.admin_concurrency import ConcurrencyAdminMixin
from core.services import attributed, delete_entry, hidden_links, save_entry, set_links
from core.workflow import WORKFLOW_FIELDS

# Fields a revert never changes (bookkeeping, and the review status: see the module docstring).
KEPT_ON_REVERT = {*WORKFLOW_FIELDS, "created", "modified"}
_REASON_MAX = 100


class ReadableHistoryHelper(HistoricalRecordContextHelper):
    """Diffs a curator can read: an empty value is "(empty)", not "None" or, for a foreign
    key that was empty, "Deleted user (pk=None)" (simple-history's placeholder for a missing
    related row); a related row that is really gone keeps simple-history's wording."""

    EMPTY = "(empty)"

    def prepare_delta_change_value(self, change, value):
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return self.EMPTY
        prepared = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if getattr(field, "choices", None) and not isinstance(prepared, list):
            prepared = dict(field.flatchoices).get(prepared, prepared)
        return prepared


@dataclass(frozen=True)
class HistoryChild:
    """Rows that are part of an entry, restored with it: ``model`` points at it through ``fk``.

    With ``via``, the rows belong to the entry through the rows of another child: ``fk`` points
    at those (an outcome's per-arm results are part of the study through its outcomes). List
    such a child after the children it points at: a revert re-creates a changed row with its old
    id, which deletes the rows that point at it, and this child then brings them back."""

    model: type[models.Model]
    fk: str
    label: str
    via: HistoryChild | None = None


class ContentAdmin(ConcurrencyAdminMixin, SimpleHistoryAdmin):
    """Base admin for every content model (refuses saves over a concurrent change: see
    core/admin_concurrency.py).

    Saves and deletes go through ``core.services`` (``save_model``, ``save_related``,
    ``save_formset``, ``delete_model``, ``delete_queryset``), like the API, the importers and
    the loader, so the rules of a write (validation, the published-shows-published invariant,
    the history's user and change reason) are the same whatever the entry point. The forms
    still check first, to answer with a message on the form.
    """

    # The change reason of the history records an admin write makes (core.services).
    ADDED = "Added in the admin"
    CHANGED = "Changed in the admin"
    DELETED = "Deleted in the admin"

    object_history_form_template = "admin/history/object_history_form.html"
    # simple-history's list has an inline style (a CSP violation) and says "None" for changes
    # made by the loaders; ours does neither.
    object_history_list_template = "admin/history/object_history_list.html"
    history_children: tuple[HistoryChild, ...] = ()
    # Django 6 makes https the default for scheme-less URLs; curators get it already.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryHelper(self.model, historical_record)

    # -- permissions -------------------------------------------------------------------------

    def _live(self, obj):
        if obj is None or obj.pk is None:
            return None
        return self.model._default_manager.filter(pk=obj.pk).first()

    def revert_disabled(self, request, obj=None):
        # simple-history passes the *old* version here; decide on the entry as it is now.
        live = self._live(obj)
        return live is None or not self.has_change_permission(request, live)

    # -- the version page --------------------------------------------------------------------

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        history = self.model.history.model
        pk_name = self.model._meta.pk.attname
        try:
            version = history.objects.get(**{pk_name: unquote(object_id), "history_id": version_id})
        except (history.DoesNotExist, ValueError):
            raise Http404("No such version.") from None
        live = self.get_object(request, unquote(object_id))
        request._history_version = version
        context = {
            "version_changes": self.version_changes(version, live) if live else [],
            "version": version,
            **(extra_context or {}),
        }
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, context)
        if live is None or not self.has_change_permission(request, live):
            raise PermissionDenied
        request._history_revert = live
        with transaction.atomic():
            return super().history_form_view(request, object_id, version_id, context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        version = getattr(request, "_history_version", None)
        if version is None:
            return form_class
        initial = self._version_m2m(version, form_class)

        class VersionForm(form_class):
            """Shows the version's many-to-many links, not today's (simple-history omits them)."""

            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.initial.update(initial)

        return VersionForm

    def _version_m2m(self, version, form_class) -> dict[str, list]:
        values = {}
        for field in self.model._meta.many_to_many:
            if field.name in form_class.base_fields and hasattr(version, field.name):
                target = field.m2m_reverse_field_name()
                values[field.name] = [
                    getattr(row, f"{target}_id") for row in getattr(version, field.name).all()
                ]
        return values

    # -- saving a revert ---------------------------------------------------------------------

    def write_reason(self, request, change: bool) -> str:
        """Why the history says the entry changed: the route, or the version reverted to."""
        version = getattr(request, "_history_version", None)
        if getattr(request, "_history_revert", None) is not None and version is not None:
            when = timezone.localtime(version.history_date).strftime("%Y-%m-%d %H:%M:%S")
            return f"Reverted to the version of {when}"[:_REASON_MAX]
        return self.CHANGED if change else self.ADDED

    def save_model(self, request, obj, form, change):
        live = getattr(request, "_history_revert", None)
        if live is not None:
            # Rows that are part of an entry (outcomes, provenance) have no review fields.
            for name in KEPT_ON_REVERT & {f.name for f in obj._meta.concrete_fields}:
                setattr(obj, name, getattr(live, name))
        save_entry(obj, user=request.user, reason=self.write_reason(request, change))
        if live is not None:
            self.restore_children(obj, request._history_version, user=request.user)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        """Links offered and shown only among the entries the user may see (``restrict``): a
        curator whose group may not view drafts is not shown their names in a form either.
        ``save_related`` keeps the links such a form did not show."""
        related = db_field.related_model._default_manager
        if "queryset" not in kwargs and hasattr(related, "restrict"):
            kwargs["queryset"] = related.restrict(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        """The form's many-to-many links and the inline rows, through the services."""
        obj = form.instance
        links = {
            field.name: [
                *form.cleaned_data[field.name],
                *hidden_links(obj, field.name, request.user),  # not shown: kept
            ]
            for field in obj._meta.many_to_many
            if field.name in form.cleaned_data
        }
        with attributed(user=request.user, reason=self.write_reason(request, change)):
            set_links(obj, links=links)
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        reason = self.write_reason(request, change)
        rows = formset.save(commit=False)  # collects deleted_objects without deleting them
        for row in formset.deleted_objects:
            delete_entry(row, user=request.user, reason=reason)
        _park_swapped_values(rows)
        for row in rows:
            save_entry(row, user=request.user, reason=reason)
        formset.save_m2m()

    def delete_model(self, request, obj):
        delete_entry(obj, user=request.user, reason=self.DELETED)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            delete_entry(obj, user=request.user, reason=self.DELETED)

    def restore_children(self, obj, version, *, user) -> None:
        """Make the entry's rows (authors, outcomes...) what they were at ``version``."""
        for child in self.history_children:
            wanted = {row.pk: row for row in self.children_at(child, version)}
            for row in self.live_children(child, obj):
                old = wanted.get(row.pk)
                if old is not None and _same_row(row, old):
                    wanted.pop(row.pk)
                    continue
                # Changed rows are deleted and re-created with their old id, which avoids
                # clashes on unique positions while rows swap places.
                row._history_user = user
                row.delete()
            for row in wanted.values():
                row._history_user = user
                row._state.adding = True
                row.save(force_insert=True)

    def live_children(self, child: HistoryChild, obj) -> models.QuerySet:
        """The child rows as they are now."""
        path = f"{child.fk}__{child.via.fk}" if child.via else child.fk
        return child.model._default_manager.filter(**{path: obj})

    def children_at(self, child: HistoryChild, version) -> list[models.Model]:
        """The child rows as they stood at the end of the save that made ``version``.

        An admin save writes the entry first and its inline rows just after, so the rows are
        read as of the entry's next version (exclusive), or now if ``version`` is the latest.
        """
        pk_name = self.model._meta.pk.attname
        later = (
            self.model.history.filter(
                **{pk_name: getattr(version, pk_name)}, history_date__gt=version.history_date
            )
            .order_by("history_date")
            .first()
        )
        cutoff = later.history_date if later else timezone.now()
        if child.via is None:
            owner = {f"{child.fk}_id": getattr(version, pk_name)}
        else:
            owner = {f"{child.fk}_id__in": [row.pk for row in self.children_at(child.via, version)]}
        records = child.model.history.filter(**owner, history_date__lt=cutoff)
        return list(records.latest_of_each().as_instances())

    # -- comparing a version with the current entry ------------------------------------------

    def version_changes(self, version, live) -> list[dict]:
        """Rows of (field, value in this version, current value) where they differ."""
        latest = live.history.first()
        if latest is None:
            return []
        delta = latest.diff_against(version, foreign_keys_are_objs=True)
        helper = ReadableHistoryHelper(self.model, latest, max_displayed_delta_change_chars=2000)
        rows = []
        for change in delta.changes:
            if change.field in KEPT_ON_REVERT:
                continue
            shown = helper.format_delta_change(change)
            rows.append({"field": shown.field, "version": shown.old, "current": shown.new})
        for child in self.history_children:
            then = sorted(self.children_at(child, version), key=_child_order)
            now = sorted(self.live_children(child, live), key=_child_order)
            if [_row_values(r) for r in then] != [_row_values(r) for r in now]:
                rows.append(
                    {
                        "field": child.label,
                        "version": "; ".join(_describe(r) for r in then) or "(none)",
                        "current": "; ".join(_describe(r) for r in now) or "(none)",
                    }
                )
        return rows


def _park_swapped_values(rows: list[models.Model]) -> None:
    """Let the rows of one inline swap values that must be unique per entry (two arms' labels,
    two authors' positions).

    Saved one by one, the first row would clash with the second's stored value, and the
    service's validation refused the save with a 500. The rows whose stored value another row
    takes first get a placeholder (an update, which writes no history); each row's own save
    then records its change from its stored value, as ever."""
    stored_rows = [row for row in rows if row.pk is not None]
    if len(stored_rows) < 2:
        return
    model = type(stored_rows[0])
    for fields in _unique_field_sets(model):
        attnames = [model._meta.get_field(name).attname for name in fields]
        stored = {
            pk: tuple(values)
            for pk, *values in model._default_manager.filter(
                pk__in=[row.pk for row in stored_rows]
            ).values_list("pk", *attnames)
        }
        wanted = {row.pk: tuple(getattr(row, name) for name in attnames) for row in stored_rows}
        changed = {pk for pk in wanted if wanted[pk] != stored.get(pk)}
        taken = {wanted[pk] for pk in changed}
        parked = [pk for pk in changed if stored.get(pk) in taken - {wanted[pk]}]
        # A value column if the set has one, else its last foreign key (two per-arm results
        # swapping arms).
        field = next(
            (
                model._meta.get_field(name)
                for name in reversed(fields)
                if not model._meta.get_field(name).is_relation
            ),
            model._meta.get_field(fields[-1]),
        )
        for index, pk in enumerate(parked):
            model._default_manager.filter(pk=pk).update(
                **{field.attname: _placeholder(field, index)}
            )


def _unique_field_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    sets = [tuple(c.fields) for c in model._meta.total_unique_constraints if len(c.fields) > 1]
    return sets + [tuple(fields) for fields in model._meta.unique_together]


def _placeholder(field: models.Field, index: int):
    """A value no row holds: the largest integers the column takes, a text no one types, or
    for a foreign key an id no row has (Django creates foreign keys deferred to the commit, by
    which each row's own save has set its real value)."""
    if field.is_relation:
        return -1 - index
    if isinstance(field, models.IntegerField):
        ops = connections[field.model._default_manager.db].ops
        return ops.integer_field_range(field.get_internal_type())[1] - index
    return f"~{index}~ (being swapped)"[: field.max_length or None]


def _row_values(row: models.Model) -> dict:
    return {
        f.attname: getattr(row, f.attname)
        for f in row._meta.concrete_fields
        if f.attname not in {"created", "modified"}
    }


def _same_row(a: models.Model, b: models.Model) -> bool:
    return _row_values(a) == _row_values(b)


def _describe(row: models.Model) -> str:
    # A row of an old version may name a related row that is gone (a per-arm result's arm).
    try:
        return str(row)
    except ObjectDoesNotExist:
        return f"{row._meta.verbose_name} {row.pk}"


def _child_order(row: models.Model):
    return (getattr(row, "position", None) or getattr(row, "order", None) or 0, row.pk)
