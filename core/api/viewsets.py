"""Base viewsets: list and detail with conditional requests and streamed exports, and the
write side (validated through the apps' services, guarded by If-Match, workflow actions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import workflow
from core.api.exports import CHUNK_SIZE, rows_as_csv
from core.api.preconditions import PreconditionFailed, require_if_match
from core.api.renderers import CSVRenderer, ExportRenderer, JSONRenderer, Rendered
from core.caching.data import value_for
from core.conditional import (
    collection_etag,
    collection_state,
    evaluate,
    latest_modified,
    representation_etag,
    respond,
    stamp,
)
from core.formats import download
from core.services import hidden_links

# Path segments match anything but "/", so that a malformed key answers a JSON 404 from the
# view instead of Django's HTML one.
ANY_SEGMENT = "[^/]+"
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    # A pattern, so that generated clients (and Schemathesis) know the value is quoted.
    pattern=r'^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$',
    description="Required: the ETag you read (quotes included), or `*`. Without it the write "
    "is refused with 428; if the record changed since you read it, with 412, "
    "instead of overwriting a colleague's edit.",
)


class ListViewSet(viewsets.GenericViewSet):
    """A list: paginated JSON, or every matching record as CSV (and other export formats).

    Subclasses set ``queryset``/``get_queryset``, ``serializer_class``, ``filterset_class``,
    ``csv_columns`` (dotted paths into the serialized record) and ``export_name``.
    """

    conditional = True
    lookup_value_regex = ANY_SEGMENT
    list_export_renderers: Sequence[type[ExportRenderer]] = (CSVRenderer,)
    detail_export_renderers: Sequence[type[ExportRenderer]] = ()
    csv_columns: Sequence[str] = ()
    export_name = "records"
    detail_actions: Sequence[str] = ("retrieve",)

    def get_renderers(self):
        if self.action == "list":
            extra = self.list_export_renderers
        elif self.action in self.detail_actions:
            extra = self.detail_export_renderers
        else:
            extra = ()
        return [JSONRenderer(), *(renderer() for renderer in extra)]

    # Reads ---------------------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        if isinstance(renderer, ExportRenderer):
            return self.export_list(request, renderer)

        # A page of JSON is kept per content generation, request (absolute URL: the links in
        # it; the media type: its indent) and reader's rights, rendered, with its count and
        # latest change for the validators: a page found costs no query but the
        # generation's, and no encoding (a third of an uncached list's time, issue 16).
        # Invalid filters or pages raise before anything is kept.
        def rendered_page():
            count, last_modified, data = self.list_page(request)
            context = self.get_renderer_context()
            content = renderer.render(data, request.accepted_media_type, context)
            return count, last_modified, content

        count, last_modified, content = value_for(
            "api-list",
            (
                type(self).__qualname__,
                request.build_absolute_uri(),
                request.accepted_media_type,
                request.user,
            ),
            rendered_page,
        )
        etag = collection_etag(request, renderer.format, count, last_modified)

        def build():
            response = Response(Rendered(content))
            response["X-Total-Count"] = str(count)
            return response

        return respond(
            request, etag=etag, last_modified=last_modified, build=build, refuse=PreconditionFailed
        )

    def list_page(self, request) -> tuple[int, datetime | None, object]:
        """(count, latest change, page data) of this list for ``request``."""
        queryset = self.filter_queryset(self.get_queryset())
        count, last_modified = collection_state(queryset)
        # The count is known already: the paginator takes it instead of counting again.
        request.known_count = count
        page = self.paginate_queryset(queryset)
        data = self.get_paginated_response(self.get_serializer(page, many=True).data).data
        return count, last_modified, data

    def export_list(self, request, renderer):
        queryset = self.filter_queryset(self.get_queryset())

        def build(count):
            if self.paginator is not None:
                self.paginator.validate(request)
            return download(
                self.export(renderer.format, queryset),
                renderer.format,
                f"myoevidence-{self.export_name}",
            )

        return self.respond_for(request, queryset, build)

    def respond_for(self, request, queryset, build):
        """The answer to a read computed from the rows ``queryset`` selects: 304 when the
        client's copy is current, else ``build(count)`` with the validators."""
        count, last_modified = collection_state(queryset)
        etag = collection_etag(request, request.accepted_renderer.format, count, last_modified)
        return respond(
            request,
            etag=etag,
            last_modified=last_modified,
            build=lambda: build(count),
            refuse=PreconditionFailed,
        )

    def export(self, fmt: str, queryset: QuerySet) -> Iterator[str]:
        """The chunks of an export of the filtered ``queryset``; CSV by default, subclasses
        add their formats (and may read the rows their own way)."""
        if fmt != "csv":  # pragma: no cover - negotiation only offers declared formats
            raise Http404(f"No {fmt} export here.")
        serializer_class, context = self.get_serializer_class(), self.get_serializer_context()
        return rows_as_csv(
            (
                serializer_class(record, context=context).data
                for record in queryset.iterator(chunk_size=CHUNK_SIZE)
            ),
            self.csv_columns,
        )


