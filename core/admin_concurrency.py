"""Concurrent edits in the admin: a save never silently replaces someone else's change.

The change form carries, in a hidden field, the entry's ``modified`` time as stored when the
form was opened. On save the stored row is read again, locked until the transaction ends (the
admin saves in one), so two saves cannot both pass the check. If it changed meanwhile the form
is refused: the error says who changed it and when, links to the history, and the form keeps
everything the user typed. The hidden value is then brought up to date, so pressing save again
is a deliberate decision to replace the other version with one's own.

The API does the same with ETag and If-Match (412 Precondition Failed).

Used through ``ContentAdmin`` (core/admin_history.py), so every content admin has it; models
without a ``modified`` field (authors) are left alone. A POST without the hidden field (a
script, an old test) is not checked: every change page the admin renders sends it.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

OPENED_FIELD = "concurrency_opened_at"


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
        return [(name, {**options, "fields": [*options["fields"], OPENED_FIELD]}), *rest]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._checked(request, obj):
            return super().get_form(request, obj, change=change, **kwargs)
        # The field is not on the model: build the model form without it, then add it.
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if name != OPENED_FIELD]
        form_class = super().get_form(request, obj, change=change, **kwargs)
        # Read from the database, not from ``obj``: on a history page ``obj`` is an old version.
        return _with_stamp(form_class, admin=self, pk=obj.pk,
                           opened=self.stored_stamp(obj.pk))

    # -- the refusal -------------------------------------------------------------------------

    def conflict_message(self, pk, current: str):
        """Who changed the entry and when, with a link to its history."""
        opts = self.model._meta
        latest = None
        if hasattr(self.model, "history"):
            latest = (self.model.history.filter(**{opts.pk.attname: pk})
                      .select_related("history_user").order_by("-history_date").first())
        who = getattr(latest, "history_user", None) or "someone else"
        when = timezone.localtime(latest.history_date) if latest else None
        try:
            history_url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}"
                                  "_history", args=[pk])
        except NoReverseMatch:  # pragma: no cover - every registered model has a history page
            history_url = ""
        return format_html(
            "This {} was changed by {}{} after you opened it, so your changes have not been "
            "saved. They are still in the form below. Compare with <a href=\"{}\">its "
            "history</a>; then save again to replace that version with yours, or reload the "
            "page to start from the current version.",
            opts.verbose_name, who,
            f" at {when:%Y-%m-%d %H:%M:%S}" if when else "", history_url,
        )


def _with_stamp(form_class, *, admin: ConcurrencyAdminMixin, pk, opened: str):
    class ConcurrencyForm(form_class):
        concurrency_opened_at = forms.CharField(
            widget=forms.HiddenInput, required=False, initial=opened,
            label="last modified when opened",
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
                self.data = self.data.copy()
                self.data[self.add_prefix(OPENED_FIELD)] = current
            return data

    ConcurrencyForm.__name__ = form_class.__name__
    return ConcurrencyForm
