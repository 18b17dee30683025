"""Concurrent edits in the admin: a save never silently replaces someone else's change.

The change form carries, in a hidden field, the entry's ``modified`` time as stored when the
form was opened. On save the stored row is read again, locked until the transaction ends (the
admin saves in one), so two saves cannot both pass the check. If it changed meanwhile the form
is refused: the error says who changed it and when, links to the history, and the form keeps
everything the user typed. The hidden value is then brought up to date, so pressing save again
is a deliberate decision to replace the other version with one's own.

The rows edited in the form's inlines (outcomes, provenance, authors...) are guarded the same
way: a second hidden field carries the stamp of every row the inlines showed, and a save is
refused, naming the row, who changed it and when, if any of them changed or was deleted since
(issue 12: an outcome edited on its own page, or through the API, was silently reverted by a
later save of a study form opened before, because Django saves every inline row whose posted
values differ from the row as stored *now*). The check is on the main form, so nothing at all is
saved: Django saves the entry and its inlines only when every form is valid. A row's stamp is
its ``modified`` time; for rows without one (authors) the id of its latest history record,
which every save and delete writes. Rows added elsewhere meanwhile are not a conflict: the form
does not know them, so it cannot overwrite them.

The API does the same with ETag and If-Match (412 Precondition Failed).

Used through ``ContentAdmin`` (core/admin_history.py), so every content admin has it; models
without a ``modified`` field (authors) are left alone. A POST without the hidden field (a
script, an old test) is not checked: every change page the admin renders sends it.
"""

from __future__ import annotations

import json

from django import forms
from django.apps import apps
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

OPENED_FIELD = "concurrency_opened_at"
ROWS_FIELD = "concurrency_rows"
_HIDDEN_FIELDS = (OPENED_FIELD, ROWS_FIELD)


def row_stamp(model, pk, *, lock: bool = False) -> str:
    """A row's version as a form carries it: its ``modified`` time, else the id of its latest
    history record; "" if the row is gone (or has neither)."""
    rows = model._default_manager.filter(pk=pk)
    if lock:
        rows = rows.select_for_update()
    try:
        model._meta.get_field("modified")
    except FieldDoesNotExist:
        if not rows.exists() or not hasattr(model, "history"):
            return ""
        latest = (
            model.history.filter(**{model._meta.pk.attname: pk})
            .order_by("-history_id")
            .values_list("history_id", flat=True)
            .first()
        )
        return f"history:{latest}" if latest is not None else ""
    value = rows.values_list("modified", flat=True).first()
    return value.isoformat() if value is not None else ""


def last_change(model, pk):
    """The latest history record of a row (who changed it, when), or None."""
    if not hasattr(model, "history"):
        return None
    return (
        model.history.filter(**{model._meta.pk.attname: pk})
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )


def _row_key(model, pk) -> str:
    return f"{model._meta.label_lower}:{pk}"