class ReadViewSet(ListViewSet):
    """A list and its records' detail (JSON, or a single-record export)."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        renderer = request.accepted_renderer
        last_modified = latest_modified(instance)
        # The ETag is a digest of the representation itself (core/conditional.py), so the
        # body is built before the preconditions are evaluated.
        if isinstance(renderer, ExportRenderer):
            # The export reads a queryset, as a list's does: here the one record's.
            one = self.get_queryset().filter(pk=instance.pk)
            text = "".join(self.export(renderer.format, one))  # one record: small
            etag = representation_etag(text, renderer.format)
        else:
            data = self.get_serializer(instance).data
            etag = representation_etag(data, renderer.format)
        return respond(
            request,
            etag=etag,
            last_modified=last_modified,
            build=lambda: (
                download([text], renderer.format, f"myoevidence-{self.export_name}-{instance.pk}")
                if isinstance(renderer, ExportRenderer)
                else Response(data)
            ),
            refuse=PreconditionFailed,
        )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why: required to publish, reject or withdraw; ignored by submit.",
    )


PAST = {"publish": "published", "reject": "rejected", "withdraw": "withdrawn"}


def _workflow_action(summary: str):
    """The decorators of a workflow step: a POST on the record (``.../{id}/<step>/``)."""

    def decorate(method):
        method = action(detail=True, methods=["post"])(method)
        return extend_schema(summary=summary, request=CommentSerializer, parameters=[IF_MATCH])(
            method
        )

    return decorate


class WriteViewSet(ReadViewSet):
    """Create and update (no delete: an editor withdraws a published entry instead), plus the
    workflow steps as ``POST .../{id}/submit/`` and so on.

    Subclasses give a ``write_serializer_class`` that only validates, and ``perform_create``/
    ``perform_update`` that pass its ``validated_data`` (model instances, not slugs) to the
    app's services with the user and ``CREATED``/``CHANGED`` as the history's change reason,
    as the admin and the importers do (``core.services``). The read serializer answers.
    """

    http_method_names = ["get", "head", "options", "post", "put", "patch"]
    write_serializer_class: type[serializers.Serializer]
    # The change reason of the history records an API write makes (core.services).
    CREATED = "Created through the API"
    CHANGED = "Changed through the API"

    def perform_create(self, serializer):
        """Create the record through the app's service and return it."""
        raise NotImplementedError(f"{type(self).__name__} must call its create service")

    def perform_update(self, serializer):
        """Update ``serializer.instance`` through the app's service and return it."""
        raise NotImplementedError(f"{type(self).__name__} must call its update service")

    def write_arguments(self, *, created: bool) -> dict:
        """Who writes and through which route, for the services' history records."""
        return {"user": self.request.user, "reason": self.CREATED if created else self.CHANGED}

    def with_hidden_links(self, serializer, *names: str) -> dict:
        """``validated_data`` with the record's current links that this user may not see
        added back to each many-to-many field ``names`` that was sent.

        The read side shows such a field through ``restrict``: a curator whose group may not
        view drafts is shown only the published links, and sending that list back (or a
        list edited from it) must not drop links the curator was never shown. Links the
        user sees stay theirs to remove. Only for fields that the read serializer restricts:
        where every link is shown, one the user removed must go."""
        data = dict(serializer.validated_data)
        for name in names:
            if name in data:
                hidden = hidden_links(serializer.instance, name, self.request.user)
                data[name] = [*data[name], *hidden]
        return data

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.write_serializer_class
        return super().get_serializer_class()

    def locked(self, instance):
        """The record, locked until the transaction ends and checked against If-Match.

        Refused with 428 without If-Match, 400 with a malformed one, 412 when it does not
        match the representation as it is now. The representation is read again through the
        detail queryset *after* the lock, so that two writers cannot both pass the check; its
        digest is what GET sent as the ETag (outcomes, therapies, reference title included).
        """
        require_if_match(self.request)
        manager = type(instance)._default_manager
        manager.select_for_update().filter(pk=instance.pk).values_list("pk").get()
        current = self.filter_detail(instance)
        data = self.representation(current)
        evaluate(
            self.request,
            etag=representation_etag(data, JSONRenderer.format),
            last_modified=latest_modified(current),
            refuse=PreconditionFailed,
        )
        return current

    def representation(self, instance) -> dict:
        """The record as the read serializer shows it to this client."""
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    def respond_with(self, instance, code: int) -> Response:
        data = self.representation(instance)
        response = Response(data, status=code)
        if code == status.HTTP_201_CREATED:
            response["Location"] = self.reverse_detail(instance)
        return stamp(
            response,
            etag=representation_etag(data, JSONRenderer.format),
            last_modified=latest_modified(instance),
        )

    def reverse_detail(self, instance) -> str:
        lookup = getattr(instance, self.lookup_field)
        return self.request.build_absolute_uri(reverse(f"{self.basename}-detail", args=[lookup]))

    def filter_detail(self, instance):
        """The saved record re-read through the detail queryset (prefetches, visibility)."""
        return self.get_queryset().filter(pk=instance.pk).first() or instance

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_create(serializer)
        return self.respond_with(self.filter_detail(instance), status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.locked(self.get_object())
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = self.perform_update(serializer)
        return self.respond_with(self.filter_detail(instance), status.HTTP_200_OK)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    # The workflow steps. Four plain methods (DRF routes an action by its method's name), each
    # a line long: the rules are in transition() and in core.workflow.

    @_workflow_action("Submit for review (curators)")
    def submit(self, request, *args, **kwargs):
        return self.transition("submit", request)

    @_workflow_action("Publish a submitted entry (editors)")
    def publish(self, request, *args, **kwargs):
        return self.transition("publish", request)

    @_workflow_action("Reject a submitted entry (editors)")
    def reject(self, request, *args, **kwargs):
        return self.transition("reject", request)

    @_workflow_action("Withdraw a published entry (editors)")
    def withdraw(self, request, *args, **kwargs):
        return self.transition("withdraw", request)

    def transition(self, name: str, request) -> Response:
        """Take the record through workflow step ``name`` (``core.workflow.TRANSITIONS``)."""
        with transaction.atomic():
            instance = self.locked(self.get_object())  # preconditions first (RFC 9110)
            body = CommentSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            arguments = {"user": request.user}
            if name != "submit":
                arguments["comment"] = body.validated_data.get("comment", "").strip()
                if not arguments["comment"]:
                    raise serializers.ValidationError(
                        {"comment": [f"Say why the entry is {PAST[name]}."]}
                    )
            workflow.TRANSITIONS[name](instance, **arguments)
        return self.respond_with(self.get_object(), status.HTTP_200_OK)
