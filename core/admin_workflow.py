"""The editorial workflow in the admin: status read-only on forms, review page, bulk actions.

Every transition goes through ``core.workflow`` (the API calls the same functions). Rows that are
part of an entry (authors, outcomes, provenance, rationale links) can be changed only while the
entry itself can be changed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.choices import ReviewStatus
from core.invariants import InvariantError, published_shows_problem
from core.models import entry_of
from core.workflow import (
    TRANSITIONS,
    WORKFLOW_FIELDS,
    WorkflowError,
    allowed_actions,
    can_edit,
    can_publish,
    entry_version,
)

WORKFLOW_ACTIONS = ("submit_selected", "publish_selected", "reject_selected", "withdraw_selected")
REVIEW_FIELDSET = (
    "Review",
    {
        "fields": WORKFLOW_FIELDS,
        "description": "Changed only through the review page (submit, publish, reject, withdraw).",
    },
)
ACTION_LABELS = {
    "submit": "Submit for review",
    "publish": "Publish",
    "reject": "Reject",
    "withdraw": "Withdraw",
}
DONE_LABELS = {
    "submit": "submitted for review",
    "publish": "published",
    "reject": "rejected",
    "withdraw": "withdrawn",
}


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="Editor's comment",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        required=False,
        help_text="Required to publish, reject or withdraw; shown to the curators and kept in "
        "the history.",
    )


def apply_transition(
    request, obj, action: str, comment: str = "", reviewed_version: str | None = None
) -> bool:
    """Run one transition for the admin, reporting the outcome as a message."""
    func = TRANSITIONS[action]
    kwargs = {"user": request.user}
    if action != "submit":
        kwargs["comment"] = comment
    if action == "publish" and reviewed_version is not None:
        kwargs["reviewed_version"] = reviewed_version
    try:
        func(obj, **kwargs)
    except (WorkflowError, InvariantError) as exc:
        messages.error(request, f"{obj}: {exc}")
        return False
    return True


class ReviewedAdminMixin:
    """For the admin of a ``ReviewedModel``: use before ``ContentAdmin`` in the bases."""

    change_form_template = "admin/workflow/change_form.html"
    review_template = "admin/workflow/review.html"
    comment_action_template = "admin/workflow/action_comment.html"

    # -- form and permissions ----------------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *WORKFLOW_FIELDS)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # a new entry is a draft; nothing to show yet
            fieldsets = [(name, opts) for name, opts in fieldsets if name != "Review"]
        return fieldsets

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_edit(request.user, obj))

    def has_publish_permission(self, request) -> bool:
        return can_publish(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class KeepsPublishedRule(form_class):
            """An edit of a published entry may not link it to unpublished ones: refused here
            with a message (core.invariants refuses it anyway, whatever path a write takes)."""

            def clean(self):
                data = super().clean()
                if self.instance.pk is not None:
                    values = {name: data[name] for name in self.instance.shows if name in data}
                    problem = published_shows_problem(self.instance, values)
                    if problem:
                        raise forms.ValidationError(problem)
                return data

        return KeepsPublishedRule

    def get_deleted_objects(self, objs, request):
        """Published entries that show one of ``objs`` protect it, like a PROTECT key."""
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            if obj.status == ReviewStatus.PUBLISHED:
                protected += [
                    f"{e._meta.verbose_name.capitalize()}: {e} (published; shows {obj})"
                    for e in obj.published_showing()
                ]
        return deleted, counts, perms, protected

    # -- the review page ---------------------------------------------------------------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="{}_{}_review".format(*info),
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.model._meta.verbose_name} with this id.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        form = CommentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            action = request.POST.get("action")
            if action not in TRANSITIONS:
                raise PermissionDenied
            # The review page carries the version the editor read: a publish decided on a copy
            # that changed meanwhile is refused (core.workflow.publish).
            if apply_transition(
                request,
                obj,
                action,
                form.cleaned_data["comment"],
                reviewed_version=request.POST.get("version", ""),
            ):
                messages.success(request, f"{obj} was {DONE_LABELS[action]}.")
                return HttpResponseRedirect(self._next_url(request, obj))
        published = obj.history.filter(status=ReviewStatus.PUBLISHED).first()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review: {obj}",
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "actions": [(name, ACTION_LABELS[name]) for name in allowed_actions(obj, request.user)],
            "last_published": published,
            "changes_since_published": self.version_changes(published, obj) if published else [],
            "history": obj.history.select_related("history_user")[:10],
            "next": request.GET.get("next") or request.POST.get("next", ""),
            "version": entry_version(obj),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.review_template, context)

    def _next_url(self, request, obj) -> str:
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(
            "admin:{}_{}_change".format(*info), args=[obj.pk], current_app=self.admin_site.name
        )

    # -- bulk actions ------------------------------------------------------------------------

    @admin.action(description="Submit selected for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._apply_to_all(request, queryset, "submit", "")

    @admin.action(description="Publish selected (editors)", permissions=["publish"])
    def publish_selected(self, request, queryset):
        return self._with_comment(request, queryset, "publish")

    @admin.action(description="Reject selected (editors)", permissions=["publish"])
    def reject_selected(self, request, queryset):
        return self._with_comment(request, queryset, "reject")

    @admin.action(description="Withdraw selected (editors)", permissions=["publish"])
    def withdraw_selected(self, request, queryset):
        return self._with_comment(request, queryset, "withdraw")

    def _with_comment(self, request, queryset, action: str):
        """Ask for the editor's comment on an intermediate page, then apply."""
        form = CommentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid() and form.cleaned_data["comment"].strip():
            self._apply_to_all(request, queryset, action, form.cleaned_data["comment"])
            return None
        if form.is_bound:
            form.add_error("comment", "Give a comment: it is kept with each entry's review.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{ACTION_LABELS[action]}: give your comment",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": f"{action}_selected",
            "action_label": ACTION_LABELS[action],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.comment_action_template, context)

    def _apply_to_all(self, request, queryset, action: str, comment: str) -> None:
        done = sum(apply_transition(request, obj, action, comment) for obj in queryset)
        if done:
            noun = (
                self.model._meta.verbose_name if done == 1 else self.model._meta.verbose_name_plural
            )
            messages.success(request, f"{done} {noun} {DONE_LABELS[action]}.")


class _PartOfEntry:
    parent_field: str = ""

    def _parent_editable(self, request, parent) -> bool:
        # The entry decides, also when the parent is itself a part (an outcome's per-arm
        # results follow its study).
        return parent is None or can_edit(request.user, entry_of(parent) or parent)


class PartOfEntryInlineMixin(_PartOfEntry):
    """An inline whose rows can change only while their parent entry can (``obj`` is it)."""

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._parent_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._parent_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._parent_editable(request, obj)


class PartOfEntryAdminMixin(_PartOfEntry):
    """The standalone admin of such rows: ``parent_field`` names the entry they belong to."""

    def _parent(self, obj):
        return getattr(obj, self.parent_field) if obj is not None else None

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._parent_editable(
            request, self._parent(obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._parent_editable(
            request, self._parent(obj)
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        parent_field, user = self.parent_field, request.user

        class PartOfEntryForm(form_class):
            def clean(self):
                data = super().clean()
                parent = data.get(parent_field)
                if parent is not None and not can_edit(user, parent):
                    self.add_error(
                        parent_field,
                        f"“{parent}” is published: only an editor can change it or add to it.",
                    )
                return data

        return PartOfEntryForm