class ConcurrencyAdminMixin:
    """Refuse a change form saved after someone else changed the entry. Put it before
    ``ModelAdmin`` (or SimpleHistoryAdmin) in the bases."""

    concurrency_field = "modified"

    # -- what the form carries ---------------------------------------------------------------

    def _tracks_changes(self) -> bool:
        try:
            self.model._meta.get_field(self.concurrency_field)
        except FieldDoesNotExist:
            return False
        return True

    def _checked(self, request, obj) -> bool:
        return obj is not None and obj.pk is not None and self._tracks_changes()

    def stored_stamp(self, pk, *, lock: bool = False) -> str:
        """The entry's ``modified`` as stored now ("" if it is gone), as the form carries it."""
        rows = self.model._default_manager.filter(pk=pk)
        if lock:
            rows = rows.select_for_update()
        value = rows.values_list(self.concurrency_field, flat=True).first()
        return value.isoformat() if value is not None else ""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._checked(request, obj) or not self.has_change_permission(request, obj):
            return fieldsets
        if OPENED_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], *_HIDDEN_FIELDS]}), *rest]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._checked(request, obj):
            return super().get_form(request, obj, change=change, **kwargs)
        # The field is not on the model: build the model form without it, then add it.
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if name not in _HIDDEN_FIELDS]
        form_class = super().get_form(request, obj, change=change, **kwargs)
        # Read from the database, not from ``obj``: on a history page ``obj`` is an old version.
        return _with_stamp(
            form_class,
            admin=self,
            pk=obj.pk,
            opened=self.stored_stamp(obj.pk),
            rows=self.inline_row_stamps(request, obj),
            row_models={
                inline.model._meta.label_lower for inline in self.get_inline_instances(request, obj)
            },
        )

    def inline_row_stamps(self, request, obj) -> dict[str, str]:
        """The stamp of every row the form's editable inlines show, keyed "app.model:pk"."""
        stamps = {}
        for inline in self.get_inline_instances(request, obj):
            if not inline.has_change_permission(request, obj):
                continue  # a read-only inline saves nothing, so it cannot revert anything
            formset = inline.get_formset(request, obj)
            model = inline.model
            rows = inline.get_queryset(request).filter(**{formset.fk.name: obj.pk})
            for pk in rows.values_list("pk", flat=True):
                stamps[_row_key(model, pk)] = row_stamp(model, pk)
        return stamps

    # -- the refusal -------------------------------------------------------------------------

    def conflict_message(self, pk, current: str):
        """Who changed the entry and when, with a link to its history."""
        opts = self.model._meta
        latest = None
        if hasattr(self.model, "history"):
            latest = (
                self.model.history.filter(**{opts.pk.attname: pk})
                .select_related("history_user")
                .order_by("-history_date")
                .first()
            )
        who = getattr(latest, "history_user", None) or "someone else"
        when = timezone.localtime(latest.history_date) if latest else None
        try:
            history_url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_history", args=[pk]
            )
        except NoReverseMatch:  # pragma: no cover - every registered model has a history page
            history_url = ""
        return format_html(
            "This {} was changed by {}{} after you opened it, so your changes have not been "
            'saved. They are still in the form below. Compare with <a href="{}">its '
            "history</a>; then save again to replace that version with yours, or reload the "
            "page to start from the current version.",
            opts.verbose_name,
            who,
            f" at {when:%Y-%m-%d %H:%M:%S}" if when else "",
            history_url,
        )

    def row_conflicts(
        self, sent: dict[str, str], models: set[str]
    ) -> tuple[list[str], dict[str, str]]:
        """The messages for the inline rows changed since the form was opened (each row read
        locked), and the rows' current stamps. Only rows of the inlines' models are read: the
        posted map is the client's."""
        messages, current = [], {}
        for key, stamp in sent.items():
            label, _, pk = key.rpartition(":")
            if label not in models or not pk.isdigit():
                continue  # not a row this form showed: nothing to protect
            model = apps.get_model(label)
            now = row_stamp(model, pk, lock=True)
            current[key] = now
            if now != stamp:
                messages.append(self.row_conflict_message(model, pk, gone=not now))
        return messages, current

    def row_conflict_message(self, model, pk, *, gone: bool) -> str:
        latest = last_change(model, pk)
        who = getattr(latest, "history_user", None) or "someone else"
        when = f" at {timezone.localtime(latest.history_date):%Y-%m-%d %H:%M}" if latest else ""
        row = model._default_manager.filter(pk=pk).first() if not gone else latest
        name = str(row)[:60] if row is not None else f"#{pk}"
        what = "deleted" if gone else "changed"
        return (
            f"{model._meta.verbose_name.capitalize()} '{name}' was {what} by {who}{when} "
            "after you opened this form, so nothing has been saved: saving would undo "
            "that change. Reload the page and re-apply your changes (or save again to "
            "replace that version with yours)."
        )


def _with_stamp(
    form_class,
    *,
    admin: ConcurrencyAdminMixin,
    pk,
    opened: str,
    rows: dict[str, str],
    row_models: set[str],
):
    class ConcurrencyForm(form_class):
        concurrency_opened_at = forms.CharField(
            widget=forms.HiddenInput,
            required=False,
            initial=opened,
            label="last modified when opened",
        )
        concurrency_rows = forms.CharField(
            widget=forms.HiddenInput,
            required=False,
            initial=json.dumps(rows),
            label="inline rows when opened",
        )

        def clean(self):
            data = super().clean()
            sent = self.cleaned_data.get(OPENED_FIELD, "")
            if not sent:
                return data
            current = admin.stored_stamp(pk, lock=True)
            if current != sent:
                self.add_error(None, admin.conflict_message(pk, current))
                # Saving again (after looking) is then a decision, not an accident.
                self._refresh(OPENED_FIELD, current)
            messages, rows_now = admin.row_conflicts(self._sent_rows(), row_models)
            for message in messages:
                self.add_error(None, message)
            if messages:
                self._refresh(ROWS_FIELD, json.dumps(rows_now))
            return data

        def _sent_rows(self) -> dict[str, str]:
            try:
                sent = json.loads(self.cleaned_data.get(ROWS_FIELD) or "{}")
            except ValueError:
                sent = None
            if not isinstance(sent, dict):
                self.add_error(
                    None,
                    "The form's record of its rows is damaged: reload the "
                    "page and re-apply your changes.",
                )
                return {}
            return {str(k): str(v) for k, v in sent.items()}

        def _refresh(self, name: str, value: str) -> None:
            self.data = self.data.copy()
            self.data[self.add_prefix(name)] = value

    ConcurrencyForm.__name__ = form_class.__name__
    return ConcurrencyForm
