"""OpenAPI generation (drf-spectacular) that tells the whole truth about each operation:
the streamed export formats, the error answers every endpoint can give, and the headers of
conditional requests."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from core.api.renderers import ExportRenderer

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error. `detail` explains it; a 400 lists messages per field instead "
    "(`non_field_errors` for the record as a whole).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS_ON_READ = {
    "400": "A filter, page or parameter has a bad value (messages per parameter).",
    "404": "No such record, or a page past the last one.",
    "406": "The requested format (?format= or Accept) is not offered by this endpoint.",
    "429": "Too many requests: wait for the number of seconds in Retry-After.",
}
ERRORS_ON_WRITE = {
    "400": "The data is not valid (messages per field).",
    "401": "No or a bad token: send `Authorization: Token <key>`.",
    "403": "Your account may not make this change.",
    "404": "No such record.",
    # e.g. POST /references/number/publish/: "number/..." is the read-only by-number route.
    "405": "This method is not allowed on this path.",
    "406": "The requested format is not offered by this endpoint.",
    "409": "The change conflicts with the record's state (e.g. a workflow step not allowed "
    "from its current status).",
    "412": "If-Match / If-Unmodified-Since failed: someone changed the record since you "
    "read it. Fetch it again and re-apply your change.",
    "415": "The body is not JSON.",
    "428": "No If-Match header: GET the record and send its ETag as If-Match with your "
    "change (changes to existing records only).",
    "429": "Too many requests: wait for the number of seconds in Retry-After.",
}
HEADER_DOCS = {
    "ETag": "Validator for If-None-Match (reads) and If-Match (writes).",
    "Last-Modified": "When the record (or the latest listed record) last changed.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        # Reads are open to anonymous clients (ReadAnyoneWriteCurators); say so.
        if self.method in ("GET", "HEAD", "OPTIONS") and {} not in auths:
            auths.append({})
        return auths

    def get_response_serializers(self):
        # Writes are validated by a write serializer but answered with the read one.
        view = self.view
        if getattr(view, "action", None) in ("create", "update", "partial_update") and getattr(
            view, "write_serializer_class", None
        ):
            return view.serializer_class
        return super().get_response_serializers()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        """drf-spectacular's operation, completed with what it cannot infer: the streamed
        export formats' bodies, the validators and other response headers, and the error
        answers (and the 304) every endpoint can give.

        The public ``get_operation`` is extended, rather than the private
        ``_get_response_for_code`` / ``_get_response_bodies`` / ``_get_response_headers_for_code``
        it calls, so that an upgrade of drf-spectacular cannot silently skip this (the schema
        generated before and after this change was identical, apart from one description).
        """
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, response in responses.items():
            self._describe_exports(code, response)
            # Headers first, where drf-spectacular puts those a view declares itself.
            headers = {**self._headers(code), **response.pop("headers", {})}
            responses[code] = {"headers": headers, **response} if headers else response
        self._add_errors(responses)
        return operation

    def _describe_exports(self, code: str, response: dict) -> None:
        """An export format's body is every matching record, streamed: say so."""
        if not code.startswith("2"):
            return
        content = response.get("content", {})
        for renderer in self.view.get_renderers():
            if isinstance(renderer, ExportRenderer) and renderer.media_type in content:
                schema = (
                    {"type": "array", "items": {"type": "object"}}
                    if renderer.format == "csljson"
                    else {"type": "string"}
                )
                schema["description"] = (
                    f"{renderer.format}: every matching record, unpaginated, streamed."
                )
                content[renderer.media_type] = {"schema": schema}

    def _headers(self, code: str) -> dict:
        headers = {}
        if self.method == "GET" and code in ("200", "304"):
            for name, text in HEADER_DOCS.items():
                headers[name] = {"schema": {"type": "string"}, "description": text}
        # Every list of the API is a viewset's "list" action (X-Total-Count: paginated lists).
        if self.method == "GET" and code == "200" and getattr(self.view, "action", None) == "list":
            headers["X-Total-Count"] = {
                "schema": {"type": "integer"},
                "description": "Number of results over all pages (JSON lists).",
            }
        if code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait.",
            }
        return headers

    def _add_errors(self, responses: dict) -> None:
        safe = self.method in ("GET", "HEAD")
        errors = ERRORS_ON_READ if safe else ERRORS_ON_WRITE
        for code, text in errors.items():
            # Only changes to an existing record need If-Match (core/api/viewsets.py).
            if code == "428" and getattr(self.view, "action", None) == "create":
                continue
            if code not in responses:
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
                if headers := self._headers(code):
                    responses[code]["headers"] = headers
        if safe and getattr(self.view, "conditional", False):
            responses.setdefault(
                "304",
                {
                    "description": "Not modified: your copy (If-None-Match / If-Modified-Since) "
                    "is current.",
                    "headers": self._headers("304"),
                },
            )
